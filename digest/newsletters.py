"""The newsletters editors define in subscribers/newsletters.toml, loaded into typed objects.

    [newsletters.ai-policy]            # or simply [ai-policy]
    title = "AI Policy Weekly"
    description = "The week in AI regulation"   # also the default preheader
    tags = ["ai-policy", "data-privacy"]        # any of; "*" takes every article
    exclude_tags = ["opinion"]
    max_articles = 10
    sections = "tag"                            # or "kind"
    subject = "AI Policy Weekly: {{ edition.label }} — {{ lead.title }}"
    from_name = "Regwire AI Policy"
    summary_words = 60                          # optional; else DIGEST_SUMMARY_WORDS
    topics = ["ai-policy", "data-privacy"]      # optional: tags readers may choose among

Every tag a newsletter names must exist in the taxonomy: a typo would otherwise silently
empty a section. `topics` must be among the newsletter's own tags (any tag for a "*" one): a
reader who ticks some gets only the stories carrying them (`digest build` renders one variant
per set of topics its readers hold); a reader who ticks none gets the whole edition.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from digest.errors import DigestError
from digest.models import slugify
from digest.taxonomy import Taxonomy, locate, pydantic_problems, read_toml

ANY_TAG = "*"
DEFAULT_SUBJECT = "{{ newsletter.title }}: {{ edition.label }}"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1)
    description: str = ""
    tags: list[str] = Field(min_length=1)
    exclude_tags: list[str] = Field(default_factory=list)
    max_articles: int = Field(10, ge=1, le=200)
    sections: Literal["tag", "kind"] = "tag"
    subject: str = DEFAULT_SUBJECT
    from_name: str = ""
    summary_words: int | None = Field(None, ge=10, le=400)
    topics: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Newsletter:
    slug: str
    title: str
    description: str
    tags: tuple[str, ...]
    exclude_tags: tuple[str, ...] = ()
    max_articles: int = 10
    sections: Literal["tag", "kind"] = "tag"
    subject: str = DEFAULT_SUBJECT
    from_name: str = ""
    summary_words: int | None = None
    topics: tuple[str, ...] = ()  # tags readers may choose among; () offers no choice

    @property
    def takes_any(self) -> bool:
        return ANY_TAG in self.tags


def load_newsletters(path: Path, taxonomy: Taxonomy, *,
                     publisher: str = "") -> dict[str, Newsletter]:
    """Every newsletter in the file, in file order; all problems are reported together."""
    data, text = read_toml(path, "newsletters")
    # Both `[newsletters.SLUG]` and plain `[SLUG]` tables are accepted.
    nested = isinstance(data.get("newsletters"), dict) and all(
        isinstance(v, dict) for v in data["newsletters"].values()
    )
    table = data["newsletters"] if nested else data
    prefix = "newsletters." if nested else ""
    problems: list[str] = []
    found: dict[str, Newsletter] = {}
    for slug, raw in table.items():
        # A problem's line is looked up only when there is a problem (a regex search each).
        if not isinstance(raw, dict):
            problems.append(f"{locate(path, text, prefix + slug)}{slug!r} must be a table "
                            f"[{prefix}{slug}] with title, tags...")
            continue
        if slugify(slug) != slug:
            problems.append(f"{locate(path, text, prefix + slug)}newsletter key {slug!r} is not "
                            f"a slug; use {slugify(slug)!r}")
            continue
        try:
            entry = _Entry.model_validate(raw)
        except ValidationError as exc:
            for problem in pydantic_problems(exc):
                field_name = problem.split(":", 1)[0]
                at = locate(path, text, f"{prefix}{slug}.{field_name}")
                problems.append(f"{at}newsletter {slug!r}: {problem}")
            continue
        problems.extend(_tag_problems(path, text, prefix + slug, slug, entry, taxonomy))
        problems.extend(_topic_problems(path, text, prefix + slug, slug, entry))
        problem = _subject_problem(entry.subject)
        if problem:
            at = locate(path, text, f"{prefix}{slug}.subject")
            problems.append(f"{at}newsletter {slug!r}: subject template: {problem}")
        found[slug] = Newsletter(
            slug=slug,
            title=" ".join(entry.title.split()),
            description=" ".join(entry.description.split()),
            tags=tuple(dict.fromkeys(entry.tags)),  # a tag named twice counts once
            exclude_tags=tuple(dict.fromkeys(entry.exclude_tags)),
            max_articles=entry.max_articles,
            sections=entry.sections,
            subject=entry.subject,
            # A header value: whitespace (CR/LF included) collapses to single spaces.
            from_name=" ".join(entry.from_name.split()) or f"{publisher} {entry.title}".strip(),
            summary_words=entry.summary_words,
            topics=tuple(dict.fromkeys(entry.topics)),
        )
    if not found and not problems:
        problems.append(f"{path}: no newsletters defined; add a [newsletters.SLUG] table")
    if problems:
        raise DigestError("\n".join(problems), hint=f"Fix {path.name} and run again.")
    return found


def _tag_problems(path: Path, text: str, table: str, slug: str, entry: _Entry,
                  taxonomy: Taxonomy) -> list[str]:
    known = set(taxonomy.tags)
    source = taxonomy.path.name if taxonomy.path else "the taxonomy"
    out = []
    fields = (("tags", entry.tags), ("exclude_tags", entry.exclude_tags),
              ("topics", [t for t in entry.topics if ANY_TAG in entry.tags]))
    for field_name, values in fields:
        for tag in values:
            if tag == ANY_TAG and field_name == "tags":
                continue
            if tag not in known:
                where = locate(path, text, f"{table}.{field_name}")
                close = difflib.get_close_matches(tag, sorted(known), n=1)
                guess = f" (did you mean {close[0]!r}?)" if close else ""
                out.append(
                    f"{where}newsletter {slug!r}: unknown tag {tag!r} in {field_name}{guess}; "
                    f"tags must be defined in {source}"
                )
    return out


def _topic_problems(path: Path, text: str, table: str, slug: str, entry: _Entry) -> list[str]:
    """Topics are a choice among the newsletter's own tags (a "*" newsletter's: any tag; an
    unknown one is reported by _tag_problems' check of the taxonomy below)."""
    out = []
    if ANY_TAG in entry.topics:
        out.append(f"newsletter {slug!r}: topics cannot be \"*\"; list the tags readers "
                   "may choose among")
    for topic in entry.topics:
        if topic != ANY_TAG and ANY_TAG not in entry.tags and topic not in entry.tags:
            out.append(f"newsletter {slug!r}: topic {topic!r} is not one of its tags "
                       f"({', '.join(entry.tags)}); topics must be a subset of tags")
    if not out:
        return out
    where = locate(path, text, f"{table}.topics")
    return [where + problem for problem in out]


def _subject_problem(template: str) -> str | None:
    from digest.render.subject import check_subject_template

    return check_subject_template(template)


def select_newsletters(available: dict[str, Newsletter], wanted: list[str] | None,
                       source: Path) -> list[Newsletter]:
    """The newsletters asked for (all when none named); an unknown slug is an error."""
    if not wanted:
        return list(available.values())
    unknown = [s for s in wanted if s not in available]
    if unknown:
        names = ", ".join(repr(s) for s in unknown)
        raise DigestError(
            f"unknown newsletter {names}: not defined in {source}",
            hint="Known newsletters: " + ", ".join(available),
        )
    return [available[s] for s in dict.fromkeys(wanted)]
