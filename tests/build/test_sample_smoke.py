"""Smoke test over the bundled sample corpus: its latest week builds for all newsletters."""

from __future__ import annotations

import json

import pytest

from digest.build import build_editions

ingest_module = pytest.importorskip("digest.ingest")


def test_the_sample_week_builds_for_every_newsletter(settings, engine):
    corpus = ingest_module.sample_corpus()
    if not corpus.is_dir() or not any(corpus.rglob("*.*")):
        pytest.skip("the sample corpus is not present")
    ingest_module.ingest([str(corpus)], engine, settings)
    result = build_editions(settings, week="2026-W47", engine=engine)
    assert [n.slug for n in result.newsletters] == ["ai-policy", "competition",
                                                    "regulatory-roundup"]
    for item in result.newsletters:
        assert item.status == "built" and item.articles >= 3, item
        assert item.html_bytes < settings.size_warn_kb * 1024
        manifest = json.loads((item.path / "manifest.json").read_text())
        assert manifest["edition"]["id"] == "2026-W47"
        assert all(a["summary"] for a in manifest["articles"])
        text = (item.path / "email.txt").read_text()
        assert "%%unsubscribe_url%%" in text and "Editorial contact:" in text
