"""The per-recipient message: parts, headers, personal values, and no header injection."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from digest.editions import load_built
from digest.send import preview_headers
from digest.send.message import EditionMail, HeaderError, Recipient
from digest.send.tokens import verify_token
from digest.settings import Settings
from tests.support.data import EDITION, SLUG, make_edition


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def mail_for(settings: Settings, **edition: str) -> EditionMail:
    make_edition(settings.out_dir, **edition)
    return EditionMail(settings, load_built(settings.out_dir, EDITION, SLUG))


def test_message_has_both_parts_and_every_header(settings: Settings) -> None:
    mail = mail_for(settings, subject="Brüssel week — AI policy", from_name="Regwire — AI")
    raw, message_id = mail.mime(Recipient("jo@example.com", "Jo Smith"))
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    msg = parse(raw)
    assert msg.get_content_type() == "multipart/alternative"
    text, page = msg.iter_parts()
    assert text.get_content_type() == "text/plain" and page.get_content_type() == "text/html"
    assert text.get_content_charset() == page.get_content_charset() == "utf-8"
    assert msg["Subject"] == "Brüssel week — AI policy"
    assert msg["From"].addresses[0].display_name == "Regwire — AI"
    assert msg["From"].addresses[0].addr_spec == settings.from_email
    assert msg["Reply-To"] == settings.reply_to
    assert msg["To"].addresses[0].display_name == "Jo Smith"
    assert msg["Date"].datetime is not None
    assert msg["Message-ID"] == message_id and message_id.endswith("@regwire.example>")
    assert msg["List-Id"] == f"Regwire AI Policy <{SLUG}.regwire.example>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_personal_values_are_substituted_and_the_link_verifies(settings: Settings) -> None:
    mail = mail_for(settings)
    msg = parse(mail.mime(Recipient("jo@example.com", "Jo Smith"))[0])
    header_url = msg["List-Unsubscribe"].strip("<>")
    assert header_url.startswith(settings.base_url + "/u/")
    token = header_url.rsplit("/", 1)[1]
    assert verify_token(settings.signing_key(), token) == ("jo@example.com", SLUG)
    text, page = (part.get_content() for part in msg.iter_parts())
    for body in (text, page):
        assert "%%" not in body
        assert "Dear Jo Smith," in body
        assert "jo@example.com" in body
        assert header_url in body  # the same link in the body as in the header
    assert "café" in page and "—" in text  # UTF-8 survives quoted-printable


def test_missing_name_reads_reader_and_names_are_escaped_in_html(settings: Settings) -> None:
    mail = mail_for(settings)
    anonymous = parse(mail.mime(Recipient("anon@example.com"))[0])
    assert "Dear reader," in anonymous.get_body(("plain",)).get_content()
    tricky = parse(mail.mime(Recipient("t@example.com", 'Tom <b>"&" Co'))[0])
    assert 'Dear Tom <b>"&" Co,' in tricky.get_body(("plain",)).get_content()
    assert "Dear Tom &lt;b&gt;&quot;&amp;&quot; Co," in tricky.get_body(("html",)).get_content()
    assert tricky["To"].addresses[0].display_name == 'Tom <b>"&" Co'


def test_each_recipient_gets_a_distinct_message_id(settings: Settings) -> None:
    mail = mail_for(settings)
    ids = {mail.mime(Recipient(f"r{i}@example.com"))[1] for i in range(50)}
    assert len(ids) == 50


def test_subject_placeholders_and_test_prefix(settings: Settings) -> None:
    make_edition(settings.out_dir, subject="For %%name%%: the week")
    built = load_built(settings.out_dir, EDITION, SLUG)
    msg = parse(EditionMail(settings, built, test=True).mime(Recipient("a@example.com", "Ann"))[0])
    assert msg["Subject"] == "[TEST] For Ann: the week"


@pytest.mark.parametrize("where", ["subject", "from_name"])
def test_line_breaks_in_edition_header_values_are_refused(settings: Settings, where: str) -> None:
    make_edition(settings.out_dir, **{where: "Nice\r\nBcc: everyone@example.com"})
    with pytest.raises(HeaderError, match="line break"):
        EditionMail(settings, load_built(settings.out_dir, EDITION, SLUG))


def test_line_breaks_in_recipient_values_are_refused(settings: Settings) -> None:
    mail = mail_for(settings)
    with pytest.raises(HeaderError):
        mail.mime(Recipient("jo@example.com", "Jo\nBcc: x@example.com"))
    with pytest.raises(HeaderError):
        mail.mime(Recipient("jo@example.com\r\nBcc: x@example.com"))


def test_line_breaks_in_settings_are_refused(settings: Settings) -> None:
    make_edition(settings.out_dir)
    bad = settings.model_copy(update={"reply_to": "a@example.com\nBcc: x@example.com"})
    with pytest.raises(HeaderError, match="Reply-To"):
        EditionMail(bad, load_built(bad.out_dir, EDITION, SLUG))


def test_missing_edition_says_to_build_it(settings: Settings) -> None:
    from digest.errors import DigestError

    with pytest.raises(DigestError, match="digest build"):
        load_built(settings.out_dir, "2026-W01", SLUG)
    make_edition(settings.out_dir)
    with pytest.raises(DigestError, match="digest build"):
        load_built(settings.out_dir, EDITION, "no-such-letter")
    (settings.out_dir / EDITION / SLUG / "email.txt").unlink()
    with pytest.raises(DigestError, match=r"email\.txt is missing"):
        load_built(settings.out_dir, EDITION, SLUG)
    with pytest.raises(DigestError, match="not an edition id"):
        load_built(settings.out_dir, "../etc", SLUG)


def test_preview_headers_match_what_is_sent(settings: Settings, tmp_path: Path) -> None:
    make_edition(settings.out_dir)
    shown = dict(preview_headers(settings, EDITION, SLUG, "jo@example.com", "Jo"))
    assert shown["To"] == "Jo <jo@example.com>"
    assert shown["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = shown["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    assert verify_token(settings.signing_key(), token) == ("jo@example.com", SLUG)
