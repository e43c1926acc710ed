"""Wrong settings explained: which setting, the value it has (secrets masked), what was expected.

A wrong setting is the user's mistake, never a traceback: the CLI prints a SettingError and exits
with status 2, whether the settings failed to load or a value was found wrong later (an unknown
DIGEST_SENDER, a database driver that is not installed).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import SecretStr, ValidationError

from digest.errors import DigestError

EXIT_CODE = 2
FIX = "Fix it in the environment or .env (`digest config` shows what is in effect)."
MASK = "********"
_LONG = 120
# Friendlier words for pydantic's own checks (types, bounds, choices).
_EXPECTED = {
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "bool_parsing": "true or false",
    "json_invalid": "valid JSON",
    "dict_type": 'a JSON object, such as {"Name": "https://..."}',
}


class SettingError(DigestError):
    """One or more settings have values digest cannot use."""

    exit_code = EXIT_CODE

    def __init__(self, problems: list[str], hint: str = FIX) -> None:
        self.problems = problems
        head = "a setting is wrong" if len(problems) == 1 else f"{len(problems)} settings are wrong"
        if len(problems) > 1:
            hint = hint.replace("Fix it", "Fix them")
        super().__init__(f"{head}:\n" + "\n".join(f"  {p}" for p in problems), hint=hint)


def setting_error(name: str, value: Any, expected: str, *, secret: bool = False) -> SettingError:
    """One wrong setting, found after loading; `name` as the user writes it (DIGEST_SENDER)."""
    return SettingError([f"{name}={shown(value, secret=secret)}: expected {expected}"])


def explain(exc: ValidationError, secrets: frozenset[str] = frozenset()) -> SettingError:
    """pydantic's errors as one line per setting. `secrets` names the fields to mask."""
    problems = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        expected = _expected(error)
        value = shown(error.get("input"), secret=field in secrets)
        problems.append(f"DIGEST_{field.upper()}={value}: expected {expected}")
    return SettingError(problems)


def _expected(error: Any) -> str:
    kind, context = error["type"], error.get("ctx") or {}
    if kind == "value_error":
        return str(context.get("error", error["msg"])).removeprefix("expected ")
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "literal_error":
        return f"one of {context.get('expected')}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": "at least", "greater_than": "more than",
                 "less_than_equal": "at most", "less_than": "less than"}[kind]
        bound = next(iter(context.values()), "")
        return f"a number {words} {bound}"
    return error["msg"][:1].lower() + error["msg"][1:]


def shown(value: Any, *, secret: bool = False) -> str:
    """A setting's value as it may be printed: secrets masked, URL passwords hidden, long
    values cut."""
    if isinstance(value, SecretStr):
        value, secret = value.get_secret_value(), True
    text = "" if value is None else str(value)
    if secret:
        return repr(MASK) if text else "(empty)"
    if "@" in text and "://" in text:
        text = mask_url(text)
    if len(text) > _LONG:
        text = text[:_LONG] + "…"
    return repr(text)


def mask_url(url: str) -> str:
    """The URL with its password hidden: `scheme://user:***@host/...`. Everything up to the last
    `@` counts as the user part, so a password holding `@`, `/` or `:` is hidden whole (a URL
    that also has an `@` further on shows less of itself, but never a password). Text that is
    not a URL at all (`user:pw@host`, `host=db password=pw`) loses its password part too."""
    url = _KEYWORD_PASSWORD.sub(r"\1***", url)
    head, sep, rest = url.partition("://")
    userinfo, at, host = (rest if sep else url).rpartition("@")
    if not (at and ":" in userinfo):
        return url
    if not sep:
        return f"***@{host}"
    return f"{head}://{userinfo.partition(':')[0]}:***@{host}"


_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)\S+", re.I)
