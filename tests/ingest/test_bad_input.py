"""Every kind of bad input is rejected with the file, the line or record, the problem and a hint,
and the rest of the run still goes in."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from digest.archive import connect
from digest.archive.articles import load_articles
from digest.errors import InputError
from digest.ingest import ingest
from digest.settings import Settings

BAD = Path(__file__).parent / "fixtures" / "bad"

# file in fixtures/bad -> [(line or None, words the problem must contain), ...] in order
EXPECTED: dict[str, list[tuple[int | None, list[str]]]] = {
    "no_headline.txt": [(6, ["no headline above the dateline"])],
    "no_dateline.txt": [(None, ["no dateline"])],
    "bad_date.txt": [(5, ["unparseable date", "Novembre 31, 2026", "unknown month"])],
    "impossible_date.txt": [(5, ["unparseable date", "February 30", "day is out of range"])],
    "no_front_matter.md": [(1, ["no YAML front matter"])],
    "bad_yaml.md": [(4, ["invalid YAML front matter"])],
    "missing_title.md": [(None, ["missing 'title'"])],
    "bad_date.md": [(None, ["'date'", "unparseable date 'next Tuesday'"])],
    "missing_title.json": [(None, ["record 2", "missing 'title'"])],
    "invalid.json": [(4, ["invalid JSON", "delimiter"])],
    "bad_lines.jsonl": [
        (2, ["invalid JSON", "Unterminated string"]),
        (3, ["missing 'title'"]),
        (4, ["'published_at'", "unparseable date 'the third of November'"]),
    ],
    "not_xml.xml": [(1, ["not an XML feed", "syntax error"])],  # a one-line file
    "not_a_feed.xml": [(None, ["not an RSS or Atom feed"])],
    "feed_dates.xml": [
        (None, ["entry 2", "unparseable date 'Thursday-ish, sometime'"]),
        (None, ["entry 3", "no date"]),
        (None, ["entry 4", "no <title>"]),
    ],
}


def rejections(path: Path, settings: Settings) -> list[InputError]:
    return ingest([str(path)], None, settings, dry_run=True).rejections


def assert_names(error: InputError, where: Path | str, line: int | None, words: list[str]) -> None:
    assert error.where == str(where)
    assert error.line == line, str(error)
    for word in words:
        assert word in error.problem, (word, str(error))
    assert error.hint, "every rejection says what to do"
    location = f"{where}:{line}" if line is not None else str(where)
    assert str(error).startswith(f"{location}: {error.problem}")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_fixture_is_rejected_with_file_line_and_problem(name: str, settings: Settings) -> None:
    path = BAD / name
    errors = rejections(path, settings)
    assert len(errors) == len(EXPECTED[name]), [str(e) for e in errors]
    for error, (line, words) in zip(errors, EXPECTED[name], strict=True):
        assert_names(error, path, line, words)


def test_good_records_next_to_bad_ones_still_count(settings: Settings) -> None:
    report = ingest([str(BAD / "missing_title.json"), str(BAD / "bad_lines.jsonl"),
                     str(BAD / "feed_dates.xml")], None, settings, dry_run=True)
    assert [(Path(r.source).name, r.new, r.rejected) for r in report.sources] == [
        ("missing_title.json", 2, 1), ("bad_lines.jsonl", 1, 3), ("feed_dates.xml", 1, 3),
    ]


def test_broken_symlink(tmp_path: Path, settings: Settings) -> None:
    link = tmp_path / "gone.txt"
    os.symlink(tmp_path / "deleted-export.txt", link)
    (error,) = rejections(link, settings)
    assert_names(error, link, None, ["cannot read", "broken symbolic link", "deleted-export.txt"])


def test_binary_file_with_a_text_extension(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "scan.txt"
    path.write_bytes(b"%PDF-1.7\n\x00\x01\x02\xff binary")
    (error,) = rejections(path, settings)
    assert_names(error, path, None, ["binary data, not a text file"])


def test_bytes_that_are_neither_utf8_nor_cp1252(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "mangled.json"
    path.write_bytes(b'{"title": "Bad \x81\x8d bytes", "published_at": "2026-11-03"}')
    (error,) = rejections(path, settings)
    assert_names(error, path, None, ["neither UTF-8 nor Windows-1252", "0x81"])


def test_unknown_format(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "minutes.docx"
    path.write_bytes(b"PK\x03\x04 a word document")
    (error,) = rejections(path, settings)
    assert_names(error, path, None, ["unknown format"])


def test_missing_path(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "no-such-folder"
    (error,) = rejections(path, settings)
    assert_names(error, path, None, ["no such file or folder"])


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('"just a string"', ["expected an article object or an array", "str"]),
        ('[42]', ["record 1", "expected an object", "a number"]),
        ('[{"title": "T", "published_at": "2026-11-03", "tags": 7}]', ["'tags' must be a list"]),
        ('[{"title": ["T"], "published_at": "2026-11-03"}]', ["'title' must be text"]),
        ('[{"title": "T", "published_at": "2026-11-03", "body": [1]}]', ["body item 1"]),
        ('[{"title": "T"}]', ["record 1", "missing 'published_at'"]),
    ],
)
def test_json_records_of_the_wrong_shape(
    content: str, words: list[str], tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "odd.json"
    path.write_text(content)
    (error,) = rejections(path, settings)
    assert_names(error, path, None, words)


def test_everything_else_in_the_run_is_saved(
    fixtures: Path, tmp_path: Path, settings: Settings
) -> None:
    folder = tmp_path / "mixed"
    shutil.copytree(BAD, folder / "bad")
    shutil.copytree(fixtures / "pagetext", folder / "pagetext")
    engine = connect(settings.database)
    report = ingest([str(folder), str(tmp_path / "missing.txt")], engine, settings)
    assert not report.ok
    total = report.total()
    assert total.rejected == sum(len(v) for v in EXPECTED.values()) + 1
    # 5 page-text files, plus the good records of the part-bad JSON, JSON Lines and feed files
    assert total.new == 5 + 2 + 1 + 1
    assert len(load_articles(engine)) == total.new
