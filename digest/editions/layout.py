"""Where an edition's files live in the output folder.

    OUT/EDITION/index.json            {"edition": {...}, "build": {overrides given},
                                       "newsletters": [{"slug", "title", "subject", ...}, ...]}
    OUT/EDITION/SLUG/email.html       final inlined HTML (placeholders for personal values)
    OUT/EDITION/SLUG/email.txt        plain-text part
    OUT/EDITION/SLUG/email.mjml       the MJML it was compiled from
    OUT/EDITION/SLUG/manifest.json    what was picked or left out and why, sizes, warnings
    OUT/EDITION/SLUG/outbox/          what the outbox backend wrote (test sends in outbox/test/)
"""

from __future__ import annotations

from pathlib import Path

INDEX = "index.json"
HTML, TEXT, MJML, MANIFEST = "email.html", "email.txt", "email.mjml", "manifest.json"
BUILD_FILES = {HTML, TEXT, MJML, MANIFEST}
OUTBOX = "outbox"


def newsletter_folder(out_dir: Path, edition: str, slug: str) -> Path:
    return out_dir / edition / slug
