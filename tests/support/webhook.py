"""SendGrid's side of the signed event webhook: a key pair of our own, signed bodies, and events
shaped as SendGrid posts them. For the tests and bench/webhook.py."""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIG = "X-Twilio-Email-Event-Webhook-Signature"
TS = "X-Twilio-Email-Event-Webhook-Timestamp"


def public_key_text(private: ec.EllipticCurvePrivateKey) -> str:
    """As SendGrid shows it: base64 of the DER SubjectPublicKeyInfo."""
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def signed(private: ec.EllipticCurvePrivateKey, body: bytes,
           timestamp: int | None = None) -> dict[str, str]:
    """The headers SendGrid sends with `body`: ECDSA P-256 over timestamp + body."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = private.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {SIG: base64.b64encode(signature).decode(), TS: stamp,
            "content-type": "application/json"}


class SendGridEvents:
    """Events about the messages of one send: `message_id` is the batch's X-Message-Id and
    `args` the custom_args the message carried (they come back on every event)."""

    def __init__(self, message_id: str = "14c5d75ce93", **args: str) -> None:
        self.message_id = message_id
        self.args = args

    def __call__(self, kind: str, email: str, *, at: float | None = None,
                 event_id: str | None = None, **extra: Any) -> dict[str, Any]:
        return {
            "email": email,
            "timestamp": int(time.time() if at is None else at),
            "event": kind,
            "sg_event_id": event_id or secrets.token_urlsafe(16),
            "sg_message_id": f"{self.message_id}.filterdrecv-7d9c5b8b58-x2k4m-1-6561F0C3-2.0",
            "smtp-id": f"<{self.message_id}@ismtpd-001>",
            "category": list(self.args.values()),
            **self.args,
            **extra,
        }


def body_of(events: list[dict[str, Any]]) -> bytes:
    return json.dumps(events).encode()
