"""Sign-up with double opt-in, in-process: the form, the confirmation email, the button."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from digest.archive.schema import signups, subscribers, suppressions
from digest.settings import Settings
from digest.subscribers import suppress, unsubscribe
from digest.subscribers.erasure import erase
from digest.subscribers.links import confirm_token
from digest.subscribers.signup import purge_pending
from tests.support.readers import body_text, link_in, outbox, read_eml, write_publisher

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def readers(settings: Settings, tmp_path: Path) -> Settings:
    folder = write_publisher(tmp_path / "publisher")
    return settings.model_copy(update={"subscribers_dir": folder,
                                       "signup_rate_address": "50/hour",
                                       "signup_rate_ip": "100/hour"})


@pytest.fixture
def site(readers, in_process):
    return in_process(readers)


def rows(engine: Engine, table) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table))]


def on_list(engine: Engine, email: str) -> dict[str, tuple]:
    s = subscribers.c
    query = select(s.newsletter, s.status, s.origin, s.topics, s.topics_by).where(s.email == email)
    with engine.connect() as conn:
        return {r.newsletter: tuple(r)[1:] for r in conn.execute(query)}


def test_the_form_has_a_labelled_control_for_address_name_and_each_topic(site):
    page = site.get("/subscribe/roundup")
    assert page.status_code == 200
    html = page.text
    assert '<label for="email">' in html and 'id="email"' in html
    assert '<label for="name">' in html
    for topic in ("Antitrust", "Trade", "AI policy", "Sanctions"):
        assert re.search(rf'<label class="check"><input type="checkbox" name="topics" '
                         rf'value="[a-z-]+"> {topic}</label>', html)
    assert "<script" not in html
    # The honeypot is out of sight, out of the tab order and hidden from screen readers.
    assert 'aria-hidden="true"' in html and 'name="website" type="text" tabindex="-1"' in html
    assert site.get("/subscribe/competition").text.count('type="checkbox"') == 0
    assert site.get("/subscribe/nope").status_code == 404


def test_a_sign_up_sends_a_confirmation_email_with_proper_headers(site, readers, engine):
    page = site.post("/subscribe/roundup", data={"email": "Jo.Reader@Example.com",
                                                 "name": "Jo Reader",
                                                 "topics": ["trade", "sanctions", "bogus"]})
    assert page.status_code == 200 and "Check your inbox" in page.text

    (path,) = outbox(readers.data_dir)
    message = read_eml(path)
    assert message["To"] == "jo.reader@example.com"
    assert message["From"].addresses[0].addr_spec == readers.from_email
    assert message["Subject"] == "Confirm your subscription to Regulatory Roundup"
    assert message["Message-ID"] and message["Date"] and message["Reply-To"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] is None  # not list mail
    assert message.get_body(preferencelist=("html",)) is not None
    text = body_text(message)
    assert "Sanctions, Trade" in text or "Trade, Sanctions" in text
    assert "72 hours" in text
    # Pending, not subscribed: nothing is mailed to it but this.
    assert on_list(engine, "jo.reader@example.com") == {}
    ((_, newsletter, email, name, topics, _, _),) = rows(engine, signups)
    assert (newsletter, email, name, topics) == ("roundup", "jo.reader@example.com",
                                                 "Jo Reader", "sanctions+trade")


def test_opening_the_link_confirms_nothing_the_button_does(site, readers, engine):
    site.post("/subscribe/roundup", data={"email": "jo@example.com", "topics": "trade"})
    link = link_in(outbox(readers.data_dir)[0], "confirm")

    page = site.get(link)  # what a mail scanner does
    assert page.status_code == 200 and "Confirm my subscription" in page.text
    assert re.search(rf'<form method="post" action="{re.escape(link)}">', page.text)
    assert on_list(engine, "jo@example.com") == {}

    done = site.post(link, data={"confirm": "yes"})
    assert done.status_code == 200 and "You are subscribed" in done.text
    assert "/manage/" in done.text
    assert on_list(engine, "jo@example.com") == {"roundup": ("active", "form", "trade",
                                                             "reader")}
    assert rows(engine, signups) == []
    again = site.post(link, data={"confirm": "yes"})
    assert again.status_code == 410 and "already been used" in again.text


def test_every_address_state_gets_the_same_answer(site, readers, engine):
    """New, pending, subscribed, suppressed and erased: nothing on the page tells them apart."""
    site.post("/subscribe/roundup", data={"email": "pending@example.com"})
    site.post("/subscribe/roundup", data={"email": "active@example.com"})
    site.post(link_in(outbox(readers.data_dir)[-1], "confirm"), data={"confirm": "yes"})
    site.post("/subscribe/roundup", data={"email": "gone@example.com"})
    site.post(link_in(outbox(readers.data_dir)[-1], "confirm"), data={"confirm": "yes"})
    unsubscribe(engine, "gone@example.com", "roundup", source="cli")
    erase(engine, readers, "erased@example.com", "cli")

    answers = set()
    for who in ("new", "pending", "active", "gone", "erased"):
        page = site.post("/subscribe/roundup", data={"email": f"{who}@example.com"})
        answers.add((page.status_code, page.text.replace(f"{who}@example.com", "ADDRESS"),
                     tuple(sorted(k for k in page.headers if k != "content-length"))))
    assert len(answers) == 1
    # Each got a confirmation: the owner of the address learns their state, nobody else.
    assert len(outbox(readers.data_dir)) == 3 + 5


def test_a_suppressed_address_comes_back_only_through_the_button(site, readers, engine):
    suppress(engine, "back@example.com", "*", "bounced", "webhook")
    site.post("/subscribe/roundup", data={"email": "back@example.com"})
    with engine.connect() as conn:
        assert conn.scalar(select(suppressions.c.reason)) == "bounced"  # not lifted by asking
    site.post(link_in(outbox(readers.data_dir)[0], "confirm"), data={"confirm": "yes"})
    with engine.connect() as conn:
        left = {(r.newsletter, r.reason) for r in conn.execute(select(suppressions))}
    # Back on the newsletter confirmed; still stopped for the one it did not ask for.
    assert left == {("competition", "bounced")}
    assert on_list(engine, "back@example.com")["roundup"][:2] == ("active", "form")


def test_an_erased_address_may_sign_up_again_and_confirm(site, readers, engine):
    erase(engine, readers, "again@example.com", "cli")
    site.post("/subscribe/competition", data={"email": "again@example.com"})
    site.post(link_in(outbox(readers.data_dir)[0], "confirm"), data={"confirm": "yes"})
    assert rows(engine, suppressions) == []  # its hash lifted: back by its own choice
    assert on_list(engine, "again@example.com")["competition"][:2] == ("active", "form")


def test_bad_and_old_links_are_refused_without_a_server_error(site, readers, engine):
    site.post("/subscribe/roundup", data={"email": "late@example.com"})
    link = link_in(outbox(readers.data_dir)[0], "confirm")
    nonce = rows(engine, signups)[0][5]
    old = confirm_token(readers, nonce, issued=time.time() - 73 * 3600)
    assert site.get(f"/confirm/{old}").status_code == 410
    assert site.post(f"/confirm/{old}", data={"confirm": "yes"}).status_code == 410
    token = link.rsplit("/", 1)[1]
    for bad in (token[:-3] + "AAA", "x", "a.b.c", "%00", "é" * 50):
        assert site.get(f"/confirm/{bad}").status_code == 400
        assert site.post(f"/confirm/{bad}", data={}).status_code == 400
    assert on_list(engine, "late@example.com") == {}


def test_a_bad_address_is_an_error_tied_to_its_field(site, readers):
    page = site.post("/subscribe/roundup", data={"email": "not an address", "name": "Jo",
                                                 "topics": "trade"})
    assert page.status_code == 400
    assert 'aria-invalid="true" aria-describedby="email-error"' in page.text
    assert 'id="email-error"' in page.text and 'role="alert"' in page.text
    assert 'value="not an address"' in page.text and 'value="trade" checked' in page.text
    assert outbox(readers.data_dir) == []


def test_the_honeypot_gets_the_usual_answer_and_nothing_else(site, readers, engine):
    page = site.post("/subscribe/roundup", data={"email": "bot@example.com",
                                                 "website": "http://spam.example"})
    assert page.status_code == 200 and "Check your inbox" in page.text
    assert outbox(readers.data_dir) == [] and rows(engine, signups) == []


def test_rate_limits_per_address_and_per_client_answer_429_with_retry_after(
        readers, in_process, engine):
    site = in_process(readers.model_copy(update={"signup_rate_address": "2/hour",
                                                 "signup_rate_ip": "4/hour"}))
    for _ in range(2):
        assert site.post("/subscribe/roundup", data={"email": "a@example.com"}).status_code == 200
    third = site.post("/subscribe/roundup", data={"email": "a@example.com"})
    assert third.status_code == 429 and int(third.headers["retry-after"]) > 0
    assert "Too many attempts" in third.text
    assert site.post("/subscribe/roundup", data={"email": "b@example.com"}).status_code == 200
    over = site.post("/subscribe/roundup", data={"email": "c@example.com"})
    assert over.status_code == 429  # the client's fifth request this hour
    assert len(outbox(readers.data_dir)) == 3


@pytest.mark.parametrize(("body", "headers", "status"), [
    (b"email=" + b"a" * 20_000, FORM, 413),
    (b'{"email": "a@example.com"}', {"content-type": "application/json"}, 415),
    (b"email=%ff%fe", FORM, 400),
    (b"&".join([b"topics=trade"] * 300), FORM, 400),
    (b"\x00\x01\x02", FORM, 400),
])
def test_garbage_posts_get_a_4xx(site, body, headers, status):
    assert site.post("/subscribe/roundup", content=body, headers=headers).status_code == status


def test_pending_sign_ups_are_purged_after_the_setting(site, readers, engine):
    site.post("/subscribe/roundup", data={"email": "slow@example.com"})
    assert purge_pending(engine, readers.pending_days) == 0
    from datetime import UTC, datetime, timedelta

    later = datetime.now(UTC) + timedelta(days=readers.pending_days, hours=1)
    assert purge_pending(engine, readers.pending_days, now=later) == 1
    assert rows(engine, signups) == []


def test_the_readme_snippet_posts_what_the_form_expects(site, readers, engine):
    """The HTML a publisher pastes into its own site (README) signs up and asks to confirm."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    snippet = re.search(r"```html\n(.*?)```", readme, re.S).group(1)
    action = re.search(r'<form action="https?://[^/]+(/subscribe/[a-z-]+)" method="post">',
                       snippet).group(1)
    names = set(re.findall(r'name="([a-z]+)"', snippet))
    assert names == {"email", "name", "topics", "website"}
    assert action == "/subscribe/regulatory-roundup"
    page = site.post("/subscribe/roundup", data={"email": "pasted@example.com", "name": "P",
                                                 "topics": ["antitrust", "trade"],
                                                 "website": ""})
    assert page.status_code == 200 and len(outbox(readers.data_dir)) == 1
    assert rows(engine, signups)[0][4] == "antitrust+trade"
