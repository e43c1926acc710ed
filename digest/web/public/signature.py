"""SendGrid's signed event webhook: ECDSA P-256 with SHA-256 over the timestamp + the raw body."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from digest.errors import DigestError

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
_TIMESTAMP_RE = re.compile(r"\d{1,12}")
_KEY_HINT = (
    "Copy the verification key shown by SendGrid (Settings > Mail Settings > Signed Event "
    "Webhook Requests) into DIGEST_SENDGRID_WEBHOOK_PUBLIC_KEY, on one line."
)


def load_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """SendGrid shows the key as base64 DER (SubjectPublicKeyInfo); a PEM block works too."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_public_key(text.encode())
        else:
            key = load_der_public_key(base64.b64decode("".join(text.split()), validate=True))
    except (ValueError, binascii.Error, UnsupportedAlgorithm):
        raise DigestError(
            "DIGEST_SENDGRID_WEBHOOK_PUBLIC_KEY is not a base64 public key", hint=_KEY_HINT
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise DigestError(
            "DIGEST_SENDGRID_WEBHOOK_PUBLIC_KEY is not an ECDSA P-256 key", hint=_KEY_HINT
        )
    return key


@dataclass(frozen=True)
class SignatureCheck:
    key: ec.EllipticCurvePublicKey
    max_age_seconds: int

    def failure(
        self, signature: str | None, timestamp: str | None, body: bytes, now: float
    ) -> str | None:
        """Why the request must be refused, or None when it is genuine and fresh.

        The window applies both ways: an old request is a replay, one far ahead a forged clock.
        """
        if not signature or not timestamp:
            return "unsigned"
        if not _TIMESTAMP_RE.fullmatch(timestamp):
            return "malformed timestamp"
        if abs(now - int(timestamp)) > self.max_age_seconds:
            return "timestamp outside the accepted window"
        try:
            raw = base64.b64decode(signature.strip(), validate=True)
            self.key.verify(raw, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        except (binascii.Error, ValueError, InvalidSignature):
            return "bad signature"
        return None
