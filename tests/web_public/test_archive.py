"""The web archive serves frozen copies from the database: sent newsletters only, newest first per
newsletter, neutral placeholders, an Atom feed each; drafts and anything else are 404."""

from __future__ import annotations

import re
from pathlib import Path

import feedparser
import pytest
from sqlalchemy import Engine

from digest.editions import load_built
from digest.editions.frozen import finish, freeze
from digest.settings import Settings
from tests.support.data import make_edition

EMAIL_HTML = """<!doctype html><html><body>
<p>Dear %%name%%,</p><p>{body}</p>
<p>Sent to %%email%%. <a href="%%unsubscribe_url%%">Unsubscribe</a></p>
</body></html>"""


def publish(settings: Settings, engine: Engine, edition: str, slug: str, title: str,
            *, sent: bool = True) -> None:
    """Build files for `edition`/`slug` and freeze them, as a first real send does."""
    make_edition(settings.out_dir, edition, slug, title=title, subject=f"{title}: {edition}",
                 html=EMAIL_HTML.format(body=f"{title} {edition}"))
    if sent:
        freeze(engine, load_built(settings.out_dir, edition, slug))
        finish(engine, edition, slug)


@pytest.fixture
def published(public_settings: Settings, engine: Engine) -> Settings:
    publish(public_settings, engine, "2026-W45", "antitrust-weekly", "Antitrust Weekly")
    publish(public_settings, engine, "2026-W45", "ai-policy", "AI Policy")
    publish(public_settings, engine, "2026-11-02_2026-11-10", "trade-brief", "Trade Brief")
    publish(public_settings, engine, "2026-W47", "antitrust-weekly", "Antitrust Weekly")
    publish(public_settings, engine, "2026-W48", "antitrust-weekly", "Antitrust Weekly",
            sent=False)  # built, never sent: a draft
    return public_settings


def test_the_archive_lists_sent_editions_newest_first_per_newsletter(client, published):
    response = client.get("/archive")

    assert response.status_code == 200
    titles = re.findall(r'<h2><a href="/archive/([a-z-]+)">([^<]+)</a></h2>', response.text)
    assert titles == [("antitrust-weekly", "Antitrust Weekly"), ("trade-brief", "Trade Brief"),
                      ("ai-policy", "AI Policy")]  # the newsletter sent most recently first
    links = re.findall(r'<a href="(/archive/[^/"]+/antitrust-weekly)">', response.text)
    assert links == ["/archive/2026-W47/antitrust-weekly", "/archive/2026-W45/antitrust-weekly"]
    assert "2026-W48" not in response.text  # the draft is nowhere
    assert "Antitrust Weekly: 2026-W47" in response.text


def test_an_empty_archive_says_so(client, public_settings):
    response = client.get("/archive")
    assert response.status_code == 200
    assert "No editions have been published yet" in response.text


def test_the_web_version_is_the_frozen_copy_with_neutral_placeholders(
    client, published, public_settings
):
    # The folder changes after the send; the archive keeps serving what was sent.
    folder = public_settings.out_dir / "2026-W47" / "antitrust-weekly"
    (folder / "email.html").write_text("<p>rewritten after the send</p>")

    response = client.get("/archive/2026-W47/antitrust-weekly")

    assert response.status_code == 200
    assert "Antitrust Weekly 2026-W47" in response.text
    assert "rewritten" not in response.text
    assert "%%" not in response.text
    assert "Dear reader," in response.text
    assert 'href="/unsubscribe"' in response.text
    assert "script-src" not in response.headers["content-security-policy"]  # no script runs
    help_page = client.get("/unsubscribe")
    assert help_page.status_code == 200 and "How to unsubscribe" in help_page.text


def test_a_draft_is_404_exactly_like_a_missing_edition(client, published):
    draft = client.get("/archive/2026-W48/antitrust-weekly")
    missing = client.get("/archive/2026-W46/antitrust-weekly")
    assert draft.status_code == missing.status_code == 404
    assert draft.text == missing.text
    assert client.get("/archive/2026-W47/ai-policy").status_code == 404


def test_one_newsletters_page_and_its_atom_feed(client, published):
    page = client.get("/archive/antitrust-weekly")
    assert page.status_code == 200
    feed_link = '<link rel="alternate" type="application/atom+xml" title="Antitrust Weekly" ' \
                'href="/feeds/antitrust-weekly.atom">'
    assert feed_link in page.text
    assert 'href="/feeds/antitrust-weekly.atom">Atom feed of Antitrust Weekly</a>' in page.text
    assert "Trade Brief" not in page.text
    index = client.get("/archive")
    assert index.text.count('rel="alternate" type="application/atom+xml"') == 3

    response = client.get("/feeds/antitrust-weekly.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Antitrust Weekly"
    assert [e.title for e in feed.entries] == ["Antitrust Weekly: 2026-W47",
                                               "Antitrust Weekly: 2026-W45"]
    assert feed.entries[0].link == "http://127.0.0.1:8000/archive/2026-W47/antitrust-weekly"
    assert feed.entries[0].summary == "The week's AI policy news"
    for missing in ("/feeds/nobody.atom", "/archive/nobody", "/feeds/Bad_Slug.atom"):
        assert client.get(missing).status_code == 404


def test_a_correction_is_shown_as_one(client, public_settings, engine):
    publish(public_settings, engine, "2026-W47", "antitrust-weekly", "Antitrust Weekly")
    publish(public_settings, engine, "2026-W47-r2", "antitrust-weekly", "Antitrust Weekly")
    page = client.get("/archive/antitrust-weekly").text
    first, second = page.index("2026-W47-r2/antitrust-weekly"), page.index(
        '"/archive/2026-W47/antitrust-weekly"')
    assert first < second  # the correction, newer, comes first
    assert '<span class="tag">Correction</span>' in page
    assert 'corrects <a href="/archive/2026-W47/antitrust-weekly">' in page
    assert '<a href="/archive/2026-W47-r2/antitrust-weekly">see the correction</a>' in page


TRAVERSALS = [
    "/archive/../../etc/passwd",
    "/archive/%2e%2e/%2e%2e",
    "/archive/2026-W47/%2e%2e",
    "/archive/2026-W47/..%2f..%2fsecret",
    "/archive/%2e%2e%2fsecret/email",
    "/archive/2026-W47/%2fetc%2fpasswd",
    "/archive//etc/passwd",
    "/archive/2026-W47//etc/passwd",
    "/archive/2026-W47/antitrust-weekly%2f..%2f..%2f..%2fsecret",
    "/archive/2026-w47/antitrust-weekly",
    "/archive/2026-W47/Antitrust-Weekly",
    "/feeds/..%2f..%2fsecret.atom",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_odd_paths_are_404_and_reach_no_file(client, published, path, tmp_path: Path):
    (tmp_path / "secret").mkdir(exist_ok=True)
    (tmp_path / "secret" / "email.html").write_text("TOP SECRET")
    response = client.get(path)
    assert response.status_code == 404
    assert "TOP SECRET" not in response.text
