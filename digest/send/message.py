"""The message each recipient gets: the one rendered edition, personal values substituted in.

The edition is rendered once by `digest build`; here %%name%%, %%email%%, %%unsubscribe_url%%
and %%manage_url%% are filled in per recipient in one pass (HTML-escaped in the HTML part;
digest/placeholders.py), never by re-rendering. SMTP and the outbox get whole MIME messages,
assembled from pieces encoded once per edition (digest/send/encoded.py), so a send of many
thousands neither builds thousands of email.message objects nor encodes the page thousands of
times; SendGrid gets the same values as `substitutions` (see backends/sendgrid.py).
"""

from __future__ import annotations

import secrets
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from functools import cached_property
from typing import NamedTuple

from digest.editions import BuiltEdition
from digest.errors import DigestError
from digest.placeholders import EMAIL, MANAGE_URL, NAME, Template, fill
from digest.placeholders import UNSUBSCRIBE_URL as UNSUBSCRIBE
from digest.send.encoded import EncodedPart
from digest.send.tokens import ManageLinks, UnsubscribeLinks
from digest.settings import Settings

DEFAULT_NAME = "reader"
ONE_CLICK = "List-Unsubscribe=One-Click"
TEST_PREFIX = "[TEST] "
CRLF = "\r\n"


class HeaderError(DigestError):
    """A header value with a line break in it: refused, it could smuggle in headers."""


def header_value(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise HeaderError(
            f"the {name} header would contain a line break ({value!r}); refusing to send it",
            hint="Remove line breaks from the setting, manifest or subscriber name it comes from.",
        )
    return value


class Recipient(NamedTuple):
    # A tuple: a million of them are made per big send, and a frozen dataclass is 5x slower.
    email: str
    name: str = ""
    topics: str | None = None  # the reader's topics key (digest/subscribers/topics.py)
    variant: str | None = None  # the variant the ledger says they were sent (in-doubt resends)


class EditionMail:
    """One built edition, ready to be personalised for any number of recipients."""

    def __init__(self, settings: Settings, built: BuiltEdition, *, test: bool = False,
                 manage_versions: dict[str, int] | None = None) -> None:
        self.built = built
        self.test = test
        self.base_url = settings.base_url
        self._links = UnsubscribeLinks(settings.base_url, settings.signing_key(), built.slug)
        # The versions of revoked manage links (digest/subscribers/links.py); a real send reads
        # them from the database, the others may leave them out (then links are version 0).
        self._manage = ManageLinks(settings.base_url, settings.signing_key(),
                                   manage_versions or {})
        self.domain = settings.from_email.rpartition("@")[2] or "localhost"
        self.from_email = header_value("From", settings.from_email)
        self.from_name = header_value("From", built.from_name or settings.publisher_name)
        self.reply_to = header_value("Reply-To", settings.reply_to)
        self.subject = header_value("Subject", (TEST_PREFIX if test else "") + built.subject)
        self.list_id = header_value("List-Id", f"{built.slug}.{self.domain}")
        self.list_name = header_value("List-Id", built.title)
        self.categories = [built.slug, built.edition]
        self._subject = Template(self.subject)
        self._personal_subject = bool(self._subject.names)
        self._boundary = f"=_digest_{secrets.token_hex(12)}"  # "=_" never occurs in QP text
        self._fixed = self._fixed_headers()

    # The encoded parts are made on first use too: checks and previews never ask for them.
    @cached_property
    def _text(self) -> EncodedPart:
        return EncodedPart("text/plain", self.built.text)

    @cached_property
    def _html(self) -> EncodedPart:
        return EncodedPart("text/html", self.built.html, escape=True)

    @cached_property
    def _subject_line(self) -> str:
        """The encoded Subject line when it is the same for everyone (made on first use: RFC
        2047 encoding is slow, and previews and checks never need it)."""
        return "" if self._personal_subject else _line("Subject", self.subject)

    # -- personal values ---------------------------------------------------------------------

    def unsubscribe_url(self, email: str) -> str:
        return self._links(email)

    def manage_url(self, email: str) -> str:
        return self._manage(email)

    def values(self, who: Recipient, url: str | None = None) -> dict[str, str]:
        """The placeholders and what they stand for, for this recipient (unescaped)."""
        return {
            NAME: who.name or DEFAULT_NAME,
            EMAIL: who.email,
            UNSUBSCRIBE: url or self.unsubscribe_url(who.email),
            MANAGE_URL: self.manage_url(who.email),
        }

    def bodies(self, who: Recipient) -> tuple[str, str]:
        """This recipient's text and HTML parts, as mime() fills them (for the checks)."""
        values = self.values(who)
        return fill(self.built.text, values), fill(self.built.html, values, escape=True)

    # -- headers -----------------------------------------------------------------------------

    def headers(self, who: Recipient) -> list[tuple[str, str]]:
        """The headers of this recipient's copy, readable (not encoded): for previews."""
        values = self.values(who)
        return [
            ("From", formataddr((self.from_name, self.from_email))),
            ("Reply-To", self.reply_to),
            ("To", formataddr((who.name, who.email)) if who.name else who.email),
            ("Subject", self._subject.fill(values)),
            ("List-Id", formataddr((self.list_name, self.list_id))),
            ("List-Unsubscribe", f"<{values[UNSUBSCRIBE]}>"),
            ("List-Unsubscribe-Post", ONE_CLICK),
        ]

    def _fixed_headers(self) -> str:
        lines = [
            "From: " + formataddr((self.from_name, self.from_email), charset="utf-8"),
            "Reply-To: " + formataddr(parseaddr(self.reply_to), charset="utf-8"),
            "List-Id: " + formataddr((self.list_name, self.list_id), charset="utf-8"),
            "List-Unsubscribe-Post: " + ONE_CLICK,
            "MIME-Version: 1.0",
        ]
        return CRLF.join(lines) + CRLF

    # -- the whole message (SMTP, outbox) ----------------------------------------------------

    def mime(self, who: Recipient, *, stuffed: bool = False) -> tuple[bytes, str]:
        """This recipient's message as RFC 5322 bytes (CRLF line ends) and its Message-ID;
        `stuffed`: ready for SMTP's DATA, each line's leading "." doubled (RFC 5321 4.5.2)."""
        email = header_value("To", who.email)
        name = header_value("To", who.name)
        values = self.values(who)
        message_id = (
            f"<{self.built.edition}.{self.built.slug}.{secrets.token_hex(10)}@{self.domain}>"
        )
        # An internationalised address goes as UTF-8 (RFC 6532, SMTPUTF8), without a name.
        to = formataddr((name, email), charset="utf-8") if name and email.isascii() else email
        subject = self._subject_line or _line(
            "Subject", header_value("Subject", self._subject.fill(values))
        )
        head = (
            f"{self._fixed}To: {to}{CRLF}{subject}Date: {formatdate(usegmt=True)}{CRLF}"
            f"Message-ID: {message_id}{CRLF}List-Unsubscribe: <{values[UNSUBSCRIBE]}>{CRLF}"
            f'Content-Type: multipart/alternative; boundary="{self._boundary}"{CRLF}{CRLF}'
        )
        boundary = f"--{self._boundary}{CRLF}".encode()
        parts = [
            head.encode("utf-8"),
            boundary,
            self._text.encode(values, stuffed=stuffed),
            boundary,
            self._html.encode(values, stuffed=stuffed),
            f"--{self._boundary}--{CRLF}".encode(),
        ]
        return b"".join(parts), message_id


def _line(name: str, value: str) -> str:
    return f"{name}: {_encoded(value, name)}{CRLF}"


def _encoded(value: str, name: str = "") -> str:
    """An unstructured header value: ASCII as it is, anything else as RFC 2047 encoded words."""
    if value.isascii() and len(value) < 900:
        return value
    return Header(value, "utf-8", header_name=name or None).encode(linesep=CRLF)
