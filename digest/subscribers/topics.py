"""Readers' topics: a set of tag slugs, stored as one sorted key ("ai-policy+trade").

The key is what the database keeps per subscription, what `digest build` groups readers by, and
the name of the variant those readers get. No key (None) means the whole edition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from digest.models import slugify

SEP = "+"


def topics_key(topics: Iterable[str]) -> str | None:
    """The stored form of a set of topics; None for no topics (the whole edition)."""
    chosen = sorted({t for t in topics if t})
    return SEP.join(chosen) if chosen else None


def split_key(key: str | None) -> tuple[str, ...]:
    return tuple(key.split(SEP)) if key else ()


def offered_part(key: str | None, offered: Iterable[str]) -> str | None:
    """The reader's topics that the newsletter still offers (a topic dropped from
    newsletters.toml no longer counts); None when none is left."""
    still = set(offered)
    return topics_key(t for t in split_key(key) if t in still)


def read_topics(raw: str, offered: Iterable[str],
                names: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Topics written by a person (a CSV cell: "AI policy; trade"): (known slugs, unknown words).

    Slugs or display names, separated by ; , or |, case and spacing ignored."""
    offered = list(offered)
    by_name = {slugify(names.get(slug, slug)): slug for slug in offered}
    by_name.update({slug: slug for slug in offered})
    known, unknown = [], []
    for part in raw.replace("|", ";").replace(",", ";").split(";"):
        word = part.strip()
        if not word:
            continue
        slug = by_name.get(slugify(word))
        (known if slug else unknown).append(slug or word)
    return list(dict.fromkeys(known)), unknown
