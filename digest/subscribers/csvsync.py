"""Syncing `subscribers/SLUG.csv` into the database: the CSV says who is on a list.

Syncing adds new addresses, updates names, brings back addresses that return to the CSV and
marks those gone from it `removed` (rows are kept: the ledger and the suppressions refer to the
address). A suppression is never touched here, so a stale CRM export cannot undo an unsubscribe.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, select, update

from digest.archive.schema import subscribers, suppressions
from digest.errors import DigestError, InputError
from digest.subscribers.addresses import BadAddress, clean_name, header_problem, normalise_email

EMAIL_COLUMNS = ("email", "e-mail", "email address", "email_address", "emailaddress")
NAME_COLUMNS = ("name", "full name", "full_name", "fullname")


@dataclass
class Listed:
    email: str
    name: str
    extra: dict[str, str]
    line: int


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
    problems: list[InputError] = field(default_factory=list)


def sync_subscribers(engine: Engine, folder: Path, slug: str | None = None) -> list[SyncReport]:
    """Sync SLUG.csv, or every CSV in `folder` when no slug is given."""
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
    return [sync_list(engine, path, path.stem) for path in paths]


def sync_list(engine: Engine, path: Path, slug: str) -> SyncReport:
    report = SyncReport(newsletter=slug, path=path)
    listed: dict[str, Listed] = {}
    for item in read_list(path, report):
        if item.email in listed:
            report.duplicates += 1  # the first row wins; the later ones say nothing new
            continue
        listed[item.email] = item
    now = datetime.now(UTC)
    with engine.begin() as conn:
        known = {
            row.email: row
            for row in conn.execute(
                select(
                    subscribers.c.id,
                    subscribers.c.email,
                    subscribers.c.name,
                    subscribers.c.extra,
                    subscribers.c.status,
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
        for email, item in listed.items():
            report.suppressed += email in blocked
            row = known.get(email)
            extra = item.extra or None
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
                    }
                )
            elif (row.name or "", row.extra or None, row.status) != (item.name, extra, "active"):
                changes.append(
                    {"_id": row.id, "name": item.name, "extra": extra, "status": "active"}
                )
            else:
                report.unchanged += 1
        gone = [
            {"_id": row.id, "name": row.name, "extra": row.extra, "status": "removed"}
            for email, row in known.items()
            if email not in listed and row.status != "removed"
        ]
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
    report.added, report.updated, report.removed = len(inserts), len(changes), len(gone)
    return report


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
                    if i not in (email_at, name_at) and value.strip() and header[i].strip()
                }
                yield Listed(email=email, name=name, extra=extra, line=line)
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
