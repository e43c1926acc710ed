"""Sending a newsletter cut to readers' topics: each reader's copy, the ledger, skips, frozen
variants, in-doubt resends, readers who changed their topics, paused and erased readers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from digest.archive.articles import save_articles
from digest.archive.schema import deliveries, frozen_variants, subscribers
from digest.build import build_editions
from digest.cli import app
from digest.send.runner import plan_send, run_send
from digest.send.tokens import read_manage_token
from digest.settings import Settings
from digest.subscribers.erasure import address_hash, erase
from tests.support.readers import (
    add_readers,
    body_text,
    read_eml,
    readers_articles,
    write_publisher,
)
from tests.support.sendgrid_server import API_KEY, SendGridServer, render

WEEK, SLUG = "2026-W47", "roundup"
runner = CliRunner()
TITLES = {"antitrust": "Cement cartel", "trade": "Steel tariff", "ai-policy": "AI Office",
          "sanctions": "shadow fleet"}


@pytest.fixture
def room(settings: Settings, engine: Engine, tmp_path: Path, monkeypatch) -> Settings:
    folder = write_publisher(tmp_path / "publisher")
    monkeypatch.setenv("DIGEST_SUBSCRIBERS_DIR", str(folder))
    save_articles(engine, readers_articles())
    return settings.model_copy(update={"subscribers_dir": folder})


def readers(engine: Engine, groups: dict[str | None, int]) -> None:
    add_readers(engine, SLUG, groups)


def copy_of(room: Settings, email: str) -> str:
    return body_text(read_eml(room.out_dir / WEEK / SLUG / "outbox" / f"{email}.eml"))


def ledger(engine: Engine) -> dict[str, tuple[str, str | None]]:
    d = deliveries.c
    with engine.connect() as conn:
        return {r.email: (r.state, r.variant) for r in conn.execute(
            select(d.email, d.state, d.variant).where(d.edition == WEEK, d.newsletter == SLUG))}


def test_each_reader_gets_the_copy_cut_to_their_topics(room, engine):
    readers(engine, {None: 1, "trade": 2, "sanctions+trade": 1,
                     "ai-policy+antitrust+sanctions+trade": 1})
    build_editions(room, week=WEEK, engine=engine)
    plan = plan_send(room, WEEK, SLUG)
    assert plan.copies == {"": 2, "trade": 2, "sanctions+trade": 1}  # all four: the full one
    report = run_send(room, WEEK, SLUG)
    assert report.ok and report.sent == 5
    assert report.copies == {"": 2, "trade": 2, "sanctions+trade": 1}

    trade = copy_of(room, "trade-0@example.com")
    assert TITLES["trade"] in trade and "cut to your topics: Trade" in trade
    assert all(TITLES[t] not in trade for t in ("antitrust", "ai-policy", "sanctions"))
    both = copy_of(room, "sanctions.trade-0@example.com")
    assert TITLES["sanctions"] in both and TITLES["trade"] in both
    assert TITLES["antitrust"] not in both
    full = copy_of(room, "all-0@example.com")
    assert all(title in full for title in TITLES.values())
    assert ledger(engine) == {
        "all-0@example.com": ("sent", None),
        "ai-policy.antitrust.sanctions.trade-0@example.com": ("sent", None),
        "trade-0@example.com": ("sent", "trade"), "trade-1@example.com": ("sent", "trade"),
        "sanctions.trade-0@example.com": ("sent", "sanctions+trade"),
    }
    # Every variant is frozen with the edition at the first send.
    with engine.connect() as conn:
        frozen = set(conn.scalars(select(frozen_variants.c.variant)))
    assert frozen == {"trade", "sanctions+trade"}


def test_sendgrid_gets_a_request_per_copy_with_each_readers_own_links(room, engine,
                                                                       monkeypatch):
    readers(engine, {None: 3, "trade": 3})
    build_editions(room, week=WEEK, engine=engine)
    with SendGridServer() as server:
        sendgrid = room.model_copy(update={"sender": "sendgrid", "sendgrid_api_host": server.url,
                                           "sendgrid_api_key": SecretStr(API_KEY)})
        report = run_send(sendgrid, WEEK, SLUG)
        assert report.ok and server.stats()["requests"] == 2
        for payload in server.payloads:
            copies = {render(payload, i)["text/plain"] for i in range(3)}
            assert len(copies) == 3  # personal values differ per reader
            for i, person in enumerate(payload["personalizations"]):
                made = render(payload, i)
                email = person["to"][0]["email"]
                token = made["text/plain"].split("/manage/")[1].split()[0]
                assert read_manage_token(sendgrid, token) == (email, 0)
                cut = email.startswith("trade")
                assert ("cut to your topics: Trade" in made["text/plain"]) == cut
                assert (TITLES["antitrust"] in made["text/html"]) == (not cut)


def test_a_topic_with_no_story_this_week_skips_its_readers_on_the_record(room, engine,
                                                                         monkeypatch, tmp_path):
    taxonomy = room.subscribers_dir / "taxonomy.toml"
    taxonomy.write_text(taxonomy.read_text() + '\n[tags.telecoms]\nname = "Telecoms"\n'
                        'keywords = ["spectrum auction"]\n')
    newsletters = room.subscribers_dir / "newsletters.toml"
    newsletters.write_text(newsletters.read_text().replace(
        'topics = ["antitrust", "trade", "ai-policy", "sanctions"]',
        'topics = ["antitrust", "trade", "ai-policy", "sanctions", "telecoms"]').replace(
        'tags = ["antitrust", "trade", "ai-policy", "sanctions"]',
        'tags = ["antitrust", "trade", "ai-policy", "sanctions", "telecoms"]'))
    quiet = room.model_copy(update={"variant_quiet": "skip"})
    readers(engine, {"telecoms": 2, "trade": 1})
    build_editions(quiet, week=WEEK, engine=engine)
    plan = plan_send(quiet, WEEK, SLUG)
    assert (plan.skipped, plan.copies) == (2, {"trade": 1})
    report = run_send(quiet, WEEK, SLUG)
    assert (report.sent, report.skipped) == (1, 2)
    assert ledger(engine)["telecoms-0@example.com"] == ("skipped", None)
    assert not (quiet.out_dir / WEEK / SLUG / "outbox" / "telecoms-0@example.com.eml").exists()
    again = run_send(quiet, WEEK, SLUG)  # nobody is picked up twice
    assert (again.sent, again.skipped) == (0, 0)
    shown = runner.invoke(app, ["status", WEEK, "-n", SLUG], env={"COLUMNS": "160"})
    assert shown.exit_code == 0, shown.output
    assert "skipped 2" in shown.output and "nothing this week" in shown.output
    assert "trade" in shown.output and "sent 1" in shown.output


def test_readers_who_chose_topics_after_the_build_get_the_full_edition(room, engine):
    readers(engine, {None: 1, "trade": 1})
    build_editions(room, week=WEEK, engine=engine)
    with engine.begin() as conn:
        conn.execute(update(subscribers).where(subscribers.c.email == "all-0@example.com")
                     .values(topics="antitrust", topics_by="reader"))
    plan = plan_send(room, WEEK, SLUG)
    assert plan.unforeseen == 1 and plan.copies == {"": 1, "trade": 1}
    run_send(room, WEEK, SLUG)
    assert all(title in copy_of(room, "all-0@example.com") for title in TITLES.values())


def test_a_resend_in_doubt_sends_the_copy_the_ledger_recorded(room, engine):
    readers(engine, {"trade": 1})
    build_editions(room, week=WEEK, engine=engine)
    run_send(room, WEEK, SLUG)
    with engine.begin() as conn:  # the answer was lost; meanwhile the reader changed topics
        conn.execute(update(deliveries).values(state="in_doubt", error="answer lost"))
        conn.execute(update(subscribers).values(topics="sanctions"))
    (room.out_dir / WEEK / SLUG / "outbox" / "trade-0@example.com.eml").unlink()
    assert run_send(room, WEEK, SLUG).sent == 0  # in doubt: left alone
    report = run_send(room, WEEK, SLUG, resend_in_doubt=True)
    assert report.sent == 1 and ledger(engine)["trade-0@example.com"] == ("sent", "trade")
    assert "cut to your topics: Trade" in copy_of(room, "trade-0@example.com")


def test_the_frozen_variant_is_what_later_runs_and_the_archive_give(room, engine):
    from digest.web.public.app import create_app
    from tests.web_public.conftest import InProcess

    readers(engine, {"trade": 1})
    build_editions(room, week=WEEK, engine=engine)
    run_send(room, WEEK, SLUG)
    cut = room.out_dir / WEEK / SLUG / "variants" / "trade" / "email.txt"
    cut.write_text(cut.read_text().replace("Steel tariff", "EDITED AFTER SENDING"))
    with engine.begin() as conn:  # a reader who joins later gets what the others got
        conn.execute(subscribers.insert().values(
            newsletter=SLUG, email="late@example.com", name="", status="active",
            created_at=datetime.now(UTC), updated_at=datetime.now(UTC), topics="trade"))
    run_send(room, WEEK, SLUG)
    late = copy_of(room, "late@example.com")
    assert "Steel tariff" in late and "EDITED" not in late
    site = InProcess(create_app(room, announce=False))
    try:
        page = site.get(f"/archive/{WEEK}/{SLUG}/trade")
        assert page.status_code == 200 and "Steel tariff" in page.text
        assert "Cement cartel" not in page.text and "%%" not in page.text
        assert site.get(f"/archive/{WEEK}/{SLUG}/antitrust").status_code == 404
        assert site.get(f"/archive/{WEEK}/{SLUG}/..%2fx").status_code == 404
    finally:
        site.close()


def test_paused_and_erased_readers_are_left_out(room, engine):
    readers(engine, {None: 3})
    with engine.begin() as conn:
        conn.execute(update(subscribers).where(subscribers.c.email == "all-0@example.com")
                     .values(paused_until=datetime.now(UTC) + timedelta(days=3)))
    erase(engine, room, "all-1@example.com", "cli")
    with engine.begin() as conn:  # a row for the erased address put back by hand
        conn.execute(subscribers.insert().values(
            newsletter=SLUG, email="all-1@example.com", name="", status="active",
            created_at=datetime.now(UTC), updated_at=datetime.now(UTC)))
    build_editions(room, week=WEEK, engine=engine)
    report = run_send(room, WEEK, SLUG)
    assert report.sent == 1 and set(ledger(engine)) == {"all-2@example.com"}
    assert address_hash(room, "all-1@example.com").startswith("hmac:")


def test_a_test_send_of_a_variant(room, engine):
    readers(engine, {"trade": 1})
    build_editions(room, week=WEEK, engine=engine)
    done = runner.invoke(app, ["send", WEEK, "-n", SLUG, "--test", "ed@example.com",
                               "--variant", "trade"])
    assert done.exit_code == 0, done.output
    test = room.out_dir / WEEK / SLUG / "outbox" / "test" / "ed@example.com.eml"
    assert "cut to your topics: Trade" in body_text(read_eml(test))
    wrong = runner.invoke(app, ["send", WEEK, "-n", SLUG, "--test", "ed@example.com",
                                "--variant", "antitrust"])
    assert wrong.exit_code == 1 and "no variant 'antitrust'" in wrong.output
    alone = runner.invoke(app, ["send", WEEK, "-n", SLUG, "--variant", "trade"])
    assert alone.exit_code == 1 and "--variant goes with --test" in alone.output


def test_the_send_command_shows_the_copies_before_and_after(room, engine):
    readers(engine, {None: 2, "trade": 1})
    build_editions(room, week=WEEK, engine=engine)
    done = runner.invoke(app, ["send", WEEK, "-n", SLUG, "--yes"], env={"COLUMNS": "160"})
    assert done.exit_code == 0, done.output
    assert "versions    full edition 2 · trade 1" in done.output
    assert "by version: full edition 2 · trade 1" in done.output
    status = runner.invoke(app, ["status", WEEK, "-n", SLUG, "--json"])
    (entry,) = json.loads(status.stdout)
    assert entry["variants"] == {"": {"sent": 2}, "trade": {"sent": 1}}
