"""The size budget: Gmail clips HTML over about 102 KB, measured after inlining.

Over the limit, first shorten the summaries (editors' own are left alone), then move the
lowest-ranked articles to a "More this week" list of headlines, as few as will make it fit
(found by bisection: each try is a full render). Every step is recorded as a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from digest.render.context import Entry
from digest.render.email import RenderedEmail

MIN_WORDS = 15
GMAIL_CLIP_BYTES = 102 * 1024
"""Gmail hides the rest of a message whose HTML passes about 102 KB."""

Build = Callable[[Sequence[Entry], Sequence[Entry]], RenderedEmail]
Shorten = Callable[[Entry, int], Entry]


@dataclass
class Fitted:
    email: RenderedEmail
    entries: list[Entry]
    more: list[Entry]
    warnings: list[str] = field(default_factory=list)


def kb(size: int) -> str:
    return f"{size / 1024:.1f}"


def shorter_budgets(words: int) -> list[int]:
    steps = sorted({max(MIN_WORDS, round(words * f)) for f in (2 / 3, 0.4)}, reverse=True)
    return [w for w in steps if w < words]


def fit_to_budget(entries: Sequence[Entry], *, words: int, limit_kb: float, warn_kb: float,
                  build: Build, shorten: Shorten) -> Fitted:
    limit = int(limit_kb * 1024)
    current = list(entries)
    email = build(current, [])
    fitted = Fitted(email=email, entries=current, more=[])
    if email.html_bytes > limit:
        fitted = _shrink(fitted, words=words, limit=limit, limit_kb=limit_kb, build=build,
                         shorten=shorten)
    size = fitted.email.html_bytes
    if size > limit:
        fitted.warnings.append(
            f"HTML is still {kb(size)} KB, over the {limit_kb:g} KB limit, with only the "
            "lead article left: Gmail will clip it")
    elif size > warn_kb * 1024:
        fitted.warnings.append(f"HTML is {kb(size)} KB, above the {warn_kb:g} KB warning level "
                               "(Gmail clips at about 102 KB)")
    return fitted


def _shrink(fitted: Fitted, *, words: int, limit: int, limit_kb: float, build: Build,
            shorten: Shorten) -> Fitted:
    original = fitted.email.html_bytes
    entries = fitted.entries
    for budget in shorter_budgets(words):
        entries = [shorten(e, budget) for e in fitted.entries]
        email = build(entries, [])
        if email.html_bytes <= limit or budget == shorter_budgets(words)[-1]:
            fitted = Fitted(email=email, entries=entries, more=[], warnings=[
                f"HTML was {kb(original)} KB, over the {limit_kb:g} KB limit: summaries "
                f"shortened to {budget} words ({kb(email.html_bytes)} KB)"])
            if email.html_bytes <= limit:
                return fitted
            break
    # Lowest-ranked first out; pins and the lead stay.
    by_rank = sorted(fitted.entries, key=lambda e: e.pick.rank)
    movable = [e for e in by_rank[1:] if not e.pick.pinned][::-1]
    if not movable:
        return fitted

    def attempt(count: int) -> Fitted:
        gone = {id(e) for e in movable[:count]}
        kept = [e for e in fitted.entries if id(e) not in gone]
        more = sorted(movable[:count], key=lambda e: e.pick.rank)
        return Fitted(email=build(kept, more), entries=kept, more=more)

    low, high = 1, len(movable)
    best = attempt(high)  # invariant: best is attempt(high)
    while low < high and best.email.html_bytes <= limit:  # the smallest count that fits
        middle = (low + high) // 2
        trial = attempt(middle)
        if trial.email.html_bytes <= limit:
            best, high = trial, middle
        else:
            low = middle + 1
    moved = ", ".join(e.pick.article.id for e in best.more)
    best.warnings = [*fitted.warnings,
                     f"moved {len(best.more)} lowest-ranked article(s) to 'More this week' to "
                     f"fit under {limit_kb:g} KB: {moved}"]
    return best
