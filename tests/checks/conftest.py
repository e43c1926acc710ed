"""Fixtures for the pre-send checks: the bundled sample built for real, a newsroom whose template
is seeded with one fault per check, and hand-made editions for the rules one at a time.

Chromium and SpamAssassin are real (CI installs both); tests that need them skip, saying
what to install, when they are missing.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.archive.articles import save_articles
from digest.archive.db import connect, dispose_all
from digest.models import Article, Block, Tag
from digest.settings import Settings
from tests.support.settings import clean_settings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SPAMASSASSIN = Path("/usr/bin/spamassassin")
WEEK = "2026-W47"
FAULTY = "faulty"
SPAMMY_SUBJECT = "URGENT: 100% FREE VIAGRA, ACT NOW!!!"

NEWSLETTERS_TOML = f"""
[newsletters.{FAULTY}]
title = "Faulty Weekly"
description = "A newsletter whose template has one fault per check."
tags = ["ai-policy"]
max_articles = 10
sections = "tag"
subject = "{SPAMMY_SUBJECT}"
from_name = "Regwire Faults"
"""

TAXONOMY_TOML = """
[tags.ai-policy]
name = "AI policy"
keywords = ["artificial intelligence", "ai act"]
"""

# One fault per check, each in a card of its own; what each should produce is in
# test_faults.py. Dark text outside any card: readable on the light page, dark on dark in
# dark mode (the page turns #0d1117 and nothing overrides this text).
FAULTS_MJML = """
    <mj-section background-color="#ffffff" padding="16px 0" css-class="card">
      <mj-column>
        <mj-text css-class="pad">
          <p class="faint" style="color:#b0b0b0">This note is printed in a grey
            too light to read on white.</p>
          <img src="https://regwire.example/chart.png" width="200" height="100">
          <p class="more"><a href="http://regwire.example/archive">Archive</a> ·
            <a href="#">Top</a></p>
          <div style="display:grid"><p>Left</p><p>Right</p></div>
          <p class="tiny" style="font-size:11px">This sentence is long enough to
            count as running text on a phone.</p>
          <table><tr><td>A layout cell</td></tr></table>
          <ul><p>Not a list item</p></ul>
        </mj-text>
      </mj-column>
    </mj-section>
    <mj-section padding="8px 0">
      <mj-column>
        <mj-text css-class="pad">
          <p class="night" style="color:#333333">Dark text straight on the page,
            with no background.</p>
        </mj-text>
      </mj-column>
    </mj-section>
"""


def article(ident: str, title: str, day: int, url: str, paragraphs: list[str]) -> Article:
    return Article(
        id=ident, title=title, url=url, authors=["Jo Writer"],
        published_at=datetime(2026, 11, day, 9, 30, tzinfo=UTC), kind="News",
        tags=[Tag.from_name("AI policy")], standfirst=None,
        body=[Block("paragraph", p) for p in paragraphs],
        contact="Editorial: editors@regwire.example", source="tests/checks",
    )


FAULTY_ARTICLES = [
    article("code-draft", "Commission publishes draft code for general-purpose AI models", 18,
            "https://regwire.example/articles/code-draft",
            ["The European Commission on Wednesday published a draft code of practice for "
             "providers of general-purpose AI models under the AI Act.",
             "Industry groups have until January to comment on the text."]),
    article("ai-bill", "UK government delays its artificial intelligence bill", 19,
            "https://regwire.example/articles/shared",
            ["The UK government will not introduce its artificial intelligence bill before "
             "spring, ministers said on Thursday.", "Opposition members called it a mistake."]),
    article("ai-office", "AI Office hires its first enforcement director", 20,
            "https://regwire.example/articles/shared",
            ["The AI Office appointed a former competition official as its first director of "
             "enforcement.", "She starts in January."]),
]


def seed_faults(templates: Path) -> None:
    """Copy the packaged templates into `templates` and seed them with the faults."""
    shutil.copytree(ROOT / "digest" / "templates", templates)

    def edit(name: str, old: str, new: str) -> None:
        path = templates / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{name} no longer contains {old!r}: update the seeded faults"
        path.write_text(text.replace(old, new), encoding="utf-8")

    edit("partials/footer.mjml.j2", '<p class="footer">{{ postal_address }}</p>', "")
    edit("email.txt.j2", "{{ postal_address }}", "")
    edit("email.txt.j2", "Read the full story: {{ item.url }}", "")
    edit("partials/head.mjml.j2", '<meta name="color-scheme" content="light dark">', "")
    edit("partials/article.mjml.j2", ' aria-label="Read the full story: {{ item.title }}"', "")
    edit("email.mjml.j2", '{% include "partials/footer.mjml.j2" %}',
         FAULTS_MJML + '{% include "partials/footer.mjml.j2" %}')


@pytest.fixture(scope="module")
def faulty_site(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A newsroom whose one newsletter is built from the seeded template."""
    folder = tmp_path_factory.mktemp("faulty")
    subscribers = folder / "subscribers"
    subscribers.mkdir()
    (subscribers / "newsletters.toml").write_text(NEWSLETTERS_TOML)
    (subscribers / "taxonomy.toml").write_text(TAXONOMY_TOML)
    (subscribers / f"{FAULTY}.csv").write_text("email,name\nada.reader@example.com,Ada Reader\n")
    seed_faults(folder / "templates")
    settings = clean_settings(
        data_dir=folder / "data", database_url=f"sqlite:///{folder / 'archive.db'}",
        out_dir=folder / "editions", templates_dir=folder / "templates",
        subscribers_dir=subscribers, secret_key="checks-test-key",
        base_url="https://news.regwire.example",
    )
    save_articles(connect(settings.database), FAULTY_ARTICLES)
    from digest.build import build_editions

    build_editions(settings, week=WEEK)
    dispose_all()
    return settings


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The bundled sample, ingested and built for its latest week, with default settings."""
    from digest.build import build_editions
    from digest.ingest import ingest, sample_corpus

    folder = tmp_path_factory.mktemp("sample")
    settings = clean_settings(
        data_dir=folder / "data", database_url=f"sqlite:///{folder / 'archive.db'}",
        out_dir=folder / "editions", templates_dir=folder / "no-templates",
        subscribers_dir=ROOT / "subscribers", secret_key="checks-sample-key",
    )
    engine = connect(settings.database)
    ingest([str(sample_corpus())], engine, settings)
    build_editions(settings, week=WEEK, engine=engine)
    dispose_all()
    return settings


@pytest.fixture(scope="session")
def tools() -> None:
    """Skip unless Chromium and SpamAssassin are installed (`.ci/run` installs both)."""
    missing = [f"{p} (apt-get install {p.name})" for p in (CHROMIUM, SPAMASSASSIN)
               if not p.exists()]
    if missing:
        pytest.skip("needs " + " and ".join(missing))
