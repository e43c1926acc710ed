"""Digests cut to readers' topics: the variants `digest build` renders beside the full edition.

Readers are grouped by the topics they hold (a render per distinct set, never per reader). Each
set gets its own selection, made as the full edition's is but with only those topics as the
newsletter's tags: the same cap, exclusions, drops and summaries, and pins only where they are
on one of the topics. What comes out is one of (editions/variants.py):

    built     a selection of its own: rendered, size-checked and written to variants/KEY/
    same      exactly the full edition's stories: those readers get the full edition
    fallback  no story on those topics: the full edition (DIGEST_VARIANT_QUIET=full)
    skipped   no story on those topics: nothing this week (DIGEST_VARIANT_QUIET=skip)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from digest.curate import Overrides, Selection
from digest.editions.layout import VARIANTS
from digest.editions.variants import Variant
from digest.newsletters import Newsletter
from digest.subscribers.topics import offered_part, split_key

SelectFor = Callable[[Newsletter, Overrides], Selection]
# (selection, overrides, variant key, topic names) -> (the email's files, its article count,
# its HTML size, its warnings)
RenderFor = Callable[[Selection, Overrides, str, list[str]],
                     tuple[dict[str, bytes], int, int, list[str]]]


@dataclass
class Cut:
    """What the build adds to one newsletter for its readers' topics."""

    readers_full: int = 0  # readers with no topics (the full edition)
    variants: list[Variant] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # "variants/KEY/email.html" -> bytes

    def summary(self) -> list[str]:
        """One line per variant for the build's report."""
        lines = []
        for v in self.variants:
            who = f"{v.readers} reader{'s' if v.readers != 1 else ''}"
            if v.status == "built":
                lines.append(f"topics {v.label}: {who}, {v.articles} article(s), "
                             f"{v.html_bytes / 1024:.1f} KB")
            elif v.status == "same":
                lines.append(f"topics {v.label}: {who} get the full edition (the same stories)")
            elif v.status == "fallback":
                lines.append(f"topics {v.label}: nothing on them this week; {who} get the full "
                             "edition")
            else:
                lines.append(f"topics {v.label}: nothing on them this week; {who} SKIPPED "
                             "(DIGEST_VARIANT_QUIET=skip)")
        return lines


def cut_to_topics(newsletter: Newsletter, full: Selection, overrides: Overrides,
                  groups: dict[str | None, int], names: dict[str, str], *, quiet: str,
                  select_for: SelectFor, render_for: RenderFor,
                  tags_of: Callable[[str], frozenset[str]]) -> Cut:
    """The variants of `newsletter` for its readers' topic `groups` (topics key -> readers)."""
    cut = Cut()
    by_key: dict[str, int] = {}
    for stored, readers in groups.items():
        key = offered_part(stored, newsletter.topics)  # topics no longer offered drop out
        if key is None:
            cut.readers_full += readers
        else:
            by_key[key] = by_key.get(key, 0) + readers
    full_ids = [p.article.id for p in full.picks]
    for key in sorted(by_key):
        topics = split_key(key)
        labels = [names.get(t, t) for t in topics]
        pins = [p for p in overrides.pins if not tags_of(p).isdisjoint(topics)]
        narrowed = replace(overrides, pins=pins)
        selection = select_for(replace(newsletter, tags=topics), narrowed)
        entry = Variant(key=key, topics=topics, names=tuple(labels), readers=by_key[key],
                        status="built")
        if not selection.picks:
            entry = replace(entry, status="fallback" if quiet == "full" else "skipped")
        elif [p.article.id for p in selection.picks] == full_ids:
            entry = replace(entry, status="same", articles=len(full_ids))
        else:
            files, articles, size, warnings = render_for(selection, narrowed, key, labels)
            cut.files.update({f"{VARIANTS}/{key}/{name}": data for name, data in files.items()})
            entry = replace(entry, articles=articles, html_bytes=size, warnings=tuple(warnings))
        cut.variants.append(entry)
    return cut
