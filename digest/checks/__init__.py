"""Pre-send checks: every newsletter examined the way Litmus or Parcel would, before anyone
receives it. Each check looks at the exact message the sender would send (message.py) and
reports findings (findings.py): check id, severity, where, what to do.

    deliverability.py   unsubscribe headers and link, postal address, editorial contact, the
                        plain-text part, subject, preheader, From/Reply-To, Gmail's clip size
    links.py            https only, nothing local, none empty, view-in-browser, per article
    accessibility.py    lang/dir, layout tables, alt, headings, link text; color-scheme meta
    support.py          client support from caniemail's data (support_table.py, data/)
    browser.py          axe-core at 375/700 px, contrast in light and dark mode, text size
    spam.py             SpamAssassin, local rules only
    online.py           `--online`: HEAD requests to every article link
    run.py              the groups (static, browser, spam, online) and running them
    edition.py          checking built editions; what `digest send` asks first
    caniemail.py        `digest import-caniemail`: caniemail's api/data.json -> our table

`digest build` runs the static checks on every newsletter it builds; `digest check` (and
`digest build --check`) runs them all.
"""

from __future__ import annotations

from typing import Any

# Loaded on first use, so `digest import-caniemail` does not load the HTML parser.
_LAZY = {
    "Checked": "digest.checks.edition",
    "check_edition": "digest.checks.edition",
    "checks_for_send": "digest.checks.edition",
    "recorded": "digest.checks.edition",
    "Finding": "digest.checks.findings",
    "Report": "digest.checks.findings",
    "static_report": "digest.checks.run",
}
__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'digest.checks' has no attribute {name!r}")
