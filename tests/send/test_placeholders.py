"""Personal placeholders are filled in one pass: a value is never read for placeholders again."""

from __future__ import annotations

import email
import email.policy

from sqlalchemy import Engine, update

from digest.archive.schema import subscribers
from digest.editions import load_built
from digest.placeholders import EMAIL, NAME, UNSUBSCRIBE_URL, Template, fill, inert
from digest.send.message import EditionMail, Recipient
from digest.send.runner import run_send
from digest.settings import Settings
from tests.support.data import EDITION, SLUG, add_subscribers, make_edition
from tests.support.sendgrid_server import SendGridServer, render

HOSTILE = "Mallory %%unsubscribe_url%% %%email%% %%name%%"


def test_a_value_holding_a_placeholder_is_copied_in_as_it_is() -> None:
    values = {NAME: HOSTILE, EMAIL: "m@example.com", UNSUBSCRIBE_URL: "https://x.example/u/t"}
    text = f"Dear {NAME}, ({EMAIL}) <a href='{UNSUBSCRIBE_URL}'>"
    assert fill(text, values) == f"Dear {HOSTILE}, (m@example.com) <a href='https://x.example/u/t'>"
    assert Template(text).fill(values) == fill(text, values)
    assert fill("%%name_html%% %%name%%", {NAME: "Jo"}) == "%%name_html%% Jo"  # longest name wins
    assert fill("50%% off %%unknown%%", values) == "50%% off %%unknown%%"
    assert fill("<%%name%%>", {NAME: "<b>&"}, escape=True) == "<&lt;b&gt;&amp;>"


def test_inert_values_survive_a_substitution_that_is_not_one_pass() -> None:
    made_inert = inert(HOSTILE)
    assert made_inert != HOSTILE and made_inert.replace("\u2060", "") == HOSTILE
    sequential = made_inert
    for placeholder in (NAME, EMAIL, UNSUBSCRIBE_URL):
        sequential = sequential.replace(placeholder, "EXPANDED")
    assert "EXPANDED" not in sequential
    assert inert("Jo 50%% Smith") == "Jo 50%% Smith"  # no known placeholder: untouched


def test_smtp_and_outbox_copies_do_not_expand_a_hostile_name(settings: Settings) -> None:
    make_edition(settings.out_dir)
    mail = EditionMail(settings, load_built(settings.out_dir, EDITION, SLUG))
    raw, _ = mail.mime(Recipient("m@example.com", HOSTILE))
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    link = msg["List-Unsubscribe"].strip("<>")
    for part in msg.iter_parts():
        body = part.get_content()
        assert f"Dear {HOSTILE}," in body
        assert body.count(link) == 1  # only where the template put it


def test_sendgrid_values_stay_inert_even_if_the_provider_substitutes_repeatedly(
    sendgrid_settings: Settings, sendgrid: SendGridServer, engine: Engine
) -> None:
    add_subscribers(engine, SLUG, 1)
    with engine.begin() as conn:
        conn.execute(update(subscribers).values(name=HOSTILE))
    assert run_send(sendgrid_settings, EDITION, SLUG).ok
    person = sendgrid.payloads[0]["personalizations"][0]
    link = person["headers"]["List-Unsubscribe"].strip("<>")
    made = render(sendgrid.payloads[0], 0)  # the test server substitutes one tag after another
    for part in ("text/plain", "text/html"):
        assert made[part].count(link) == 1
        assert "Dear Mallory %\u2060%unsubscribe_url%%" in made[part]
