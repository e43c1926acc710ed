"""The message the checks examine: exactly what the sample reader would be sent.

The built HTML and text with the sample reader's values filled in, and the headers from the
sender's own `EditionMail`, as for a real send (not a test send). Parsed once, on first use,
and shared by every check.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from typing import TYPE_CHECKING

from digest.checks.document import Document
from digest.editions import BuiltEdition
from digest.send.message import EditionMail, Recipient
from digest.send.sample import sample_reader

if TYPE_CHECKING:
    from digest.settings import Settings

LOCAL_SENDERS = {"outbox"}  # backends that deliver nothing off this machine


class Message:
    """One newsletter of one edition as its sample reader gets it."""

    def __init__(self, settings: Settings, built: BuiltEdition,
                 reader: Recipient | None = None) -> None:
        self.settings = settings
        self.built = built
        self.reader = reader or sample_reader(settings.subscribers_dir, built.slug)
        self.mail = EditionMail(settings, built)  # a DigestError for a header it would refuse
        self.text, self.html = self.mail.bodies(self.reader)
        self.headers = self.mail.headers(self.reader)

    @property
    def real(self) -> bool:
        """True when the configured backend delivers to readers (smtp, sendgrid): then links
        to this machine are errors, not just warnings about a local set-up."""
        return self.settings.sender not in LOCAL_SENDERS

    @property
    def label(self) -> str:
        return f"{self.built.edition}/{self.built.slug}"

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers if key.lower() == name.lower()), "")

    @cached_property
    def flat_text(self) -> str:
        """The text part with white space collapsed, for searching."""
        return " ".join(self.text.split())

    @cached_property
    def document(self) -> Document:
        return Document.parse(self.html)

    @cached_property
    def eml(self) -> bytes:
        """The whole message as the SMTP and outbox backends would send it."""
        return self.mail.mime(self.reader)[0]

    @cached_property
    def content_hash(self) -> str:
        """What the checks ran on: the built parts and every header value that is not personal.
        A rebuild, a new subject or a changed From/Reply-To/base URL makes a new hash."""
        mail, built = self.mail, self.built
        parts = [mail.from_name, mail.from_email, mail.reply_to, mail.subject, mail.list_id,
                 mail.list_name, mail.base_url, built.preheader, built.html, built.text]
        digest = hashlib.sha256()
        for part in parts:
            digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
        return digest.hexdigest()
