"""The rendered email: escaping, structure, footer, accessibility, and the CSS pipeline."""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime

import pytest

from digest.archive.articles import save_articles
from digest.build import build_editions
from digest.models import Article, Block, Tag
from digest.render.context import COLORS
from digest.render.templates import safe_url

WEEK = "2026-W10"


@pytest.fixture
def built(build_settings, archive):
    result = build_editions(build_settings, week=WEEK, engine=archive)
    return lambda slug, name: (result.edition_dir / slug / name).read_text(encoding="utf-8")


def test_script_and_ampersand_are_escaped_in_html_and_plain_in_text(built):
    html, text = built("tech-brief", "email.html"), built("tech-brief", "email.txt")
    assert "<script" not in html and "<b>consent" not in html
    assert "Court rules on &lt;script&gt;alert('x')&lt;/script&gt; &amp; cookie banners" in html
    assert "Judges said &lt;b&gt;consent&lt;/b&gt; must be as easy" in html
    assert "By Tim &lt;Berners&gt; &amp; Lee" in html
    assert 'href="https://news.fixture.example/fx-escape?a=1&amp;b=2"' in html
    assert "Analysis &amp; Comment" in html
    # Text shows what the editor wrote, not entities.
    assert "Court rules on <script>alert('x')</script> & cookie banners" in text
    assert "By Tim <Berners> & Lee" in text
    assert "https://news.fixture.example/fx-escape?a=1&b=2" in text
    assert "&amp;" not in text and "&lt;" not in text
    mjml = built("tech-brief", "email.mjml")
    assert "&lt;script&gt;" in mjml and "<script" not in mjml


def test_header_sections_articles_and_footer(built):
    html = built("tech-brief", "email.html")
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en"' in html
    assert re.search(r"<h1[^>]*>Tech Brief</h1>", html)
    assert "Week 10 · 2–8 March 2026" in html
    headings = re.findall(r"<h([1-6])\b", html)
    assert headings[0] == "1" and headings[1] == "2" and set(headings) == {"1", "2", "3"}
    assert all(int(b) - int(a) <= 1 for a, b in itertools.pairwise(headings))  # no level skipped
    assert all('alt="' in img for img in re.findall(r"<img\b[^>]*>", html))
    # Kicker, linked headline, byline and date, summary, read-more link.
    assert re.search(r'<p class="kicker"[^>]*>AI policy · Privacy · News</p>', html)
    assert re.search(r'<h3 class="headline"[^>]*><a href="https://news.fixture.example/'
                     r'fx-ai-guidance"[^>]*>EU publishes AI Act guidance', html)
    assert "By Grace Hopper and Alan Turing · 4 March 2026" in html
    assert "Read the full story" in html
    assert 'AI policy <span class="inferred"' in html  # inferred tags are marked
    # Footer: contact once, why, placeholders, links, address.
    assert html.count("desk@fixture.example") == 2  # link text + mailto href, one footer line
    assert "You receive this because you subscribed to Tech Brief as %%email%%." in html
    assert 'href="%%unsubscribe_url%%"' in html
    assert "Hello %%name%%," in html
    assert html.count('href="http://127.0.0.1:8000/archive/2026-W10/tech-brief"') == 2
    assert "Regwire Ltd, 10 Fleet Lane, London EC4A 1AB, United Kingdom" in html
    text = built("tech-brief", "email.txt")
    for line in ("Unsubscribe: %%unsubscribe_url%%", "Hello %%name%%,",
                 "View in browser: http://127.0.0.1:8000/archive/2026-W10/tech-brief",
                 "AI policy (inferred) · Privacy (inferred) · News"):
        assert line in text


def test_css_is_inlined_media_queries_kept_and_nothing_remote(built):
    html = built("markets", "email.html")
    assert re.search(r'<h2 class="section" style="[^"]*text-transform:uppercase', html)
    assert "@media only screen and (max-width: 480px)" in html
    assert "prefers-color-scheme: dark" in html
    assert "@media only screen and (min-width: 480px)" in html  # MJML's column stacking
    assert "mso-table-lspace" in html.split("</head>")[0]  # MJML's reset stays in <head>
    assert "fonts.googleapis.com" not in html and "<link" not in html
    assert "data-premailer" not in html
    assert 'style="width:600px;"' in html or "max-width:600px" in html


def test_the_preheader_defaults_to_the_description(built):
    html = built("markets", "email.html")
    assert re.search(r'<div style="display:none;[^"]*">Antitrust and trade, by kind of story.'
                     r"</div>", html)


def test_settings_contact_wins_and_a_javascript_url_is_not_linked(build_settings, archive,
                                                                  monkeypatch):
    save_articles(archive, [Article(
        id="fx-js", title="Sneaky link", published_at=datetime(2026, 3, 4, tzinfo=UTC),
        url="javascript:alert(1)", tags=[Tag("privacy", "Privacy"), Tag("ai-policy", "AI")],
        body=[Block("paragraph", "A body.")])])
    settings = build_settings.model_copy(update={
        "editorial_contact": "Write to news@regwire.example with tips & corrections."})
    result = build_editions(settings, week=WEEK, newsletters=["tech-brief"], engine=archive)
    html = (result.edition_dir / "tech-brief" / "email.html").read_text()
    assert "javascript:" not in html
    assert 'href="https://regwire.example/articles/fx-js"' in html
    assert ('<a href="mailto:news@regwire.example"' in html
            and "with tips &amp; corrections." in html)
    assert "desk@fixture.example" not in html


@pytest.mark.parametrize(("url", "expected"), [
    ("https://a.example/x?y=1&z=2", "https://a.example/x?y=1&z=2"),
    ("mailto:desk@a.example", "mailto:desk@a.example"),
    ("JavaScript:alert(1)", "#"), ("data:text/html,hi", "#"), ("", "#"),
    ("%%unsubscribe_url%%", "%%unsubscribe_url%%"),
    ("%%name%%", "#"), ("%%email%%", "#"), ("%%anything%%", "#"),
])
def test_safe_url(url, expected):
    assert safe_url(url) == expected


def test_placeholders_in_article_fields_are_not_filled_at_send_time(build_settings, engine):
    """Only the placeholders the templates wrote are filled: one in an article's title, author or
    URL is printed inert (an invisible word joiner after its first %), and the link falls back."""
    save_articles(engine, [Article(
        id="fx-ph", title="Win %%unsubscribe_url%%", published_at=datetime(2026, 3, 4, tzinfo=UTC),
        url="%%unsubscribe_url%%", authors=["%%name%%"], standfirst="Mail %%email%% now.",
        tags=[Tag("privacy", "Privacy")], body=[Block("paragraph", "A body.")])])
    newsletters = ("[newsletters.tech-brief]\ntitle = 'Tech Brief'\ntags = ['privacy']\n"
                   "subject = '%%name%%: {{ lead.title }}'\n")
    folder = build_settings.subscribers_dir
    tmp = build_settings.data_dir.parent / "subs"
    tmp.mkdir()
    (tmp / "newsletters.toml").write_text(newsletters)
    (tmp / "taxonomy.toml").write_text((folder / "taxonomy.toml").read_text())
    settings = build_settings.model_copy(update={"subscribers_dir": tmp})
    result = build_editions(settings, week=WEEK, newsletters=["tech-brief"], engine=engine)
    folder = result.edition_dir / "tech-brief"
    html, text = ((folder / n).read_text() for n in ("email.html", "email.txt"))
    manifest = json.loads((folder / "manifest.json").read_text())
    for body in (html, text):
        assert "Win %\u2060%unsubscribe_url%%" in body and "Mail %\u2060%email%% now." in body
        assert "By %\u2060%name%%" in body
        assert body.count("%%unsubscribe_url%%") == 1  # the footer's own link, nothing else
    assert 'href="https://regwire.example/articles/fx-ph"' in html
    # The subject template's own %%name%% stays live; the lead's title does not.
    assert manifest["subject"] == "%%name%%: Win %\u2060%unsubscribe_url%%"


def _luminance(color: str) -> float:
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize(("fg", "bg"), [
    ("ink", "#ffffff"), ("soft", "#ffffff"), ("muted", "#ffffff"), ("accent", "#ffffff"),
    ("footer_text", "page"), ("muted", "page"), ("masthead_text", "masthead"),
    ("#ffffff", "masthead"),
])
def test_text_colours_meet_wcag_aa(fg, bg):
    ratio = _contrast(COLORS.get(fg, fg), COLORS.get(bg, bg))
    assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f}"


def test_control_characters_in_an_article_do_not_break_the_email(build_settings, engine):
    """Found by the fuzz suite: an ESC (or VT, FF, U+FFFE) in a standfirst made the MJML parser
    refuse the whole email, blamed on the template. (NUL cannot reach the archive: ingest
    refuses it, and PostgreSQL could not store it.)"""
    save_articles(engine, [Article(
        id="fx-ctl", title="Odd\x1b[31m title\x0b", published_at=datetime(2026, 3, 4, tzinfo=UTC),
        url="https://regwire.example/a", standfirst="Bell\x07 and \x0c form\x1afeed\ufffe.",
        tags=[Tag("privacy", "Privacy")], body=[Block("paragraph", "A body.")])])
    result = build_editions(build_settings, week=WEEK, newsletters=["tech-brief"], engine=engine)
    folder = result.edition_dir / "tech-brief"
    html, text = (folder / "email.html").read_text(), (folder / "email.txt").read_text()
    for body in (html, text):
        assert "Odd[31m title" in body and "Bell and formfeed." in body
        assert not any(c in body for c in "\x1b\x0b\x07\x0c\x1a\ufffe")
