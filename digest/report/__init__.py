"""After the send: delivery and engagement of an edition, from the provider's stored events.

    sent.py        which editions went out, when, through what, with which stories
    figures.py     the counts and rates of one sent newsletter (what each figure means)
    timeline.py    first opens and clicks by the hour after the send began
    thresholds.py  the complaint rates Gmail and Yahoo enforce
    output.py      the figures as JSON and CSV

`digest report` and the preview's Results tab both come through here.
"""

from __future__ import annotations

from sqlalchemy import Engine

from digest.editions.ids import check_names, is_slug
from digest.errors import DigestError
from digest.report.figures import Results, rate, results
from digest.report.sent import SentNewsletter, sent_editions, sent_newsletter

__all__ = ["Results", "SentNewsletter", "edition_results", "rate", "trend"]


def edition_results(engine: Engine, edition: str, slug: str) -> Results:
    """The results of `edition` of newsletter `slug`; a DigestError when it was not sent."""
    check_names(edition, slug)
    with engine.connect() as conn:
        send = sent_newsletter(conn, edition, slug)
        if send is None:
            raise DigestError(
                f"edition {edition} of {slug!r} has not been sent: no recipient is in the "
                "send ledger",
                hint=f"`digest report -n {slug} --last 8` lists the editions that were sent.",
            )
        return results(conn, send)


def trend(engine: Engine, slug: str, last: int) -> list[Results]:
    """The last `last` sent editions of `slug`, oldest first (so a trend reads left to right)."""
    if not is_slug(slug):
        raise DigestError(f"{slug!r} is not a newsletter slug",
                          hint="Slugs are lower-case words joined by hyphens, as in "
                          "newsletters.toml.")
    with engine.connect() as conn:
        editions = sent_editions(conn, slug, last)
        if not editions:
            raise DigestError(
                f"no edition of {slug!r} has been sent yet",
                hint="Send one with `digest send EDITION -n SLUG`; its report follows the events.",
            )
        found = []
        for edition in reversed(editions):
            send = sent_newsletter(conn, edition, slug)
            if send is not None:
                found.append(results(conn, send, detail=False))
        return found
