"""The publisher's newsletters as readers see them on the public pages: titles, descriptions and
the topics they offer, re-read when newsletters.toml or taxonomy.toml changes.

A broken file never takes the pages down: the last good reading stays in use (and the problem is
logged) until the editors fix it; `digest build` reports the same problem to them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from digest.errors import DigestError

log = logging.getLogger("digest.web")


@dataclass(frozen=True)
class Offer:
    slug: str
    title: str
    description: str
    topics: tuple[tuple[str, str], ...]  # (slug, display name), in newsletters.toml's order

    @property
    def topic_slugs(self) -> tuple[str, ...]:
        return tuple(slug for slug, _ in self.topics)

    def topic_names(self, slugs: tuple[str, ...]) -> list[str]:
        names = dict(self.topics)
        return [names.get(slug, slug) for slug in slugs]


class Catalogue:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._stamp: tuple[float, float] | None = None
        self._offers: dict[str, Offer] = {}

    def offers(self) -> dict[str, Offer]:
        """slug -> Offer, in file order."""
        stamp = self._stamps()
        if stamp is not None and stamp != self._stamp:
            try:
                self._offers = self._read()
            except DigestError as exc:
                log.error("the public pages keep the last good newsletters: %s", exc)
            self._stamp = stamp
        return self._offers

    def get(self, slug: str) -> Offer | None:
        return self.offers().get(slug)

    def _stamps(self) -> tuple[float, float] | None:
        try:
            return ((self.folder / "newsletters.toml").stat().st_mtime,
                    (self.folder / "taxonomy.toml").stat().st_mtime)
        except OSError:
            return None

    def _read(self) -> dict[str, Offer]:
        from digest.newsletters import load_newsletters
        from digest.taxonomy import load_taxonomy

        taxonomy = load_taxonomy(self.folder / "taxonomy.toml")
        found = load_newsletters(self.folder / "newsletters.toml", taxonomy)
        return {slug: Offer(slug, n.title, n.description,
                            tuple((t, taxonomy.name_of(t)) for t in n.topics))
                for slug, n in found.items()}
