"""The reader registry: by extension, by sniffing, unknown formats, and a third-party reader."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.archive import connect
from digest.archive.articles import load_articles
from digest.errors import InputError
from digest.ingest import Reader, ReadResult, Source, choose, ingest, readers, register, unregister
from digest.models import Article, Tag
from digest.settings import Settings

SAMPLES = {
    "pagetext": "pagetext/101_5e1f0c2a9b3d4e6f.txt",
    "markdown": "markdown/ai-act-guidance.md",
    "json": "json/articles.json",
    "jsonl": "json/articles.jsonl",
    "feed": "feeds/rss2.xml",
}


def source(path: Path, name: str | None = None) -> Source:
    return Source(name or path.name, path.read_bytes(), path)


def test_builtin_readers_are_registered() -> None:
    assert {r.name for r in readers()} >= set(SAMPLES)


@pytest.mark.parametrize("reader", sorted(SAMPLES))
def test_chosen_by_extension(fixtures: Path, reader: str) -> None:
    assert choose(source(fixtures / SAMPLES[reader])).name == reader


@pytest.mark.parametrize("extension", [".atom", ".rdf", ".rss", ".ndjson", ".markdown", ".TXT"])
def test_other_claimed_extensions(extension: str) -> None:
    assert choose(Source(f"x{extension}", b"")).extensions  # claimed by someone, even empty


@pytest.mark.parametrize(
    ("reader", "sample"),
    [*SAMPLES.items(), ("feed", "feeds/atom.xml"), ("feed", "feeds/rss1.rdf"),
     ("pagetext", "pagetext/102_c0ffee00deadbeef.txt")],
)
def test_chosen_by_sniffing_when_the_extension_says_nothing(
    fixtures: Path, reader: str, sample: str
) -> None:
    data = (fixtures / sample).read_bytes()
    for name in ("download", "export.dat", "https://feeds.example/latest?format=1"):
        assert choose(Source(name, data)).name == reader, (name, sample)


def test_unknown_format_is_an_input_error_naming_the_file() -> None:
    with pytest.raises(InputError) as caught:
        choose(Source("minutes.docx", b"PK\x03\x04\x14\x00\x06\x00binary"))
    assert caught.value.where == "minutes.docx"
    assert "unknown format" in caught.value.problem
    assert ".md" in (caught.value.hint or "")  # says which formats there are


class CsvReader(Reader):
    """A third-party reader: one article per CSV row (title, date, tag)."""

    name = "test-csv"
    extensions = (".csv",)

    def sniff(self, head: bytes) -> bool:
        return head.startswith(b"title,date,tag")

    def read(self, source: Source) -> Iterator[ReadResult]:
        rows = csv.DictReader(io.StringIO(source.data.decode()))
        for number, row in enumerate(rows, start=2):
            if not row["title"]:
                yield InputError(source.name, "empty title", line=number)
                continue
            yield Article(
                id=f"csv-{source.filename.partition('.')[0]}-{number}",
                title=row["title"],
                published_at=datetime.fromisoformat(row["date"]).replace(tzinfo=UTC),
                tags=[Tag.from_name(row["tag"])],
            )


@pytest.fixture
def csv_reader() -> Iterator[type[CsvReader]]:
    register(CsvReader)
    yield CsvReader
    unregister(CsvReader.name)


def test_a_third_party_reader_is_used_by_ingest(
    csv_reader: type[CsvReader], settings: Settings, tmp_path: Path, fixtures: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "briefs.csv").write_text(
        "title,date,tag\nSanctions list grows,2026-11-04T10:00:00,Trade\n,2026-11-04,Trade\n"
    )
    (folder / "more").write_text("title,date,tag\nBank levy set,2026-11-05T10:00:00,Banking\n")
    (folder / "guidance.md").write_bytes((fixtures / SAMPLES["markdown"]).read_bytes())

    engine = connect(settings.database)
    report = ingest([str(folder)], engine, settings)

    readers_used = {Path(row.source).name: row.reader for row in report.sources}
    assert readers_used == {"briefs.csv": "test-csv", "more": "test-csv", "guidance.md": "markdown"}
    (error,) = report.rejections
    assert (Path(error.where).name, error.line, error.problem) == ("briefs.csv", 3, "empty title")
    stored = {a.id: a for a in load_articles(engine)}
    assert stored["csv-briefs-2"].title == "Sanctions list grows"
    assert stored["csv-more-2"].title == "Bank levy set"
    brief = stored["csv-briefs-2"]
    assert brief.url == "https://regwire.example/articles/csv-briefs-2"  # finished like any
    assert brief.source.endswith("briefs.csv")
    assert "md-ai-act-guidance" in stored


def test_latest_registration_wins_an_extension(csv_reader: type[CsvReader]) -> None:
    class TxtCsvReader(CsvReader):
        name = "test-txt-csv"
        extensions = (".txt",)

    register(TxtCsvReader)
    try:
        assert choose(Source("a.txt", b"")).name == "test-txt-csv"
    finally:
        unregister(TxtCsvReader.name)
    assert choose(Source("a.txt", b"")).name == "pagetext"


def test_a_crashing_reader_rejects_its_source_only(settings: Settings, tmp_path: Path) -> None:
    class Broken(Reader):
        name = "test-broken"
        extensions = (".broken",)

        def read(self, source: Source) -> Iterator[ReadResult]:
            yield Article(id="before-crash", title="Fine", published_at=datetime.now(UTC))
            raise RuntimeError("unexpected layout")

    register(Broken)
    try:
        (tmp_path / "a.broken").write_text("x")
        (tmp_path / "b.jsonl").write_text(
            '{"id": "ok", "title": "Still here", "published_at": "2026-11-03"}\n'
        )
        report = ingest([str(tmp_path)], connect(settings.database), settings)
    finally:
        unregister(Broken.name)
    (error,) = report.rejections
    assert error.where.endswith("a.broken")
    assert "test-broken reader failed: RuntimeError: unexpected layout" in error.problem
    assert report.total().new == 2  # the article before the crash, and the other file


def test_a_reader_needs_a_name() -> None:
    class Nameless(Reader):
        pass

    with pytest.raises(ValueError, match="no name"):
        register(Nameless)
