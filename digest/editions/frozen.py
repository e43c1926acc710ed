"""Frozen copies: what readers of a sent newsletter got, kept in the database for good.

The first real send of an edition's newsletter copies the built files into `frozen_editions`
(HTML and text still carrying the per-recipient placeholders), and its variants cut to readers'
topics into `frozen_variants`, and moves its state to sending, in one transaction. From then on
every run of that send, on any machine, sends the frozen copy, and the public archive serves
it; the editor's folder no longer matters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, and_, func, select, update

from digest.archive.schema import deliveries, edition_states, frozen_editions, frozen_variants
from digest.archive.upsert import insert_ignore
from digest.editions.built import BuiltEdition, load_built
from digest.editions.ids import base_of, check_names, revision_of
from digest.editions.layout import MANIFEST, newsletter_folder
from digest.editions.states import SENDING, SENT, aware
from digest.editions.variants import OWN


@dataclass(frozen=True)
class Published:
    """A frozen newsletter of an edition, as the archive lists it (no bodies)."""

    edition: str
    newsletter: str
    title: str
    label: str
    subject: str
    preheader: str
    revision_of: str | None
    sent_at: datetime


def content_hash(subject: str, preheader: str, html: str, text: str) -> str:
    """What identifies an email's content: the same hash, the same email."""
    digest = hashlib.sha256()
    for part in (subject, preheader, html, text):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def built_hash(built: BuiltEdition) -> str:
    return content_hash(built.subject, built.preheader, built.html, built.text)


def freeze(engine: Engine, built: BuiltEdition, variants: Sequence[BuiltEdition] = ()) -> None:
    """Keep `built` (and its `variants`) as what this newsletter's readers get, unless a copy
    is kept already; the state becomes sending. Call while holding the send lease."""
    now = datetime.now(UTC)
    revision = revision_of(built.edition)
    row = {
        "edition": built.edition,
        "newsletter": built.slug,
        "revision_of": base_of(built.edition) if revision > 1 else None,
        "title": built.title,
        "label": built.label,
        "subject": built.subject,
        "preheader": built.preheader,
        "html": built.html,
        "text": built.text,
        "manifest": json.dumps(built.manifest, ensure_ascii=False),
        "content_hash": built_hash(built),
        "built_at": _built_at(built.folder),
        "sent_at": now,
        "finished_at": None,
        "recipients": 0,
    }
    key = and_(edition_states.c.edition == built.edition,
               edition_states.c.newsletter == built.slug)
    with engine.begin() as conn:
        if insert_ignore(conn, frozen_editions, row):
            for variant in variants:
                conn.execute(frozen_variants.insert().values(
                    edition=built.edition, newsletter=built.slug, variant=variant.variant,
                    subject=variant.subject, preheader=variant.preheader, html=variant.html,
                    text=variant.text, content_hash=built_hash(variant),
                    manifest=json.dumps(variant.manifest, ensure_ascii=False)))
        state = {"state": SENDING, "content_hash": row["content_hash"], "updated_at": now}
        changed = conn.execute(
            update(edition_states).where(key, edition_states.c.state != SENT).values(state)
        ).rowcount
        if not changed:
            insert_ignore(conn, edition_states, {
                "edition": built.edition, "newsletter": built.slug,
                "revision_of": row["revision_of"], "built_at": row["built_at"], **state})


def finish(engine: Engine, edition: str, slug: str) -> None:
    """A send went through the whole list: the state is sent, and the count of readers is
    brought up to date (a later run that picks up newcomers updates the count only)."""
    now = datetime.now(UTC)
    this = and_(frozen_editions.c.edition == edition, frozen_editions.c.newsletter == slug)
    mailed = (
        select(func.count()).select_from(deliveries)
        .where(deliveries.c.edition == edition, deliveries.c.newsletter == slug,
               deliveries.c.state == "sent")
        .scalar_subquery()
    )
    with engine.begin() as conn:
        conn.execute(update(frozen_editions).where(this).values(recipients=mailed))
        conn.execute(
            update(frozen_editions).where(this, frozen_editions.c.finished_at.is_(None))
            .values(finished_at=now)
        )
        conn.execute(
            update(edition_states)
            .where(edition_states.c.edition == edition, edition_states.c.newsletter == slug)
            .values(state=SENT, updated_at=now)
        )


def load_frozen(engine: Engine, out_dir: Path, edition: str, slug: str) -> BuiltEdition | None:
    """The frozen copy as a BuiltEdition (its folder: where its outbox and reports go)."""
    query = select(frozen_editions).where(frozen_editions.c.edition == edition,
                                          frozen_editions.c.newsletter == slug)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return BuiltEdition(edition, slug, newsletter_folder(out_dir, edition, slug), row.html,
                        row.text, json.loads(row.manifest))


def load_frozen_variants(engine: Engine, full: BuiltEdition) -> dict[str, BuiltEdition]:
    """The frozen variants of a frozen newsletter, by key."""
    v = frozen_variants.c
    query = select(frozen_variants).where(v.edition == full.edition, v.newsletter == full.slug)
    with engine.connect() as conn:
        return {row.variant: BuiltEdition(full.edition, full.slug, full.folder, row.html,
                                          row.text, json.loads(row.manifest), row.variant)
                for row in conn.execute(query)}


def variants_for_sending(engine: Engine, out_dir: Path, full: BuiltEdition,
                         frozen: bool) -> dict[str, BuiltEdition]:
    """The variants that go with `full` (as edition_for_sending gave it): frozen with it, or
    the built ones its manifest lists."""
    if frozen:
        return load_frozen_variants(engine, full)
    return {v.key: load_built(out_dir, full.edition, full.slug, v.key)
            for v in full.variants if v.gets == OWN}


def edition_for_sending(engine: Engine, out_dir: Path, edition: str,
                        slug: str) -> tuple[BuiltEdition, bool, str | None]:
    """(what to send, whether it is the frozen copy, a note for the editor). Once frozen, the
    frozen copy, whatever the folder holds now; before, the built files."""
    check_names(edition, slug)
    frozen = load_frozen(engine, out_dir, edition, slug)
    if frozen is None:
        return load_built(out_dir, edition, slug), False, None
    note = None
    folder = frozen.folder
    if (folder / MANIFEST).exists():
        try:
            on_disk = load_built(out_dir, edition, slug)
        except Exception:  # whatever is in the folder, the frozen copy is what goes
            on_disk = None
        if on_disk is not None and built_hash(on_disk) != built_hash(frozen):
            note = (f"the files in {folder} differ from the copy frozen at the first send; "
                    "the frozen copy is sent, so every reader gets the same")
    return frozen, True, note


def published(engine: Engine, newsletter: str | None = None,
              limit: int | None = None) -> list[Published]:
    """Frozen newsletters, newest first: what the public archive lists."""
    f = frozen_editions.c
    query = select(f.edition, f.newsletter, f.title, f.label, f.subject, f.preheader,
                   f.revision_of, f.sent_at).order_by(f.sent_at.desc(), f.edition.desc())
    if newsletter is not None:
        query = query.where(f.newsletter == newsletter)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [Published(r.edition, r.newsletter, r.title, r.label, r.subject, r.preheader,
                      r.revision_of, aware(r.sent_at) or datetime.min.replace(tzinfo=UTC))
            for r in rows]


def frozen_html(engine: Engine, edition: str, slug: str, variant: str = "") -> str | None:
    """The frozen HTML of a published newsletter (placeholders still in), or of one of its
    variants, or None."""
    query = select(frozen_editions.c.html).where(frozen_editions.c.edition == edition,
                                                 frozen_editions.c.newsletter == slug)
    if variant:
        v = frozen_variants.c
        query = select(v.html).where(v.edition == edition, v.newsletter == slug,
                                     v.variant == variant)
    with engine.connect() as conn:
        return conn.scalar(query)


def _built_at(folder: Path) -> datetime | None:
    """When the files were written: the manifest's time (the build records none itself)."""
    try:
        return datetime.fromtimestamp((folder / MANIFEST).stat().st_mtime, UTC)
    except OSError:
        return None
