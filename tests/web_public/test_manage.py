"""The preference centre, in-process: newsletters and topics, pause, unsubscribe from everything,
the data download, erasure, CSRF, and revoking a leaked link."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, String, Text, select, text

from digest.archive.schema import deliveries, metadata, subscribers, suppressions
from digest.send.tokens import manage_token
from digest.settings import Settings
from digest.subscribers import sync_subscribers
from digest.subscribers.erasure import address_hash
from digest.subscribers.history import history_of
from tests.support.readers import link_in, outbox, write_publisher

EMAIL = "jo@example.com"


@pytest.fixture
def readers(settings: Settings, tmp_path: Path) -> Settings:
    folder = write_publisher(tmp_path / "publisher")
    return settings.model_copy(update={"subscribers_dir": folder})


@pytest.fixture
def site(readers, in_process):
    return in_process(readers)


@pytest.fixture
def manage(site, readers) -> str:
    """Jo signs up for the roundup (trade only) and confirms: the path of Jo's manage link."""
    site.post("/subscribe/roundup", data={"email": EMAIL, "name": "Jo", "topics": "trade"})
    done = site.post(link_in(outbox(readers.data_dir)[-1], "confirm"), data={"confirm": "yes"})
    return re.search(r'href="https?://[^/"]+(/manage/[^"]+)"', done.text).group(1)


def csrf_of(page_html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page_html).group(1)


def lists(engine: Engine, email: str = EMAIL) -> dict[str, tuple]:
    s = subscribers.c
    query = select(s.newsletter, s.status, s.origin, s.topics).where(s.email == email)
    with engine.connect() as conn:
        return {r.newsletter: tuple(r)[1:] for r in conn.execute(query)}


def stops(engine: Engine, email: str = EMAIL) -> set[tuple[str, str, str]]:
    s = suppressions.c
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(
            select(s.newsletter, s.reason, s.source).where(s.email == email))}


def test_the_page_shows_every_newsletter_with_labelled_controls(site, manage):
    page = site.get(manage)
    assert page.status_code == 200
    html = page.text
    assert EMAIL in html
    assert "Receive Regulatory Roundup" in html and "Receive Competition Brief" in html
    assert re.search(r'name="receive" value="roundup" checked', html)
    assert not re.search(r'name="receive" value="competition" checked', html)
    assert re.search(r'name="topics-roundup" value="trade" checked> Trade</label>', html)
    assert "topics-competition" not in html  # it offers no topics
    assert '<label for="until">' in html and '<label class="check" for="erase">' in html
    forms = len(re.findall(r'<form method="post"', html))
    assert forms == 6 and len(re.findall(r'name="csrf"', html)) == forms
    assert "<script" not in html
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/manage" in cookie
    assert page.headers["referrer-policy"] == "no-referrer"


def test_saving_joins_leaves_and_sets_topics(site, manage, engine):
    csrf = csrf_of(site.get(manage).text)
    saved = site.post(f"{manage}/save", data={"csrf": csrf, "receive": "competition",
                                              "topics-roundup": ["antitrust", "ai-policy"]})
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=saved")
    assert lists(engine) == {"roundup": ("active", "form", "ai-policy+antitrust"),
                             "competition": ("active", "manage", None)}
    assert stops(engine) == {("roundup", "unsubscribed", "manage")}
    assert "Your choices are saved." in site.get(saved.headers["location"]).text

    # Back again, no confirmation needed; and every topic unticked means the whole edition.
    csrf = csrf_of(site.get(manage).text)
    site.post(f"{manage}/save", data={"csrf": csrf, "receive": ["roundup", "competition"]})
    assert lists(engine)["roundup"] == ("active", "manage", None)
    assert stops(engine) == set()
    changes = [(c.newsletter, c.change, c.source) for c in history_of(engine, EMAIL)]
    assert ("roundup", "topics", "manage") in changes
    assert ("competition", "subscribed", "manage") in changes
    assert ("roundup", "unsubscribed", "manage") in changes


def test_a_post_without_the_pages_csrf_field_or_cookie_is_refused(site, manage, engine,
                                                                  in_process, readers):
    csrf = csrf_of(site.get(manage).text)
    assert site.post(f"{manage}/leave-all", data={}).status_code == 403
    assert site.post(f"{manage}/leave-all", data={"csrf": csrf + "x"}).status_code == 403
    other = in_process(readers)  # another browser: the form's field, but not its cookie
    assert other.post(f"{manage}/leave-all", data={"csrf": csrf}).status_code == 403
    assert stops(engine) == set()
    assert site.post(f"{manage}/leave-all", data={"csrf": csrf}).status_code == 303
    assert stops(engine) == {("*", "unsubscribed", "manage")}


def test_pause_until_a_day_and_resume(site, manage, engine):
    csrf = csrf_of(site.get(manage).text)
    for bad in ("", "yesterday", date.today().isoformat(),
                (date.today() + timedelta(days=400)).isoformat()):
        page = site.post(f"{manage}/pause", data={"csrf": csrf, "until": bad})
        assert page.status_code == 400
        assert 'aria-invalid="true"' in page.text and 'id="until-error"' in page.text
    day = date.today() + timedelta(days=14)
    assert site.post(f"{manage}/pause", data={"csrf": csrf, "until": day.isoformat()}
                     ).status_code == 303
    with engine.connect() as conn:
        (paused,) = conn.execute(select(subscribers.c.paused_until)).one()
    assert paused.replace(tzinfo=UTC) == datetime(day.year, day.month, day.day, tzinfo=UTC)
    assert "paused until" in site.get(manage).text
    from digest.subscribers import count_subscribers

    assert [c.receiving for c in count_subscribers(engine, "roundup")] == [0]
    site.post(f"{manage}/resume", data={"csrf": csrf})
    assert [c.receiving for c in count_subscribers(engine, "roundup")] == [1]


def test_the_data_download_has_lists_topics_suppressions_and_what_was_sent(site, manage,
                                                                          engine):
    with engine.begin() as conn:
        conn.execute(deliveries.insert().values(edition="2026-W47", newsletter="roundup",
                                                email=EMAIL, state="sent", batch=1,
                                                updated_at=datetime(2026, 11, 23, tzinfo=UTC)))
    csrf = csrf_of(site.get(manage).text)
    site.post(f"{manage}/save", data={"csrf": csrf, "receive": "roundup",
                                      "topics-roundup": "trade"})
    got = site.post(f"{manage}/data", data={"csrf": csrf})
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    data = json.loads(got.text)
    assert data["address"] == EMAIL and data["names"] == ["Jo"]
    assert [(x["newsletter"], x["topics"]) for x in data["lists"]] == [("roundup", ["trade"])]
    assert data["topics"] == {"roundup": ["trade"]}
    assert data["sent"] == [{"edition": "2026-W47", "newsletter": "roundup", "state": "sent",
                             "copy": "full edition", "at": "2026-11-23T00:00:00+00:00"}]
    assert data["suppressions"] == []
    assert {c["change"] for c in data["history"]} >= {"subscribed"}


def every_table_mentioning(engine: Engine, needle: str) -> set[str]:
    """Tables with a text value holding `needle` anywhere, read back from the database
    itself, so tables added later are covered too."""
    found = set()
    live = MetaData()
    live.reflect(engine)
    with engine.connect() as conn:
        for table in live.sorted_tables:
            columns = [c for c in table.c if isinstance(c.type, String | Text)
                       or "JSON" in type(c.type).__name__.upper()]
            for row in conn.execute(select(*columns)) if columns else ():
                if any(needle in str(value) for value in row if value is not None):
                    found.add(table.name)
    return found


def test_erasure_leaves_only_the_keyed_hash_and_no_csv_brings_it_back(site, manage, engine,
                                                                      readers, tmp_path):
    csrf = csrf_of(site.get(manage).text)
    with engine.begin() as conn:
        conn.execute(deliveries.insert().values(edition="2026-W47", newsletter="roundup",
                                                email=EMAIL, state="sent", batch=1,
                                                updated_at=datetime.now(UTC)))
    site.post(f"{manage}/save", data={"csrf": csrf, "receive": ["roundup", "competition"]})
    refused = site.post(f"{manage}/erase", data={"csrf": csrf})
    assert refused.status_code == 400 and 'id="erase-error"' in refused.text
    assert every_table_mentioning(engine, EMAIL)

    kept = readers.out_dir / "2026-W47" / "roundup" / "outbox"
    kept.mkdir(parents=True)
    (kept / f"{EMAIL}.eml").write_text("To: jo")  # what the outbox backend sent Jo
    (kept / "other@example.com.eml").write_text("To: other")
    assert len(outbox(readers.data_dir)) == 1  # Jo's confirmation
    done = site.post(f"{manage}/erase", data={"csrf": csrf, "confirm": "yes"})
    assert done.status_code == 200 and "Your data is erased" in done.text
    assert every_table_mentioning(engine, EMAIL) == set()
    assert [p.name for p in kept.iterdir()] == ["other@example.com.eml"]
    assert outbox(readers.data_dir) == []
    assert every_table_mentioning(engine, "jo@") == set()
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(select(suppressions.c.newsletter,
                suppressions.c.email, suppressions.c.reason))] == [
            ("*", address_hash(readers, EMAIL), "erased")]
    assert site.get(manage).status_code == 410  # the link shows there is nothing on file

    # A stale CRM export still lists Jo: the sync leaves the address out.
    folder = write_publisher(tmp_path / "crm")
    (folder / "roundup.csv").write_text(f"email,name\n{EMAIL.upper()},Jo\nnew@example.com,N\n")
    (report,) = sync_subscribers(engine, folder, "roundup", key=readers)
    assert (report.added, report.erased) == (1, 1)
    assert EMAIL not in {e for e, in _emails(engine)}
    with pytest.raises(Exception, match="no key"):
        sync_subscribers(engine, folder, "roundup")


def _emails(engine: Engine):
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT email FROM subscribers")))


def test_a_leaked_link_is_revoked_by_asking_for_a_new_one(site, manage, readers):
    csrf = csrf_of(site.get(manage).text)
    sent = site.post(f"{manage}/new-link", data={"csrf": csrf})
    assert sent.status_code == 200 and "no longer works" in sent.text
    old = site.get(manage)
    assert old.status_code == 410 and "has been replaced" in old.text
    fresh = link_in(outbox(readers.data_dir)[-1], "manage")
    assert fresh != manage and site.get(fresh).status_code == 200
    assert site.post(f"{manage}/leave-all", data={"csrf": csrf}).status_code == 410


def test_asking_for_a_link_answers_the_same_for_known_and_unknown_addresses(site, manage,
                                                                           readers):
    before = len(outbox(readers.data_dir))
    known = site.post("/manage", data={"email": EMAIL})
    unknown = site.post("/manage", data={"email": "stranger@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace(EMAIL, "X") == unknown.text.replace("stranger@example.com", "X")
    mails = outbox(readers.data_dir)[before:]
    assert len(mails) == 1 and link_in(mails[0], "manage") == manage
    assert site.post("/manage", data={"email": "nope"}).status_code == 400


def test_forged_and_garbled_links_get_a_4xx(site, readers):
    assert site.get(f"/manage/{manage_token(b'another key', EMAIL, 0)}").status_code == 400
    for bad in ("x", "a.b", "a..b", "%ff", "A" * 2000):
        assert site.get(f"/manage/{bad}").status_code == 400
        assert site.post(f"/manage/{bad}/save", data={"csrf": "x"}).status_code == 400
    unsubscribe_token = __import__("digest.send.tokens", fromlist=["make_token"]).make_token(
        readers, EMAIL, "roundup")
    assert site.get(f"/manage/{unsubscribe_token}").status_code == 400  # another purpose


def test_the_footer_link_of_a_sent_email_opens_the_page(settings, readers, manage, site):
    """%%manage_url%% as the sender fills it is the reader's working link."""
    from digest.editions import BuiltEdition
    from digest.send.message import EditionMail

    built = BuiltEdition("2026-W47", "roundup", readers.out_dir / "2026-W47" / "roundup",
                         '<a href="%%manage_url%%">Manage</a>', "Manage: %%manage_url%%",
                         {"subject": "S", "newsletter": {"title": "R"}})
    url = EditionMail(readers, built).manage_url(EMAIL)
    assert url.removeprefix(readers.base_url) == manage
    assert site.get(url.removeprefix(readers.base_url)).status_code == 200


def test_schema_keeps_addresses_only_in_columns_named_email():
    """Erasure deletes by the column name `email`: a table keeping an address elsewhere
    would escape it. (Text columns holding other things are named for what they hold.)"""
    suspicious = {f"{t.name}.{c.name}" for t in metadata.sorted_tables for c in t.c
                  if any(word in c.name for word in ("mail", "address", "recipient", "to_"))
                  and c.name != "email" and isinstance(c.type, String | Text)}
    assert suspicious == set()
