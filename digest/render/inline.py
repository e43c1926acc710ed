"""CSS inlining with premailer, set up for MJML's output and for working offline.

- allow_network=False: premailer would otherwise try to fetch MJML's font links.
- MJML's reset block (`#outlook a`, `table, td {...}`) stays in <head> as MJML intends:
  inlining it would copy `mso-table-lspace` onto every cell for nothing.
- @media rules (column stacking, dark mode) can't be inlined; premailer keeps them in <head>.
- cssutils' complaints about `mso-*` properties are silenced (hundreds per document).
- One Premailer per document: it is the slow stage, so it never runs per recipient.
"""

from __future__ import annotations

import logging

from premailer import Premailer

_RESET_OPEN = '<style type="text/css">\n#outlook a'
_DOCTYPE = "<!DOCTYPE html>"


def inline_css(html: str) -> str:
    """Final email HTML: own styles inlined, MJML's head styles and media queries kept."""
    # premailer keeps a doctype only if lxml reads back the very same text.
    body = html.lstrip()
    if body[:15].lower() == "<!doctype html>":
        body = body[15:]
    body = body.replace(_RESET_OPEN, '<style type="text/css" data-premailer="ignore">\n#outlook a',
                        1)
    premailer = Premailer(
        _DOCTYPE + body,
        allow_network=False,
        allow_loading_external_files=False,
        remove_classes=False,  # dark-mode and stacking rules still target the classes
        strip_important=False,  # @media overrides need !important to beat inline styles
        keep_style_tags=False,
        disable_validation=True,
        cssutils_logging_level=logging.CRITICAL,
    )
    out = premailer.transform(pretty_print=False)
    if not out.lstrip()[:9].lower().startswith("<!doctype"):
        out = _DOCTYPE + "\n" + out
    return out if out.endswith("\n") else out + "\n"
