"""From what the user typed (files, folders, URLs) to loaded sources, one at a time.

Folders are walked recursively in sorted order, so two runs see files in the same order (which
matters when two versions of a story sit in one folder). Hidden files and folders, README /
LICENSE / CHANGELOG files and editor backups are skipped and reported as skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from digest import __version__
from digest.errors import InputError
from digest.ingest.registry import Source

if TYPE_CHECKING:
    import httpx

_DOCS = re.compile(r"^(readme|license|licence|changelog|contributing)(\..*)?$", re.I)
_PATH_HINT = "Give a file, a folder or an http(s) URL."
_ANY_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Skipped:
    name: str
    reason: str


def sample_corpus() -> Path:
    """The bundled sample articles (digest/sample/articles), wherever the package is installed."""
    return Path(str(files("digest") / "sample" / "articles"))


def is_url(spec: str) -> bool:
    return spec.lower().startswith(("http://", "https://"))


def looks_like_url(spec: str) -> bool:
    """scheme://...: a URL (perhaps one we refuse, such as file:// or ftp://), not a path."""
    return bool(_ANY_URL.match(spec))


def expand(spec: str, avoid: Iterable[Path] = ()) -> Iterator[Path | Skipped | InputError]:
    """The files a path names: itself, or everything under a folder (sorted, recursive).

    `avoid` lists files and folders a walk skips: digest's own data folder and archive, which
    would otherwise be rejected as "unknown format" when someone ingests ".".
    """
    path = Path(spec)
    if path.is_dir():
        yield from _walk(path, {p.resolve() for p in avoid})
    elif path.exists() or path.is_symlink():  # a broken link is reported when it is read
        yield path
    else:
        yield InputError(spec, "no such file or folder", hint=_PATH_HINT)


def _walk(root: Path, avoid: set[Path]) -> Iterator[Path | Skipped]:
    found: list[tuple[tuple[str, ...], Path | Skipped]] = []
    for folder, dirnames, filenames in os.walk(root):
        here = Path(folder)
        for name in list(dirnames):
            reason = _skip_folder(here / name, avoid)
            if reason:
                dirnames.remove(name)
                found.append(((*(here / name).relative_to(root).parts,), Skipped(
                    str(here / name), reason)))
        for name in filenames:
            path = here / name
            reason = _skip_file(name) or _avoided(path, avoid)
            key = path.relative_to(root).parts
            found.append((key, Skipped(str(path), reason) if reason else path))
    found.sort(key=lambda item: item[0])
    for _, item in found:
        yield item


def _avoided(path: Path, avoid: set[Path]) -> str | None:
    # compare names first: resolve() costs system calls, and this runs for every file
    if any(path.name == own.name for own in avoid) and path.resolve() in avoid:
        return "digest's own data"
    return None


def _skip_folder(path: Path, avoid: set[Path]) -> str | None:
    if _avoided(path, avoid):
        return "digest's data folder"
    if path.name.startswith("."):
        return "hidden folder"
    if path.name == "__pycache__":
        return "Python cache folder"
    if path.is_symlink():
        return "symbolic link to a folder (not followed)"
    return None


def _skip_file(name: str) -> str | None:
    if name.startswith("."):
        return "hidden file"
    if _DOCS.match(name):
        return "documentation file"
    if name.endswith(("~", ".bak", ".swp", ".tmp")):
        return "backup or temporary file"
    return None


def load(path: Path, name: str) -> Source | InputError:
    try:
        return Source(name=name, data=path.read_bytes(), path=path)
    except IsADirectoryError:
        return InputError(name, "a folder where a file was expected", hint=_PATH_HINT)
    except OSError as exc:
        if path.is_symlink() and not path.exists():
            problem = f"cannot read: broken symbolic link (points to {os.readlink(path)})"
        else:
            problem = f"cannot read: {exc.strerror or exc}"
        return InputError(name, problem, hint="Check that the file exists and is readable.")


def fetch(url: str, *, timeout: float, max_bytes: int) -> Source | InputError:
    """GET a feed (or any source) over http(s); an InputError naming the URL and the reason.

    The body is streamed and given up as soon as it passes `max_bytes` (counted after any
    gzip/deflate decoding, so a small compressed bomb is caught too); at most MAX_REDIRECTS
    redirects are followed, and only to http(s).
    """
    if not is_url(url):
        scheme = urlsplit(url).scheme
        return InputError(url, f"only http(s) URLs are fetched, not {scheme}:", hint=_PATH_HINT)
    import httpx  # here: importing it costs more than reading most local files

    headers = {"User-Agent": f"digest/{__version__} (newsletter digest builder)"}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=MAX_REDIRECTS,
                          headers=headers) as client, client.stream("GET", url) as response:
            if response.status_code != 200:
                status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
                return _unfetchable(url, status)
            data = _bounded_body(response, max_bytes)
    except _TooBig as exc:
        return _unfetchable(url, str(exc))
    except httpx.TooManyRedirects:
        return _unfetchable(url, f"more than {MAX_REDIRECTS} redirects (the limit)")
    except httpx.UnsupportedProtocol as exc:
        return _unfetchable(url, f"redirected to a URL that is not http(s) ({_reason(exc)})")
    except httpx.TimeoutException:
        return _unfetchable(url, f"no answer within {timeout:g} s (DIGEST_FETCH_TIMEOUT)")
    except httpx.ConnectError as exc:
        return _unfetchable(url, f"cannot connect ({_reason(exc)})")
    except httpx.InvalidURL as exc:
        return InputError(url, f"not a valid URL: {exc}", hint=_PATH_HINT)
    except httpx.HTTPError as exc:
        return _unfetchable(url, f"{type(exc).__name__}: {_reason(exc)}")
    return Source(name=url, data=data)


class _TooBig(Exception):
    pass


def _bounded_body(response: httpx.Response, max_bytes: int) -> bytes:
    limit = f"the limit of {max_bytes:,} bytes (DIGEST_FETCH_MAX_BYTES)"
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _TooBig(f"the body is {int(declared):,} bytes, over {limit}")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _TooBig(f"the body passed {limit}; stopped reading")
        chunks.append(chunk)
    return b"".join(chunks)


def _unfetchable(url: str, reason: str) -> InputError:
    return InputError(
        url, f"cannot fetch: {reason}",
        hint="Check the URL, that the server is up, and the network; then run again.",
    )


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
