"""An editor's overrides for one edition: from an edition file, from flags, or both.

An edition file (TOML) says what applies to every newsletter at the top, and what applies to
one newsletter under [newsletters.SLUG]:

    week = "2026-W47"                 # optional: the edition it was written for
    pin = ["82db73aa0634fb76"]        # always include (first, in this order)
    drop = ["a1b2c3"]                 # never include
    [summaries]                       # hand-written summaries, by article id
    "82db73aa0634fb76" = "OpenAI recasts itself as the supplier of 'democratic AI'."

    [newsletters.ai-policy]
    subject = "AI Policy Weekly: the Paris summit special"
    preheader = "What OpenAI told governments in Paris"
    pin = ["c3d4"]
    [newsletters.ai-policy.summaries]
    "c3d4" = "..."

Flags (`--pin`, `--drop`, `--subject`, `--preheader`) apply to every newsletter being built
and win over the file. Subject and preheader are templates like the newsletters' subjects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from digest.errors import DigestError
from digest.taxonomy import locate, pydantic_problems, read_toml


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str | None = None
    preheader: str | None = None
    pin: list[str] = Field(default_factory=list)
    drop: list[str] = Field(default_factory=list)
    summaries: dict[str, str] = Field(default_factory=dict)


class _File(_Part):
    week: str | None = None
    newsletters: dict[str, _Part] = Field(default_factory=dict)


@dataclass
class Overrides:
    """What the editor asked for one newsletter of one edition."""

    pins: list[str] = field(default_factory=list)
    drops: set[str] = field(default_factory=set)
    summaries: dict[str, str] = field(default_factory=dict)
    subject: str | None = None
    preheader: str | None = None

    def merged(self, other: Overrides) -> Overrides:
        """`other` layered on top of this one (a later pin undoes an earlier drop and back)."""
        return Overrides(
            pins=[p for p in dict.fromkeys(self.pins + other.pins) if p not in other.drops],
            drops=(self.drops - set(other.pins)) | other.drops,
            summaries={**self.summaries, **other.summaries},
            subject=other.subject or self.subject,
            preheader=other.preheader or self.preheader,
        )


@dataclass
class EditionPlan:
    """Overrides for every newsletter of an edition, and where they came from."""

    common: Overrides = field(default_factory=Overrides)
    per_newsletter: dict[str, Overrides] = field(default_factory=dict)
    flags: Overrides = field(default_factory=Overrides)
    week: str | None = None
    source: str = "flags"

    def for_newsletter(self, slug: str) -> Overrides:
        own = self.per_newsletter.get(slug, Overrides())
        return self.common.merged(own).merged(self.flags)

    def article_ids(self) -> set[str]:
        """Every id an override names: each must exist in the archive."""
        ids: set[str] = set()
        for part in (self.common, self.flags, *self.per_newsletter.values()):
            ids.update(part.pins, part.drops, part.summaries)
        return ids


def _overrides(part: _Part) -> Overrides:
    return Overrides(
        pins=[p.strip() for p in part.pin if p.strip()],
        drops={d.strip() for d in part.drop if d.strip()},
        summaries={k.strip(): " ".join(v.split()) for k, v in part.summaries.items() if v.strip()},
        subject=part.subject,
        preheader=part.preheader,
    )


def load_edition_file(path: Path, known_newsletters: set[str]) -> EditionPlan:
    data, text = read_toml(path, "edition")
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        problems = pydantic_problems(exc)
        lines = []
        for problem in problems:
            dotted = problem.split(":", 1)[0]
            lines.append(locate(path, text, dotted) + problem)
        raise DigestError("\n".join(lines), hint=_FILE_HINT) from None
    unknown = sorted(set(parsed.newsletters) - known_newsletters)
    if unknown:
        first = unknown[0]
        raise DigestError(
            locate(path, text, f"newsletters.{first}")
            + f"unknown newsletter {first!r} in the edition file",
            hint="Known newsletters: " + ", ".join(sorted(known_newsletters)),
        )
    return EditionPlan(
        common=_overrides(parsed),
        per_newsletter={slug: _overrides(part) for slug, part in parsed.newsletters.items()},
        week=parsed.week,
        source=str(path),
    )


_FILE_HINT = ("An edition file has: week, subject, preheader, pin = [ids], drop = [ids], "
              "[summaries] id = text, and the same under [newsletters.SLUG].")


def edition_plan(edition_file: Path | None, known_newsletters: set[str], *,
                 pins: list[str] | None = None, drops: list[str] | None = None,
                 subject: str | None = None, preheader: str | None = None) -> EditionPlan:
    """The edition file (if any) with the command line's flags on top."""
    plan = load_edition_file(edition_file, known_newsletters) if edition_file else EditionPlan()
    both = set(pins or ()) & set(drops or ())
    if both:
        raise DigestError(f"article {sorted(both)[0]!r} is both pinned and dropped",
                          hint="Give each id to --pin or --drop, not both.")
    plan.flags = Overrides(pins=list(dict.fromkeys(pins or ())), drops=set(drops or ()),
                           subject=subject, preheader=preheader)
    return plan
