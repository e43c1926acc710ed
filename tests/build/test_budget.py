"""The size budget: shorten summaries, then move the lowest-ranked articles to 'More this week'."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

from digest.archive.articles import save_articles
from digest.build import build_editions
from digest.models import Article, Block, Tag
from digest.render.budget import shorter_budgets

from .conftest import FIXTURES

BULK = """
[newsletters.bulk]
title = "Bulk"
description = "A very busy week."
tags = ["privacy"]
max_articles = 30
summary_words = 120
"""


WORDS = [
    "regulator", "controller", "processing", "consent", "transfer", "breach", "audit", "fine",
    "appeal", "court", "guidance", "register", "platform", "cookie", "tracker", "profile",
    "children", "school", "hospital", "bank", "insurer", "retailer", "airline", "telecom",
    "council", "ministry", "agency", "tribunal", "notice", "order",
]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 20))]
    return " ".join(words).capitalize() + "."


def busy_week(engine) -> None:
    start = datetime(2026, 3, 2, 6, tzinfo=UTC)
    rng = random.Random(3)
    articles = []
    for n in range(30):
        body = [Block("paragraph", " ".join(sentence(rng) for _ in range(6))) for _ in range(3)]
        articles.append(Article(id=f"busy-{n:02d}", title=f"Busy story number {n} about GDPR",
                                published_at=start + timedelta(hours=4 * n), body=body,
                                tags=[Tag("privacy", "Privacy")], kind="News",
                                authors=["A. Reporter"]))
    save_articles(engine, articles)


def test_an_oversized_week_is_shrunk_under_the_limit(build_settings, engine, subscribers_copy):
    busy_week(engine)
    subscribers_copy("newsletters.toml", (FIXTURES / "newsletters.toml").read_text() + BULK)
    settings = build_settings.model_copy(update={
        "subscribers_dir": subscribers_copy(), "size_limit_kb": 40.0, "size_warn_kb": 35.0})
    unlimited = build_editions(settings.model_copy(update={"size_limit_kb": 1000.0}),
                               week="2026-W10", newsletters=["bulk"], engine=engine,
                               out_dir=settings.out_dir / "unlimited")
    assert unlimited.newsletters[0].html_bytes > 60 * 1024  # really oversized

    result = build_editions(settings, week="2026-W10", newsletters=["bulk"], engine=engine,
                            pins=["busy-00"])
    folder = result.edition_dir / "bulk"
    manifest = json.loads((folder / "manifest.json").read_text())
    html = (folder / "email.html").read_text()
    assert manifest["sizes"]["html_bytes"] == len(html.encode()) <= 40 * 1024
    warnings = manifest["warnings"]
    assert warnings[0].startswith("HTML was ") and "summaries shortened to 48 words" in warnings[0]
    assert warnings[1].startswith("moved ") and "'More this week' to fit under 40 KB" in warnings[1]
    # Summaries shrank to the smaller budget...
    assert all(a["summary_words"] <= 48 for a in manifest["articles"])
    # ...and the lowest-ranked articles moved out, in rank order; the pin stayed.
    kept = [a["rank"] for a in manifest["articles"]]
    moved = [a["rank"] for a in manifest["more_this_week"]]
    assert moved and moved == sorted(moved) and min(moved) > max(kept)
    assert kept == list(range(1, len(kept) + 1)) and kept[0] == 1
    assert manifest["articles"][0]["id"] == "busy-00" and manifest["articles"][0]["pinned"]
    assert all(m["reason"] == "moved to 'More this week' to fit the size budget"
               for m in manifest["more_this_week"])
    assert ">More this week</h2>" in html
    for item in manifest["more_this_week"]:
        assert f">{item['title']}</a></li>" in html
    text = (folder / "email.txt").read_text()
    assert "MORE THIS WEEK" in text and manifest["more_this_week"][-1]["title"] in text


def test_within_the_budget_nothing_changes_but_the_warning_level_is_reported(build_settings,
                                                                              archive):
    settings = build_settings.model_copy(update={"size_warn_kb": 10.0})
    result = build_editions(settings, week="2026-W10", newsletters=["markets"], engine=archive)
    (item,) = result.newsletters
    assert item.more == 0 and item.articles == 3
    assert item.warnings == [f"HTML is {item.html_bytes / 1024:.1f} KB, above the 10 KB warning "
                             "level (Gmail clips at about 102 KB)"]


def test_shorter_budgets():
    assert shorter_budgets(60) == [40, 24]
    assert shorter_budgets(120) == [80, 48]
    assert shorter_budgets(20) == [15]
    assert shorter_budgets(15) == []
