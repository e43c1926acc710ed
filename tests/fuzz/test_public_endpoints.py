"""The public site through the real ASGI app, with random paths, tokens, bodies and headers: only
2xx, 3xx and 4xx, never 5xx; and no subscriber or suppression changes without a valid signature
(the unsubscribe token's HMAC, or the webhook's ECDSA signature)."""

from __future__ import annotations

import base64
import json
import string
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from digest.archive import connect
from digest.archive.schema import subscribers, suppressions
from digest.send.tokens import InvalidToken, make_token, manage_token, verify_token
from digest.settings import Settings
from digest.subscribers import suppress
from digest.web.public.app import create_app
from digest.web.public.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureCheck
from tests.fuzz.conftest import fuzz
from tests.support.asgi import InProcess
from tests.support.data import add_subscribers
from tests.support.webhook import public_key_text, signed
from tests.web_public.test_archive import publish

NEWSLETTER = "antitrust-weekly"
PRIVATE = ec.generate_private_key(ec.SECP256R1())


class Site:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings.model_copy(
            update={"sendgrid_webhook_public_key": public_key_text(PRIVATE)})
        self.engine: Engine = connect(self.settings.database)
        self.key = self.settings.signing_key()
        self.emails = add_subscribers(self.engine, NEWSLETTER, 3)
        suppress(self.engine, self.emails[0], NEWSLETTER, "unsubscribed", "seed")
        self.tokens = [make_token(self.key, e, NEWSLETTER) for e in self.emails]
        self.tokens += [manage_token(self.key, e, 0) for e in self.emails]  # near misses too
        # One sent edition (public) and one draft (must stay a 404 like any unknown page).
        publish(self.settings, self.engine, "2026-W45", NEWSLETTER, "Antitrust Weekly")
        publish(self.settings, self.engine, "2026-W46", NEWSLETTER, "Antitrust Weekly",
                sent=False)
        self.client = InProcess(create_app(self.settings, announce=False))
        self.check = SignatureCheck(PRIVATE.public_key(), self.settings.webhook_max_age_seconds)

    def state(self) -> tuple[Any, ...]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(subscribers.c.email, subscribers.c.status,
                                       subscribers.c.name).order_by(subscribers.c.id)).all()
            held = conn.execute(select(suppressions.c.email, suppressions.c.newsletter,
                                       suppressions.c.reason).order_by(suppressions.c.email,
                                                                       suppressions.c.newsletter))
            return tuple(rows), tuple(held.all())

    def token_is_valid(self, token: str) -> bool:
        try:
            verify_token(self.key, token)
        except InvalidToken:
            return False
        return True


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    made = Site(settings)
    yield made
    made.client.close()


TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)
URL_SAFE = string.ascii_letters + string.digits + "-_."


@st.composite
def token(draw: st.DrawFn, site_tokens: list[str]) -> str:
    choice = draw(st.sampled_from(["real-mutated", "random", "urlsafe", "real-cut", "dots"]))
    if choice == "real-mutated":
        real = list(draw(st.sampled_from(site_tokens)))
        at = draw(st.integers(0, len(real) - 1))
        real[at] = draw(st.sampled_from(URL_SAFE).filter(lambda c, old=real[at]: c != old))
        return "".join(real)
    if choice == "real-cut":
        real = draw(st.sampled_from(site_tokens))
        return real[: draw(st.integers(0, len(real) - 1))]
    if choice == "urlsafe":
        return draw(st.text(URL_SAFE, max_size=200))
    if choice == "dots":
        return draw(st.sampled_from(["..", ".", "%2e%2e", "..%2f..", "a.b.c", "...."]))
    return quote(draw(TEXT), safe="")


PATHS = ["/u/{t}", "/u/{t}/resubscribe", "/webhooks/sendgrid", "/archive", "/archive/{t}",
         "/archive/{t}/{t}", "/archive/2026-W45/{t}", f"/archive/{{t}}/{NEWSLETTER}",
         f"/archive/{NEWSLETTER}", f"/archive/2026-W45/{NEWSLETTER}",
         f"/archive/2026-W46/{NEWSLETTER}", "/feeds/{t}.atom",
         f"/feeds/{NEWSLETTER}.atom", "/feeds/{t}", "/unsubscribe", "/healthz", "/", "/{t}",
         "/u/", "/u//resubscribe", "/archive/../../etc/passwd",
         # sign-up and the preference centre (issue 11)
         "/subscribe/{t}", "/subscribe/regulatory-roundup", "/confirm/{t}", "/manage",
         "/manage/{t}", "/manage/{t}/save", "/manage/{t}/pause", "/manage/{t}/resume",
         "/manage/{t}/leave-all", "/manage/{t}/data", "/manage/{t}/erase",
         "/manage/{t}/new-link", f"/archive/2026-W45/{NEWSLETTER}/{{t}}"]
CONTENT_TYPES = ["application/x-www-form-urlencoded", "application/json", "multipart/form-data",
                 "multipart/form-data; boundary=x", "text/plain", "application/x-www-form-"
                 "urlencoded; charset=utf-16", "", "\x00", "a" * 300]
BODIES = st.one_of(
    st.binary(max_size=300),
    st.just(b"List-Unsubscribe=One-Click"),
    st.builds(lambda t: t.encode("utf-8", "replace"), TEXT),
    st.builds(lambda v: json.dumps(v).encode(),
              st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
                           lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12)),
)
HEADERS = st.dictionaries(
    st.sampled_from(["content-type", SIGNATURE_HEADER, TIMESTAMP_HEADER, "origin", "cookie",
                     "accept", "x-forwarded-for", "x-forwarded-proto", "referer",
                     "accept-encoding"]),
    st.one_of(st.sampled_from(CONTENT_TYPES), st.text(string.printable.strip("\r\n\x0b\x0c"),
                                                      max_size=60),
              st.builds(lambda b: base64.b64encode(b).decode(), st.binary(max_size=72)),
              st.builds(str, st.integers(-(10**12), 10**13))),
    max_size=5,
)


@fuzz(st.data(), examples=200)
def test_random_requests_get_no_5xx_and_change_nothing_unsigned(site: Site, data) -> None:
    tok = data.draw(token(site.tokens))
    path = data.draw(st.sampled_from(PATHS)).replace("{t}", tok)
    if data.draw(st.booleans()):
        path += "?" + quote(data.draw(TEXT), safe="=&")
    method = data.draw(st.sampled_from(["GET", "POST", "POST", "POST", "HEAD", "PUT", "DELETE",
                                        "OPTIONS", "PATCH"]))
    body = data.draw(BODIES) if method in ("POST", "PUT", "PATCH") else b""
    headers = data.draw(HEADERS)
    before = site.state()

    response = site.client.request(method, path, content=body, headers=headers)

    assert response.status_code < 500, (method, path, response.status_code, response.text[:300])
    if "2026-W46" in path and method == "GET":
        assert response.status_code == 404  # a draft is never public
    if site.state() != before:
        signed_in = path.startswith("/u/") and site.token_is_valid(path.split("/")[2]
                                                                   .split("?")[0])
        webhook = path.split("?")[0] == "/webhooks/sendgrid" and site.check.failure(
            headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER), body, time.time()
        ) is None
        assert method == "POST" and (signed_in or webhook), (method, path, headers)


EVENT_KEYS = ["email", "event", "type", "sg_event_id", "sg_message_id", "timestamp", "newsletter",
              "reason", "asm_group_id", "category", "smtp-id", "url"]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), TEXT,
                   st.sampled_from(["bounce", "dropped", "spamreport", "unsubscribe",
                                    "group_unsubscribe", "blocked", "delivered", "open",
                                    "x@example.org", " ", "\x00@example.org", NEWSLETTER, "*"]),
                   st.lists(TEXT, max_size=3), st.dictionaries(TEXT, TEXT, max_size=2))
SUPPRESSING = st.fixed_dictionaries(
    {"event": st.sampled_from(["bounce", "dropped", "spamreport", "unsubscribe",
                               "group_unsubscribe"]),
     "email": VALUES, "sg_event_id": VALUES, "sg_message_id": VALUES},
    optional={"type": VALUES, "newsletter": VALUES, "custom_args": VALUES})
EVENTS = st.lists(st.one_of(st.dictionaries(st.sampled_from(EVENT_KEYS), VALUES, max_size=8),
                            SUPPRESSING, VALUES), max_size=8)


@fuzz(EVENTS, examples=150)
def test_signed_webhook_batches_of_any_shape_get_no_5xx(site: Site, events: list[Any]) -> None:
    body = json.dumps(events).encode()
    response = site.client.post("/webhooks/sendgrid", content=body, headers=signed(PRIVATE, body))
    assert response.status_code in (200, 400), (response.status_code, response.text[:300])
    if response.status_code == 200:
        assert response.json()["received"] == len(events)
    forged = signed(PRIVATE, body + b" ")  # signed, but not this body
    before = site.state()
    assert site.client.post("/webhooks/sendgrid", content=body, headers=forged).status_code == 403
    assert site.state() == before

