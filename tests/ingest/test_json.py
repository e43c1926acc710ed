"""JSON (array, single object) and JSON Lines, with the model's field names."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from digest.errors import InputError
from digest.models import Article, Block, Tag

Parse = Callable[[Path], list[Article | InputError]]


def test_array_of_articles(fixtures: Path, parse: Parse) -> None:
    first, second = parse(fixtures / "json" / "articles.json")
    assert isinstance(first, Article) and isinstance(second, Article)

    assert first.id == "js-merger-review"
    assert first.published_at == datetime(2026, 11, 4, 10, 0, tzinfo=UTC)
    assert [t.slug for t in first.tags] == ["antitrust", "financial-regulation"]  # deduplicated
    assert first.body == [
        Block("paragraph", "The authority accepted the remedies after a six-month phase 2 review."),
        Block("subhead", "Divestment"),
        Block("paragraph", "A trustee will oversee the sale."),
    ]
    assert first.contact is not None and "editorial staff" in first.contact  # out of the body
    assert first.standfirst == "The buyer must sell its merchant-acquiring arm in two countries."

    assert re.fullmatch(r"[0-9a-f]{16}", second.id)  # no id: a derived one
    assert second.published_at == datetime(2026, 11, 5, 15, 20, tzinfo=UTC)
    assert second.updated_at == datetime(2026, 11, 6, 9, 0, tzinfo=UTC)
    assert second.authors == ["Marta Kowalczyk"]
    assert second.tags == [Tag("ai-policy", "AI Policy"), Tag("eu", "EU")]
    assert [b.kind for b in second.body] == ["paragraph", "subhead", "paragraph"]
    assert second.contact == "Write to editors@regwire.example."


def test_single_object_with_date_alias_and_text_body(fixtures: Path, parse: Parse) -> None:
    (article,) = parse(fixtures / "json" / "single.json")
    assert isinstance(article, Article)
    assert article.published_at == datetime(2026, 11, 6, tzinfo=UTC)
    assert article.paragraphs == ["First paragraph.", "Second paragraph."]


def test_json_lines_skip_blank_lines(fixtures: Path, parse: Parse) -> None:
    results = parse(fixtures / "json" / "articles.jsonl")
    assert [a.id for a in results if isinstance(a, Article)] == ["jl-one", "jl-two"]
    assert len(results) == 2


def test_ingest_json_output_reads_back_as_the_same_article(
    fixtures: Path, parse: Parse, tmp_path: Path
) -> None:
    originals = [a for a in parse(fixtures / "json" / "articles.json") if isinstance(a, Article)]
    originals += [a for a in parse(fixtures / "markdown" / "ai-act-guidance.md")
                  if isinstance(a, Article)]
    lines = tmp_path / "roundtrip.jsonl"
    lines.write_text("\n".join(json.dumps(a.to_dict(), ensure_ascii=False) for a in originals))
    again = [a for a in parse(lines) if isinstance(a, Article)]
    assert len(again) == len(originals) == 3
    assert [a.content_hash() for a in again] == [a.content_hash() for a in originals]


def test_json_lines_in_a_json_file(fixtures: Path, parse: Parse, tmp_path: Path) -> None:
    misnamed = tmp_path / "export.json"
    misnamed.write_bytes((fixtures / "json" / "articles.jsonl").read_bytes())
    assert [a.id for a in parse(misnamed) if isinstance(a, Article)] == ["jl-one", "jl-two"]


def test_surrogate_and_nul_escapes_reject_their_record_by_line(tmp_path, settings) -> None:
    """Found by the fuzz suite: "\\ud800" in JSON made ingest stop with a traceback (no
    database stores half a UTF-16 pair), and so did "\\u0000" on PostgreSQL."""
    from digest.archive import connect
    from digest.archive.articles import load_articles
    from digest.ingest import ingest

    path = tmp_path / "feed.jsonl"
    day = '"published_at": "2026-11-03"'
    path.write_text(f'{{"id": "bad", "title": "Half \\ud800 pair", {day}}}\n'
                    f'{{"id": "good", "title": "Whole \\ud83d\\ude42", {day}}}\n'
                    f'{{"id": "nul", "title": "Nul", "body": ["a\\u0000b"], {day}}}\n')
    engine = connect(settings.database)
    report = ingest([str(path)], engine, settings)
    surrogate, nul = report.rejections
    assert (surrogate.line, surrogate.where) == (1, str(path)) and "surrogate" in surrogate.problem
    assert nul.line == 3 and "a NUL character" in nul.problem
    assert [a.title for a in load_articles(engine)] == ["Whole 🙂"]
