"""The preview's "send a test" form: the same test send as `digest send --test`, from the page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

from digest.errors import DigestError
from digest.settings import Settings

MAX_ADDRESSES = 20  # a test goes to a few colleagues, never to a list


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest class, despite the name

    ok: bool
    message: str
    details: list[str] = field(default_factory=list)


def parse_addresses(raw: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", raw) if part]


def send_test_message(
    settings: Settings, edition: str, slug: str, addresses: list[str], raw: str = "",
    variant: str = "",
) -> TestOutcome:
    if not addresses:
        return TestOutcome(False, "Enter at least one address to send the test to.")
    if len(addresses) > MAX_ADDRESSES:
        return TestOutcome(False, f"At most {MAX_ADDRESSES} addresses for a test send.")
    bad = [a for a in addresses if not _valid(a)]
    if bad:
        return TestOutcome(False, f"Not an email address: {', '.join(bad)}. Nothing was sent.")
    try:
        from digest.send import send_test
    except ImportError:
        return TestOutcome(False, "Sending is not available in this installation yet.")
    try:
        result = send_test(settings, edition, slug, addresses, variant=variant)
    except DigestError as exc:
        return TestOutcome(False, str(exc))
    details = _details(result)
    if settings.sender == "outbox":
        details.append(f"written to {settings.out_dir / edition / slug / 'outbox' / 'test'}")
    which = f" (the variant cut to {variant.replace('+', ', ')})" if variant else ""
    return TestOutcome(
        True,
        f"Test sent to {', '.join(addresses)} through the {settings.sender} backend{which}.",
        details,
    )


def _valid(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _details(result: object) -> list[str]:
    """Whatever the sender reports back (files written, message ids), as lines to show."""
    if result is None:
        return []
    if isinstance(result, list | tuple):
        return [" — ".join(map(str, item)) if isinstance(item, tuple) else str(item)
                for item in result]
    for name in ("paths", "files", "message_ids"):
        value = getattr(result, name, None)
        if value:
            return [str(item) for item in value]
    return [str(result)]
