"""JSON (an array of articles, one article, or {"articles": [...]}) and JSON Lines.

Field names are the model's (see records.py): body items are "a paragraph" or
{"subhead": "..."}, tags are names or {"slug", "name"}. Errors name the record number in a
JSON array and the line number in JSON Lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from digest.errors import InputError
from digest.ingest.records import article_from_record
from digest.ingest.registry import Reader, ReadResult, Source, register


def _opening(head: bytes) -> bytes:
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]


@register
class JsonReader(Reader):
    name = "json"
    extensions = (".json",)

    def sniff(self, head: bytes) -> bool:
        return _opening(head) in (b"[", b"{")

    def read(self, source: Source) -> Iterator[ReadResult]:
        try:
            text = source.text()
        except InputError as error:
            yield error
            return
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if exc.msg == "Extra data" and text.lstrip().startswith("{"):
                # One object a line in a .json file: JSON Lines in all but name.
                yield from json_lines(text, source)
                return
            yield InputError(
                source.name,
                f"invalid JSON: {exc.msg} (column {exc.colno})",
                line=exc.lineno,
                hint="Fix the JSON syntax there; a JSON file holds one article or an array.",
            )
            return
        if isinstance(data, dict) and isinstance(data.get("articles"), list):
            data = data["articles"]
        if isinstance(data, dict):
            yield _article(data, source, label="")
            return
        if not isinstance(data, list):
            yield InputError(
                source.name,
                f"expected an article object or an array of them, got {type(data).__name__}",
                hint="Put the articles in a JSON array: [{...}, {...}].",
            )
            return
        for number, record in enumerate(data, start=1):
            yield _article(record, source, label=f"record {number}")


@register
class JsonLinesReader(Reader):
    name = "jsonl"
    extensions = (".jsonl", ".ndjson")

    def sniff(self, head: bytes) -> bool:
        first, newline, rest = head.removeprefix(b"\xef\xbb\xbf").lstrip().partition(b"\n")
        if not newline or not first.startswith(b"{") or not rest.lstrip().startswith(b"{"):
            return False
        try:
            return isinstance(json.loads(first), dict)
        except ValueError:
            return False

    def read(self, source: Source) -> Iterator[ReadResult]:
        try:
            text = source.text()
        except InputError as error:
            yield error
            return
        yield from json_lines(text, source)


def json_lines(text: str, source: Source) -> Iterator[ReadResult]:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield InputError(
                source.name,
                f"invalid JSON: {exc.msg} (column {exc.colno})",
                line=number,
                hint="JSON Lines holds one complete JSON object per line.",
            )
            continue
        try:
            yield article_from_record(record, source.name, line=number)
        except InputError as error:
            yield error


def _article(record: object, source: Source, *, label: str) -> ReadResult:
    try:
        return article_from_record(record, source.name, label=label)
    except InputError as error:
        return error
