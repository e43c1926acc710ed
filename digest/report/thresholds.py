"""The complaint rates mailbox providers enforce on bulk senders, and how close an edition came.

Gmail and Yahoo (bulk-sender rules, 2024): keep the spam-complaint rate under 0.1% of delivered
mail and never let it reach 0.3%; above that, mail goes to spam or is refused. A report warns
from 0.08%, before the line is crossed.
"""

from __future__ import annotations

from dataclasses import dataclass

TARGET = 0.001  # keep under 0.1%
LIMIT = 0.003  # never reach 0.3%
NEAR = 0.0008  # warn from here
GMAIL_NOTE = (
    "Gmail reports no complaints to senders one by one: its own spam rate for your domain is in "
    "Google Postmaster Tools."
)


@dataclass(frozen=True)
class Level:
    name: str  # ok | near | over | limit | unknown
    message: str

    @property
    def warning(self) -> bool:
        return self.name in ("near", "over", "limit")


def spam_level(complaints: int, delivered: int) -> Level:
    if not delivered:
        return Level("unknown", "nothing delivered yet: no complaint rate")
    rate = complaints / delivered
    shown = f"{rate:.3%} ({complaints:,} of {delivered:,} delivered)"
    if rate >= LIMIT:
        return Level("limit", f"{shown}: at or over Gmail and Yahoo's 0.3% limit; mail from "
                     "this sender will be refused or go to spam")
    if rate >= TARGET:
        return Level("over", f"{shown}: over Gmail and Yahoo's 0.1% target (never reach 0.3%)")
    if rate >= NEAR:
        return Level("near", f"{shown}: close to Gmail and Yahoo's 0.1% target")
    one = 1 / delivered
    small = (f"; on a list this size one complaint is {one:.2%}" if one >= TARGET else "")
    return Level("ok", f"{shown}: under Gmail and Yahoo's 0.1% target{small}")
