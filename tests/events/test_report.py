"""A real SendGrid send, then SendGrid's events for it, signed, in batches, duplicated and out
of order: every figure of the report is checked against what the events say."""

from __future__ import annotations

import random

from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from digest.archive.schema import email_events
from digest.cli import app
from digest.report import edition_results
from digest.report.output import as_dict, csv_rows
from digest.send.runner import run_send
from digest.send.testsend import send_test
from digest.send.tokens import make_token
from digest.settings import Settings
from tests.events.conftest import MORE, STORIES, VIEW_URL, write_manifest
from tests.support.data import EDITION, SLUG, add_subscribers, ledger_rows
from tests.support.sendgrid_server import Action
from tests.support.webhook import SendGridEvents

A, B, C = STORIES[0][2], STORIES[1][2], STORIES[2][2]


def scenario(sent, settings: Settings) -> list[dict]:
    """What happened to the 20 messages, as SendGrid reports it."""
    r, ev, at = sent.emails, sent.events, sent.at
    token = make_token(settings.signing_key(), r[5], SLUG)
    events = [ev("processed", email, at=at(0)) for email in r]
    events += [ev("delivered", email, at=at(0.01)) for email in r[:15]]
    events += [ev("open", email, at=at(h), sg_machine_open=False)
               for h, email in zip([0.2, 1.5, 1.6, 2.1, 3.05, 3.5, 5.05, 30.2], r[:8], strict=True)]
    events += [
        ev("open", r[0], at=at(6), sg_machine_open=False),  # opened again
        ev("open", r[1], at=at(0.02), sg_machine_open=True),  # Apple Mail fetched it first
        ev("open", r[8], at=at(0.02), sg_machine_open=True),  # machines only, never a person
        ev("open", r[9], at=at(0.03), sg_machine_open=True),
        ev("open", r[9], at=at(0.5), sg_machine_open="true"),
        ev("open", r[15], at=at(4.05)),  # no delivered event: the open shows it arrived
        ev("click", r[0], at=at(0.3), url=A),  # title
        ev("click", r[0], at=at(0.4), url=A),  # and "read the full story"
        ev("click", r[0], at=at(0.5), url=A + "?utm_campaign=digest"),  # the same story again
        ev("click", r[2], at=at(1.7), url=A + "?utm_source=newsletter&utm_medium=email"),
        ev("click", r[3], at=at(2.2), url=B),
        ev("click", r[10], at=at(2.5), url=B),  # images off: a click, no open
        ev("click", r[4], at=at(3.1), url=VIEW_URL.format(edition=EDITION, slug=SLUG)),
        ev("click", r[5], at=at(3.6), url=f"http://127.0.0.1:8000/u/{token}"),
        ev("click", r[6], at=at(5.1), url=MORE[2]),
        ev("click", r[6], at=at(5.2), url=f"http://127.0.0.1:8000/manage/{token}"),
        ev("click", r[7], at=at(31.2), url="https://elsewhere.example/advert"),
        ev("spamreport", r[11], at=at(7)),
        ev("unsubscribe", r[12], at=at(8)),
        ev("bounce", r[16], at=at(0.01), type="bounce", reason="550 5.1.1 no such user"),
        ev("bounce", r[17], at=at(0.01), type="blocked", reason="554 blocked by policy"),
        ev("dropped", r[18], at=at(0), reason="Bounced Address"),
        ev("deferred", r[19], at=at(0.01), response="451 try again later", attempt="1"),
        ev("deferred", r[19], at=at(1), response="451 try again later", attempt="2"),
    ]
    return events


def test_the_report_counts_every_figure_exactly(send, webhook, sendgrid_settings, engine):
    sent = send(20)
    events = scenario(sent, sendgrid_settings)
    # A test send to one of the readers: its events are stored but count for nothing.
    send_test(sendgrid_settings, EDITION, SLUG, [sent.emails[0]])
    test_events = [sent.events("open", sent.emails[0], test="1"),
                   sent.events("click", sent.emails[0], url=C, test="1")]
    # Batches in a shuffled order, one of them posted twice (SendGrid retries until a 2xx),
    # and a few events repeated inside other batches.
    random.Random(13).shuffle(events)
    batches = [events[n:n + 7] for n in range(0, len(events), 7)]
    batches[2] += events[:3]
    batches.append(batches[0])
    batches.append(test_events)
    answers = [webhook.post(batch) for batch in batches]
    assert sum(a["stored"] for a in answers) == len(events) + 2
    assert sum(a["duplicate"] for a in answers) == 3 + len(batches[0])
    assert sum(a["matched"] for a in answers) == len(events)
    # Our own one-click unsubscribe, after the click on the link; and someone else's.
    for email in (sent.emails[5], sent.emails[13], "stranger@example.org"):
        token = make_token(sendgrid_settings.signing_key(), email, SLUG)
        one_click = webhook.client.post(f"/u/{token}", content=b"List-Unsubscribe=One-Click",
                                        headers={"content-type":
                                                 "application/x-www-form-urlencoded"})
        assert one_click.status_code == 200

    r = edition_results(engine, EDITION, SLUG)

    assert r.tracked and r.note is None
    assert (r.sent, r.delivered, r.opened, r.clicked) == (20, 16, 10, 7)
    assert (r.machine_opened, r.machine_only, r.machine_open_events) == (3, 2, 4)
    assert (r.open_events, r.click_events) == (10, 9)  # clicks on unsubscribe or manage apart
    assert (r.bounced, r.blocked, r.deferred, r.dropped) == (1, 1, 1, {"Bounced Address": 1})
    assert r.awaiting == 1
    assert r.complaints == 1 and r.spam.name == "limit"  # 1 of 16 delivered
    assert r.unsubscribes == 3  # SendGrid's event, and two one-click POSTs of readers
    ranked = [(s.story.id, s.unique, s.clicks) for s in r.stories]
    assert ranked == [("ai-code", 2, 4), ("uk-bill", 2, 2), ("cloud", 1, 1), ("chips", 0, 0)]
    assert {link.kind: (link.unique, link.clicks) for link in r.links} == {
        "view": (1, 1), "unsubscribe": (1, 1), "manage": (1, 1), "other": (1, 1)}
    timeline = r.timeline
    assert timeline is not None and timeline.hours == 32  # up to the last click, in hour 31
    assert sum(timeline.opened) == 10 and sum(timeline.clicked) == 7
    assert timeline.opened[:6] == [1, 2, 2, 2, 1, 1] and timeline.opened[30] == 1
    assert timeline.clicked[:6] == [1, 1, 2, 1, 0, 1] and timeline.clicked[31] == 1

    data = as_dict(r)
    assert data["funnel"]["delivered"] == {"count": 16, "rate": 0.8}
    assert data["funnel"]["opened"] == {"count": 10, "rate": 10 / 16}
    assert data["funnel"]["clicked"]["of_opened"] == 0.7
    assert data["complaints"]["rate"] == 1 / 16 and data["complaints"]["level"] == "limit"
    assert data["stories"][0]["title"] == STORIES[0][1]
    rows = list(csv_rows(r))
    assert rows[0] == ["section", "key", "label", "count", "rate"]
    assert ["funnel", "delivered", "Delivered", 16, "0.800000"] in rows
    assert ["story", "ai-code", STORIES[0][1], 2, "0.125000"] in rows


def test_personal_links_are_stored_without_their_token(send, webhook, sendgrid_settings,
                                                        engine: Engine):
    sent = send(1)
    token = make_token(sendgrid_settings.signing_key(), sent.emails[0], SLUG)
    webhook.post([sent.events("click", sent.emails[0], url=f"http://127.0.0.1:8000/u/{token}"),
                  sent.events("click", sent.emails[0],
                              url=f"http://127.0.0.1:8000/manage/{token}")])
    with engine.connect() as conn:
        stored = conn.execute(select(email_events.c.link, email_events.c.url)
                              .order_by(email_events.c.link)).all()
    assert [tuple(row) for row in stored] == [
        ("manage", "http://127.0.0.1:8000/manage/…"), ("unsubscribe", "http://127.0.0.1:8000/u/…")]
    with engine.connect() as conn:
        texts = conn.execute(select(func.count()).where(email_events.c.url.contains(token)))
        assert texts.scalar() == 0


def test_events_settle_what_was_in_doubt(sendgrid_settings, sendgrid, webhook, engine):
    """A batch whose answer was lost is in doubt; SendGrid's events for its recipients show
    that it took them (the custom_args link them, as the ledger has no X-Message-Id for them)."""
    add_subscribers(engine, SLUG, 20)
    write_manifest(sendgrid_settings.out_dir)
    settings = sendgrid_settings.model_copy(update={"send_batch_size": 10})
    sendgrid.script(Action.ok(), Action.drop_after_accepting())
    report = run_send(settings, EDITION, SLUG, force=True)  # local base URL: see conftest's send
    assert report.sent == 10 and report.in_doubt == 10
    ids = {email: mid for email, mid in sendgrid.accepted}
    lost = sorted(email for email, (state, _) in ledger_rows(engine).items()
                  if state == "in_doubt")
    events = [SendGridEvents(ids[email], **sendgrid.payloads[0]["custom_args"])("delivered", email)
              for email in [*ids.keys() - set(lost), *lost[:4]]]
    assert webhook.post(events)["matched"] == 14

    r = edition_results(engine, EDITION, SLUG)
    assert (r.sent, r.taken_in_doubt, r.in_doubt, r.delivered) == (14, 4, 6, 14)
    data = as_dict(r)
    assert data["in_doubt"] == {"unknown": 6, "taken": 4}
    assert data["funnel"]["delivered"]["rate"] == 1.0
    shown = CliRunner().invoke(app, ["report", EDITION, "-n", SLUG], env={"COLUMNS": "200"})
    print(shown.output)
    assert "in doubt 6 recipients: the provider's answer was lost" in shown.output
    assert "SendGrid's events show it took 4 more that were in doubt" in shown.output
