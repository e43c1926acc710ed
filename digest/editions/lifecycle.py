"""What a build may write: drafts only, never a frozen newsletter, never under a running send.

    check_buildable(...)   refuse (clearly) newsletters already sent, or being sent
    correction_id(...)     the edition id a correction of sent newsletters is built as
    writing(...)           hold the edition's build lease while the folder is swapped, checking
                           again under it, then record the newsletters as drafts
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from digest.editions.ids import base_of, is_edition_id, revision_id, revision_of
from digest.editions.lease import WHOLE_EDITION, holding, live_holders
from digest.editions.states import EditionState, record_drafts, revisions_of, states_of
from digest.errors import DigestError

BUILD_WAIT = 60.0  # seconds a build waits for another build of the same edition to swap


def check_buildable(engine: Engine, edition: str, slugs: Sequence[str], again: str) -> None:
    """DigestError when a newsletter of `slugs` in `edition` is frozen (what was sent, when,
    to how many, and how to build a correction), or when a send of the edition is running.
    `again` is the build's window as command-line options (for the hints)."""
    senders = live_holders(engine, edition, purpose="send")
    if senders:
        raise DigestError(
            f"edition {edition} is being sent right now: {senders[0].describe()} is sending "
            f"{senders[0].newsletter}; a build now could change the files under it",
            hint="Let the send finish (`digest status " + edition + "` shows it), then build.",
        )
    states = states_of(engine, edition)
    frozen = [states[s] for s in slugs if s in states and states[s].frozen]
    if not frozen:
        return
    lines = [_what_was_sent(s) for s in frozen]
    others = [s for s in slugs if s not in {f.newsletter for f in frozen}]
    names = " ".join(f"-n {f.newsletter}" for f in frozen)
    hint = (f"To send a correction, build it as a new edition: "
            f"`digest build {again} {names} --correction`.")
    if others:
        hint += f" To rebuild the others: `digest build {again} " + " ".join(
            f"-n {s}" for s in others) + "`."
    raise DigestError("\n".join(lines) + "\nWhat readers received is frozen: the build leaves "
                      "it alone.", hint=hint)


def correction_id(engine: Engine, out_dir: Path, base: str, slugs: Sequence[str],
                  again: str) -> str:
    """The edition id to build a correction of `slugs` of `base` as: the latest revision if it
    is still a draft for all of them, else the next one (2026-W47-r2, -r3, ...)."""
    known = revisions_of(engine, base)
    unsent = [s for s in slugs if not any(states.get(s) and states[s].frozen
                                          for states in known.values())]
    if unsent:
        raise DigestError(
            f"{', '.join(unsent)} of {base} {'has' if len(unsent) == 1 else 'have'} not been "
            "sent: there is nothing to correct",
            hint=f"A draft is rebuilt freely: `digest build {again}` without --correction "
            "(and -n for the newsletters to correct).",
        )
    on_disk = [p.name for p in out_dir.glob(f"{base}-r*") if is_edition_id(p.name)]
    latest = max([revision_of(e) for e in [*known, *on_disk]] + [1])
    if latest > 1:
        states = known.get(revision_id(base, latest), {})
        if not any(states.get(s) and states[s].frozen for s in slugs):
            return revision_id(base, latest)
    return revision_id(base, latest + 1)


@contextmanager
def writing(engine: Engine, edition: str, slugs: Sequence[str], again: str,
            ttl: float) -> Iterator[dict[str, str]]:
    """Hold the build lease of `edition` while the caller swaps its folder in; yields a dict
    the caller fills with {slug: content hash} of what it wrote, recorded as drafts after."""
    with holding(engine, edition, WHOLE_EDITION, "build", ttl=ttl, wait=BUILD_WAIT):
        check_buildable(engine, edition, slugs, again)  # again, now that no send can start
        written: dict[str, str] = {}
        yield written
        base, revision = base_of(edition), revision_of(edition)
        with engine.begin() as conn:
            record_drafts(conn, edition, written, base if revision > 1 else None,
                          datetime.now(UTC))


def _what_was_sent(state: EditionState) -> str:
    if state.state == "sent":
        when = f"on {state.sent_at:%Y-%m-%d %H:%M} UTC" if state.sent_at else ""
        return (f"{state.newsletter} of {state.edition} was sent {when} to "
                f"{state.recipients:,} reader{'s' if state.recipients != 1 else ''}"
                f" (subject: {state.subject!r}).")
    when = f" since {state.sent_at:%Y-%m-%d %H:%M} UTC" if state.sent_at else ""
    return (f"{state.newsletter} of {state.edition} is being sent{when} (subject: "
            f"{state.subject!r}); `digest send` resumes it with the frozen copy.")
