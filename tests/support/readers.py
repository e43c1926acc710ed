"""A publisher whose newsletters offer topics, and the mail readers get from the public site."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from sqlalchemy import Engine

from digest.models import Article, Block, Tag

NEWSLETTERS_TOML = """
[newsletters.roundup]
title = "Regulatory Roundup"
description = "Everything our reporters filed this week."
tags = ["antitrust", "trade", "ai-policy", "sanctions"]
topics = ["antitrust", "trade", "ai-policy", "sanctions"]
max_articles = 12
sections = "tag"

[newsletters.competition]
title = "Competition Brief"
tags = ["antitrust"]
"""

TAXONOMY_TOML = """
[tags.antitrust]
name = "Antitrust"
keywords = ["antitrust", "cartel"]

[tags.trade]
name = "Trade"
keywords = ["tariff", "tariffs"]

[tags.ai-policy]
name = "AI policy"
keywords = ["artificial intelligence"]

[tags.sanctions]
name = "Sanctions"
keywords = ["sanctions"]
"""


def write_publisher(folder: Path) -> Path:
    """newsletters.toml and taxonomy.toml in `folder` (created); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "newsletters.toml").write_text(NEWSLETTERS_TOML)
    (folder / "taxonomy.toml").write_text(TAXONOMY_TOML)
    return folder


def outbox(data_dir: Path) -> list[Path]:
    """The messages the public site wrote (confirmations, manage links), oldest first."""
    return sorted((data_dir / "outbox").glob("*.eml"))


def read_eml(path: Path) -> EmailMessage:
    return BytesParser(policy=policy.default).parse(path.open("rb"))  # type: ignore[return-value]


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def link_in(path_or_text: Path | str, kind: str) -> str:
    """The path of the first /confirm/... or /manage/... link in a message's text part."""
    text = (body_text(read_eml(path_or_text)) if isinstance(path_or_text, Path)
            else path_or_text)
    found = re.search(rf"https?://[^/\s]+(/{kind}/[A-Za-z0-9_.-]+)", text)
    assert found, f"no /{kind}/ link in:\n{text}"
    return found.group(1)


def add_readers(engine: Engine, newsletter: str, topics: dict[str | None, int]) -> None:
    """Active subscribers of `newsletter`: for each topics key, that many readers holding it."""
    from datetime import UTC, datetime

    from digest.archive.schema import subscribers

    now = datetime.now(UTC)
    rows = [{"newsletter": newsletter, "email": f"{key or 'all'}-{n}@example.com".replace("+", "."),
             "name": "", "extra": None, "status": "active", "created_at": now, "updated_at": now,
             "topics": key, "topics_by": "reader" if key else None}
            for key, count in topics.items() for n in range(count)]
    with engine.begin() as conn:
        conn.execute(subscribers.insert(), rows)


STORIES = {  # week -> (id, title, tag)
    "2026-W47": [("w47-cartel", "Cement cartel fine upheld on appeal", "Antitrust"),
                 ("w47-tariff", "Steel tariff quotas extended to 2028", "Trade"),
                 ("w47-ai", "AI Office names its first enforcement director", "AI policy"),
                 ("w47-russia", "New sanctions package targets shadow fleet", "Sanctions")],
    "2026-W48": [("w48-merger", "Telecoms merger cleared with remedies", "Antitrust"),
                 ("w48-wto", "WTO panel rules against export levies", "Trade"),
                 ("w48-chips", "Chip export sanctions widened to new buyers", "Sanctions"),
                 ("w48-model", "Model providers publish first training-data summaries",
                  "AI policy")],
}


def readers_articles() -> list[Article]:
    """Four stories a week, one per topic, in 2026-W47 and 2026-W48."""
    found = []
    for week, stories in STORIES.items():
        monday = datetime.fromisocalendar(2026, int(week[-2:]), 1).replace(tzinfo=UTC)
        for n, (ident, title, tag) in enumerate(stories):
            found.append(Article(
                id=ident, title=title, url=f"https://regwire.example/articles/{ident}",
                authors=["Jo Writer"], published_at=monday.replace(day=monday.day + n, hour=9),
                kind="News", tags=[Tag.from_name(tag)], standfirst=f"{title}: the details.",
                body=[Block("paragraph", f"{title}. More on this story in the full article.")],
                contact="Editorial: editors@regwire.example", source="tests/web_public"))
    return found
