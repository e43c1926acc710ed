"""The links the public site hands readers: sign-up confirmations and manage links.

Both are signed tokens (digest/send/tokens.py), each with a purpose of its own, so neither can
stand in for the other or for an unsubscribe link.

- A confirmation link names a pending sign-up (its random nonce) and when it was issued; it is
  refused after DIGEST_CONFIRM_HOURS.
- A manage link names an address and a version. It does not expire (it sits in every email's
  footer, and old emails must keep working), so it is revoked instead: raising the address's
  version (`revoke`: the manage page's "send me a new link" button, or
  `digest subscribers link ADDRESS --revoke`) turns every older link away; only the new one,
  mailed to the address, works.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from digest.archive.schema import manage_links
from digest.errors import DigestError

# The manage token itself (manage_token, read_manage_token, ManageLinks) lives with the other
# token formats, free of the database, so the sender and the checks make links without
# importing the subscriber stack.
from digest.send.tokens import InvalidToken, manage_token, sign, unsign

CONFIRM = b"digest/confirm/v1"
CSRF = b"digest/csrf/v1"
CLOCK_SKEW = 300  # seconds a link may claim to come from the future (another server's clock)


class LinkExpired(DigestError):
    """A genuine confirmation link, but too old."""

    def __init__(self) -> None:
        super().__init__("this confirmation link has expired",
                         hint="Sign up again to get a fresh one.")


# -- confirmation links ---------------------------------------------------------------------

def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def confirm_token(key: Any, nonce: str, issued: float | None = None) -> str:
    return sign(key, CONFIRM, (nonce, str(int(issued if issued is not None else time.time()))))


def read_confirm_token(key: Any, token: str, max_age_hours: int,
                       now: float | None = None) -> str:
    """The nonce a confirmation link names; InvalidToken or LinkExpired otherwise."""
    nonce, issued = unsign(key, CONFIRM, token, 2)
    if not issued.isdigit():
        raise InvalidToken()
    age = (now if now is not None else time.time()) - int(issued)
    if age > max_age_hours * 3600 or age < -CLOCK_SKEW:
        raise LinkExpired()
    return nonce


# -- manage links ---------------------------------------------------------------------------

def manage_url(base_url: str, key: Any, email: str, version: int) -> str:
    return f"{base_url.rstrip('/')}/manage/{manage_token(key, email, version)}"


def link_for(engine: Engine, key: Any, base_url: str, email: str) -> str:
    """The manage link of `email` that works now."""
    with engine.connect() as conn:
        return manage_url(base_url, key, email, current_version(conn, email))


def current_version(conn: Connection, email: str) -> int:
    found = conn.scalar(select(manage_links.c.version).where(manage_links.c.email == email))
    return int(found or 0)


def revoked_versions(engine: Engine) -> dict[str, int]:
    """Every address whose manage links were revoked, with its current version."""
    query = select(manage_links.c.email, manage_links.c.version)
    with engine.connect() as conn:
        return {row.email: int(row.version) for row in conn.execute(query)}


def revoke(conn: Connection, email: str) -> int:
    """Turn away every manage link of `email` made so far; returns the new version."""
    version = current_version(conn, email) + 1
    now = datetime.now(UTC)
    changed = conn.execute(update(manage_links).where(manage_links.c.email == email)
                           .values(version=version, updated_at=now)).rowcount
    if not changed:
        conn.execute(manage_links.insert().values(email=email, version=version, updated_at=now))
    return version


# -- CSRF -----------------------------------------------------------------------------------

def csrf_token(key: Any, session: str, email: str) -> str:
    """The hidden field of the manage page's forms: the browser's session cookie and the
    address, signed. A post without both (a form on another site) is refused."""
    return sign(key, CSRF, (session, email))


def csrf_ok(key: Any, token: str, session: str, email: str) -> bool:
    try:
        return unsign(key, CSRF, token, 2) == (session, email)
    except InvalidToken:
        return False
