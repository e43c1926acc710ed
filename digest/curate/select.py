"""Choosing one newsletter's articles for one window, with a reason for every decision.

Order of judgement: dropped by the editor; pinned (always in, first); excluded tag; no
matching tag; near-duplicate folded into its newest version; ranked (more of the
newsletter's tags matched, then newer, then id); over the cap.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, pairwise
from typing import NamedTuple

from digest.curate.overrides import Overrides
from digest.curate.similar import DuplicateIndex
from digest.curate.window import Window
from digest.models import Article, Tag, iso
from digest.newsletters import Newsletter
from digest.taxonomy import Taxonomy

OTHER_SECTION = ("other", "Other news")
_json_string = json.encoder.encode_basestring  # type: ignore[attr-defined]


@dataclass
class Pick:
    article: Article
    tags: list[Tag]  # effective tags (inferred ones marked)
    matched: list[str]  # the newsletter's tag slugs this article carries, in its order
    rank: int = 0
    reason: str = ""
    pinned: bool = False
    folded: list[str] = field(default_factory=list)  # ids of near-duplicates folded into it
    section: str = ""  # section key

    @property
    def primary_tag(self) -> Tag | None:
        by_slug = {t.slug: t for t in self.tags}
        for slug in self.matched:
            if slug in by_slug:
                return by_slug[slug]
        return self.tags[0] if self.tags else None


@dataclass(slots=True)
class LeftOut:
    id: str
    title: str
    code: str  # outside_window | no_matching_tag | excluded_tag | over_cap | folded | dropped
    reason: str
    # `to_dict()` as JSON, made by hand once: a big week's manifests list some 200,000 of
    # these (a "no matching tag" record is shared by every newsletter), and manifest.dumps
    # joins the ready text of a whole list at C speed. select() passes it in, made from the
    # article's part of it (_Known.head), made once per build.
    json: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.json:
            self.json = _left_json(_head_json(self.id, self.title), self.code, self.reason)

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "code": self.code, "reason": self.reason}


def _head_json(article_id: str, title: str) -> str:
    return f'{{"id": {_json_string(article_id)}, "title": {_json_string(title)}'


def _left_json(head: str, code: str, reason: str) -> str:
    return f'{head}, "code": {_json_string(code)}, "reason": {_json_string(reason)}}}'


@dataclass
class Section:
    key: str
    title: str
    picks: list[Pick]


@dataclass
class Selection:
    newsletter: Newsletter
    window: Window
    picks: list[Pick]  # rank order
    left_out: list[LeftOut]
    warnings: list[str] = field(default_factory=list)

    def sections(self, picks: Sequence[Pick] | None = None) -> list[Section]:
        """Picks grouped by section; sections ordered by their best-ranked article, so the
        lead story opens the email."""
        groups: dict[str, Section] = {}
        for pick in picks if picks is not None else self.picks:
            key = pick.section
            if key not in groups:
                groups[key] = Section(key=key, title=self._section_title(pick), picks=[])
            groups[key].picks.append(pick)
        return list(groups.values())

    def _section_title(self, pick: Pick) -> str:
        if self.newsletter.sections == "kind":
            return (pick.article.kind or OTHER_SECTION[1]).strip()
        tag = pick.primary_tag
        return tag.name if tag and pick.section != OTHER_SECTION[0] else OTHER_SECTION[1]


class TagCache:
    """Each article's effective tags, worked out once per build and shared by every newsletter
    (inference scans the text; a big week has thousands of articles and twenty newsletters)."""

    def __init__(self, taxonomy: Taxonomy, stored: Mapping[str, str | None] | None = None
                 ) -> None:
        """`stored`: the archive's inferred tags by id (Taxonomy.stored_inference), made at
        ingest; those missing or made with another taxonomy are inferred here."""
        self.taxonomy = taxonomy
        self._stored = stored or {}
        self._seen: dict[str, _Known] = {}
        self._listed: _Listed | None = None

    def get(self, article: Article) -> _Known:
        found = self._seen.get(article.id)
        if found is None:
            found = self._seen[article.id] = self._known(article)
        return found

    def _known(self, article: Article) -> _Known:
        tags = self.taxonomy.effective_tags(article, self._stored.get(article.id))
        shown = ", ".join(_tag_label(t) for t in tags) or "none"
        head = _head_json(article.id, article.title)
        known = _Known(tags, frozenset(t.slug for t in tags), head,
                       -article.published_at.timestamp())
        known.no_match = _left(article, known, "no_matching_tag",
                               f"no matching tag (tags: {shown})")
        return known

    def tags(self, article: Article) -> list[Tag]:
        return self.get(article).tags

    def listed(self, articles: Sequence[Article]) -> _Listed:
        """Lookups over this very list of articles, made once for all newsletters."""
        if self._listed is None or self._listed.articles is not articles:
            by_tag: dict[str, set[str]] = {}
            known = [self.get(article) for article in articles]
            for article, found in zip(articles, known, strict=True):
                for slug in found.slugs:
                    by_tag.setdefault(slug, set()).add(article.id)
            ids = [a.id for a in articles]
            newest_first = all(a <= b for a, b in pairwise(
                (k.newness, i) for k, i in zip(known, ids, strict=True)))
            self._listed = _Listed(articles, by_tag, known, {a.id: a for a in articles}, ids,
                                   {i: n for n, i in enumerate(ids)},
                                   [k.no_match for k in known], newest_first)
        return self._listed


class _Listed(NamedTuple):
    articles: Sequence[Article]
    by_tag: dict[str, set[str]]  # tag slug -> ids of the articles carrying it
    known: list[_Known]  # TagCache.get() of each article, in order
    by_id: dict[str, Article]
    ids: list[str]  # of each article, in order
    position: dict[str, int]  # id -> index in the list
    no_match: list[LeftOut]  # _Known.no_match of each article, in order
    newest_first: bool  # sorted newest first, then by id (as load_articles gives them)


@dataclass(slots=True)
class _Known:
    tags: list[Tag]
    slugs: frozenset[str]
    head: str  # the article's part of a LeftOut's JSON
    newness: float  # minus the publication time: sorts newest first
    # The same record for every newsletter the article does not match (set right after).
    no_match: LeftOut = field(init=False)


def select(
    newsletter: Newsletter,
    window: Window,
    articles: Sequence[Article],
    taxonomy: Taxonomy,
    *,
    duplicates: DuplicateIndex | None = None,
    overrides: Overrides | None = None,
    neighbours: Sequence[Article] = (),
    extra: dict[str, Article] | None = None,
    tag_cache: TagCache | None = None,
) -> Selection:
    """Pick `newsletter`'s articles among `articles` (those published in `window`).

    `neighbours` are articles just outside the window, reported as such when they match;
    `extra` holds pinned articles looked up outside the window; `tag_cache` shares effective
    tags across newsletters."""
    overrides = overrides or Overrides()
    cache = tag_cache or TagCache(taxonomy)
    extra = extra or {}
    left: list[LeftOut] = []
    warnings: list[str] = []
    listed = cache.listed(articles)
    by_id = listed.by_id
    pins = [p for p in overrides.pins if p not in overrides.drops]
    wanted, unwanted = frozenset(newsletter.tags), frozenset(newsletter.exclude_tags)
    # Candidates as (article, its tags) first; Pick objects (and matched-tag lists) only for
    # those picked, since a big week has thousands of candidates per newsletter.
    candidates: dict[str, tuple[Article, _Known]] = {}
    pinned_articles: dict[str, Article] = {}
    for pin in pins:
        article = by_id.get(pin) or extra.get(pin)
        if article is not None:  # the build checked every id exists
            pinned_articles[pin] = article
            candidates[pin] = (article, cache.get(article))

    # Only articles carrying a wanted or an excluded tag (or dropped) need a look; the rest,
    # most of a big week, are "no matching tag" wholesale.
    index = listed.by_tag
    relevant = set(overrides.drops).union(*(index.get(t, ()) for t in newsletter.exclude_tags))
    if newsletter.takes_any:
        relevant.update(by_id)
    else:
        relevant.update(*(index.get(t, ()) for t in newsletter.tags))
    # The others, most of a big week, are "no matching tag", listed after the rest as they
    # always were; those that need a look are taken in the articles' order.
    position = listed.position
    looked_at = sorted(position[i] for i in relevant.union(candidates) if i in position)
    keep = bytearray(b"\x01") * len(listed.ids)  # compress() then copies the rest at C speed
    for index in looked_at:
        keep[index] = 0
    unmatched = list(compress(listed.no_match, keep))
    for index in looked_at:
        article, known = articles[index], listed.known[index]
        if article.id in candidates:  # pinned
            continue
        if article.id in overrides.drops:
            left.append(_left(article, known, "dropped", "dropped by the editor"))
            continue
        if unwanted and not unwanted.isdisjoint(known.slugs):
            excluded = [s for s in newsletter.exclude_tags if s in known.slugs]
            left.append(_left(article, known, "excluded_tag",
                              f"excluded tag: {', '.join(excluded)}"))
        else:  # a wanted tag, or a "*" newsletter
            candidates[article.id] = (article, known)
    left.extend(unmatched)

    folded_into: dict[str, list[str]] = {}
    if duplicates is not None:
        for gone, (kept, score) in duplicates.fold(candidates, keep_first=pins).items():
            article, known = candidates.pop(gone)
            folded_into.setdefault(kept, []).append(gone)
            left.append(_left(article, known, "folded",
                              f"folded into {kept} (near-duplicate, similarity {score:.2f})"))

    # More of the newsletter's tags first, then newer, then id: the same order on every run.
    # The candidates are in the articles' order, newest first as the archive loads them (else
    # sorted so), and sorts are stable: only a newsletter of several tags sorts by how many
    # it matched (a newsletter's tags are distinct: those matched are in both sets).
    ranked = [i for i in candidates if i not in pinned_articles]
    if not listed.newest_first:
        ranked.sort(key=lambda i: (candidates[i][1].newness, i))
    if len(wanted) > 1:
        ranked.sort(key=lambda i: -len(wanted.intersection(candidates[i][1].slugs)))
    ordered = [p for p in pins if p in candidates] + ranked
    cap = max(newsletter.max_articles, len(pinned_articles))
    if len(pinned_articles) > newsletter.max_articles:
        warnings.append(f"{len(pinned_articles)} pinned articles exceed max_articles "
                        f"({newsletter.max_articles}); all pins kept")
    picks = []
    for rank, article_id in enumerate(ordered, start=1):
        article, known = candidates[article_id]
        if rank > cap:
            left.append(_left(article, known, "over_cap",
                              f"over the cap: ranked {rank}, max_articles is {cap}"))
            continue
        pick = Pick(article, known.tags, _matched(newsletter, known.slugs), rank=rank,
                    pinned=article_id in pinned_articles, folded=folded_into.get(article_id, []))
        pick.section = _section_key(newsletter, pick)
        pick.reason = _pick_reason(newsletter, pick) if not pick.pinned else (
            "pinned by the editor" + ("" if article_id in by_id else
                                      " (published outside the window)"))
        picks.append(pick)

    for article in neighbours:
        if article.id in candidates or article.id in overrides.drops:
            continue
        known = cache.get(article)
        if not unwanted.isdisjoint(known.slugs):
            continue
        if not wanted.isdisjoint(known.slugs) or newsletter.takes_any:
            side = "before" if article.published_at < window.since else "after"
            left.append(_left(article, known, "outside_window",
                              f"outside the window: published {iso(article.published_at)}, "
                              f"{side} {window.label}"))
    return Selection(newsletter=newsletter, window=window, picks=picks, left_out=left,
                     warnings=warnings)


def _matched(newsletter: Newsletter, slugs: frozenset[str]) -> list[str]:
    return [s for s in newsletter.tags if s in slugs]


def _section_key(newsletter: Newsletter, pick: Pick) -> str:
    if newsletter.sections == "kind":
        return (pick.article.kind or OTHER_SECTION[0]).strip().lower()
    if pick.matched:
        return pick.matched[0]
    # Only a "*" newsletter gets here: file the article under its own first tag.
    return pick.tags[0].slug if pick.tags else OTHER_SECTION[0]


def _pick_reason(newsletter: Newsletter, pick: Pick) -> str:
    if pick.matched:
        inferred = {t.slug for t in pick.tags if t.inferred}
        names = ", ".join(s + (" (inferred)" if s in inferred else "") for s in pick.matched)
        text = f"matched {len(pick.matched)} of the newsletter's tags: {names}; rank {pick.rank}"
    else:
        text = f"newsletter takes every article (*); rank {pick.rank}"
    if pick.folded:
        text += f"; newest of {len(pick.folded) + 1} versions"
    return text


def _tag_label(tag: Tag) -> str:
    return tag.slug + (" (inferred)" if tag.inferred else "")


def _left(article: Article, known: _Known, code: str, reason: str) -> LeftOut:
    return LeftOut(article.id, article.title, code, reason, _left_json(known.head, code, reason))
