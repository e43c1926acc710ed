"""A sample subscriber for the preview: personal placeholders filled, headers as they will be sent.

The sender fills %%name%%, %%email%%, %%unsubscribe_url%% and %%manage_url%% per recipient in
one pass (HTML-escaped in the HTML part; digest/placeholders.py). The preview goes through the
sender's own `EditionMail` with the first person on the newsletter's list (or a made-up reader
when the list is empty), so the editor sees exactly what a subscriber's copy will say, signed
links included, and no second implementation can drift from the first.
"""

from __future__ import annotations

from digest import placeholders
from digest.editions import BuiltEdition, Newsletter
from digest.errors import DigestError
from digest.send.message import EditionMail
from digest.send.sample import sample_reader
from digest.settings import Settings


class Sample:
    """One newsletter as `who` will get it."""

    def __init__(self, settings: Settings, newsletter: Newsletter) -> None:
        self.newsletter = newsletter
        self.who = sample_reader(settings.subscribers_dir, newsletter.slug)
        self.problem: str | None = None
        built = BuiltEdition(
            newsletter.edition, newsletter.slug, newsletter.folder, "", "", newsletter.manifest
        )
        self.mail: EditionMail | None = None
        try:
            self.mail = EditionMail(settings, built)
            self.values = self.mail.values(self.who)
        except DigestError as exc:  # e.g. a line break in a header value: the sender would refuse
            self.problem = str(exc)
            self.values = {}

    @property
    def email(self) -> str:
        return self.who.email

    @property
    def name(self) -> str:
        return self.who.name

    def html(self, text: str) -> str:
        return placeholders.fill(text, self.values, escape=True)

    def text(self, text: str) -> str:
        return placeholders.fill(text, self.values)

    def headers(self) -> list[tuple[str, str]]:
        """The headers of the sample reader's copy, with the preheader shown after the subject
        (it travels in the body, but the inbox shows it next to the subject)."""
        if self.mail is None:
            return []
        try:
            shown = self.mail.headers(self.who)
        except DigestError as exc:
            self.problem = str(exc)
            return []
        at = next((i + 1 for i, (name, _) in enumerate(shown) if name == "Subject"), len(shown))
        preheader = ("Preheader (in the body)", self.text(self.newsletter.preheader) or "(none)")
        return [*shown[:at], preheader, *shown[at:]]

    def subject(self) -> str:
        return self.text(self.newsletter.subject)
