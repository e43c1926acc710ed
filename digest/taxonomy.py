"""The tag taxonomy (subscribers/taxonomy.toml) and tag inference for untagged articles.

    [tags.ai-policy]
    name = "AI policy"
    keywords = ["artificial intelligence", "AI Act", "frontier model"]

An article that arrived with tags keeps them. One that arrived with none gets the tags whose
keywords it mentions enough (a headline mention counts most), each marked `inferred=True`.
Keywords match whole words, case-insensitively.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from digest.errors import DigestError, InputError
from digest.models import Article, Tag, slugify

# Where a keyword is found decides how much it says about the article.
WEIGHTS = {"title": 3, "standfirst": 2, "body": 1}
# A headline or standfirst mention alone is enough; the body must mention a tag twice.
INFER_THRESHOLD = 2
# Part of what a stored inference was made with (Taxonomy.fingerprint): change it with `infer`,
# and the archive's inferences of the old kind are made again by the build, not trusted.
INFER_VERSION = 1
_WORD = re.compile(r"\w+")


class _TagEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    keywords: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TagDef:
    slug: str
    name: str
    keywords: tuple[str, ...]


@dataclass
class Taxonomy:
    tags: dict[str, TagDef]
    path: Path | None = None
    # First word of a keyword -> (its words, the tags it stands for), longest first.
    _starts: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = field(
        default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        owners: dict[tuple[str, ...], list[str]] = {}
        for tag in self.tags.values():
            for keyword in tag.keywords:
                words = tuple(_WORD.findall(keyword.lower()))
                if words and tag.slug not in owners.setdefault(words, []):
                    owners[words].append(tag.slug)
        starts: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
        for words in sorted(owners, key=lambda w: (-len(w), w)):
            starts.setdefault(words[0], []).append((words, tuple(owners[words])))
        self._starts = starts

    def name_of(self, slug: str, fallback: str | None = None) -> str:
        tag = self.tags.get(slug)
        return tag.name if tag else (fallback or slug)

    def infer(self, article: Article) -> list[Tag]:
        """Tags whose keywords the article mentions enough, best evidence first.

        Text and keywords are compared word by word (case, punctuation and hyphens aside:
        "anti-dumping" matches "anti dumping"); where keywords overlap the longest wins, so
        "AI Act" counts once, not also as "AI"."""
        if not self._starts:
            return []
        scores: dict[str, int] = {}
        fields = (
            (WEIGHTS["title"], article.title),
            (WEIGHTS["standfirst"], article.standfirst or ""),
            (WEIGHTS["body"], "\n".join(article.paragraphs)),
        )
        starts = self._starts
        for weight, text in fields:
            words = _WORD.findall(text.lower())
            free = 0  # first position not inside a keyword already counted
            # Positions of the words that start a keyword, sifted in C (bodies run long).
            for i in compress(range(len(words)), map(starts.__contains__, words)):
                if i < free:
                    continue
                for keyword, slugs in starts[words[i]]:
                    if tuple(words[i : i + len(keyword)]) == keyword:
                        for slug in slugs:
                            scores[slug] = scores.get(slug, 0) + weight
                        free = i + len(keyword)
                        break
        order = list(self.tags)
        chosen = [s for s, score in scores.items() if score >= INFER_THRESHOLD]
        chosen.sort(key=lambda s: (-scores[s], order.index(s)))
        return self._inferred(chosen)

    def effective_tags(self, article: Article, stored: str | None = None) -> list[Tag]:
        """The article's own tags (named as the taxonomy names them), else inferred ones:
        those `stored` when it was made with this taxonomy (stored_inference)."""
        if article.tags:
            return [self._named(t) for t in article.tags]
        slugs = self.from_store(stored)
        return self.infer(article) if slugs is None else self._inferred(slugs)

    def _inferred(self, slugs: list[str]) -> list[Tag]:
        return [Tag(slug=s, name=self.tags[s].name, inferred=True) for s in slugs]

    @cached_property
    def fingerprint(self) -> str:
        """What inference depends on (each tag's keywords, in the taxonomy's order, and the
        rules), hashed: a stored inference with another fingerprint is made again. The tags'
        names are not part of it: they are looked up when the tags are used."""
        rules = [INFER_VERSION, WEIGHTS, INFER_THRESHOLD,
                 [[t.slug, *t.keywords] for t in self.tags.values()]]
        return hashlib.sha256(json.dumps(rules).encode()).hexdigest()[:16]

    def stored_inference(self, article: Article) -> str | None:
        """An untagged article's inferred tags as the archive keeps them: the fingerprint, then
        the slugs, best first, space-separated (none, for a tagged article: nothing to infer).
        A build of a big week then infers only the articles stored with another taxonomy."""
        if article.tags:
            return None
        return " ".join([self.fingerprint, *(t.slug for t in self.infer(article))])

    def from_store(self, stored: str | None) -> list[str] | None:
        """The slugs of a stored inference made with this taxonomy; None otherwise."""
        if not stored:
            return None
        fingerprint, *slugs = stored.split(" ")
        if fingerprint != self.fingerprint or not all(s in self.tags for s in slugs):
            return None
        return slugs

    def _named(self, tag: Tag) -> Tag:
        name = self.name_of(tag.slug, tag.name)
        # Tags are immutable: keep the article's own when the name agrees (a big week has
        # tens of thousands, and each new object adds to the garbage collector's rounds).
        return tag if name == tag.name else Tag(slug=tag.slug, name=name, inferred=tag.inferred)


def load_taxonomy(path: Path) -> Taxonomy:
    """Read and check taxonomy.toml; every problem found is reported at once."""
    data, text = read_toml(path, "tag taxonomy")
    tags_table = data.get("tags", {})
    problems: list[str] = []
    for key in data:
        if key != "tags":
            problems.append(locate(path, text, key) + f"unknown top-level key {key!r}; "
                            "tags go under [tags.SLUG]")
    if not isinstance(tags_table, dict):
        raise InputError(str(path), "`tags` must be a table of [tags.SLUG] entries")
    tags: dict[str, TagDef] = {}
    for slug, raw in tags_table.items():
        if slugify(slug) != slug:
            problems.append(f"{locate(path, text, f'tags.{slug}')}tag key {slug!r} is not a "
                            f"slug; use {slugify(slug)!r}")
            continue
        if not isinstance(raw, dict):
            problems.append(f"{locate(path, text, f'tags.{slug}')}[tags.{slug}] must be a table "
                            "with name and keywords")
            continue
        try:
            entry = _TagEntry.model_validate(raw)
        except ValidationError as exc:
            for problem in pydantic_problems(exc):
                at = locate(path, text, f"tags.{slug}.{problem.split(':', 1)[0]}")
                problems.append(f"{at}tag {slug!r}: {problem}")
            continue
        keywords = tuple(k.strip() for k in entry.keywords if k.strip())
        name = (entry.name or slug.replace("-", " ").capitalize()).strip()
        tags[slug] = TagDef(slug=slug, name=name, keywords=keywords)
    if problems:
        raise DigestError("\n".join(problems), hint="Fix the tag taxonomy and run again.")
    return Taxonomy(tags=tags, path=path)


# -- TOML helpers shared with newsletters.py and the edition file -------------------------


def read_toml(path: Path, what: str) -> tuple[dict[str, Any], str]:
    """Parse a TOML file; a missing file or a syntax error names the file (and line)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DigestError(
            f"{path}: {what} file not found",
            hint="Set DIGEST_SUBSCRIBERS_DIR to the folder that holds it, or create it.",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot read the {what}: {exc}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(path), f"not valid TOML: {exc}") from None


def table_line(text: str, dotted: str) -> int | None:
    """Line of `dotted` in a TOML text, for messages: the key's own line when it can be found
    inside its table (`newsletters.markets.tags` -> the `tags =` line under
    `[newsletters.markets]`), else the table's header line."""
    parts = dotted.split(".")
    for cut in range(len(parts), -1, -1):
        if cut:
            header = re.search(rf"^[ \t]*\[[ \t]*{_dotted(parts[:cut])}[ \t]*\]", text, re.M)
            if header is None:
                continue
            begin = header.end()
        else:
            header, begin = None, 0  # top-level keys come before the first table
        following = re.compile(r"^[ \t]*\[", re.M).search(text, begin)
        end = following.start() if following else len(text)
        rest = parts[cut:]
        if rest:
            key = re.compile(rf"^[ \t]*{_dotted(rest[:1])}[ \t]*[=.]", re.M).search(
                text, begin, end)
            if key:
                return text.count("\n", 0, key.start()) + 1
        if header is not None:
            return text.count("\n", 0, header.start()) + 1
    return None


def _dotted(parts: list[str]) -> str:
    return r"[ \t]*\.[ \t]*".join(rf"(?:{re.escape(p)}|\"{re.escape(p)}\"|'{re.escape(p)}')"
                                 for p in parts)


def locate(path: Path, text: str, dotted: str) -> str:
    line = table_line(text, dotted)
    return f"{path}:{line}: " if line else f"{path}: "


def pydantic_problems(exc: ValidationError) -> list[str]:
    """Pydantic's errors as short `field: problem` phrases."""
    out = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or "value"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        out.append(f"{loc}: {message}")
    return out
