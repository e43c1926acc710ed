"""Digests cut to readers' topics: a variant per set of topics held, each built like an edition."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from digest.build import build_editions
from digest.cli import app
from digest.editions import load_built, read_edition
from tests.support.readers import add_readers

from .conftest import FIXTURES, WEEK

runner = CliRunner()


def manifest(folder) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def by_key(entries: list[dict]) -> dict[str, dict]:
    return {v["key"]: v for v in entries}


def test_one_variant_per_topic_set_its_readers_hold(build_settings, archive):
    add_readers(archive, "markets", {None: 4, "antitrust": 3, "trade": 2, "antitrust+trade": 1})
    result = build_editions(build_settings, week=WEEK, engine=archive)
    folder = result.edition_dir / "markets"
    full = manifest(folder)
    assert full["topics"] == [{"slug": "antitrust", "name": "Antitrust"},
                              {"slug": "trade", "name": "Trade"}]
    assert full["readers"] == 4
    variants = by_key(full["variants"])
    assert {k: (v["readers"], v["status"]) for k, v in variants.items()} == {
        "antitrust": (3, "built"), "trade": (2, "built"),
        "antitrust+trade": (1, "same")}  # both topics: exactly the full edition's stories
    assert sorted(p.name for p in (folder / "variants").iterdir()) == ["antitrust", "trade"]

    cut = manifest(folder / "variants" / "antitrust")
    ids = [a["id"] for a in cut["articles"]]
    assert ids and all("antitrust" in a["matched_tags"] for a in cut["articles"])
    assert "fx-tariffs" in {x["id"] for x in cut["left_out"]}  # not on the reader's topics
    assert cut["sizes"]["html_bytes"] == variants["antitrust"]["html_bytes"]
    assert cut["view_url"].endswith(f"/archive/{WEEK}/markets/antitrust")
    text = (folder / "variants" / "antitrust" / "email.txt").read_text()
    assert "cut to your topics: Antitrust" in text and "%%manage_url%%" in text
    assert "Tariff" not in text
    # The full edition offers the choice instead.
    assert "Only want some of these topics?" in (folder / "email.txt").read_text()
    index = json.loads((result.edition_dir / "index.json").read_text())
    assert next(e for e in index["newsletters"] if e["slug"] == "markets")["variants"] == 2
    # The sender reads a variant like an edition, its outbox the newsletter's own.
    built = load_built(build_settings.out_dir, WEEK, "markets", "trade")
    assert built.variant == "trade" and built.outbox == folder / "outbox"
    assert built.subject and "Tariff" in built.text


def test_topics_nobody_holds_and_newsletters_without_topics_get_no_variants(build_settings,
                                                                            archive):
    add_readers(archive, "tech-brief", {None: 2})
    add_readers(archive, "markets", {None: 2})
    result = build_editions(build_settings, week=WEEK, engine=archive)
    assert "variants" not in manifest(result.edition_dir / "tech-brief")
    assert manifest(result.edition_dir / "markets")["variants"] == []
    assert not (result.edition_dir / "markets" / "variants").exists()


@pytest.mark.parametrize(("quiet", "status", "said"), [
    ("full", "fallback", "nothing on them this week; 2 readers get the full edition"),
    ("skip", "skipped", "nothing on them this week; 2 readers SKIPPED"),
])
def test_a_topic_with_no_story_this_week_follows_the_quiet_rule(subscribers_copy, archive,
                                                                 monkeypatch, quiet, status,
                                                                 said):
    taxonomy = (FIXTURES / "taxonomy.toml").read_text() + (
        '\n[tags.sanctions]\nname = "Sanctions"\nkeywords = ["sanctions regime"]\n')
    subscribers_copy("taxonomy.toml", taxonomy)
    newsletters = (FIXTURES / "newsletters.toml").read_text().replace(
        'tags = ["*"]', 'tags = ["*"]\ntopics = ["privacy", "sanctions"]')
    subscribers_copy("newsletters.toml", newsletters)
    monkeypatch.setenv("DIGEST_VARIANT_QUIET", quiet)
    from digest.settings import Settings

    add_readers(archive, "everything", {"sanctions": 2, "privacy": 1})
    result = build_editions(Settings(), week=WEEK, engine=archive)
    everything = next(r for r in result.newsletters if r.slug == "everything")
    assert {v.key: v.status for v in everything.variants} == {"sanctions": status,
                                                              "privacy": "built"}
    assert any(said in line for line in everything.variant_lines)
    assert not (result.edition_dir / "everything" / "variants" / "sanctions").exists()


def test_a_pin_stays_only_in_the_variants_on_its_topics(build_settings, archive):
    add_readers(archive, "markets", {"trade": 1, "antitrust": 1})
    result = build_editions(build_settings, week=WEEK, engine=archive, pins=["fx-cartel"])
    folder = result.edition_dir / "markets" / "variants"
    antitrust = manifest(folder / "antitrust")["articles"]
    assert antitrust[0]["id"] == "fx-cartel" and antitrust[0]["pinned"]
    assert "fx-cartel" not in {a["id"] for a in manifest(folder / "trade")["articles"]}


def test_a_topic_dropped_from_newsletters_toml_no_longer_counts(subscribers_copy, archive,
                                                               monkeypatch):
    newsletters = (FIXTURES / "newsletters.toml").read_text().replace(
        'topics = ["antitrust", "trade"]', 'topics = ["trade"]')
    subscribers_copy("newsletters.toml", newsletters)
    from digest.settings import Settings

    add_readers(archive, "markets", {"antitrust": 2, "antitrust+trade": 1, "trade": 1})
    result = build_editions(Settings(), week=WEEK, engine=archive)
    full = manifest(result.edition_dir / "markets")
    assert full["readers"] == 2  # antitrust alone is no longer on offer: the full edition
    assert {v["key"]: v["readers"] for v in full["variants"]} == {"trade": 2}


def test_the_build_command_reports_the_variants(build_settings, archive):
    add_readers(archive, "markets", {"antitrust": 3, "trade": 1})
    result = runner.invoke(app, ["build", "--week", WEEK], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "markets: 2 variant(s) cut to readers' topics" in result.output
    assert "topics Antitrust: 3 readers, 2 article(s)" in result.output


def test_the_preview_reads_variants_through_the_edition_store(build_settings, archive):
    add_readers(archive, "markets", {"antitrust": 3})
    build_editions(build_settings, week=WEEK, engine=archive)
    newsletter = read_edition(build_settings.out_dir, WEEK).newsletter("markets")
    (variant,) = newsletter.variants
    cut = newsletter.cut(variant.key)
    assert cut is not None and cut.variant == "antitrust" and cut.articles
    assert newsletter.cut("trade") is None and newsletter.cut("../x") is None
    assert cut.cut("antitrust") is None  # a variant has no variants
