"""Subscriber CSV files with random rows: bad rows reported by their line, good rows imported,
suppressions never undone (on SQLite, and on PostgreSQL when the suite has one)."""

from __future__ import annotations

import csv
import io
import itertools
import re
from pathlib import Path

from hypothesis import strategies as st
from sqlalchemy import Engine

from digest.subscribers import (
    clean_name,
    list_subscribers,
    suppress,
    suppressions_of,
    sync_subscribers,
)
from tests.fuzz.conftest import fuzz

_slugs = itertools.count()
LOCAL = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1,
                max_size=10)
DOMAINS = st.sampled_from(["example.com", "regwire.example", "Mail.Example.ORG"])
GOOD_EMAIL = st.builds(lambda a, b, d: f"{a}{b}@{d}", LOCAL, st.sampled_from(["", ".x", "+news"]),
                       DOMAINS)
# Names as people and CRMs write them: any letters, punctuation, quotes, commas, line breaks
# and tabs (folded into one space), right-to-left marks; no control characters.
SAFE_NAME = st.text(
    st.characters(blacklist_categories=["Cc", "Cs"]) | st.sampled_from(
        ["\n", "\r", "\t", ",", '"', "\u200f", "\u202e", " "]),
    max_size=30,
).filter(lambda n: "%%" not in n)
CONTROL = st.characters(whitelist_categories=["Cc"]).filter(lambda c: not c.isspace())
BAD_NAME = st.one_of(
    st.builds(lambda a, c, b: a + c + b, SAFE_NAME, CONTROL, SAFE_NAME),
    st.builds(lambda a, p: a + p, SAFE_NAME,
              st.sampled_from(["%%name%%", "%%unsubscribe_url%%", "%%email%%"])),
)
BAD_EMAIL = st.sampled_from(["", "not-an-address", "a@b", "@example.com", "a b@example.com",
                             "x@@example.com", "x@example..com", "a\x00b@example.com"])

ROW = st.one_of(
    st.tuples(st.just("good"), GOOD_EMAIL, SAFE_NAME),
    st.tuples(st.just("bad-email"), BAD_EMAIL, st.builds("Jo {}".format, SAFE_NAME)),
    st.tuples(st.just("bad-name"), GOOD_EMAIL, BAD_NAME),
    st.tuples(st.just("too-many"), GOOD_EMAIL, SAFE_NAME),
    st.tuples(st.just("blank"), st.just(""), st.just("")),
)


def write(rows: list[tuple[str, str, str]], company: bool) -> tuple[str, list[int]]:
    """The CSV text and the line each row starts on."""
    out = io.StringIO()
    writer = csv.writer(out)  # CRLF line ends, so a lone CR or LF in a field gets quoted
    writer.writerow(["email", "name", "company"] if company else ["Email Address", "Full Name"])
    starts = []
    for kind, email, name in rows:
        starts.append(len(re.findall(r"\r\n|\r|\n", out.getvalue())) + 1)
        if kind == "blank":
            writer.writerow([])
        elif kind == "too-many":
            writer.writerow([email, name, "x", "y", "z"])
        else:
            writer.writerow([email, name, "Acme"] if company else [email, name])
    return out.getvalue(), starts


@fuzz(st.lists(ROW, max_size=25), st.booleans(), st.data(), examples=60)
def test_bad_rows_by_line_good_rows_in_suppressions_kept(
    engine: Engine, tmp_path: Path, rows: list[tuple[str, str, str]], company: bool, data
) -> None:
    slug = f"fuzz-{next(_slugs)}"
    text, starts = write(rows, company)
    path = tmp_path / f"{slug}.csv"
    path.write_bytes(text.encode("utf-8"))

    good: dict[str, str] = {}
    for kind, email, name in rows:
        if kind == "good":
            good.setdefault(email.lower(), clean_name(name))
    held = data.draw(st.lists(st.sampled_from(sorted(good)), unique=True) if good
                     else st.just([]))
    for email in held:
        suppress(engine, email, slug, "unsubscribed", "fuzz")

    (report,) = sync_subscribers(engine, tmp_path, slug)

    bad_lines = [line for (kind, _, _), line in zip(rows, starts, strict=True)
                 if kind in ("bad-email", "bad-name", "too-many")]
    assert [p.line for p in report.problems] == bad_lines, report.problems
    assert all(p.where == str(path) for p in report.problems)
    listed = {s.email: s for s in list_subscribers(engine, slug)}
    assert {e: s.name for e, s in listed.items()} == good
    for email in held:
        assert listed[email].suppressed == "unsubscribed"
        assert slug in [s.newsletter for s in suppressions_of(engine, email)]

    (again,) = sync_subscribers(engine, tmp_path, slug)  # the same file once more: no change
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, len(good))
    assert all(s.suppressed == "unsubscribed" for s in list_subscribers(engine, slug)
               if s.email in held)
