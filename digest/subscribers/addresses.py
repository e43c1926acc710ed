"""Email addresses and names as they are stored: validated (syntax only) and normalised.

Addresses are compared case-insensitively, as every large mailbox provider treats them: a CRM
export that writes "Jo.Smith@Example.com" and an unsubscribe of "jo.smith@example.com" must meet.
"""

from __future__ import annotations

import re
import unicodedata

from digest.placeholders import contains_placeholder

# An ASCII address of plain characters, no punycode: its normalised form is itself in lower
# case, valid or not (checked against the validator in tests/send/test_subscribers.py).
_PLAIN = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")


class BadAddress(ValueError):
    """Not an email address; the message says what is wrong with it."""


def normalise_email(raw: str) -> str:
    """The stored form of an address, or BadAddress. No DNS: syntax only."""
    text = (raw or "").strip()
    if not text:
        raise BadAddress("no email address")
    # Imported here: it builds large tables on import (~30 ms), and the build and the checks
    # load this package without validating any address.
    from email_validator import EmailNotValidError, validate_email

    try:
        found = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadAddress(f"{text!r} is not a valid email address: {exc}") from None
    return found.normalized.lower()


def lenient_email(raw: str) -> str:
    """Normalised when valid, else trimmed and lower-cased.

    Suppressions come from outside (webhooks, typed addresses); one must be recorded even when
    the provider reports an address our validator would not accept. A webhook batch brings
    thousands of plain addresses, which skip the validator's work (about 0.2 ms each).
    """
    text = (raw or "").strip()
    if _PLAIN.fullmatch(text) and "xn--" not in text.lower():
        return text.lower()
    try:
        return normalise_email(raw)
    except BadAddress:
        return (raw or "").strip().lower()


def clean_name(raw: str | None) -> str:
    """A display name on one line: runs of whitespace (CR and LF included) become one space."""
    return " ".join((raw or "").split())


def header_problem(value: str) -> str | None:
    """Why `value` cannot go into a mail header as it is, or None.

    Line breaks and other whitespace are fine here: `clean_name` folds them into one space.
    What cannot be folded is refused: a control character (a NUL that PostgreSQL will not
    store, an escape, a backspace: the provider refuses the whole batch that carries one), or
    a personal placeholder, which a sender's substitution could expand.
    """
    for char in value:
        if not char.isspace() and unicodedata.category(char) == "Cc":
            return f"contains a control character (U+{ord(char):04X})"
    if contains_placeholder(value):
        return "contains a personal placeholder (%%...%%)"
    return None
