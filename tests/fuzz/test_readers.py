"""Every reader on mutated fixtures and on random bytes in random encodings: never an unhandled
exception; each result is an article or an error naming the file (and a line inside it)."""

from __future__ import annotations

import json
import re
from datetime import datetime

from hypothesis import strategies as st

from digest.errors import InputError
from digest.ingest import Source, choose, readers
from digest.models import Article
from tests.fuzz.conftest import FIXTURES, fuzz

SAMPLES = {
    "pagetext": ["pagetext/101_5e1f0c2a9b3d4e6f.txt", "pagetext/windows-1252.txt"],
    "markdown": ["markdown/ai-act-guidance.md", "bad/bad_yaml.md"],
    "json": ["json/articles.json", "json/single.json"],
    "jsonl": ["json/articles.jsonl", "bad/bad_lines.jsonl"],
    "feed": ["feeds/rss2.xml", "feeds/atom.xml", "feeds/rss1.rdf"],
}
SEEDS = [(reader, (FIXTURES / path).read_bytes()) for reader, paths in SAMPLES.items()
         for path in paths]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "latin-1", "cp1252", "shift_jis",
             "koi8-r", "utf-32"]
# Bytes and fragments that trouble parsers: markup, YAML and JSON syntax, NUL, BOMs, CR.
TROUBLE = [b"\x00", b"\r", b"\r\n", b"\xef\xbb\xbf", b"\xff\xfe", b"---\n", b"<", b"]]>",
           b"&#0;", b"&bogus;", b"{", b"}", b'"', b"\\u0000", b": ", b"- ", b"!!python/object",
           b"*alias", b"&anchor", b"\t", b"<!ENTITY x SYSTEM 'file:///etc/passwd'>", b"\xc3",
           b"\xed\xa0\x80", b"Published: 2026-11-04 09:00 GMT", b"1e999", b"NaN", b"9" * 40]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    reader, data = draw(st.sampled_from(SEEDS))
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "trouble", "truncate", "dup"]))
        if action == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[at : at + draw(st.integers(1, 200))]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=40))
        elif action == "trouble":
            data[at:at] = draw(st.sampled_from(TROUBLE))
        elif action == "truncate":
            del data[at:]
        elif action == "dup" and data:
            start = draw(st.integers(0, len(data) - 1))
            data[at:at] = data[start : start + draw(st.integers(1, 400))]
    return reader, bytes(data)


def check(name: str, data: bytes, reader_name: str | None = None) -> None:
    source = Source(name, data)
    try:
        reader = choose(source) if reader_name is None else _named(reader_name)
    except InputError as error:  # unknown format: an error naming the file is the right answer
        assert error.where == name
        return
    lines = len(re.split(rb"\r\n|\r|\n", data))  # CR alone ends a line too
    for result in reader.read(source):
        if isinstance(result, InputError):
            assert result.where == name, result
            assert result.line is None or 1 <= result.line <= lines, (result, lines)
            assert result.problem.strip()
        else:
            assert isinstance(result, Article), result
            assert isinstance(result.title, str) and result.title.strip()
            assert isinstance(result.published_at, datetime)
            offset = result.published_at.utcoffset()
            assert offset is not None and not offset  # UTC
            json.dumps(result.to_dict(), default=str)  # storable as it is


def _named(name: str):
    return next(r for r in readers() if r.name == name)


@fuzz(mutated(), examples=250)
def test_every_reader_survives_mutated_fixtures(case: tuple[str, bytes]) -> None:
    reader, data = case
    extension = {"pagetext": "txt", "markdown": "md", "json": "json", "jsonl": "jsonl",
                 "feed": "xml"}[reader]
    check(f"mutated.{extension}", data, reader)


@fuzz(st.text(max_size=400), st.sampled_from(ENCODINGS),
      st.sampled_from([None, "pagetext", "markdown", "json", "jsonl", "feed"]),
      st.sampled_from(["in.txt", "in.md", "in.json", "in.jsonl", "in.xml", "download"]),
      examples=250)
def test_random_text_in_random_encodings(text: str, encoding: str, reader: str | None,
                                         name: str) -> None:
    check(name, text.encode(encoding, errors="replace"), reader)


@fuzz(st.binary(max_size=600), st.sampled_from(["pagetext", "markdown", "json", "jsonl", "feed"]),
      examples=150)
def test_random_bytes(data: bytes, reader: str) -> None:
    check("random.bin", data, reader)
