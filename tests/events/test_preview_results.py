"""The preview's Results tab and index rates, rendered in-process (the charts are checked in
Chromium by tests/web_preview/test_results.py)."""

from __future__ import annotations

from digest.report import edition_results
from digest.send.runner import run_send
from digest.web.preview.app import create_app
from digest.web.preview.results import index_rates
from tests.events.conftest import write_manifest
from tests.support.asgi import InProcess
from tests.support.data import EDITION, SLUG, add_subscribers


def pages(settings) -> tuple[str, str]:
    client = InProcess(create_app(settings, live=False))
    try:
        index = client.get("http://127.0.0.1/")
        newsletter = client.get(f"http://127.0.0.1/preview/{EDITION}/{SLUG}")
    finally:
        client.close()
    assert index.status_code == newsletter.status_code == 200
    return index.text, newsletter.text


def test_an_outbox_send_says_it_has_no_events(settings, engine):
    add_subscribers(engine, SLUG, 3)
    write_manifest(settings.out_dir)
    assert run_send(settings, EDITION, SLUG).ok
    index, newsletter = pages(settings)
    assert "sent to 3</a> <span class=\"muted\">· no events" in index
    assert 'data-tab="results"' in newsletter
    assert "No delivery or engagement figures" in newsletter
    assert "reports no events (outbox or SMTP)" in newsletter
    assert "<svg" not in newsletter


def test_a_sendgrid_send_shows_its_rates(send, webhook, sendgrid_settings, engine):
    sent = send(5)
    r, ev = sent.emails, sent.events
    webhook.post([ev("delivered", email) for email in r[:4]] + [
        ev("open", r[0], at=sent.at(0.5)), ev("open", r[1], sg_machine_open=True),
        ev("open", r[4]), ev("click", r[2], url="https://elsewhere.example/"),
        ev("click", r[3], url="http://127.0.0.1:8000/u/token")])
    index, newsletter = pages(sendgrid_settings)
    assert "delivered <strong>100.0%</strong> · opened <strong>80.0%</strong> · clicked " \
        "<strong>20.0%</strong>" in index
    assert 'class="chart funnel-chart"' in newsletter and 'id="hours-chart"' in newsletter
    # The index's grouped query and the report agree.
    full = edition_results(engine, EDITION, SLUG)
    rates = index_rates(sendgrid_settings, [(EDITION, SLUG)])[EDITION, SLUG]
    assert (rates.delivered, rates.opened, rates.clicked) == (
        full.delivered / full.sent, full.opened / full.delivered, full.clicked / full.delivered)
