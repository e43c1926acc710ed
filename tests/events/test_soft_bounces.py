"""Soft bounces (deferred, bounce type "blocked") suppress an address once they happened on N
editions in a row (DIGEST_SOFT_BOUNCE_LIMIT, 3 by default); a delivery starts the count again."""

from __future__ import annotations

from digest.subscribers import suppressions_of

EDITIONS = [f"2026-W{n}" for n in range(41, 47)]


def soft_bounced(engine, email: str) -> bool:
    return any(s.reason == "soft-bounced" and s.newsletter == "*"
               for s in suppressions_of(engine, email))


def test_three_editions_in_a_row_suppress_and_a_delivery_resets(send, webhook, engine):
    first = send(3, EDITIONS[0])
    sends = [first] + [send(0, edition) for edition in EDITIONS[1:]]
    hit, greylisted, fine = first.emails
    ev = [s.events for s in sends]

    webhook.post([ev[0]("deferred", hit, response="452 mailbox full"),
                  ev[1]("bounce", hit, type="blocked", reason="554 policy")])
    assert not soft_bounced(engine, hit)  # two in a row
    webhook.post([ev[2]("delivered", hit)])  # the third got through: the count starts again
    webhook.post([ev[3]("deferred", hit), ev[4]("deferred", hit, attempt="1"),
                  ev[4]("deferred", hit, attempt="2")])  # E5 deferred twice counts once
    assert not soft_bounced(engine, hit)
    webhook.post([ev[5]("bounce", hit, type="blocked")])
    assert soft_bounced(engine, hit)  # E4, E5, E6

    # Deferred, then delivered a few minutes later (greylisting): never a soft bounce.
    for e in ev:
        webhook.post([e("deferred", greylisted), e("delivered", greylisted)])
    assert not soft_bounced(engine, greylisted)

    # Late events: the delivery of the newest edition arrives before the older deferrals.
    webhook.post([ev[5]("delivered", fine)])
    webhook.post([e("deferred", fine) for e in ev[:5]])
    assert not soft_bounced(engine, fine)
    assert suppressions_of(engine, fine) == []


def test_the_limit_is_a_setting(send, webhook_for, engine):
    first = send(1, EDITIONS[0])
    second = send(0, EDITIONS[1])
    (email,) = first.emails
    webhook = webhook_for(soft_bounce_limit=2)
    webhook.post([first.events("deferred", email)])
    assert not soft_bounced(engine, email)
    answer = webhook.post([second.events("deferred", email)])
    assert answer["suppressed"] == 1 and soft_bounced(engine, email)


def test_soft_bounces_of_mail_the_ledger_does_not_know_count_for_nothing(send, webhook, engine):
    first = send(1, EDITIONS[0])
    (email,) = first.emails
    test_send = first.events  # the same address, but events of test sends
    webhook.post([test_send("deferred", email, test="1", event_id=f"t{n}") for n in range(5)])
    webhook.post([test_send("deferred", "someone@else.example", event_id=f"o{n}")
                  for n in range(5)])
    assert suppressions_of(engine, email) == []
    assert suppressions_of(engine, "someone@else.example") == []
