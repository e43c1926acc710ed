"""Unsubscribe tokens: who (address) and which newsletter, signed so nobody can forge or alter one.

A token is `PAYLOAD.MAC`, both URL-safe base64 without padding: PAYLOAD is the UTF-8 of
"newsletter\nemail" (neither may hold a line break), MAC the full HMAC-SHA256 of PAYLOAD under
a key derived from the settings' secret for this purpose only. Tokens do not expire: an
unsubscribe link in a years-old message must still work (RFC 8058 one-click, CAN-SPAM).
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
    if "\n" in newsletter or "\n" in email or not newsletter or not email:
        raise ValueError("a token needs an address and a newsletter, without line breaks")
    payload = _encode(f"{newsletter}\n{email}".encode())
    return f"{payload}.{_encode(_mac(_key(key), payload))}"


def verify_token(key: Any, token: str) -> tuple[str, str]:
    """(email, newsletter) from a token made with `key`; InvalidToken otherwise."""
    if not isinstance(token, str) or not token.isascii() or token.count(".") != 1:
        raise InvalidToken()
    payload, mac = token.split(".")
    expected = _mac(_key(key), payload)
    given = _decode(mac)
    if given is None or not hmac.compare_digest(given, expected):
        raise InvalidToken()
    try:
        newsletter, email = (_decode(payload) or b"").decode("utf-8").split("\n")
    except (UnicodeDecodeError, ValueError):
        raise InvalidToken() from None
    if not email or not newsletter:
        raise InvalidToken()
    return email, newsletter


def unsubscribe_url(base_url: str, key: Any, email: str, newsletter: str) -> str:
    """The one-click URL of the List-Unsubscribe header and of the link in the body."""
    return f"{base_url.rstrip('/')}/u/{make_token(key, email, newsletter)}"


class UnsubscribeLinks:
    """unsubscribe_url() for one newsletter and key, made once per send and then called per
    recipient (the same tokens, without redoing the per-call set-up a million times)."""

    def __init__(self, base_url: str, key: Any, newsletter: str) -> None:
        if "\n" in newsletter or not newsletter:
            raise ValueError("a token needs a newsletter, without line breaks")
        self._prefix = f"{base_url.rstrip('/')}/u/"
        self._key = _key(key)
        self._head = f"{newsletter}\n".encode()

    def __call__(self, email: str) -> str:
        if "\n" in email or not email:
            raise ValueError("a token needs an address, without line breaks")
        payload = _encode(self._head + email.encode())
        return f"{self._prefix}{payload}.{_encode(_mac(self._key, payload))}"


def _key(key: Any) -> bytes:
    if hasattr(key, "signing_key"):
        key = key.signing_key()
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, bytes) or not key:
        raise DigestError("no key to sign unsubscribe links", hint="Set DIGEST_SECRET_KEY.")
    return _derive(key)


@lru_cache(maxsize=8)
def _derive(key: bytes) -> bytes:
    # A key of its own for this purpose, so the secret may sign other things safely.
    return hmac.new(key, PURPOSE, hashlib.sha256).digest()


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
