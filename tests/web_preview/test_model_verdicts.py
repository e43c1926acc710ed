"""The Selection tab with model summaries: which method made each summary, and the guard's
verdict (with what the model wrote, when its summary was set aside)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from digest.archive.articles import save_articles
from digest.archive.db import connect, dispose_all
from digest.build import build_editions
from digest.models import Article, Block, Tag
from digest.settings import Settings
from tests.support.model_server import API_KEY, MODEL, ModelServer, Reply

FAITHFUL = ("The UK government will not introduce its artificial intelligence bill before "
            "spring, ministers said on Thursday.")
INVENTED = ("The European Commission's AI Office named its first head of enforcement, with 60 "
            "staff.")
NEW_HEADLINE = "AI Office names its first head of enforcement"


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    with ModelServer() as running:
        running.answer("UK government delays", Reply.text(FAITHFUL))
        running.answer(NEW_HEADLINE, Reply.text(INVENTED))
        yield running


def test_the_selection_tab_shows_the_method_and_the_guards_verdict(
        page: Any, fresh_site: Settings, model_server: ModelServer, start_server: Any,
        facts: Any, shoot: Any) -> None:
    save_articles(connect(fresh_site.database), [Article(
        id="ai-office-head", title=NEW_HEADLINE, url="https://regwire.example/ai-office-head",
        published_at=datetime(2026, 11, 18, 12, tzinfo=UTC), kind="News",
        tags=[Tag.from_name("AI policy")],
        body=[Block("paragraph", "The European Commission's AI Office on Tuesday named its first "
                    "head of enforcement, who will lead a team of 40 staff."),
              Block("paragraph", "The appointment follows months of criticism that the office "
                    "lacked the people to supervise general-purpose AI models.")])])
    model = {"summariser": "model", "model_url": model_server.url, "model_name": MODEL,
             "model_api_key": API_KEY}
    build_editions(fresh_site.model_copy(update={**model, "model_api_key": SecretStr(API_KEY)}),
                   week=facts.week)
    dispose_all()
    assert model_server.posts == 2
    server = start_server(fresh_site, env={f"DIGEST_{k.upper()}": v for k, v in model.items()})

    page.goto(f"{server.url}/preview/{facts.week}/{facts.slug}#selection")
    rows = page.locator("table.picked tbody tr")
    assert rows.count() == 3
    written = rows.filter(has_text=facts.untagged)
    assert written.locator(".method").inner_text().lower() == "model"
    verdict = written.locator(".verdict.ok")
    assert verdict.inner_text().startswith(f"Written by {MODEL}, guard passed: every fact found")
    set_aside = rows.filter(has_text=NEW_HEADLINE)
    assert set_aside.locator(".method").inner_text().lower() == "extractive"
    assert set_aside.locator(".verdict.bad").inner_text().startswith(
        f"{MODEL}'s summary set aside: not in the article: figure '60'")
    assert not set_aside.locator("blockquote").is_visible()
    set_aside.locator("details summary").click()
    assert set_aside.locator("blockquote").inner_text() == INVENTED
    standfirst = rows.filter(has_text=facts.headline)
    assert standfirst.locator(".verdict").count() == 0  # no model was asked for it
    shoot(page, "selection-tab-model", full_page=True)
    assert Path(fresh_site.out_dir, facts.week, facts.slug, "manifest.json").is_file()
