"""The web archive: past editions newest first, and each email's web version.

Edition and slug come from the URL; the edition store checks both against strict patterns and
only hands out files inside the editions folder: nothing else on disk can be reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from digest import placeholders
from digest.editions import list_editions as built_editions
from digest.editions.ids import last_day
from digest.editions.layout import HTML
from digest.editions.read import newsletter_file

# Personal placeholders filled per recipient at send time; the public copy gets neutral text.
NEUTRAL_NAME = "reader"
NEUTRAL_EMAIL = "you"


@dataclass(frozen=True)
class ArchivedNewsletter:
    slug: str
    title: str
    subject: str


@dataclass
class ArchivedEdition:
    id: str
    label: str
    ends: date
    newsletters: list[ArchivedNewsletter] = field(default_factory=list)


def list_editions(out_dir: Path) -> list[ArchivedEdition]:
    """Every built edition with at least one email, newest first."""
    editions = []
    for edition in built_editions(out_dir):
        newsletters = [
            ArchivedNewsletter(n.slug, n.title, n.subject)
            for n in edition.newsletters
            if email_file(out_dir, edition.id, n.slug) is not None
        ]
        if newsletters:
            newsletters.sort(key=lambda n: n.title.lower())
            editions.append(
                ArchivedEdition(edition.id, edition.label, last_day(edition.id), newsletters)
            )
    return editions


def email_file(out_dir: Path, edition: str, slug: str, name: str = HTML) -> Path | None:
    return newsletter_file(out_dir, edition, slug, name)


def web_version(out_dir: Path, edition: str, slug: str, unsubscribe_help_url: str) -> str | None:
    """The edition's email HTML with the personal placeholders made neutral."""
    path = email_file(out_dir, edition, slug)
    if path is None:
        return None
    neutral = {
        placeholders.NAME: NEUTRAL_NAME,
        placeholders.EMAIL: NEUTRAL_EMAIL,
        placeholders.UNSUBSCRIBE_URL: unsubscribe_help_url,
    }
    return placeholders.fill(path.read_text(encoding="utf-8"), neutral, escape=True)
