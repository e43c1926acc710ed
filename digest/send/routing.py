"""Which copy of an edition each reader gets: the variant cut to their topics, the full edition,
or (DIGEST_VARIANT_QUIET=skip, no story on their topics) nothing this week.

What the build decided is in the full edition's manifest (digest/editions/variants.py); a reader
whose topics changed after the build, so that no variant was made for them, gets the full
edition. Someone resent after being in doubt gets what the ledger says they were sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from digest.editions import BuiltEdition
from digest.editions.variants import NOTHING, OWN, offered_topics
from digest.send.message import Recipient
from digest.subscribers.topics import offered_part

FULL = ""  # the variant key of the full edition
SKIP = None  # nothing this week


class Routing:
    def __init__(self, full: BuiltEdition, variants: Iterable[str]) -> None:
        self.offered = offered_topics(full.manifest)
        self.gets = {v.key: v.gets for v in full.variants}
        self.own = set(variants)
        self._memo: dict[str | None, str | None] = {}

    def __call__(self, who: Recipient) -> str | None:
        """The key of the copy `who` gets: a variant's, FULL, or SKIP."""
        if who.variant is not None:
            return who.variant if who.variant in self.own else FULL
        try:
            return self._memo[who.topics]
        except KeyError:
            found = self._memo[who.topics] = self._route(who.topics)
            return found

    def _route(self, stored: str | None) -> str | None:
        key = offered_part(stored, self.offered)
        if key is None:
            return FULL
        gets = self.gets.get(key)
        if gets == NOTHING:
            return SKIP
        return key if gets == OWN and key in self.own else FULL

    def known(self, stored: str | None) -> bool:
        """Whether the build knew these topics (or they need no variant)."""
        key = offered_part(stored, self.offered)
        return key is None or key in self.gets

    def tally(self, groups: Mapping[str | None, int]) -> Tally:
        """Readers by the copy they get, from (topics key -> readers)."""
        tally = Tally()
        for stored, readers in groups.items():
            copy = self._route(stored)
            if copy is SKIP:
                tally.skipped += readers
            else:
                tally.copies[copy] = tally.copies.get(copy, 0) + readers
                if not self.known(stored):
                    tally.unforeseen += readers
        return tally


@dataclass
class Tally:
    copies: dict[str, int] = field(default_factory=dict)  # variant key (FULL: "") -> readers
    skipped: int = 0  # no story on their topics this week
    unforeseen: int = 0  # topics chosen after the build: the full edition
