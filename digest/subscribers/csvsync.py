"""Syncing `subscribers/SLUG.csv` into the database: the CSV says who is on a CRM-managed list.

Syncing adds new addresses, updates names, brings back addresses that return to the CSV and
marks those gone from it `removed` (rows are kept: the ledger and the suppressions refer to the
address). It never undoes a reader's choice: it touches only rows the CSV put there (origin
"csv"), never one a reader made by signing up or on the manage page; a suppression is never
touched, so a stale CRM export cannot undo an unsubscribe; an erased address (known only by its
keyed hash) is not imported again. An optional `topics` column sets the topics of CSV
subscribers who have not chosen their own.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select, update

from digest.archive.schema import subscribers, suppressions
from digest.errors import DigestError, InputError
from digest.subscribers.addresses import BadAddress, clean_name, header_problem, normalise_email
from digest.subscribers.erasure import Hasher, erased_hashes
from digest.subscribers.history import entry, record
from digest.subscribers.preferences import KEEP  # no topics cell that can be used: leave them
from digest.subscribers.topics import read_topics, topics_key

EMAIL_COLUMNS = ("email", "e-mail", "email address", "email_address", "emailaddress")
NAME_COLUMNS = ("name", "full name", "full_name", "fullname")
TOPICS_COLUMNS = ("topics",)
SOURCE = "csv"


@dataclass
class Listed:
    email: str
    name: str
    extra: dict[str, str]
    line: int
    topics: str | None = None  # the topics cell as written; None when there is no such column


@dataclass
class SyncReport:
    """What one sync did to one newsletter's list."""

    newsletter: str
    path: Path
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    duplicates: int = 0
    suppressed: int = 0  # listed in the CSV but suppressed: they stay off the mailing
    readers_own: int = 0  # listed, but on the list by their own choice: left as they are
    erased: int = 0  # listed, but erased at their request: not imported again
    problems: list[InputError] = field(default_factory=list)


def sync_subscribers(engine: Engine, folder: Path, slug: str | None = None, *,
                     key: Any = None) -> list[SyncReport]:
    """Sync SLUG.csv, or every CSV in `folder` when no slug is given. `key` (the signing key,
    or the Settings) recognises erased addresses; it is needed once any address was erased."""
    if slug is not None:
        path = folder / f"{slug}.csv"
        if not path.is_file():
            raise DigestError(
                f"no subscriber list for {slug!r}: {path} does not exist",
                hint=f"Put the list in {path} (columns email,name,...).",
            )
        paths = [path]
    else:
        paths = sorted(folder.glob("*.csv"))
        if not paths:
            raise DigestError(
                f"no subscriber lists in {folder}",
                hint="Add one SLUG.csv per newsletter (columns email,name,...), "
                "or set DIGEST_SUBSCRIBERS_DIR.",
            )
    offers = _Offers(folder)
    return [sync_list(engine, path, path.stem, key=key, offers=offers) for path in paths]


def sync_list(engine: Engine, path: Path, slug: str, *, key: Any = None,
              offers: _Offers | None = None) -> SyncReport:
    report = SyncReport(newsletter=slug, path=path)
    listed: dict[str, Listed] = {}
    for item in read_list(path, report):
        if item.email in listed:
            report.duplicates += 1  # the first row wins; the later ones say nothing new
            continue
        listed[item.email] = item
    topics = _topics(listed, report, path, slug, offers or _Offers(path.parent))
    now = datetime.now(UTC)
    with engine.begin() as conn:
        _leave_out_erased(conn, key, listed, report)
        known = {
            row.email: row
            for row in conn.execute(
                select(
                    subscribers.c.id,
                    subscribers.c.email,
                    subscribers.c.name,
                    subscribers.c.extra,
                    subscribers.c.status,
                    subscribers.c.origin,
                    subscribers.c.topics,
                    subscribers.c.topics_by,
                ).where(subscribers.c.newsletter == slug)
            )
        }
        blocked = set(
            conn.scalars(
                select(suppressions.c.email).where(suppressions.c.newsletter.in_([slug, "*"]))
            )
        )
        inserts: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        changed_topics: list[dict[str, Any]] = []
        history: list[dict[str, Any]] = []
        for email, item in listed.items():
            report.suppressed += email in blocked
            row = known.get(email)
            extra = item.extra or None
            chosen = topics.get(email, KEEP)
            if row is None:
                inserts.append(
                    {
                        "newsletter": slug,
                        "email": email,
                        "name": item.name,
                        "extra": extra,
                        "status": "active",
                        "created_at": now,
                        "updated_at": now,
                        "origin": SOURCE,
                        "topics": None if chosen is KEEP else chosen,
                        "topics_by": SOURCE if chosen not in (KEEP, None) else None,
                    }
                )
                history.append(entry(email, "subscribed", SOURCE, newsletter=slug, at=now,
                                     detail=f"listed in {path.name}"))
                continue
            if row.origin != SOURCE:
                report.readers_own += 1  # their own choice: the CRM's list does not manage it
                continue
            if chosen is not KEEP and row.topics_by != "reader" and row.topics != chosen:
                changed_topics.append({"_id": row.id, "topics": chosen,
                                       "topics_by": SOURCE if chosen else None})
                history.append(entry(email, "topics", SOURCE, newsletter=slug, at=now,
                                     detail=chosen or "the whole edition"))
            if (row.name or "", row.extra or None, row.status) != (item.name, extra, "active"):
                changes.append(
                    {"_id": row.id, "name": item.name, "extra": extra, "status": "active"}
                )
                history.append(entry(email, "listed again" if row.status != "active"
                                     else "updated", SOURCE, newsletter=slug, at=now,
                                     detail=f"in {path.name}"))
            else:
                report.unchanged += 1
        gone = [
            {"_id": row.id, "name": row.name, "extra": row.extra, "status": "removed"}
            for email, row in known.items()
            if email not in listed and row.status != "removed" and row.origin == SOURCE
        ]
        history.extend(entry(row.email, "removed", SOURCE, newsletter=slug, at=now,
                             detail=f"no longer in {path.name}")
                       for row in known.values()
                       if row.email not in listed and row.status != "removed"
                       and row.origin == SOURCE)
        if inserts:
            conn.execute(subscribers.insert(), inserts)
        if changes or gone:
            statement = (
                update(subscribers)
                .where(subscribers.c.id == bindparam("_id"))
                .values(
                    name=bindparam("name"),
                    extra=bindparam("extra"),
                    status=bindparam("status"),
                    updated_at=now,
                )
            )
            conn.execute(statement, changes + gone)
        if changed_topics:
            conn.execute(update(subscribers).where(subscribers.c.id == bindparam("_id"))
                         .values(topics=bindparam("topics"), topics_by=bindparam("topics_by"),
                                 updated_at=now), changed_topics)
        record(conn, history)
    report.added, report.updated, report.removed = len(inserts), len(changes), len(gone)
    return report


class _Offers:
    """The topics each newsletter offers, read from newsletters.toml when a CSV needs them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._loaded: dict[str, tuple[tuple[str, ...], dict[str, str]]] | None = None

    def get(self, slug: str) -> tuple[tuple[str, ...], dict[str, str]]:
        if self._loaded is None:
            from digest.newsletters import load_newsletters
            from digest.taxonomy import load_taxonomy

            taxonomy = load_taxonomy(self.folder / "taxonomy.toml")
            found = load_newsletters(self.folder / "newsletters.toml", taxonomy)
            names = {slug: tag.name for slug, tag in taxonomy.tags.items()}
            self._loaded = {s: (n.topics, names) for s, n in found.items()}
        return self._loaded.get(slug, ((), {}))


def _topics(listed: dict[str, Listed], report: SyncReport, path: Path, slug: str,
            offers: _Offers) -> dict[str, Any]:
    """email -> topics key (None: the whole edition) for the rows whose cell can be used."""
    with_cell = [item for item in listed.values() if item.topics is not None]
    if not with_cell:
        return {}
    offered, names = offers.get(slug)
    if not offered:
        report.problems.append(InputError(
            str(path), f"a topics column, but newsletter {slug!r} offers no topics", line=1,
            hint="Add topics = [...] to its table in newsletters.toml, or drop the column."))
        return {}
    found: dict[str, Any] = {}
    for item in with_cell:
        known, unknown = read_topics(item.topics or "", offered, names)
        if unknown:
            report.problems.append(InputError(
                str(path), f"unknown topic {', '.join(map(repr, unknown))} (the row is synced; "
                "its topics are left as they were)", line=item.line,
                hint=f"{slug} offers: {', '.join(offered)}."))
            continue
        found[item.email] = topics_key(known)
    return found


def _leave_out_erased(conn: Connection, key: Any, listed: dict[str, Listed],
                      report: SyncReport) -> None:
    hashes = erased_hashes(conn)
    if not hashes:
        return
    if key is None:
        raise DigestError("some addresses were erased at their owners' request, and this sync "
                          "was given no key to recognise them by",
                          hint="Pass the Settings (or the signing key) as key=.")
    hasher = Hasher(key)
    for email in [e for e in listed if hasher(e) in hashes]:
        del listed[email]
        report.erased += 1


def read_list(path: Path, report: SyncReport) -> Iterator[Listed]:
    """Good rows of a subscriber CSV; each bad one is added to `report.problems` and skipped."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise DigestError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise DigestError(
                    f"{path}: the file is empty",
                    hint="The first line names the columns: email,name,...",
                )
            columns = [name.strip().lower() for name in header]
            email_at = _find(columns, EMAIL_COLUMNS)
            if email_at is None:
                raise InputError(
                    str(path),
                    f"no email column in the header ({', '.join(header) or 'empty'})",
                    line=1,
                    hint="Name the column of addresses 'email' (and the names 'name').",
                )
            name_at = _find(columns, NAME_COLUMNS)
            topics_at = _find(columns, TOPICS_COLUMNS)
            ended = reader.line_num
            for fields in reader:
                line, ended = ended + 1, reader.line_num
                if not any(value.strip() for value in fields):
                    continue
                if len(fields) > len(columns):
                    report.problems.append(
                        InputError(
                            str(path),
                            f"{len(fields)} fields but the header has {len(columns)}",
                            line=line,
                            hint='Quote values that contain commas, e.g. "Smith, Jo".',
                        )
                    )
                    continue
                raw = fields[email_at] if email_at < len(fields) else ""
                raw_name = fields[name_at] if name_at is not None and name_at < len(fields) else ""
                try:
                    email = normalise_email(raw)
                except BadAddress as exc:
                    report.problems.append(InputError(str(path), str(exc), line=line))
                    continue
                unsafe = _unsafe(email, raw_name)
                if unsafe:
                    report.problems.append(InputError(str(path), unsafe, line=line,
                                                      hint=_UNSAFE_HINT))
                    continue
                name = clean_name(raw_name)
                extra = {
                    header[i].strip(): value.strip()
                    for i, value in enumerate(fields)
                    if i not in (email_at, name_at, topics_at) and value.strip()
                    and header[i].strip()
                }
                topics = None
                if topics_at is not None:
                    topics = fields[topics_at] if topics_at < len(fields) else ""
                yield Listed(email=email, name=name, extra=extra, line=line, topics=topics)
        except UnicodeDecodeError as exc:
            raise InputError(
                str(path),
                f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                line=reader.line_num + 1,
                hint="Save the list as CSV UTF-8.",
            ) from None
        except csv.Error as exc:
            raise InputError(str(path), f"not valid CSV: {exc}", line=reader.line_num) from None


_UNSAFE_HINT = "Correct the value in the list (the row is left out until then)."


def _unsafe(email: str, name: str) -> str | None:
    for column, value in (("email", email), ("name", name)):
        problem = header_problem(value)
        if problem:
            return f"the {column} {value!r} {problem}: it would go into the To header"
    return None


def _find(columns: list[str], wanted: tuple[str, ...]) -> int | None:
    for name in wanted:
        if name in columns:
            return columns.index(name)
    return None
