"""A mapping of the model's field names (a JSON record, a front-matter block) made an Article.

The names are the model's, so `digest ingest --json` output can be ingested again; a few
aliases that people write anyway (`date`, `author`, `updated`) are accepted too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from digest.errors import InputError
from digest.ingest.dates import DATE_FORMATS, parse_date
from digest.ingest.html import text_blocks
from digest.ingest.text import derived_id, split_contact, squash, untextual_problem
from digest.models import Article, Block, Tag

FIELDS_HINT = (
    "Each article needs at least 'title' and 'published_at' (ISO 8601); optional: id, url, "
    "authors, updated_at, kind, tags, standfirst, body, contact."
)


class _Where:
    """Where a record sits, for messages: the file, and a line or a record number."""

    def __init__(self, name: str, line: int | None, label: str) -> None:
        self.name, self.line, self.label = name, line, label

    def error(self, problem: str, hint: str = FIELDS_HINT) -> InputError:
        text = f"{self.label}: {problem}" if self.label else problem
        return InputError(self.name, text, line=self.line, hint=hint)


def article_from_record(
    data: Any,
    name: str,
    *,
    line: int | None = None,
    label: str = "",
    body: list[Block] | None = None,
) -> Article:
    """Build an Article from `data`; InputError naming the file, line/record and the field.

    `body`, when given, is the body parsed from elsewhere (the Markdown under the front matter).
    """
    where = _Where(name, line, label)
    if not isinstance(data, Mapping):
        raise where.error(f"expected an object with the article's fields, got {_kind(data)}")
    if problem := untextual_problem(data):
        raise where.error(f"the record {problem}",
                          hint="Fix the export (\\u0000 is not text; \\ud800-\\udfff escapes "
                          "come in pairs).")
    title = data.get("title")
    if title is None or (isinstance(title, str) and not title.strip()):
        raise where.error("missing 'title'")
    if not isinstance(title, str):
        raise where.error(f"'title' must be text, got {_kind(title)}")
    title = squash(title)
    published_at = _date(data, ("published_at", "published", "date"), where)
    if published_at is None:
        raise where.error("missing 'published_at'", hint=f"Write dates as {DATE_FORMATS}.")
    updated_at = _date(data, ("updated_at", "updated"), where)

    blocks = body if body is not None else _body(data.get("body"), where)
    contact = _text(data, "contact", where)
    if contact is None:
        blocks, contact = split_contact(blocks)
    raw_id = data.get("id")
    if raw_id is not None and not isinstance(raw_id, str | int):
        raise where.error(f"'id' must be text, got {_kind(raw_id)}")
    article_id = str(raw_id).strip() if raw_id is not None else ""
    return Article(
        id=article_id or derived_id(title, published_at),
        title=title,
        published_at=published_at,
        url=_text(data, "url", where),
        authors=_authors(data, where),
        updated_at=updated_at,
        kind=_text(data, "kind", where),
        tags=_tags(data.get("tags"), where),
        standfirst=_text(data, "standfirst", where),
        body=blocks,
        contact=contact,
        source=name,
    )


def _date(data: Mapping[str, Any], keys: tuple[str, ...], where: _Where) -> datetime | None:
    for key in keys:
        value = data.get(key)
        if value is None or value == "":
            continue
        try:
            return parse_date(value)
        except ValueError as exc:
            raise where.error(f"'{key}': {exc}", hint=f"Write dates as {DATE_FORMATS}.") from None
    return None


def _text(data: Mapping[str, Any], key: str, where: _Where) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise where.error(f"'{key}' must be text, got {_kind(value)}")
    return squash(value) or None


def _authors(data: Mapping[str, Any], where: _Where) -> list[str]:
    value = data.get("authors", data.get("author"))
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise where.error(f"'authors' must be a list of names, got {_kind(value)}")
    return [name for name in (squash(v) for v in value) if name]


def _tags(value: Any, where: _Where) -> list[Tag]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise where.error(f"'tags' must be a list, got {_kind(value)}")
    found: dict[str, Tag] = {}
    for item in value:
        if isinstance(item, str):
            tag = Tag.from_name(item)
        elif isinstance(item, Mapping) and isinstance(item.get("name") or item.get("slug"), str):
            display = squash(item.get("name") or item["slug"])
            tag = Tag.from_name(display, inferred=bool(item.get("inferred", False)))
            if isinstance(item.get("slug"), str) and item["slug"].strip():
                tag = Tag(item["slug"].strip(), tag.name, tag.inferred)
        else:
            raise where.error(f"a tag must be a name or {{'slug', 'name'}}, got {_kind(item)}")
        if tag.slug:
            found.setdefault(tag.slug, tag)
    return list(found.values())


def _body(value: Any, where: _Where) -> list[Block]:
    """Body items: "a paragraph", {"subhead": "..."}, or {"kind", "text"} as to_dict writes."""
    if value is None:
        return []
    if isinstance(value, str):
        return text_blocks(value)
    if not isinstance(value, list):
        raise where.error(f"'body' must be a list of paragraphs, got {_kind(value)}")
    blocks: list[Block] = []
    for number, item in enumerate(value, start=1):
        if isinstance(item, str):
            block = Block("paragraph", squash(item))
        elif isinstance(item, Mapping) and isinstance(item.get("subhead"), str):
            block = Block("subhead", squash(item["subhead"]))
        elif (
            isinstance(item, Mapping)
            and item.get("kind") in ("paragraph", "subhead")
            and isinstance(item.get("text"), str)
        ):
            block = Block(item["kind"], squash(item["text"]))
        else:
            raise where.error(
                f"body item {number} must be a paragraph (text) or {{'subhead': text}}, "
                f"got {_kind(item)}"
            )
        if block.text:
            blocks.append(block)
    return blocks


def _kind(value: Any) -> str:
    # bool before int: True is an int too
    names = {bool: "true/false", dict: "an object", list: "a list", str: "text", int: "a number",
             float: "a number", type(None): "null"}
    for kind, label in names.items():
        if isinstance(value, kind):
            return label
    return type(value).__name__
