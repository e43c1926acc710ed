"""Small fixtures: a built edition folder and subscribers written straight into the database."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from digest.archive.schema import deliveries, subscribers

EDITION, SLUG = "2026-W47", "ai-policy"
# What a real send needs for the pre-send checks to pass: a public https DIGEST_BASE_URL (the
# postal address, the other thing they require, is in HTML and TEXT below).
PUBLIC_BASE_URL = "https://news.regwire.example"

HTML = """<!doctype html>
<html lang="en"><body>
<p>Dear %%name%%,</p>
<p>This week in AI policy: Brussels agrees the code of practice — café talk included.</p>
<p>You get this at %%email%%. <a href="%%unsubscribe_url%%">Unsubscribe</a></p>
<p>Regwire Ltd, 10 Fleet Lane, London EC4A 1AB, United Kingdom</p>
</body></html>
"""

TEXT = """Dear %%name%%,

This week in AI policy: Brussels agrees the code of practice — café talk included.

You get this at %%email%%. Unsubscribe: %%unsubscribe_url%%

Regwire Ltd, 10 Fleet Lane, London EC4A 1AB, United Kingdom
"""


def make_edition(
    out_dir: Path,
    edition: str = EDITION,
    slug: str = SLUG,
    *,
    subject: str = "AI policy this week: the code of practice",
    from_name: str = "Regwire AI Policy",
    title: str = "Regwire AI Policy",
    html: str = HTML,
    text: str = TEXT,
) -> Path:
    """Write OUT/EDITION/SLUG the way `digest build` does (the parts the sender reads)."""
    folder = out_dir / edition / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "email.html").write_text(html, encoding="utf-8")
    (folder / "email.txt").write_text(text, encoding="utf-8")
    manifest = {
        "edition": {"id": edition, "label": f"Week {edition[-2:]}", "since": "", "until": ""},
        "newsletter": {"slug": slug, "title": title, "description": "", "from_name": from_name},
        "subject": subject,
        "preheader": "The week's AI policy news",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (out_dir / edition / "index.json").write_text(json.dumps([slug]), encoding="utf-8")
    return folder


def add_subscribers(
    engine: Engine, slug: str, count: int, *, start: int = 0, domain: str = "example.com"
) -> list[str]:
    """`count` active subscribers reader{n}@domain named "Reader {n}", inserted in bulk."""
    now = datetime.now(UTC)
    emails: list[str] = []
    chunk: list[dict] = []
    with engine.begin() as conn:
        for n in range(start, start + count):
            email = f"reader{n:07d}@{domain}"
            emails.append(email)
            chunk.append(
                {
                    "newsletter": slug,
                    "email": email,
                    "name": f"Reader {n}",
                    "extra": None,
                    "status": "active",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if len(chunk) == 10_000:
                conn.execute(subscribers.insert(), chunk)
                chunk = []
        if chunk:
            conn.execute(subscribers.insert(), chunk)
    return emails


def ledger_rows(
    engine: Engine, edition: str = EDITION, slug: str = SLUG
) -> dict[str, tuple[str, str | None]]:
    """email -> (state, provider id) in the send ledger."""
    query = select(deliveries.c.email, deliveries.c.state, deliveries.c.provider_id).where(
        deliveries.c.edition == edition, deliveries.c.newsletter == slug
    )
    with engine.connect() as conn:
        return {row.email: (row.state, row.provider_id) for row in conn.execute(query)}


def ledger_states(engine: Engine, edition: str = EDITION, slug: str = SLUG) -> Counter[str]:
    """How many rows of the send ledger are in each state."""
    return Counter(state for state, _ in ledger_rows(engine, edition, slug).values())


def big_html() -> str:
    """About 70 KB of HTML: a real digest's size after inlining."""
    item = (
        '<tr><td style="padding:12px 24px;font-family:Arial,sans-serif;font-size:15px;'
        'line-height:22px;color:#1a1a1a"><h2 style="margin:0 0 6px;font-size:18px">'
        'Commission opens a formal probe into cloud licensing terms</h2><p style="margin:0">'
        + "Regulators said the terms may lock customers in and raise switching costs. "
        * 6
        + '</p><a href="https://regwire.example/articles/1234" style="color:#0b5cad">Read more</a>'
        "</td></tr>\n"
    )
    return HTML.replace("</body>", "<table>" + item * 70 + "</table></body>")
