"""Signed tokens: unsubscribe links here, and (through `sign`/`unsign`) every other link the
public site hands out (sign-up confirmations, manage links: digest/subscribers/links.py).

A token is `PAYLOAD.MAC`, both URL-safe base64 without padding: PAYLOAD is the UTF-8 of its
fields joined by line breaks (no field may hold one), MAC the full HMAC-SHA256 of PAYLOAD under
a key derived from the settings' secret for that purpose only, so a token made for one purpose
is refused for any other. An unsubscribe token's fields are "newsletter" and "email". They do
not expire: an unsubscribe link in a years-old message must still work (RFC 8058, CAN-SPAM).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from functools import lru_cache
from typing import Any

from digest.errors import DigestError

PURPOSE = b"digest/unsubscribe/v1"
MANAGE = b"digest/manage/v1"  # manage links (digest/subscribers/links.py)


class InvalidToken(DigestError):
    """The token was not made with this key, or was altered or cut short."""

    def __init__(self) -> None:
        super().__init__(
            "this unsubscribe link is not valid (it was altered, cut short or made elsewhere)",
            hint="Use the link from the newsletter itself, or ask the editors to unsubscribe you.",
        )


def make_token(key: Any, email: str, newsletter: str) -> str:
    """A URL-safe token naming `email` and `newsletter`.

    `key` is the signing key (bytes or str); the Settings themselves are accepted too, in which
    case their signing_key() is used.
    """
    if not newsletter or not email:
        raise ValueError("a token needs an address and a newsletter, without line breaks")
    return sign(key, PURPOSE, (newsletter, email))


def verify_token(key: Any, token: str) -> tuple[str, str]:
    """(email, newsletter) from a token made with `key`; InvalidToken otherwise."""
    newsletter, email = unsign(key, PURPOSE, token, 2)
    return email, newsletter


def sign(key: Any, purpose: bytes, fields: tuple[str, ...]) -> str:
    """A token carrying `fields` (none empty, none with a line break), signed for `purpose`."""
    if any(not field or "\n" in field for field in fields):
        raise ValueError("a token's fields must be non-empty and free of line breaks")
    payload = _encode("\n".join(fields).encode())
    return f"{payload}.{_encode(_mac(purpose_key(key, purpose), payload))}"


def unsign(key: Any, purpose: bytes, token: str, count: int) -> tuple[str, ...]:
    """The `count` fields of a token signed for `purpose` with `key`; InvalidToken otherwise."""
    if not isinstance(token, str) or not token.isascii() or token.count(".") != 1:
        raise InvalidToken()
    payload, mac = token.split(".")
    expected = _mac(purpose_key(key, purpose), payload)
    given = _decode(mac)
    if given is None or not hmac.compare_digest(given, expected):
        raise InvalidToken()
    try:
        fields = tuple((_decode(payload) or b"").decode("utf-8").split("\n"))
    except UnicodeDecodeError:
        raise InvalidToken() from None
    if len(fields) != count or not all(fields):
        raise InvalidToken()
    return fields


def unsubscribe_url(base_url: str, key: Any, email: str, newsletter: str) -> str:
    """The one-click URL of the List-Unsubscribe header and of the link in the body."""
    return f"{base_url.rstrip('/')}/u/{make_token(key, email, newsletter)}"


class Links:
    """Links to BASE/PATH/TOKEN whose token is `head + email + tail` signed for `purpose`, made
    once per send and then called per recipient (the same tokens as `sign`, without redoing
    the per-call set-up a million times)."""

    def __init__(self, base_url: str, path: str, key: Any, purpose: bytes, head: str = "",
                 tail: str = "") -> None:
        if "\n" in head.strip("\n") or "\n" in tail.strip("\n"):
            raise ValueError("a token's fields must be free of line breaks")
        self._prefix = f"{base_url.rstrip('/')}/{path}/"
        self._key = purpose_key(key, purpose)
        self._head, self._tail = head.encode(), tail.encode()

    def __call__(self, email: str, tail: str | None = None) -> str:
        if "\n" in email or not email:
            raise ValueError("a token needs an address, without line breaks")
        end = self._tail if tail is None else tail.encode()
        payload = _encode(self._head + email.encode() + end)
        return f"{self._prefix}{payload}.{_encode(_mac(self._key, payload))}"


class UnsubscribeLinks(Links):
    """unsubscribe_url() for one newsletter and key."""

    def __init__(self, base_url: str, key: Any, newsletter: str) -> None:
        if "\n" in newsletter or not newsletter:
            raise ValueError("a token needs a newsletter, without line breaks")
        super().__init__(base_url, "u", key, PURPOSE, head=f"{newsletter}\n")


def purpose_key(key: Any, purpose: bytes) -> bytes:
    """The key for one purpose, derived from the signing key (or from Settings)."""
    if hasattr(key, "signing_key"):
        key = key.signing_key()
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, bytes) or not key:
        raise DigestError("no key to sign links with", hint="Set DIGEST_SECRET_KEY.")
    return _derive(key, purpose)


@lru_cache(maxsize=32)
def _derive(key: bytes, purpose: bytes) -> bytes:
    # A key of its own for each purpose, so the secret may sign other things safely.
    return hmac.new(key, purpose, hashlib.sha256).digest()


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.digest(key, payload.encode("ascii"), "sha256")


_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def _encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).translate(_URL_SAFE).rstrip(b"=").decode()


def _decode(text: str) -> bytes | None:
    """Strict decoding: only the canonical spelling of some bytes is accepted, so no two
    tokens stand for the same thing (base64's spare bits cannot be flipped unnoticed)."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if _encode(data) == text else None


# -- manage links -------------------------------------------------------------------------

def manage_token(key: Any, email: str, version: int) -> str:
    return sign(key, MANAGE, (email, str(version)))


def read_manage_token(key: Any, token: str) -> tuple[str, int]:
    """(address, version) of a manage link; InvalidToken when it is not one of ours. Whether
    the version is still the current one is for digest/subscribers/links.py to say."""
    email, version = unsign(key, MANAGE, token, 2)
    if not version.isdigit():
        raise InvalidToken()
    return email, int(version)


class ManageLinks(Links):
    """Manage links for a whole send, made per recipient at the speed of unsubscribe links.
    `versions` holds the few addresses whose links were ever revoked (all others: version 0)."""

    def __init__(self, base_url: str, key: Any, versions: dict[str, int]) -> None:
        super().__init__(base_url, "manage", key, MANAGE, tail="\n0")
        self.versions = versions

    def __call__(self, email: str, tail: str | None = None) -> str:
        version = self.versions.get(email)
        return super().__call__(email, None if version is None else f"\n{version}")
