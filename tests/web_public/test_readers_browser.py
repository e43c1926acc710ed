"""A reader in a real Chromium against a real `digest serve`: sign up, confirm from the email,
manage from the newsletter's footer, and get the digest cut to the topics chosen; the forms work
with the keyboard alone, every control has a label (axe-core), and bots and floods are turned
away. Screenshots of the manage page (375 px and desktop) go to tests/web_public/artifacts/."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from digest.archive.articles import save_articles
from digest.archive.db import connect, dispose_all
from digest.archive.schema import signups
from tests.support.readers import (
    STORIES,
    body_text,
    link_in,
    outbox,
    read_eml,
    readers_articles,
    write_publisher,
)

pytestmark = pytest.mark.timeout(180)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SLUG = "roundup"

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Newsroom:
    """The publisher's folders and settings, shared by `digest serve` and the commands."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = folder / "data"
        self.out = folder / "editions"
        write_publisher(folder / "subscribers")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
        self.env.update({
            "DIGEST_DATA_DIR": str(self.data), "DIGEST_OUT_DIR": str(self.out),
            "DIGEST_DATABASE_URL": f"sqlite:///{folder / 'archive.db'}",
            "DIGEST_SUBSCRIBERS_DIR": str(folder / "subscribers"),
            "DIGEST_SECRET_KEY": "browser-test-key", "DIGEST_BASE_URL": self.url,
            "DIGEST_SIGNUP_RATE_ADDRESS": "3/hour", "DIGEST_SIGNUP_RATE_IP": "60/hour",
        })

    def digest(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "digest", *args], env=self.env, text=True,
                              capture_output=True, cwd=self.folder, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Newsroom]:
    room = Newsroom(tmp_path_factory.mktemp("readers"))
    engine = connect(room.env["DIGEST_DATABASE_URL"])
    save_articles(engine, readers_articles())
    with engine.begin() as conn:  # a sign-up nobody confirmed for a month: serve purges it
        conn.execute(signups.insert().values(
            newsletter=SLUG, email="stale@example.org", nonce="stale-nonce",
            created_at=datetime.now(UTC) - timedelta(days=30)))
    dispose_all()
    log = room.folder / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "digest", "serve", "--no-access-log",
                                    "--port", str(room.port)], env=room.env, cwd=room.folder,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{room.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield room
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def offline(route: Any) -> None:  # nothing leaves the machine
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            route.abort()

    context.route("**/*", offline)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def axe_problems(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})"
            for v in results.response["violations"]]


def newest_mail(room: Newsroom, before: int) -> Path:
    mails = outbox(room.data)
    assert len(mails) == before + 1, mails
    return mails[-1]


def sign_up(page: Any, room: Newsroom, email: str, name: str = "", topics: tuple = ()) -> Path:
    """Fill in and send the sign-up form; the confirmation email it caused."""
    before = len(outbox(room.data))
    page.goto(f"{room.url}/subscribe/{SLUG}")
    page.get_by_label("Email address").fill(email)
    if name:
        page.get_by_label("Name").fill(name)
    for topic in topics:
        page.get_by_label(topic, exact=True).check()
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    return newest_mail(room, before)


def test_sign_up_confirm_manage_and_get_the_digest_cut_to_ones_topics(page, newsroom):
    mail = sign_up(page, newsroom, "Maya.Reader@Example.org", "Maya Reader")
    message = read_eml(mail)
    assert message["To"] == "maya.reader@example.org"
    assert message["Subject"] == "Confirm your subscription to Regulatory Roundup"

    page.goto(newsroom.url + link_in(mail, "confirm"))
    page.get_by_role("heading", name="Confirm your subscription").wait_for()
    page.get_by_role("button", name="Confirm my subscription").click()
    page.get_by_role("heading", name="You are subscribed").wait_for()

    # This week's edition, as it goes to every reader; Maya chose no topics yet.
    newsroom.digest("build", "--week", "2026-W47", "-n", SLUG)
    newsroom.digest("send", "2026-W47", "-n", SLUG, "--yes")
    first = read_eml(newsroom.out / "2026-W47" / SLUG / "outbox" / "maya.reader@example.org.eml")
    text = body_text(first)
    assert all(title in text for _, title, _ in STORIES["2026-W47"])

    # The footer's "Manage your subscription" link: Maya keeps Trade and Sanctions only.
    page.goto(newsroom.url + link_in(text, "manage"))
    page.get_by_role("heading", name="Your subscriptions").wait_for()
    topics = page.get_by_role("group", name="Topics of Regulatory Roundup")
    topics.get_by_label("Trade").check()
    topics.get_by_label("Sanctions").check()
    page.get_by_role("button", name="Save my choices").click()
    page.get_by_role("status").filter(has_text="Your choices are saved.").wait_for()
    assert topics.get_by_label("Trade").is_checked()
    assert not topics.get_by_label("Antitrust").is_checked()

    # Next week: Maya's copy is the variant cut to her topics.
    built = newsroom.digest("build", "--week", "2026-W48", "-n", SLUG)
    assert "topics Sanctions, Trade: 1 reader" in built.stdout.replace("\n", " ")
    newsroom.digest("send", "2026-W48", "-n", SLUG, "--yes")
    second = body_text(read_eml(newsroom.out / "2026-W48" / SLUG / "outbox"
                                / "maya.reader@example.org.eml"))
    assert "Chip export sanctions" in second and "WTO panel rules" in second
    assert "Telecoms merger" not in second and "training-data" not in second
    assert "cut to your topics: Sanctions, Trade" in second


def test_the_manage_page_works_with_the_keyboard_alone(page, newsroom):
    mail = sign_up(page, newsroom, "keys@example.org", "Kay")
    page.goto(newsroom.url + link_in(mail, "confirm"))
    page.get_by_role("button", name="Confirm my subscription").click()
    manage = page.get_by_role("link", name="Manage your subscription").get_attribute("href")
    page.goto(manage)

    # Tab to "Receive Competition Brief", tick it with Space, then on to Save and press Enter.
    def tab_to(predicate: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(predicate):
                return
        raise AssertionError(f"Tab never reached {predicate}")

    tab_to("document.activeElement.value === 'competition'")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.press("Space")
    tab_to("document.activeElement.textContent === 'Save my choices'")
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Your choices are saved.").wait_for()
    assert page.get_by_label("Receive Competition Brief").is_checked()

    # The pause form by keyboard: a day in the past is an error tied to its field.
    tab_to("document.activeElement.id === 'until'")
    page.keyboard.type("01012020")
    page.keyboard.press("Enter")
    error = page.locator("#until-error")
    error.wait_for()
    assert page.get_attribute("#until", "aria-invalid") == "true"
    assert "until-error" in page.get_attribute("#until", "aria-describedby")

    assert axe_problems(page) == []
    for width, name in ((375, "manage-375"), (1280, "manage-desktop")):
        page.set_viewport_size({"width": width, "height": 900})
        shoot(page, name)
    page.goto(f"{newsroom.url}/subscribe/{SLUG}")
    assert axe_problems(page) == []
    page.get_by_role("button", name="Subscribe").click()  # empty: the error page
    assert axe_problems(page) == []
    page.goto(f"{newsroom.url}/manage")
    assert axe_problems(page) == []


def test_a_bot_filling_the_honeypot_gets_the_usual_page_and_no_email(page, newsroom):
    before = len(outbox(newsroom.data))
    page.goto(f"{newsroom.url}/subscribe/{SLUG}")
    box = page.locator("#website").bounding_box()
    assert box["x"] + box["width"] <= 0  # off the page: people never see it
    page.get_by_label("Email address").fill("bot@example.org")
    page.evaluate("document.getElementById('website').value = 'https://spam.example'")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    assert len(outbox(newsroom.data)) == before


def test_too_many_sign_ups_for_one_address_are_turned_away(page, newsroom):
    for _ in range(3):
        sign_up(page, newsroom, "flood@example.org")
    before = len(outbox(newsroom.data))
    page.goto(f"{newsroom.url}/subscribe/{SLUG}")
    page.get_by_label("Email address").fill("flood@example.org")
    with page.expect_response(re.compile(r"/subscribe/")) as answer:
        page.get_by_role("button", name="Subscribe").click()
    assert answer.value.status == 429 and int(answer.value.headers["retry-after"]) > 0
    page.get_by_role("heading", name="Too many attempts").wait_for()
    assert len(outbox(newsroom.data)) == before


def test_serve_purged_the_stale_sign_up_when_it_started(newsroom):
    from sqlalchemy import select

    engine = connect(newsroom.env["DIGEST_DATABASE_URL"])
    with engine.connect() as conn:
        assert "stale@example.org" not in set(conn.scalars(select(signups.c.email)))
