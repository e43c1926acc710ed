"""The preview's versions by readers' topics: listed with their readers, shown, sent as tests."""

from __future__ import annotations

import email
from email import policy

import httpx

from digest.archive.db import connect, dispose_all
from digest.build import build_editions
from tests.support.readers import add_readers

TOPICAL = """
[newsletters.ai-policy]
title = "AI Policy Weekly"
description = "The week in AI regulation."
tags = ["ai-policy", "antitrust"]
topics = ["ai-policy", "antitrust"]
subject = "AI Policy Weekly: {{ lead.title }}"
"""


def topical_site(settings):
    (settings.subscribers_dir / "newsletters.toml").write_text(TOPICAL)
    engine = connect(settings.database)
    add_readers(engine, "ai-policy", {None: 2, "antitrust": 3, "ai-policy": 1})
    build_editions(settings, week="2026-W47", engine=engine)
    dispose_all()
    return settings


def test_variants_are_listed_shown_and_sent_as_tests(fresh_site, start_server, page, facts,
                                                     shoot):
    site = topical_site(fresh_site)
    server = start_server(site)
    base = f"{server.url}/preview/{facts.week}/{facts.slug}"

    listing = httpx.get(base).text
    assert "Versions by readers&#39; topics" in listing or "Versions by readers' topics" in listing
    assert f'href="/preview/{facts.week}/{facts.slug}/v/antitrust"' in listing

    cut = httpx.get(f"{base}/v/antitrust/email.html")
    assert cut.status_code == 200
    assert facts.left_out in cut.text and facts.headline not in cut.text  # the cartel story only
    assert "cut to your topics: Antitrust" in httpx.get(f"{base}/v/antitrust/email.txt").text
    assert httpx.get(f"{base}/v/trade").status_code == 404
    assert httpx.get(f"{base}/v/..%2F..%2Fetc").status_code == 404

    page.goto(f"{base}#variants")
    rows = page.locator("#variants tbody tr")
    assert rows.count() == 3  # the full edition and two cuts
    antitrust = rows.filter(has_text="antitrust")
    assert antitrust.locator("td.num").first.inner_text() == "3"
    assert "their own cut" in antitrust.inner_text()
    shoot(page, "variants-listed", full_page=True)

    page.goto(f"{base}/v/antitrust#send")
    assert page.locator("#variant").input_value() == "antitrust"
    page.fill("#addresses", "editor@example.com")
    page.click("form.send-form button[type=submit]")
    outcome = page.wait_for_selector("#test-outcome")
    assert "the variant cut to antitrust" in outcome.inner_text()
    assert page.url.startswith(f"{base}/v/antitrust")
    sent = site.out_dir / facts.week / facts.slug / "outbox" / "test" / "editor@example.com.eml"
    message = email.message_from_bytes(sent.read_bytes(), policy=policy.default)
    assert message["Subject"] == f"[TEST] AI Policy Weekly: {facts.left_out}"
    assert facts.headline not in message.get_body(("plain",)).get_content()
