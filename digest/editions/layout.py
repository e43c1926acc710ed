"""Where an edition's files live in the output folder.

    OUT/EDITION/index.json            {"edition": {...}, "build": {overrides given},
                                       "newsletters": [{"slug", "title", "subject", ...}, ...]}
    OUT/EDITION/SLUG/email.html       final inlined HTML (placeholders for personal values)
    OUT/EDITION/SLUG/email.txt        plain-text part
    OUT/EDITION/SLUG/email.mjml       the MJML it was compiled from
    OUT/EDITION/SLUG/manifest.json    what was picked or left out and why, sizes, warnings
    OUT/EDITION/SLUG/outbox/          what the outbox backend wrote (test sends in outbox/test/)
    OUT/EDITION/SLUG/in-doubt.csv     who is in doubt after a send, and why
    OUT/EDITION/SLUG/variants/KEY/    a variant cut to some readers' topics (KEY: "trade+ai-policy"
                                      sorted): its own email.html, email.txt, email.mjml and
                                      manifest.json; the newsletter's manifest lists them all
"""

from __future__ import annotations

from pathlib import Path

INDEX = "index.json"
HTML, TEXT, MJML, MANIFEST = "email.html", "email.txt", "email.mjml", "manifest.json"
VARIANTS = "variants"
BUILD_FILES = {HTML, TEXT, MJML, MANIFEST, VARIANTS}
OUTBOX = "outbox"
IN_DOUBT_CSV = "in-doubt.csv"  # written by a send: everyone in doubt, with why


def newsletter_folder(out_dir: Path, edition: str, slug: str) -> Path:
    return out_dir / edition / slug
