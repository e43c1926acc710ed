"""SendGrid v3 mail/send through the official client: up to 1,000 personalizations a request.

The rendered edition goes once per request; each personalization carries its own `to`,
`substitutions` (the personal placeholders) and `headers` (its List-Unsubscribe). The HTML part
uses its own placeholder names so it can get HTML-escaped values while the text part and the
subject get them as they are. SendGrid does the filling, and nothing says it is one pass: values
that hold a placeholder themselves are made inert before they go (digest/placeholders.py).
"""

from __future__ import annotations

import html
import http.client
import json
import re
import time
import urllib.error
from collections.abc import Sequence
from email.utils import formataddr, parseaddr
from typing import Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from digest.errors import DigestError
from digest.placeholders import EMAIL, HTML_TWINS, MANAGE_URL, NAME, UNSUBSCRIBE_URL, fill, inert
from digest.send.backends.base import Delivered, InDoubt, Rejected, Retry, Stop, register
from digest.send.message import DEFAULT_NAME, ONE_CLICK, EditionMail, Recipient, header_value
from digest.settings import Settings

# Placeholders of the HTML part, filled with escaped values.
HTML_NAME, HTML_EMAIL, HTML_UNSUBSCRIBE, HTML_MANAGE = (
    HTML_TWINS[p] for p in (NAME, EMAIL, UNSUBSCRIBE_URL, MANAGE_URL))
_SPECIAL = re.compile(r"[&<>\"']")
MAX_WAIT = 600.0  # never trust a rate-limit reset further away than this


@register("sendgrid")
class SendGridBackend:
    name = "sendgrid"
    batch_limit = 1000  # SendGrid's limit of personalizations per request

    def __init__(self, settings: Settings, mail: EditionMail) -> None:
        key = settings.sendgrid_api_key.get_secret_value()
        if not key:
            raise DigestError(
                "DIGEST_SENDGRID_API_KEY is not set",
                hint="Create an API key with the Mail Send permission in SendGrid and set it, "
                "or use DIGEST_SENDER=outbox to write the messages to files.",
            )
        self.mail = mail
        self.host = settings.sendgrid_api_host.rstrip("/")
        self.timeout = settings.sendgrid_timeout
        # The client sends with urllib and sets no timeout of its own: ours goes with each post.
        self.client = SendGridAPIClient(api_key=key, host=self.host)
        # Tokens are URL-safe, so the link needs escaping only if the base URL does; when it
        # does not, the HTML shares the plain placeholder and each request is ~15% smaller.
        self.escape_url = html.escape(mail.base_url) != mail.base_url
        # Likewise names and addresses, batch by batch: most batches hold none that escaping
        # would change, and then go with the page whose HTML shares their plain placeholders.
        self.common = self._common(settings, escaped_names=True)
        self.common_plain = self._common(settings, escaped_names=False)

    def __enter__(self) -> SendGridBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _common(self, settings: Settings, *, escaped_names: bool) -> dict[str, Any]:
        """The request without its personalizations; `escaped_names`: the HTML uses the
        escaped twins of the name and address placeholders."""
        mail = self.mail
        twins = {NAME: HTML_NAME, EMAIL: HTML_EMAIL} if escaped_names else {}
        if self.escape_url:
            twins[UNSUBSCRIBE_URL] = HTML_UNSUBSCRIBE
            twins[MANAGE_URL] = HTML_MANAGE
        page = fill(mail.built.html, twins)
        reply_name, reply_email = parseaddr(mail.reply_to)
        body: dict[str, Any] = {
            "from": {"email": mail.from_email, "name": mail.from_name},
            "subject": mail.subject,
            "content": [
                {"type": "text/plain", "value": mail.built.text},
                {"type": "text/html", "value": page},
            ],
            "headers": {
                "List-Id": formataddr((mail.list_name, mail.list_id), charset="utf-8"),
                "List-Unsubscribe-Post": ONE_CLICK,
            },
            "categories": mail.categories,
            "custom_args": {"newsletter": mail.built.slug, "edition": mail.built.edition},
        }
        if mail.test:  # its events are kept apart from the real send's (digest/events/)
            body["custom_args"]["test"] = "1"
        if reply_email:
            body["reply_to"] = {
                "email": reply_email,
                **({"name": reply_name} if reply_name else {}),
            }
        if settings.sendgrid_asm_group_id is not None:
            body["asm"] = {"group_id": settings.sendgrid_asm_group_id}
        if settings.sendgrid_sandbox:
            body["mail_settings"] = {"sandbox_mode": {"enable": True}}
        return body

    def personalization(self, who: Recipient, *, twins: bool = True) -> dict[str, Any]:
        url = self.mail.unsubscribe_url(who.email)
        name = header_value("To", who.name) or DEFAULT_NAME
        to = {"email": header_value("To", who.email)}
        if who.name:
            to["name"] = who.name
        manage = self.mail.manage_url(who.email)
        substitutions = {
            NAME: inert(name),
            EMAIL: inert(who.email),
            UNSUBSCRIBE_URL: url,
            MANAGE_URL: manage,
        }
        if twins:
            substitutions[HTML_NAME] = inert(_escape(name))
            substitutions[HTML_EMAIL] = inert(_escape(who.email))
        if self.escape_url:
            substitutions[HTML_UNSUBSCRIBE] = html.escape(url)
            substitutions[HTML_MANAGE] = html.escape(manage)
        return {
            "to": [to],
            "substitutions": substitutions,
            "headers": {"List-Unsubscribe": f"<{url}>"},
        }

    def prepare(self, batch: Sequence[Recipient]) -> dict[str, Any]:
        """The request body: the edition once, a personalization per recipient."""
        twins = any(_SPECIAL.search(who.name) or _SPECIAL.search(who.email) for who in batch)
        common = self.common if twins else self.common_plain
        return {**common, "personalizations": [self.personalization(w, twins=twins)
                                                for w in batch]}

    def deliver(self, prepared: dict[str, Any]) -> Delivered:
        try:
            send = self.client.client.mail.send
            response = send.post(request_body=prepared, timeout=self.timeout)
        except HTTPError as exc:
            raise _refusal(exc) from None
        except urllib.error.URLError as exc:
            # urllib wraps what fails while connecting or writing the request (its do_open):
            # SendGrid never saw the whole request, so it cannot have taken the batch.
            raise Retry(f"cannot reach SendGrid at {self.host}: {exc.reason}") from None
        except (TimeoutError, http.client.HTTPException, OSError) as exc:
            # Raised while reading the answer: the request went out whole and may have been
            # taken. In doubt; never sent again on its own.
            lost = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            what = "timed out" if isinstance(exc, TimeoutError) else f"was lost ({lost})"
            raise InDoubt(f"SendGrid's answer {what} after the request was sent") from None
        return str(response.headers.get("X-Message-Id") or f"http-{response.status_code}")


def _escape(text: str) -> str:
    # Most names and addresses hold nothing to escape; skip html.escape's five passes for them.
    return html.escape(text) if _SPECIAL.search(text) else text


def _refusal(exc: HTTPError) -> Exception:
    status = int(exc.status_code)
    said = _provider_message(exc.body)
    if status == 429:
        return Retry(f"SendGrid rate limit (429): {said}", wait=_reset_wait(exc.headers))
    if status in (401, 403):
        return Stop(
            f"SendGrid refused the API key ({status}): {said}. Check DIGEST_SENDGRID_API_KEY "
            "(it needs the Mail Send permission)."
        )
    if status >= 500:
        return Retry(f"SendGrid error {status}: {said}")
    return Rejected(f"SendGrid refused the batch ({status}): {said}")


def _provider_message(body: bytes | str | None) -> str:
    """SendGrid's own words: {"errors": [{"message", "field"}]}, else the raw body."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    try:
        errors = json.loads(text)["errors"]
        said = "; ".join(
            f"{e['field']}: {e['message']}" if e.get("field") else str(e["message"]) for e in errors
        )
    except (ValueError, KeyError, TypeError):
        said = text.strip()
    return said[:500] or "(no details)"


def _reset_wait(headers: Any) -> float | None:
    """Seconds until X-RateLimit-Reset (a Unix time), None when absent or unreadable."""
    try:
        reset = float(headers.get("X-RateLimit-Reset"))
    except (TypeError, ValueError, AttributeError):
        return None
    return min(max(reset - time.time(), 0.0), MAX_WAIT)
