"""caniemail's data set -> our support table (`digest import-caniemail`).

caniemail (https://www.caniemail.com, MIT licence, by Rémi Parmentier and contributors)
publishes every feature's test results as `api/data.json`:

    {"last_update_date": "...", "nicenames": {...}, "data": [
        {"slug": "css-display-grid", "title": "display:grid", "category": "css",
         "stats": {"gmail": {"ios": {"2019-02": "n", "2026-03": "a #1"}, ...}, ...},
         "notes_by_num": {"1": "Not supported with non Google accounts."}}, ...]}

Each value is "y", "n", "a" (partial) or "u" (unknown), optionally followed by "#N" note
numbers. We keep the clients an editor asks about (CLIENTS), each platform's latest result,
and fold a client's platforms into one word: yes, no, partial (with which platform falls
short) or unknown. The result has the shape of the packaged table (support.json) and is
written to the data folder, where the support check prefers it.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from digest.errors import DigestError

# Our client -> (caniemail family, its platforms that count).
CLIENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "gmail": ("gmail", ("desktop-webmail", "ios", "android", "mobile-webmail")),
    "outlook-windows": ("outlook", ("windows",)),
    # The new Outlook for Windows is built on Outlook.com, and renders as it does.
    "outlook-new": ("outlook", ("outlook-com",)),
    "apple-mail": ("apple-mail", ("macos", "ios")),
    "yahoo": ("yahoo", ("desktop-webmail", "ios", "android")),
}
CLIENT_NAMES = {
    "gmail": "Gmail",
    "outlook-windows": "Outlook for Windows (classic)",
    "outlook-new": "new Outlook and Outlook.com",
    "apple-mail": "Apple Mail",
    "yahoo": "Yahoo Mail",
}
PLATFORM_NAMES = {
    "desktop-webmail": "webmail", "mobile-webmail": "mobile webmail", "ios": "iOS",
    "android": "Android", "macos": "macOS", "windows": "Windows", "outlook-com": "Outlook.com",
}
WORDS = {"y": "yes", "n": "no", "a": "partial", "u": "unknown"}
SOURCE_URL = "https://www.caniemail.com"


def convert(data: Any, *, read: date | None = None, origin: str = "") -> dict[str, Any]:
    """Our table from caniemail's parsed `api/data.json`; a DigestError when it is not one."""
    features = data.get("data") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise DigestError(
            f"{origin or 'the file'} is not caniemail's api/data.json (no \"data\" list)",
            hint="Download https://www.caniemail.com/api/data.json and give its path or URL.",
        )
    table: dict[str, Any] = {}
    for feature in features:
        if not isinstance(feature, dict) or not isinstance(feature.get("slug"), str):
            continue
        stats = feature.get("stats") if isinstance(feature.get("stats"), dict) else {}
        notes = feature.get("notes_by_num") if isinstance(feature.get("notes_by_num"), dict) else {}
        support: dict[str, str] = {}
        remarks: dict[str, str] = {}
        for client, (family, platforms) in CLIENTS.items():
            word, remark = _client(stats.get(family), platforms, notes)
            support[client] = word
            if remark:
                remarks[client] = remark
        entry: dict[str, Any] = {"title": str(feature.get("title") or feature["slug"]),
                                 "support": support}
        if remarks:
            entry["notes"] = remarks
        table[feature["slug"]] = entry
    return {
        "source": {
            "name": "caniemail",
            "url": SOURCE_URL,
            "licence": "MIT",
            "data_updated": str(data.get("last_update_date") or ""),
            "read": (read or date.today()).isoformat(),
            "from": origin,
        },
        "clients": CLIENT_NAMES,
        "features": dict(sorted(table.items())),
    }


def _client(family: Any, platforms: tuple[str, ...],
            notes: dict[str, Any]) -> tuple[str, str]:
    """One word for a client's platforms, and a remark saying where it falls short."""
    if not isinstance(family, dict):
        return "unknown", ""
    results: dict[str, tuple[str, list[str]]] = {}
    for platform in platforms:
        versions = family.get(platform)
        if isinstance(versions, dict) and versions:
            latest = max(versions, key=_version_key)
            results[platform] = _value(str(versions[latest]))
    known = {p: r for p, r in results.items() if r[0] != "unknown"}
    if not known:
        return "unknown", ""
    words = {word for word, _ in known.values()}
    word = words.pop() if len(words) == 1 else "partial"
    remarks = []
    for platform, (each, refs) in known.items():
        texts = [str(notes[r]).strip() for r in refs if str(notes.get(r) or "").strip()]
        if each != "yes" and (word == "partial" or texts):
            where = PLATFORM_NAMES.get(platform, platform)
            remarks.append(f"{where}: {each}" + (f" ({' '.join(texts)})" if texts else ""))
    return word, "; ".join(remarks)


def _value(raw: str) -> tuple[str, list[str]]:
    letter = raw.strip()[:1].lower()
    return WORDS.get(letter, "unknown"), re.findall(r"#(\d+)", raw)


def _version_key(version: str) -> tuple[int, ...]:
    """"2019-02" < "2026-03", "12.4" < "16.80": compare the numbers in order."""
    return tuple(int(n) for n in re.findall(r"\d+", version)) or (0,)


def load_source(source: str, *, timeout: float = 30.0) -> tuple[Any, str]:
    """Parsed JSON from a file path or an http(s) URL the publisher gives."""
    if re.match(r"https?://", source):
        import httpx

        try:
            response = httpx.get(source, timeout=timeout, follow_redirects=True)
            response.raise_for_status()
            return response.json(), source
        except (httpx.HTTPError, ValueError) as exc:
            hint = "Check the address, or download the file and give its path."
            raise DigestError(f"cannot load {source}: {exc}", hint=hint) from None
    path = Path(source).expanduser()
    try:
        return json.loads(path.read_text(encoding="utf-8")), str(path)
    except FileNotFoundError:
        raise DigestError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DigestError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise DigestError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})",
                          hint="Give caniemail's api/data.json as downloaded.") from None


def import_caniemail(source: str, target: Path, *, timeout: float = 30.0) -> dict[str, Any]:
    """Convert caniemail's api/data.json (path or URL) into `target`; returns the table."""
    data, origin = load_source(source, timeout=timeout)
    table = convert(data, origin=origin)
    if not table["features"]:
        raise DigestError(f"{origin} lists no features: not caniemail's api/data.json?")
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(target.name + ".tmp")
    staged.write_text(json.dumps(table, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    staged.replace(target)
    return table
