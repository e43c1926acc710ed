"""Editions rendered from articles with hostile fields (markup, Jinja syntax, personal
placeholders, CR/LF, right-to-left marks, 4,000-character words): the output is escaped (no
element, attribute or link of the article's making), no placeholder of theirs is filled at send
time, headers stay on one line, every email is valid MJML (the reference validator, run once on
all of them) and fits the size budget."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import strategies as st

from digest.archive import connect
from digest.archive.articles import save_articles
from digest.archive.db import dispose_all
from digest.build import build_editions
from digest.models import Article, Block, Tag
from digest.settings import Settings
from tests.conftest import ROOT
from tests.fuzz.conftest import fuzz

WEEK = "2026-W10"
SLUG = "hostile"
NEWSLETTERS = f"""
[newsletters.{SLUG}]
title = "Hostile Weekly"
description = "Whatever the articles say."
tags = ["policy"]
subject = "{{{{ lead.title }}}} and more"
"""
TAXONOMY = '[tags.policy]\nname = "Policy"\nkeywords = ["policy"]\n'
VALIDATOR = next((c for c in (os.environ.get("DIGEST_MJML_VALIDATOR", ""),
                              str(ROOT / ".ci" / "node" / "node_modules" / ".bin" / "mjml"),
                              shutil.which("mjml") or "") if c and os.access(c, os.X_OK)), None)

HOSTILE = ["<script>alert(1)</script>", "<b onmouseover=alert(1)>x</b>", '"><img src=x>',
           "{{ 7*7 }}", "{% raw %}", "{{ settings.secret_key }}", "%%name%%",
           "%%unsubscribe_url%%", "%%manage_url%%", "%%email%%", "\r\n", "\n.\n",
           "Bcc: all@example.org",
           "\u202e", "\u200f", "\u2066", "&amp;", "&#x3C;", "]]>", "<!--", "javascript:alert(1)",
           "<mj-raw>", "</mj-text>", "<mj-section>", "\x0b", "\u2028", "🙂", "ﷺ", "A" * 4000]
FIELD = st.lists(st.sampled_from(HOSTILE) | st.text(max_size=12), min_size=1, max_size=5).map(
    " ".join)
_ids = itertools.count()


def article(title: str, standfirst: str, body: str, author: str, kind: str, url: str,
            contact: str, tag: str) -> Article:
    n = next(_ids)
    return Article(
        id=f"hostile-{n}", title=title if title.strip() else "untitled", url=url,
        authors=[author], published_at=datetime(2026, 3, 3 + n % 5, 9, tzinfo=UTC), kind=kind,
        tags=[Tag("policy", "Policy"), Tag.from_name(tag or "x")], standfirst=standfirst,
        body=[Block("paragraph", body), Block("subhead", title), Block("paragraph", "policy")],
        contact=contact,
    )


ARTICLES = st.lists(st.builds(article, FIELD, FIELD, FIELD, FIELD, FIELD,
                              st.sampled_from(["javascript:alert(1)", "https://ok.example/a",
                                               "%%unsubscribe_url%%", "%%manage_url%%",
                                               "data:text/html,x", ""])
                              | FIELD, FIELD, FIELD),
                    min_size=1, max_size=4)


class Structure(HTMLParser):
    """Every element, attribute and link of a document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}
        self.links += [value or "" for name, value in attrs if name in ("href", "src")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def structure(html: str) -> Structure:
    parsed = Structure()
    parsed.feed(html)
    return parsed


@pytest.fixture
def newsroom(tmp_path: Path) -> Settings:
    folder = tmp_path / "subscribers"
    folder.mkdir()
    (folder / "newsletters.toml").write_text(NEWSLETTERS)
    (folder / "taxonomy.toml").write_text(TAXONOMY)
    return Settings(data_dir=tmp_path / "data", out_dir=tmp_path / "editions",
                    subscribers_dir=folder, templates_dir=tmp_path / "no-templates",
                    secret_key="k")


def build(settings: Settings, articles: list[Article], number: int) -> Path:
    engine = connect(f"sqlite:///{settings.data_dir / f'archive-{number}.db'}")
    save_articles(engine, articles)
    result = build_editions(settings, week=WEEK, newsletters=[SLUG], engine=engine)
    return result.edition_dir / SLUG


def test_hostile_article_fields_are_escaped_inert_valid_and_within_budget(
    newsroom: Settings, tmp_path: Path
) -> None:
    calm = article("A calm policy story", "Calm.", "Nothing to see in policy.", "Jo", "News",
                   "https://ok.example/calm", "desk@example.org", "policy")
    baseline = build(newsroom, [calm], 0)
    plain = structure((baseline / "email.html").read_text())
    own = {p: ((baseline / "email.html").read_text().count(p),
               (baseline / "email.txt").read_text().count(p))
           for p in ("%%name%%", "%%email%%", "%%unsubscribe_url%%", "%%manage_url%%")}
    kept = tmp_path / "mjml"
    kept.mkdir()
    counter = itertools.count(1)

    @fuzz(ARTICLES, examples=40)
    def render(articles: list[Article]) -> None:
        number = next(counter)
        folder = build(newsroom, articles, number)
        html, text = (folder / "email.html").read_text(), (folder / "email.txt").read_text()
        manifest = json.loads((folder / "manifest.json").read_text())
        shutil.copy(folder / "email.mjml", kept / f"{number}.mjml")

        parsed = structure(html)
        assert parsed.tags <= plain.tags, parsed.tags - plain.tags  # no element of theirs
        assert parsed.attributes <= plain.attributes | {"title"}, parsed.attributes
        for link in parsed.links:
            assert re.match(r"(https?:|mailto:|#|%%(unsubscribe|manage)_url%%$)", link), link
        for placeholder, (in_html, in_text) in own.items():
            assert html.count(placeholder) == in_html and text.count(placeholder) == in_text
        for line in (manifest["subject"], manifest["preheader"]):
            assert "\r" not in line and "\n" not in line and "\u2028" not in line
        assert manifest["sizes"]["html_bytes"] <= newsroom.size_limit_kb * 1024 or any(
            "still" in w for w in manifest["warnings"])

    render()
    dispose_all()
    if VALIDATOR is None:
        pytest.skip("the npm `mjml` validator is not installed (npm install --prefix .ci/node "
                    "mjml@4); everything but MJML validity was checked")
    files = sorted(kept.glob("*.mjml"))
    run = subprocess.run([VALIDATOR, "-v", *map(str, files)], capture_output=True, text=True,
                         timeout=600, check=False)
    report = (run.stdout + run.stderr).strip()
    assert run.returncode == 0 and "Line " not in report, report[:3000]
