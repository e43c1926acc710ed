"""The static checks one rule at a time: a clean hand-made email has no findings; each change
to it gives exactly the finding it should, with its severity and where it points."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from digest.checks.findings import Finding
from digest.checks.message import Message
from digest.checks.run import open_message, static_findings, static_report
from digest.editions import load_built
from digest.settings import Settings

EDITION, SLUG = "2026-W47", "ai-policy"
BASE = "https://news.regwire.example"
VIEW = f"{BASE}/archive/{EDITION}/{SLUG}"
ARTICLE = "https://regwire.example/articles/code"
SECOND = "https://regwire.example/articles/bill"
SUBJECT = "AI Policy Weekly: the code of practice"
PREHEADER = "The week in AI regulation."
ADDRESS = "Regwire Ltd, 10 Fleet Lane, London EC4A 1AB, United Kingdom"

CLEAN_HTML = f"""<!DOCTYPE html>
<html lang="en" dir="ltr"><head><title>{SUBJECT}</title>
<meta name="color-scheme" content="light dark"><!--[if mso]><xml></xml><![endif]-->
</head><body><div style="display:none">{PREHEADER}</div>
<div lang="en" dir="ltr" role="article">
<table role="presentation"><tr><td>
<p><a href="{VIEW}">View in browser</a></p>
<h1>AI Policy Weekly</h1><h2>AI policy</h2>
<h3><a href="{ARTICLE}">Commission publishes the code</a></h3>
<img src="https://regwire.example/chart.png" alt="A chart of fines by year">
<p><a href="{ARTICLE}" aria-label="Read the full story: the code">Read the full story</a></p>
<h3><a href="{SECOND}">UK delays its bill</a></h3>
<p><a href="{SECOND}" aria-label="Read the full story: the bill">Read the full story</a></p>
<p>Editorial contact: <a href="mailto:editors@regwire.example">editors@regwire.example</a></p>
<p>You receive this as %%email%%. <a href="%%unsubscribe_url%%">Unsubscribe</a></p>
<p>{ADDRESS}</p>
</td></tr></table></div></body></html>
"""

CLEAN_TEXT = f"""AI Policy Weekly

Commission publishes the code
Read the full story: {ARTICLE}

UK delays its bill
Read the full story: {SECOND}

Editorial contact: editors@regwire.example
View in browser: {VIEW}
Unsubscribe: %%unsubscribe_url%%

{ADDRESS}
"""


def write_edition(out: Path, *, html: str = CLEAN_HTML, text: str = CLEAN_TEXT,
                  **manifest: object) -> None:
    folder = out / EDITION / SLUG
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "email.html").write_text(html, encoding="utf-8")
    (folder / "email.txt").write_text(text, encoding="utf-8")
    data = {
        "edition": {"id": EDITION, "label": "16–22 November 2026"},
        "newsletter": {"slug": SLUG, "title": "AI Policy Weekly", "from_name": "Regwire AI"},
        "subject": SUBJECT, "preheader": PREHEADER, "view_url": VIEW,
        "articles": [{"id": "code", "title": "Commission publishes the code", "url": ARTICLE},
                     {"id": "bill", "title": "UK delays its bill", "url": SECOND}],
        **manifest,
    }
    (folder / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    (out / EDITION / "index.json").write_text(json.dumps([SLUG]), encoding="utf-8")


@pytest.fixture
def base(settings: Settings) -> Settings:
    return settings.model_copy(update={"base_url": BASE})


def run(settings: Settings, **edition: object) -> list[Finding]:
    write_edition(settings.out_dir, **edition)  # type: ignore[arg-type]
    message = open_message(settings, load_built(settings.out_dir, EDITION, SLUG))
    if not isinstance(message, Message):
        return message.findings
    return static_findings(message)


def shown(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.check, f.severity, f.where) for f in findings if f.severity != "info"}


def test_the_clean_email_has_no_findings(base: Settings) -> None:
    assert shown(run(base)) == set()


def html(old: str, new: str) -> Callable[[], dict[str, object]]:
    assert old in CLEAN_HTML, old
    return lambda: {"html": CLEAN_HTML.replace(old, new)}


def text(old: str, new: str) -> Callable[[], dict[str, object]]:
    assert old in CLEAN_TEXT, old
    return lambda: {"text": CLEAN_TEXT.replace(old, new)}


CASES: dict[str, tuple[Callable[[], dict[str, object]], dict[str, object],
                       set[tuple[str, str, str]]]] = {
    "http link": (html(f'<h3><a href="{ARTICLE}">', '<h3><a href="http://regwire.example/x">'),
                  {}, {("links.https", "error", "<a> 'Commission publishes the code'")}),
    "relative link": (html(f'<h3><a href="{SECOND}">', '<h3><a href="/articles/bill">'), {},
                      {("links.absolute", "error", "<a> 'UK delays its bill'")}),
    "empty link": (html(f'<h3><a href="{SECOND}">', '<h3><a href="">'), {},
                   {("links.empty", "error", "<a> 'UK delays its bill'")}),
    "local link, outbox": (html(f'<h3><a href="{SECOND}">', '<h3><a href="https://localhost/b">'),
                           {}, {("links.local", "warning", "<a> 'UK delays its bill'")}),
    "local link, smtp": (html(f'<h3><a href="{SECOND}">', '<h3><a href="https://x.invalid/b">'),
                         {"sender": "smtp"},
                         {("links.local", "error", "<a> 'UK delays its bill'")}),
    "no view link": (html(f'<p><a href="{VIEW}">View in browser</a></p>', ""), {},
                     {("links.view-in-browser", "warning", "HTML body")}),
    "article not linked": (lambda: {"html": CLEAN_HTML.replace(SECOND, ARTICLE)}, {},
                           {("links.article-missing", "error", "HTML body")}),
    "missing alt": (html(' alt="A chart of fines by year"', ""), {},
                    {("a11y.alt", "error", "<img> near 'Commission publishes the code'")}),
    "file name as alt": (html('alt="A chart of fines by year"', 'alt="chart-2026.png"'), {},
                         {("a11y.alt", "warning", "<img> near 'Commission publishes the code'")}),
    "skipped heading": (html("<h2>AI policy</h2>", "<h2>AI policy</h2><h4>Also</h4>"), {},
                        {("a11y.headings", "warning", "<h4> 'Also'")}),
    "layout table": (html('<table role="presentation">', "<table>"), {},
                     {("a11y.layout-table", "warning", "<table> 'View in browser AI Policy "
                       "Weekly AI policy Commission publi…'")}),
    "generic link text": (html('aria-label="Read the full story: the code">Read the full story',
                               ">click here"), {},
                          {("a11y.link-text", "warning", "<a> 'click here'")}),
    "repeated read more": (html(' aria-label="Read the full story: the bill"', ""), {},
                           {("a11y.link-text", "warning", "<a> 'Read the full story'")}),
    "link without text": (html(">UK delays its bill</a>", "></a>"), {},
                          {("a11y.link-text", "error", "<a> near 'Read the full story'")}),
    "no lang": (html('<html lang="en" dir="ltr">', '<html dir="ltr">'), {},
                {("a11y.lang", "warning", "<html>")}),
    "no wrapper": (html('<div lang="en" dir="ltr" role="article">', "<div>"), {},
                   {("a11y.wrapper-lang", "warning", "<body>")}),
    "no color-scheme": (html('<meta name="color-scheme" content="light dark">', ""), {},
                        {("dark.color-scheme", "warning", "<head>")}),
    "no postal address": (html(f"<p>{ADDRESS}</p>", ""), {},
                          {("deliverability.postal-address", "error", "HTML body")}),
    "no postal address set": (lambda: {}, {"postal_address": " "},
                              {("deliverability.postal-address", "error",
                                "setting DIGEST_POSTAL_ADDRESS")}),
    "no contact": (text("Editorial contact: editors@regwire.example", ""), {},
                   {("deliverability.contact", "warning", "text part")}),
    "empty text part": (lambda: {"text": " "}, {},
                        {("deliverability.text-part", "error", "text part"),
                         ("deliverability.postal-address", "error", "text part"),
                         ("deliverability.contact", "warning", "text part"),
                         ("deliverability.unsubscribe-link", "error", "text part")}),
    "text part lacks a link": (text(f"Read the full story: {SECOND}", ""), {},
                               {("deliverability.text-part", "error", "text part")}),
    "no unsubscribe link": (html('<a href="%%unsubscribe_url%%">Unsubscribe</a>', ""), {},
                            {("deliverability.unsubscribe-link", "error", "HTML body")}),
    "long subject": (lambda: {"subject": "A" + " very" * 20 + " long subject"}, {},
                     {("deliverability.subject-length", "warning", "header Subject")}),
    "capitals": (lambda: {"subject": "BIG NEWS IN AI POLICY THIS WEEK"}, {},
                 {("deliverability.subject-caps", "warning", "header Subject")}),
    "no preheader": (lambda: {"preheader": ""}, {},
                     {("deliverability.preheader", "warning", "preheader")}),
    "preheader repeats subject": (lambda: {"preheader": SUBJECT, "html": CLEAN_HTML.replace(
        PREHEADER, SUBJECT)}, {}, {("deliverability.preheader", "warning", "preheader")}),
    "preheader not in html": (html(f'<div style="display:none">{PREHEADER}</div>', ""), {},
                              {("deliverability.preheader", "warning", "HTML body")}),
    "reply-to elsewhere": (lambda: {}, {"reply_to": "desk@elsewhere.example"},
                           {("deliverability.domains", "warning", "headers From, Reply-To")}),
    "too big": (html("</body>", "<p>" + "x" * 105_000 + "</p></body>"), {},
                {("deliverability.size", "error", "HTML body")}),
    "over the warning line": (html("</body>", "<p>" + "x" * 94_000 + "</p></body>"), {},
                              {("deliverability.size", "warning", "HTML body")}),
    "display grid": (html("<h1>", '<div style="display:grid">Grid</div><h1>'), {},
                     {("support.css-display-grid", "warning", "<div> 'Grid'")}),
    "media query without MJML's Outlook tables": (
        lambda: {"html": CLEAN_HTML.replace("<!--[if mso]><xml></xml><![endif]-->",
                                            "<style>@media (max-width: 480px) {p {}}</style>")},
        {}, {("support.css-at-media", "warning", "<style> @media (max-width: 480px)")}),
    "style over 16 KB": (html("</head>", "<style>" + "p{margin:0}" * 1700 + "</style></head>"),
                         {}, {("support.gmail-style-size", "warning", "<style> in <head>")}),
    "a line break in a header": (lambda: {"subject": "Two\nlines"}, {},
                                 {("deliverability.headers", "error", "headers")}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_fault_gives_its_finding(name: str, base: Settings) -> None:
    change, settings_change, expected = CASES[name]
    settings = base.model_copy(update=settings_change)
    assert shown(run(settings, **change())) == expected


def test_the_local_base_url_is_a_warning_with_the_outbox_and_an_error_with_smtp(
        settings: Settings) -> None:
    local = settings.model_copy(update={"base_url": "http://127.0.0.1:8000"})
    view = "http://127.0.0.1:8000/archive/2026-W47/ai-policy"
    edition = {"html": CLEAN_HTML.replace(VIEW, view), "text": CLEAN_TEXT.replace(VIEW, view),
               "view_url": view}
    assert shown(run(local, **edition)) == {
        ("links.base-url", "warning", "setting DIGEST_BASE_URL")}
    real = local.model_copy(update={"sender": "smtp"})
    [finding] = [f for f in run(real, **edition) if f.severity != "info"]
    assert (finding.check, finding.severity) == ("links.base-url", "error")
    assert "smtp backend sends to real readers" in finding.problem


def test_a_view_link_from_another_base_url_asks_for_a_rebuild(base: Settings) -> None:
    other = base.model_copy(update={"base_url": "https://other.regwire.example"})
    found = [f for f in run(other) if f.check == "links.view-in-browser"]
    assert [(f.severity, f.fix) for f in found] == [
        ("error", "Run `digest build` again with the current settings.")]


def test_unsubscribe_headers_one_click_and_per_reader(base: Settings) -> None:
    write_edition(base.out_dir)
    message = Message(base, load_built(base.out_dir, EDITION, SLUG))
    assert message.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    from digest.checks.deliverability import OTHER, check_deliverability

    same = f"<{message.mail.unsubscribe_url(OTHER.email)}>"
    message.headers = [(k, same if k == "List-Unsubscribe" else v) for k, v in message.headers
                       if k != "List-Unsubscribe-Post"]
    found = {(f.check, f.problem.split(":")[0]) for f in check_deliverability(message)}
    assert ("deliverability.one-click", "One-click unsubscribe (RFC 8058) is not offered.") \
        in found
    assert ("deliverability.list-unsubscribe",
            "Every reader gets the same unsubscribe link") in found


def test_same_registrable_domain_is_consistent() -> None:
    from digest.checks.deliverability import registrable

    assert registrable("news.regwire.example") == registrable("regwire.example")
    assert registrable("mail.regwire.co.uk") == "regwire.co.uk"
    assert registrable("regwire.example") != registrable("regwire-mail.example")


def test_the_build_records_the_static_checks_and_their_content(base: Settings) -> None:
    write_edition(base.out_dir)
    built = load_built(base.out_dir, EDITION, SLUG)
    report = static_report(base, built)
    assert report.ran == ["static"] and report.content == Message(base, built).content_hash
    changed = built.__class__(built.edition, built.slug, built.folder, built.html + " ",
                              built.text, built.manifest)
    assert Message(base, changed).content_hash != report.content
