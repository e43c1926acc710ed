"""Article bodies' sentences and scores, kept in the archive from one build to the next.

Splitting a body into sentences and ranking them is most of what an extractive summary costs,
and it is the same at every word budget. A build keeps what it worked out, so that the next
build of the week (a rebuild, a check, a correction: each a new process) reads it back instead.

An entry is keyed by the body's text and by the summariser's own code (the files that split and
score, and pysbd's version), so an edited article or a changed summariser never meets an old
entry: it makes a new key. Entries are dropped RETENTION after they were stored (a build
summarises its window's articles; an older one asked for again is worked out again).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select

from digest.archive.chunks import in_slices
from digest.archive.schema import stored_sentences as table
from digest.archive.upsert import upsert_insert
from digest.fingerprints import code_fingerprint

RETENTION = timedelta(days=90)
Scored = tuple[tuple[str, ...], tuple[float, ...]]  # sentences, and a score for each


@functools.cache
def code_version() -> str:
    """The code an entry comes from: the splitter's and the ranker's modules, and pysbd."""
    from digest.summarise import extractive, text

    return code_fingerprint([text.__file__, extractive.__file__], ["pysbd"])


def body_key(paragraphs: tuple[str, ...]) -> str:
    key = hashlib.sha256(code_version().encode())
    key.update(json.dumps(paragraphs).encode())  # ASCII: any text, lone surrogates included
    return key.hexdigest()


class SentenceStore:
    """One build's view of the stored entries: what it read, and what it worked out since."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._known: dict[str, Scored] = {}  # read from the archive, or worked out here
        self._asked: set[str] = set()  # keys looked up in the archive
        self.new: dict[str, str] = {}  # worked out here and not stored yet: key -> JSON

    def load(self, bodies: Iterable[tuple[str, ...]]) -> None:
        """Read the entries of these bodies, one query for all (the picks of a newsletter)."""
        keys = {key for key in map(body_key, bodies) if key not in self._asked}
        if not keys:
            return
        self._asked |= keys
        with self.engine.connect() as conn:
            for chunk in in_slices(keys):
                query = select(table.c.body_key, table.c.sentences).where(
                    table.c.body_key.in_(chunk))
                for key, stored in conn.execute(query):
                    pairs = json.loads(stored)
                    self._known[key] = (tuple(s for s, _ in pairs), tuple(r for _, r in pairs))

    def scored(self, paragraphs: tuple[str, ...],
               work_out: Callable[[tuple[str, ...]], Scored]) -> Scored:
        """The stored entry for this body, else `work_out`'s (kept, to be stored)."""
        key = body_key(paragraphs)
        if key not in self._asked:
            self.load([paragraphs])
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = work_out(paragraphs)
            self.new[key] = json.dumps([[s, r] for s, r in zip(*found, strict=True)])
        return found

    def take_new(self) -> dict[str, str]:
        """What was worked out since the last call (a forked process hands it back)."""
        new, self.new = self.new, {}
        return new

    def keep(self, entries: dict[str, str]) -> None:
        """Entries another process worked out, to be stored with this one's."""
        self.new.update(entries)

    def save(self, now: datetime | None = None) -> None:
        """Store what is new (an entry another build stored meanwhile stays: it is the same),
        and drop the entries older than RETENTION."""
        if not self.new:
            return
        now = now or datetime.now(UTC)
        rows = [{"body_key": k, "sentences": v, "created_at": now} for k, v in self.new.items()]
        self.new = {}
        with self.engine.begin() as conn:
            dialect_insert = upsert_insert(conn)
            if dialect_insert is None:  # neither PostgreSQL nor SQLite: nothing to keep them in
                return
            conn.execute(dialect_insert(table).on_conflict_do_nothing(
                index_elements=["body_key"]), rows)
            conn.execute(delete(table).where(table.c.created_at < now - RETENTION))
