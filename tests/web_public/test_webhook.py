"""SendGrid's signed event webhook, with a real ECDSA P-256 key pair made by the test."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, insert, select

from digest.archive.schema import deliveries, email_events, suppressions
from digest.errors import DigestError
from digest.events.links import OwnLinks
from digest.events.store import parse_batch, store_batch
from digest.web.public.app import create_app
from tests.support.webhook import SIG, TS, public_key_text, signed


def event(kind: str, email: str, event_id: str, **extra) -> dict:
    return {"email": email, "timestamp": int(time.time()), "event": kind,
            "sg_event_id": event_id, "sg_message_id": "14c5d75ce93.filter0001.16648.5515E0B8.0",
            **extra}


@pytest.fixture
def private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def hook(public_settings, private_key, in_process):
    key = public_key_text(private_key)
    return in_process(public_settings.model_copy(update={"sendgrid_webhook_public_key": key}))


def stored(engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(email_events.c.event_id)).all())


def post(client, private_key, events, **kw):
    body = json.dumps(events).encode()
    return client.post("/webhooks/sendgrid", content=body, headers=signed(private_key, body, **kw))


def test_signed_events_become_suppressions(hook, private_key, suppressed):
    events = [
        event("bounce", "gone@example.org", "e1", type="bounce"),
        event("dropped", "dropped@example.org", "e2", reason="Bounced Address"),
        event("spamreport", "angry@example.org", "e3"),
        event("unsubscribe", "done@example.org", "e4", newsletter="antitrust-weekly"),
        event("group_unsubscribe", "group@example.org", "e5"),
        event("delivered", "happy@example.org", "e6"),
        event("open", "happy@example.org", "e7"),
        event("bounce", "later@example.org", "e8", type="blocked"),  # temporary: not a bounce
        event("dropped", "fine@example.org", "e9", reason="Spam Content"),  # about the message
        event("dropped", "invalid@example.org", "e10", reason="Invalid"),
        event("dropped", "unsubscribed@example.org", "e11", reason="Unsubscribed Address",
              newsletter="trade-brief"),
        {"event": "open"},  # no address: not an event we can keep
        event("account_status_change", "x@example.org", "e12"),  # not about a message
    ]

    response = post(hook, private_key, events)

    assert response.status_code == 200
    assert response.json() == {"received": 13, "stored": 11, "duplicate": 0, "ignored": 2,
                               "matched": 0, "suppressed": 7}
    assert suppressed() == {
        ("gone@example.org", "*", "bounced", "webhook"),
        ("dropped@example.org", "*", "bounced", "webhook"),  # reconciled with SendGrid's list
        ("angry@example.org", "*", "complained", "webhook"),
        ("done@example.org", "antitrust-weekly", "unsubscribed", "webhook"),
        ("group@example.org", "*", "unsubscribed", "webhook"),
        ("invalid@example.org", "*", "invalid", "webhook"),
        ("unsubscribed@example.org", "trade-brief", "unsubscribed", "webhook"),
    }


def test_a_replayed_event_is_applied_once(hook, private_key, engine, suppressed):
    batch = [event("bounce", "gone@example.org", "same-event-id", type="bounce")]
    assert post(hook, private_key, batch).json()["stored"] == 1
    # Someone lifts the suppression; SendGrid's retry of the old batch must not bring it back.
    with engine.begin() as conn:
        conn.execute(delete(suppressions))

    again = post(hook, private_key, batch)

    assert again.status_code == 200
    assert again.json()["duplicate"] == 1 and again.json()["stored"] == 0
    assert suppressed() == set()
    with engine.connect() as conn:
        assert conn.execute(select(email_events.c.event_id)).scalars().all() == ["same-event-id"]


def test_events_are_matched_to_the_send_ledger(hook, private_key, engine):
    def delivery(email: str) -> int:  # one X-Message-Id covers a whole batch of recipients
        row = {"edition": "2026-W47", "newsletter": "antitrust-weekly", "email": email,
               "state": "sent", "batch": 1, "provider_id": "W2Fdv1WXQW2PbI4I9Y-cTQ",
               "updated_at": datetime.now(UTC)}
        with engine.begin() as conn:
            return conn.execute(insert(deliveries).values(row)).inserted_primary_key[0]

    delivery_id = delivery("gone@example.org")
    delivery("neighbour@example.org")
    sg_message_id = "W2Fdv1WXQW2PbI4I9Y-cTQ.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC1C5-1.0"
    bounce = event("bounce", "Gone@Example.org", "e-ledger", sg_message_id=sg_message_id)

    response = post(hook, private_key, [bounce])

    assert response.json()["matched"] == 1
    with engine.connect() as conn:
        row = conn.execute(select(email_events)).one()
    assert row.delivery_id == delivery_id
    assert row.message_id == sg_message_id


def test_wrong_signatures_are_refused(hook, private_key, suppressed, engine):
    body = json.dumps([event("bounce", "gone@example.org", "e1")]).encode()
    impostor = ec.generate_private_key(ec.SECP256R1())
    other_body = json.dumps([event("bounce", "victim@example.org", "e2")]).encode()
    attempts = [
        signed(impostor, body),  # another key
        signed(private_key, other_body),  # a signature lifted from another request
        {**signed(private_key, body), SIG: "bm90IGEgc2lnbmF0dXJl"},  # not DER
        {**signed(private_key, body), SIG: "%%%"},  # not base64
    ]
    for headers in attempts:
        response = hook.post("/webhooks/sendgrid", content=body, headers=headers)
        assert response.status_code == 403
    assert suppressed() == set()
    assert stored(engine) == 0


def test_unsigned_requests_are_refused(hook, private_key, suppressed, engine):
    body = json.dumps([event("spamreport", "angry@example.org", "e1")]).encode()
    headers = signed(private_key, body)
    for missing in ({}, {TS: headers[TS]}, {SIG: headers[SIG]}):
        response = hook.post("/webhooks/sendgrid", content=body, headers=missing)
        assert response.status_code == 403
    assert suppressed() == set()
    assert stored(engine) == 0


@pytest.mark.parametrize("offset", [-700, +700], ids=["stale", "future"])
def test_timestamps_outside_the_window_are_refused(hook, private_key, suppressed, offset,
                                                    engine):
    response = post(hook, private_key, [event("bounce", "gone@example.org", "e1")],
                    timestamp=int(time.time()) + offset)
    assert response.status_code == 403
    assert suppressed() == set()
    assert stored(engine) == 0


def test_a_timestamp_inside_the_window_is_accepted(hook, private_key):
    response = post(hook, private_key, [event("bounce", "gone@example.org", "e1")],
                    timestamp=int(time.time()) - 60)
    assert response.status_code == 200


@pytest.mark.parametrize("body", [b"[{not json", b'{"event": "bounce"}', b""])
def test_malformed_json_is_400(hook, private_key, body):
    response = hook.post("/webhooks/sendgrid", content=body, headers=signed(private_key, body))
    assert response.status_code == 400


def test_oversized_bodies_are_refused_unread(hook, public_settings):
    limit = public_settings.webhook_max_body_bytes
    big = b"[" + b" " * limit + b"]"
    declared = hook.post("/webhooks/sendgrid", content=big)
    assert declared.status_code == 413

    sent = []

    async def chunks():  # no Content-Length: the server must stop at the limit, not read it all
        for _ in range(100):
            sent.append(1)
            yield b" " * (limit // 2)

    streamed = hook.post("/webhooks/sendgrid", content=chunks())
    assert streamed.status_code == 413
    assert len(sent) < 100


def test_without_a_key_the_webhook_refuses_and_says_so(public_settings, suppressed, caplog,
                                                        in_process):
    with caplog.at_level(logging.WARNING, logger="digest.web"):
        client = in_process(public_settings)
    assert any("DIGEST_SENDGRID_WEBHOOK_PUBLIC_KEY" in r.getMessage() for r in caplog.records)
    body = json.dumps([event("bounce", "gone@example.org", "e1")]).encode()
    response = client.post("/webhooks/sendgrid", content=body)
    assert response.status_code == 503
    assert suppressed() == set()


def test_the_public_app_warns_about_a_webhook_without_a_key(public_settings, caplog):
    with caplog.at_level(logging.WARNING, logger="digest.web"):
        create_app(public_settings)
    assert any("webhooks/sendgrid" in r.getMessage() for r in caplog.records)


def test_unsigned_events_only_with_the_explicit_insecure_setting(public_settings, suppressed,
                                                                  in_process):
    client = in_process(public_settings.model_copy(update={"webhook_allow_unsigned": True}))
    body = json.dumps([event("bounce", "gone@example.org", "e1")]).encode()
    response = client.post("/webhooks/sendgrid", content=body)
    assert response.status_code == 200
    assert suppressed() == {("gone@example.org", "*", "bounced", "webhook")}


@pytest.mark.parametrize("key", ["not base64!", base64.b64encode(b"junk").decode()])
def test_a_broken_key_stops_the_app_at_start(public_settings, key):
    with pytest.raises(DigestError, match="DIGEST_SENDGRID_WEBHOOK_PUBLIC_KEY"):
        create_app(public_settings.model_copy(update={"sendgrid_webhook_public_key": key}))


def test_a_key_on_another_curve_is_refused(public_settings):
    other = public_key_text(ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(DigestError, match="P-256"):
        create_app(public_settings.model_copy(update={"sendgrid_webhook_public_key": other}))


def test_the_same_event_racing_in_from_many_threads_is_recorded_once(engine, suppressed):
    retried = [event("spamreport", "angry@example.org", "racing-event")]
    barrier = threading.Barrier(20)

    def deliver(_: int) -> int:
        batch = parse_batch(retried, OwnLinks("https://news.example"))
        barrier.wait()
        return store_batch(engine, batch, soft_bounce_limit=3).stored

    with ThreadPoolExecutor(max_workers=20) as pool:
        stored = list(pool.map(deliver, range(20)))

    assert sum(stored) == 1
    assert suppressed() == {("angry@example.org", "*", "complained", "webhook")}
    with engine.connect() as conn:
        assert conn.execute(select(email_events.c.event_id)).scalars().all() == ["racing-event"]


def test_garbage_inside_a_signed_batch_is_skipped_and_the_rest_stored(hook, private_key, engine):
    good = event("delivered", "reader@example.org", "good-one")
    garbage = [
        None, 7, "text", [], {"event": None}, {"event": "open", "email": 5},
        {"event": "open", "email": ""}, {"event": ["open"], "email": "x@example.org"},
        event("open", "a@example.org", "g1", timestamp=1e300, sg_machine_open={"x": 1}),
        event("open", "b@example.org", "g2", timestamp="soon", edition=7, newsletter=[1]),
        event("click", "c@example.org", "g3", url=12345, custom_args="not an object"),
        event("click", "d@example.org", "g4", url="http://[::1", edition="../../etc"),
        event("bounce", "e\x00@example.org", "g5\x00", reason="\ud800 half a character",
              type=None),
        event("dropped", "f@example.org", "x" * 500, reason=None),
        event("deferred", "\udcff@example.org", "g6", response={"not": "text"}),
        {**event("open", "g@example.org", "g7"), "sg_event_id": None},
    ]
    response = post(hook, private_key, [good, *garbage])
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["received"] == len(garbage) + 1 and answer["ignored"] == 8
    assert answer["stored"] == 9
    with engine.connect() as conn:
        kept = set(conn.execute(select(email_events.c.event_id)).scalars())
    assert "good-one" in kept and len(kept) == 9
