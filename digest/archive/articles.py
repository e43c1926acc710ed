"""Storing and reading articles. Re-ingesting an id updates it; nothing is ever duplicated."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, overload

from sqlalchemy import Connection, Engine, Text, bindparam, cast, func, select, update

from digest import signatures
from digest.archive.chunks import in_slices
from digest.archive.schema import articles
from digest.archive.upsert import upsert_insert
from digest.errors import DigestError
from digest.models import Article, Block, Tag

if TYPE_CHECKING:
    from digest.taxonomy import Taxonomy

Outcome = Literal["new", "updated", "unchanged", "stale"]


def _row(article: Article, content_hash: str, now: datetime, taxonomy: Taxonomy | None) -> dict:
    # The model's own field mapping, with the dates as datetimes for the DateTime columns, and
    # what curation would otherwise work out in every build (made with the content, so every
    # version stored carries its own): the signature, and an untagged article's inferred tags.
    row = article.to_dict()
    row.update(
        published_at=article.published_at,
        updated_at=article.updated_at,
        content_hash=content_hash,
        ingested_at=now,
        lead_signature=signatures.stored(article),
        inferred_tags=taxonomy.stored_inference(article) if taxonomy else None,
    )
    return row


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


Version = tuple[str, datetime]  # (content hash, revised_at) of what an id holds


def classify(article: Article, digest: str, stored: Version | None) -> Outcome:
    """What saving `article` (whose content hash is `digest`) over `stored` would do."""
    if stored is None:
        return "new"
    stored_hash, stored_revised = stored
    if digest == stored_hash:
        return "unchanged"
    if article.revised_at < stored_revised:
        return "stale"
    return "updated"


def known_versions(conn: Connection, ids: Iterable[str]) -> dict[str, Version]:
    """The stored version of each of `ids` that the archive holds."""
    known: dict[str, Version] = {}
    for chunk in in_slices(ids):
        query = select(articles.c.id, articles.c.content_hash, articles.c.updated_at,
                       articles.c.published_at).where(articles.c.id.in_(chunk))
        for row in conn.execute(query):
            known[row.id] = (row.content_hash, _aware(row.updated_at or row.published_at))
    return known


def save_articles(
    engine: Engine, batch: Sequence[Article], *, dry_run: bool = False,
    taxonomy: Taxonomy | None = None,
) -> list[Outcome]:
    """Insert new articles, update changed ones; one outcome per article, in order. With the
    `taxonomy`, an untagged article's inferred tags are stored with it (a build reads them).

    An incoming version older than the stored one ("stale") never overwrites it, so ingesting a
    folder that holds both the first and the corrected version of a story always ends on the
    correction, however often it is run. Safe beside another ingest of the same articles: an
    id inserted by the other first is compared again and updated only if this one is newer.
    """
    now = datetime.now(UTC)
    outcomes: list[Outcome] = []
    with engine.begin() as conn:
        known = known_versions(conn, {a.id for a in batch})
        inserts: dict[str, dict] = {}
        updates: dict[str, dict] = {}
        for article in batch:
            digest = article.content_hash()
            outcome = classify(article, digest, known.get(article.id))
            outcomes.append(outcome)
            if outcome in ("unchanged", "stale"):
                continue
            target = updates if outcome == "updated" and article.id not in inserts else inserts
            target[article.id] = _row(article, digest, now, taxonomy)
            known[article.id] = (digest, article.revised_at)
        if dry_run:
            return outcomes
        if inserts:
            lost = set(inserts) - _insert_new(conn, list(inserts.values()))
            if lost:  # another ingest inserted them a moment ago: compare with what it stored
                _recheck(conn, batch, lost, inserts, updates, outcomes)
        if updates:
            _update_older(conn, list(updates.values()))
    return outcomes


def _insert_new(conn: Connection, rows: list[dict]) -> set[str]:
    """Insert the rows whose id is not stored yet; the ids this call inserted."""
    dialect_insert = upsert_insert(conn)
    if dialect_insert is None:
        raise DigestError(f"the archive needs PostgreSQL or SQLite, not {conn.dialect.name}")
    statement = dialect_insert(articles).on_conflict_do_nothing(index_elements=["id"])
    result = conn.execute(statement.returning(articles.c.id), rows)
    return set(result.scalars())


def _recheck(conn: Connection, batch: Sequence[Article], lost: set[str],
             inserts: dict[str, dict], updates: dict[str, dict],
             outcomes: list[Outcome]) -> None:
    stored = known_versions(conn, lost)
    for n, article in enumerate(batch):
        if article.id in lost:
            row = inserts[article.id]
            outcomes[n] = classify(article, row["content_hash"], stored.get(article.id))
            if outcomes[n] == "updated":
                updates[article.id] = row


def _update_older(conn: Connection, rows: list[dict]) -> None:
    """Update each stored article unless what is stored is already as new or newer (another
    ingest may have stored a later version since this one looked)."""
    columns = [c.name for c in articles.columns if c.name != "id"]
    stored_revised = func.coalesce(articles.c.updated_at, articles.c.published_at)
    statement = (
        update(articles)
        .where(articles.c.id == bindparam("_id"),
               stored_revised <= bindparam("_revised", type_=articles.c.published_at.type))
        .values({name: bindparam(name) for name in columns})
    )
    params = []
    for row in rows:
        params.append({**{k: v for k, v in row.items() if k != "id"}, "_id": row["id"],
                       "_revised": row["updated_at"] or row["published_at"]})
    conn.execute(statement, params)


def load_articles(
    engine: Engine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    tag: str | None = None,
    ids: Iterable[str] | None = None,
    signatures: dict[str, bytes | None] | None = None,
    inferred: dict[str, str | None] | None = None,
) -> list[Article]:
    """Articles published in [since, until], newest first; `tag` is a slug; `ids` restricts
    the result to those ids (unknown ones are simply absent). `signatures` and `inferred`,
    when given, are filled with each one's stored near-duplicate signature and inferred tags,
    read in the same query so that they are the ones made from the very content loaded (an
    ingest may be updating the archive)."""
    query = select(*_READ).order_by(articles.c.published_at.desc(), articles.c.id)
    if ids is not None:
        query = query.where(articles.c.id.in_(sorted(ids)))
    if since is not None:
        query = query.where(articles.c.published_at >= since)
    if until is not None:
        query = query.where(articles.c.published_at <= until)
    found = []
    # The authors' and tags' JSON decoded once per distinct text: a big week's 10,000 articles
    # have a few hundred of each (decoding every row's was an eighth of the load).
    authors_of: dict[str, list[str]] = {}
    tags_of: dict[str, list[Tag]] = {}
    made_tags: dict[tuple, Tag] = {}  # each distinct tag made once
    with engine.connect() as conn:
        # One row at a time (a big week is 10,000 of them), unpacked in _READ's order.
        for (article_id, title, published_at, url, authors, updated_at, kind, stored_tags,
             standfirst, body, contact, source, signature, tags_inferred) in conn.execute(query):
            if (named := authors_of.get(authors)) is None:
                named = authors_of[authors] = json.loads(authors)
            if (tagged := tags_of.get(stored_tags)) is None:
                tagged = tags_of[stored_tags] = [_tag(t, made_tags)
                                                 for t in json.loads(stored_tags)]
            found.append(Article(
                article_id, title, _aware(published_at), url, named.copy(),
                _aware(updated_at), kind, tagged.copy(), standfirst, StoredBody(body),
                contact, source))
            if signatures is not None:
                signatures[article_id] = signature
            if inferred is not None:
                inferred[article_id] = tags_inferred
    if tag:
        found = [a for a in found if any(t.slug == tag for t in a.tags)]
    return found


def _tag(stored: dict, made: dict[tuple, Tag]) -> Tag:
    key = (stored["slug"], stored["name"], stored.get("inferred", False))
    found = made.get(key)
    if found is None:
        found = made[key] = Tag(*key)
    return found


# The columns an Article is read from, in its fields' order, then what was stored beside it; the
# JSON ones as the text they are stored as (a cast, so that neither SQLAlchemy nor PostgreSQL's
# driver decodes them): load_articles decodes the authors and tags, StoredBody the body.
_c = articles.c
_READ = [_c.id, _c.title, _c.published_at, _c.url, cast(_c.authors, Text).label("authors"),
         _c.updated_at, _c.kind, cast(_c.tags, Text).label("tags"),
         _c.standfirst, cast(_c.body, Text).label("body"), _c.contact, _c.source,
         _c.lead_signature, _c.inferred_tags]


class StoredBody(Sequence[Block]):
    """An article's body as the archive holds it, decoded on first use. A build reads every
    article of its window (10,000 in a big week) but opens the bodies of only those it
    summarises or infers tags for: decoding them all was a third of the load."""

    __slots__ = ("_blocks", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._blocks: list[Block] | None = None

    def _decoded(self) -> list[Block]:
        if self._blocks is None:
            self._blocks = [Block(**b) for b in json.loads(self._text)]
        return self._blocks

    @overload
    def __getitem__(self, index: int) -> Block: ...
    @overload
    def __getitem__(self, index: slice) -> list[Block]: ...
    def __getitem__(self, index: int | slice) -> Block | list[Block]:
        return self._decoded()[index]

    def __len__(self) -> int:
        return len(self._decoded())

    def __iter__(self) -> Iterator[Block]:
        return iter(self._decoded())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StoredBody | list):
            return self._decoded() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to a list, which has none

    def __repr__(self) -> str:
        return repr(self._decoded())
