"""CSS inlining with premailer, set up for MJML's output and for working offline.

- allow_network=False: premailer would otherwise try to fetch MJML's font links.
- MJML's reset block (`#outlook a`, `table, td {...}`) stays in <head> as MJML intends:
  inlining it would copy `mso-table-lspace` onto every cell for nothing.
- @media rules (column stacking, dark mode) can't be inlined; premailer keeps them in <head>.
- cssutils' complaints about `mso-*` properties are silenced (hundreds per document).
- One Premailer per document: it is the slow stage, so it never runs per recipient.
- Start-up: premailer imports `requests` (urllib3, chardet, charset_normalizer: ~90 ms) only
  to fetch remote stylesheets, which an offline build never does, so premailer's `requests` is
  imported on its first use. And cssutils' validation profiles are dropped: premailer validates
  inline styles even under disable_validation (a ~30 ms regex compile per process, for a log
  line nobody sees).
- Every email of a build carries the same stylesheet, and premailer spends most of its time
  turning the parsed sheet back into text (each rule's declarations, the @media rules it keeps):
  `_SharedSheets` does that once per distinct stylesheet, not once per email, and keeps the
  result for the next process. Same bytes out.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import logging
import sys
import threading
import types
from typing import Any, ClassVar

import cssutils

from digest.fingerprints import code_fingerprint
from digest.render.kept import read_kept, write_kept


class _ImportedOnFirstUse(types.ModuleType):
    """What premailer's `requests` is until one of its attributes is asked for. (The stdlib's
    LazyLoader cannot do this: `import requests` reads `requests.__spec__`, which loads it.)"""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(self.__name__), name)


def _import_premailer() -> type:
    if "requests" in sys.modules:
        from premailer import Premailer
        return Premailer
    stand_in = sys.modules["requests"] = _ImportedOnFirstUse("requests")
    try:
        from premailer import Premailer
    finally:
        if sys.modules.get("requests") is stand_in:
            del sys.modules["requests"]  # premailer alone holds it; `import requests` is real
    return Premailer


Premailer = _import_premailer()
cssutils.log.setLevel(logging.CRITICAL)  # once: premailer's option would reset it per document
cssutils.profile.removeProfile(all=True)  # nothing here validates CSS (see above)

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
    premailer = _SharedSheets(
        _DOCTYPE + body,
        allow_network=False,
        allow_loading_external_files=False,
        remove_classes=False,  # dark-mode and stacking rules still target the classes
        strip_important=False,  # @media overrides need !important to beat inline styles
        keep_style_tags=False,
        disable_validation=True,
    )
    out = premailer.transform(pretty_print=False)
    if not out.lstrip()[:9].lower().startswith("<!doctype"):
        out = _DOCTYPE + "\n" + out
    return out if out.endswith("\n") else out + "\n"


class _Leftover:
    """What a stylesheet leaves in <head> (its @media rules...), as the text premailer makes of
    it; true when there is any (premailer asks, to keep or drop the <style> block)."""

    def __init__(self, text: str, rules: int) -> None:
        self.text, self.rules = text, rules

    def __bool__(self) -> bool:
        return self.rules > 0


class _SharedSheets(Premailer):
    """Premailer, with each stylesheet's rules and leftover text worked out once per process,
    and kept between processes (digest.render.kept): parsing the sheets with cssutils was
    two thirds of the first email's inlining, about 19 ms, in every new process.

    Both depend only on the CSS text, its place among the document's stylesheets and the options,
    which `inline_css` never varies (this file is part of what a kept sheet is keyed by, with
    premailer's and cssutils' versions). premailer's own cache keeps the parsed sheet, but not
    these.
    """

    _cache: ClassVar[dict[tuple[str, int], tuple[list[Any], _Leftover]]] = {}
    _lock = threading.Lock()  # premailer's leftover text comes from mutating the cached sheet

    def _parse_style_rules(self, css_body: str, ruleset_index: int) -> tuple[list, _Leftover]:
        key = (css_body, ruleset_index)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = _kept_sheet(css_body, ruleset_index) or self._worked_out(
                    css_body, ruleset_index)
            rules, leftover = self._cache[key]
        return list(rules), leftover

    def _worked_out(self, css_body: str, ruleset_index: int) -> tuple[list, _Leftover]:
        rules, leftover = super()._parse_style_rules(css_body, ruleset_index)
        shared = _Leftover(super()._css_rules_to_string(leftover), len(leftover))
        write_kept(_sheet_name(css_body, ruleset_index), json.dumps(
            {"rules": rules, "leftover": shared.text, "leftover_rules": shared.rules}).encode())
        return rules, shared

    def _css_rules_to_string(self, rules: list) -> str:
        if isinstance(rules, _Leftover):
            return rules.text
        return super()._css_rules_to_string(rules)


@functools.cache
def _code_version() -> str:
    """What a kept sheet was made by: premailer, cssutils, and this file (its options)."""
    return code_fingerprint([__file__], ["premailer", "cssutils"])


def _sheet_name(css_body: str, ruleset_index: int) -> str:
    key = hashlib.sha256(f"{_code_version()} {ruleset_index} ".encode())
    key.update(css_body.encode("utf-8", "surrogatepass"))
    return f"digest-sheet-{key.hexdigest()}.json"


def _kept_sheet(css_body: str, ruleset_index: int) -> tuple[list, _Leftover] | None:
    """The sheet as a process kept it, or None (none kept, or unreadable: worked out again)."""
    data = read_kept(_sheet_name(css_body, ruleset_index))
    if data is None:
        return None
    try:
        kept = json.loads(data)
        rules = [(tuple(specificity), selector, bulk)
                 for specificity, selector, bulk in kept["rules"]]
        return rules, _Leftover(kept["leftover"], kept["leftover_rules"])
    except (ValueError, KeyError, TypeError):
        return None
