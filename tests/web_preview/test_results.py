"""The Results tab of a sent newsletter, in a real Chromium: a real SendGrid send of the fixture
edition, SendGrid's events for it stored as the webhook stores them, then the editor's view."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC
from typing import Any

from pydantic import SecretStr
from sqlalchemy import func, select

from digest.archive.db import connect, dispose_all
from digest.archive.schema import deliveries
from digest.events.links import OwnLinks
from digest.events.store import parse_batch, store_batch
from digest.send.runner import run_send
from digest.settings import Settings
from tests.support.data import add_subscribers
from tests.support.sendgrid_server import API_KEY, SendGridServer
from tests.support.webhook import SendGridEvents


def send_with_events(fresh_site: Settings) -> None:
    """The fixture edition sent through SendGrid to 40 readers, with a day of their events."""
    engine = connect(fresh_site.database)
    add_subscribers(engine, "ai-policy", 40)
    with SendGridServer() as server:
        settings = fresh_site.model_copy(update={"sender": "sendgrid",
                                                 "sendgrid_api_key": SecretStr(API_KEY),
                                                 "sendgrid_api_host": server.url})
        # Forced: the fixture newsroom was built on the default local DIGEST_BASE_URL, which
        # the pre-send checks rightly refuse for a real send (tests/checks covers that).
        assert run_send(settings, "2026-W47", "ai-policy", force=True).ok
        (message_id,) = {mid for _, mid in server.accepted}
        args = server.payloads[0]["custom_args"]
    d = deliveries.c
    with engine.connect() as conn:
        emails = list(conn.scalars(select(d.email).order_by(d.email)))
        started = conn.scalar(select(func.min(d.updated_at))).replace(tzinfo=UTC).timestamp()
    manifest = json.loads((fresh_site.out_dir / "2026-W47/ai-policy/manifest.json").read_text())
    first, second = (a["url"] for a in manifest["articles"])
    ev = SendGridEvents(message_id, **args)
    events = [ev("delivered", email, at=started + 30) for email in emails[:38]]
    events += [ev("bounce", emails[38], type="bounce"), ev("dropped", emails[39],
                                                           reason="Spam Content")]
    for n, email in enumerate(emails[:24]):  # first opens spread over the first day
        events.append(ev("open", email, at=started + 600 + n * 3300, sg_machine_open=n % 6 == 5))
    for n, email in enumerate(emails[:9]):
        events.append(ev("click", email, at=started + 900 + n * 5000,
                         url=first if n < 6 else second))
    events.append(ev("spamreport", emails[20]))
    store_batch(engine, parse_batch(events, OwnLinks(fresh_site.base_url)), soft_bounce_limit=3)
    dispose_all()


def test_the_results_tab_draws_the_funnel_hours_and_stories(
    fresh_site: Settings, start_server: Callable[..., Any], page: Any, offline: Any,
    shoot: Callable[..., Any],
) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    server = start_server(fresh_site)
    page.goto(f"{server.url}/preview/2026-W47/ai-policy")
    assert page.locator("[data-tab=results]").count() == 0  # not sent: nothing to report
    page.goto(server.url + "/")
    assert "not sent" in page.locator("td.index-rates").first.inner_text()
    # Off the index before sending: the send's start reloads an open index page (live reload),
    # and a reload landing while the next goto is under way aborts that navigation.
    page.goto("about:blank")

    send_with_events(fresh_site)
    page.goto(f"{server.url}/preview/2026-W47/ai-policy#results")
    panel = page.locator("#results")
    assert panel.is_visible()
    assert not page.locator("#email").is_visible()
    funnel = panel.locator(".funnel-chart").text_content() or ""
    for figure in ("40", "38", "95.0% of sent", "21", "55.3% of delivered", "9",
                   "23.7% of delivered"):
        assert figure in funnel, figure
    chart = panel.locator("#hours-chart")
    assert chart.locator("rect.opened").count() >= 15
    assert chart.locator("rect.clicked").count() == 9
    box = chart.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 150  # drawn, not collapsed
    assert "first opens" in (chart.locator("desc").text_content() or "").lower()
    assert "hard 1" in panel.locator(".figure", has_text="Bounces").inner_text()
    complaints = panel.locator("#complaints")
    assert "0.3% limit" in complaints.inner_text()  # 1 of 38: far over
    assert "spam-limit" in (complaints.get_attribute("class") or "")
    rows = panel.locator("table.stories tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("td").nth(2).inner_text() == "6"
    assert rows.nth(1).locator("td").nth(2).inner_text() == "3"
    shoot(page, "results-tab", full_page=True)

    page.goto(server.url + "/")
    rates = page.locator("td.index-rates").first.inner_text()
    assert "delivered 95.0%" in rates and "opened 55.3%" in rates and "clicked 23.7%" in rates
    shoot(page, "index-with-results", full_page=True)
    assert problems == [], problems
    assert offline.blocked == [], f"the preview reached out to the internet: {offline.blocked}"
