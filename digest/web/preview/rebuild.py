"""Rebuilding one edition from the preview, and turning a failed build into something to show.

The preview rebuilds an edition with the window and newsletters it was built with (from its
manifests), through the build library, so what the editor sees is exactly what `digest build`
would write. A failure keeps the previous files (the build leaves no half-written edition) and
becomes a `BuildProblem` with the file and line to fix, shown instead of the stale email.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from digest.editions import Edition
from digest.editions.ids import base_of, revision_of
from digest.errors import DigestError
from digest.settings import Settings

_WEEK = re.compile(r"^\d{4}-W\d{2}$")
_REPEATABLE = {"edition_file", "pins", "drops", "subject", "preheader", "quiet_week"}
# "templates/partials/article.mjml.j2:12: template syntax error: ..." as the build words it.
_LOCATED = re.compile(r"^(?P<file>[^\s:][^:\n]*?):(?P<line>\d+):\s*(?P<rest>.+)$", re.DOTALL)


@dataclass(frozen=True)
class BuildProblem:
    message: str
    file: str | None = None
    line: int | None = None
    hint: str | None = None

    @property
    def location(self) -> str:
        if self.file and self.line:
            return f"{self.file}, line {self.line}"
        return self.file or ""


def rebuild(settings: Settings, edition: Edition, frozen: set[str] | None = None) -> None:
    """Build `edition` again over the same window and newsletters; raises what the build raises.
    Newsletters in `frozen` (sent, or being sent) are left out; when every one is, the build
    is asked for them anyway, so that it refuses with its own words."""
    from digest.build import build_editions

    base = base_of(edition.id)
    window: dict[str, str | None] = {"since": edition.since, "until": edition.until}
    if _WEEK.match(base):
        window = {"week": base}
    elif not (edition.since and edition.until):
        raise DigestError(
            f"cannot tell which window edition {edition.id} covers (its manifests have no dates)",
            hint="Rebuild it with `digest build --since ... --until ...`.",
        )
    # Overrides the first build was given, when the edition records them, so a rebuild shows
    # what `digest build` with the same flags would write.
    repeat = {k: v for k, v in edition.build.items() if k in _REPEATABLE}
    if "edition_file" in repeat:
        repeat["edition_file"] = Path(repeat["edition_file"])
    if any(n.manifest.get("quiet_week") for n in edition.newsletters):
        repeat["quiet_week"] = True
    slugs = [n.slug for n in edition.newsletters]
    drafts = [slug for slug in slugs if slug not in (frozen or set())]
    build_editions(
        settings,
        newsletters=(drafts or slugs) or None,
        out_dir=settings.out_dir,
        revision=revision_of(edition.id),
        **window,  # type: ignore[arg-type]
        **repeat,
    )


def build_options(edition: Edition) -> str:
    """The edition's window as `digest build` options, for the hints the pages show."""
    base = base_of(edition.id)
    if _WEEK.match(base):
        return f"--week {base}"
    return f"--since {edition.since[:10]} --until {edition.until[:10]}"


def describe(exc: BaseException) -> BuildProblem:
    """File, line and message of a build failure, whichever way the error carries them."""
    file = _first_attr(exc, "where", "filename", "file", "path", "name")
    line = _first_attr(exc, "line", "lineno")
    message = getattr(exc, "problem", None) or getattr(exc, "message", None) or str(exc)
    if not isinstance(message, str):
        message = str(exc)
    hint = getattr(exc, "hint", None)
    if file is None and (located := _LOCATED.match(message)):
        file, line, message = located["file"], int(located["line"]), located["rest"]
    cause = exc.__cause__ or exc.__context__
    if (file is None or line is None) and cause is not None and cause is not exc:
        inner = describe(cause)  # e.g. a jinja2 TemplateSyntaxError wrapped by the build
        file, line = file or inner.file, line or inner.line
    return BuildProblem(
        message=message,
        file=str(file) if file else None,
        line=int(line) if isinstance(line, int) else None,
        hint=hint if isinstance(hint, str) else None,
    )


def _first_attr(exc: BaseException, *names: str) -> object | None:
    for name in names:
        value = getattr(exc, name, None)
        if isinstance(value, str | int | Path) and value not in ("", None):
            return value
    return None
