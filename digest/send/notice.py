"""One message to one reader, outside any edition: a sign-up confirmation, a new manage link.

It goes through the configured backend (DIGEST_SENDER) like the newsletters do, but as a single
message: the outbox writes DATA_DIR/outbox/STAMP-KIND-ADDRESS.eml, SMTP hands it to the server
on a connection of its own, SendGrid gets one personalization. No retries: the reader is waiting
on the page, which says to try again if this fails. These are not list mail, so they carry no
List-Unsubscribe; they say why they were sent and that ignoring them is enough.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from digest.errors import DigestError
from digest.send.message import Recipient, header_value
from digest.settings import Settings


@dataclass(frozen=True)
class Notice:
    kind: str  # a short word for file names and categories: confirm, manage-link
    to: str
    subject: str
    text: str
    html: str


class NoticeFailed(DigestError):
    """The backend did not take the message."""


def send_notice(settings: Settings, notice: Notice) -> str:
    """Deliver `notice`; returns the provider's id (the outbox: the file written)."""
    send = _SENDERS.get(settings.sender)
    if send is None:
        raise DigestError(f"the {settings.sender!r} backend cannot send sign-up and link emails",
                          hint="Use DIGEST_SENDER=outbox, smtp or sendgrid.")
    return send(settings, notice)


def notice_mime(settings: Settings, notice: Notice) -> tuple[bytes, str]:
    """The message as RFC 5322 bytes (CRLF line ends) and its Message-ID."""
    domain = settings.from_email.rpartition("@")[2] or "localhost"
    message = EmailMessage(policy=policy.SMTP if notice.to.isascii() else policy.SMTPUTF8)
    message["From"] = formataddr((header_value("From", settings.publisher_name),
                                  settings.from_email))
    message["To"] = header_value("To", notice.to)
    reply_name, reply_email = parseaddr(settings.reply_to)
    if reply_email:
        message["Reply-To"] = formataddr((reply_name, reply_email))
    message["Subject"] = header_value("Subject", notice.subject)
    message["Date"] = formatdate(usegmt=True)
    message_id = make_msgid(notice.kind, domain=domain)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this
    message.set_content(notice.text, cte="quoted-printable")
    message.add_alternative(notice.html, subtype="html", cte="quoted-printable")
    return message.as_bytes(), message_id


def _outbox(settings: Settings, notice: Notice) -> str:
    from digest.send.backends.outbox import file_name

    folder = Path(settings.data_dir) / "outbox"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{stamp}-{notice.kind}-{file_name(notice.to)}"
    data, _ = notice_mime(settings, notice)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError as exc:
        raise NoticeFailed(f"cannot write {path}: {exc.strerror}") from None
    return str(path)


@dataclass(frozen=True)
class _Envelope:
    # What SmtpBackend reads of the mail it sends: the sender and the HELO name.
    from_email: str
    domain: str


def _smtp(settings: Settings, notice: Notice) -> str:
    from digest.send.backends.base import ProviderError
    from digest.send.backends.smtp import SmtpBackend

    data, message_id = notice_mime(settings, notice)
    envelope = _Envelope(settings.from_email, settings.from_email.rpartition("@")[2] or "localhost")
    backend = SmtpBackend(settings, envelope)  # type: ignore[arg-type]
    try:
        with backend:
            backend.deliver((Recipient(notice.to), data, message_id))
    except ProviderError as exc:
        raise NoticeFailed(exc.message) from None
    return message_id


def _sendgrid(settings: Settings, notice: Notice) -> str:
    import urllib.error

    from python_http_client.exceptions import HTTPError
    from sendgrid import SendGridAPIClient

    from digest.send.backends.sendgrid import _refusal

    key = settings.sendgrid_api_key.get_secret_value()
    if not key:
        raise DigestError("DIGEST_SENDGRID_API_KEY is not set")
    reply_name, reply_email = parseaddr(settings.reply_to)
    body: dict[str, Any] = {
        "personalizations": [{"to": [{"email": header_value("To", notice.to)}]}],
        "from": {"email": settings.from_email, "name": settings.publisher_name},
        "subject": header_value("Subject", notice.subject),
        "content": [{"type": "text/plain", "value": notice.text},
                    {"type": "text/html", "value": notice.html}],
        "headers": {"Auto-Submitted": "auto-generated"},
        "categories": [notice.kind],
        "custom_args": {"notice": notice.kind},
    }
    if reply_email:
        body["reply_to"] = {"email": reply_email, **({"name": reply_name} if reply_name else {})}
    if settings.sendgrid_sandbox:
        body["mail_settings"] = {"sandbox_mode": {"enable": True}}
    client = SendGridAPIClient(api_key=key, host=settings.sendgrid_api_host.rstrip("/"))
    try:
        response = client.client.mail.send.post(request_body=body,
                                                timeout=settings.sendgrid_timeout)
    except HTTPError as exc:
        raise NoticeFailed(_refusal(exc).args[0]) from None
    except (urllib.error.URLError, OSError) as exc:
        raise NoticeFailed(f"cannot reach SendGrid: {exc}") from None
    return str(response.headers.get("X-Message-Id") or f"http-{response.status_code}")


_SENDERS = {"outbox": _outbox, "smtp": _smtp, "sendgrid": _sendgrid}
