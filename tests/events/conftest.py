"""Fixtures for provider events and reports: a real send through the SendGrid-compatible server,
then SendGrid's side of the webhook (events signed with a key pair of the test's own) posted to
the real public app, in-process."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Engine, select

from digest.archive.schema import deliveries, frozen_editions
from digest.send.runner import run_send
from digest.settings import Settings
from digest.web.public.app import create_app
from tests.support.asgi import InProcess
from tests.support.data import EDITION, HTML, SLUG, TEXT, add_subscribers, make_edition
from tests.support.sendgrid_server import API_KEY, SendGridServer
from tests.support.webhook import SendGridEvents, body_of, public_key_text, signed

VIEW_URL = "http://127.0.0.1:8000/archive/{edition}/{slug}"
STORIES = [  # (id, title, url) of the main list; then "More this week"
    ("ai-code", "Commission publishes draft AI code", "https://regwire.example/articles/ai-code"),
    ("uk-bill", "UK delays its AI bill", "https://regwire.example/articles/uk-bill"),
    ("chips", "Chip export rules tightened", "https://regwire.example/articles/chips"),
]
MORE = ("cloud", "Cloud probe widens", "https://regwire.example/articles/cloud")


def write_manifest(out_dir: Path, edition: str = EDITION, slug: str = SLUG) -> None:
    """An edition as `digest build` leaves it, with stories and their links in the manifest,
    the HTML and the text (the pre-send checks refuse an email that lacks an article's link)."""
    stories = [*STORIES, MORE]
    links = "".join(f'<p><a href="{url}">{title}</a></p>' for _, title, url in stories)
    folder = make_edition(out_dir, edition, slug, html=HTML.replace("</body>", links + "</body>"),
                          text=TEXT + "".join(f"\n{title}: {url}" for _, title, url in stories))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["articles"] = [
        {"id": ident, "title": title, "url": url, "rank": n, "section": "AI policy"}
        for n, (ident, title, url) in enumerate(STORIES, start=1)
    ]
    manifest["more_this_week"] = [{"id": MORE[0], "title": MORE[1], "url": MORE[2], "rank": 4}]
    manifest["view_url"] = VIEW_URL.format(edition=edition, slug=slug)
    (folder / "manifest.json").write_text(json.dumps(manifest))


@dataclass
class Sent:
    """A send that went out: its recipients in list order, its batch id, when it began."""

    edition: str
    emails: list[str]
    message_id: str
    started_at: datetime
    events: SendGridEvents

    def at(self, hours: float) -> float:
        """A Unix time `hours` after the send began."""
        return self.started_at.timestamp() + hours * 3600


@pytest.fixture
def sendgrid() -> Iterator[SendGridServer]:
    with SendGridServer() as server:
        yield server


@pytest.fixture
def sendgrid_settings(settings: Settings, sendgrid: SendGridServer,
                      monkeypatch: pytest.MonkeyPatch) -> Settings:
    values = {"sender": "sendgrid", "sendgrid_api_key": API_KEY,
              "sendgrid_api_host": sendgrid.url, "sendgrid_timeout": "5", "send_backoff": "0.01"}
    for name, value in values.items():
        monkeypatch.setenv(f"DIGEST_{name.upper()}", value)
    return Settings()


@pytest.fixture
def send(sendgrid_settings: Settings, sendgrid: SendGridServer,
         engine: Engine) -> Callable[..., Sent]:
    """send(n, edition): subscribers on the list (n new ones), the edition built and sent."""
    def go(count: int = 0, edition: str = EDITION, start: int = 0) -> Sent:
        if count:
            add_subscribers(engine, SLUG, count, start=start)
        write_manifest(sendgrid_settings.out_dir, edition)
        requests = len(sendgrid.payloads)
        # Forced: the fixture keeps the default local DIGEST_BASE_URL (the events' URLs are
        # made from it), which the pre-send checks rightly refuse for a real send.
        report = run_send(sendgrid_settings, edition, SLUG, force=True)
        assert report.ok, report
        payload = sendgrid.payloads[requests]
        ids = {mid for _, mid in sendgrid.accepted[-report.sent:]}
        assert len(ids) == 1, "one batch"
        d, f = deliveries.c, frozen_editions.c
        with engine.connect() as conn:
            started = conn.scalar(select(f.sent_at).where(f.edition == edition))
            emails = list(conn.scalars(select(d.email).where(d.edition == edition)
                                       .order_by(d.email)))
        started = started if started.tzinfo else started.replace(tzinfo=UTC)
        message_id = ids.pop()
        return Sent(edition, emails, message_id, started,
                    SendGridEvents(message_id, **payload["custom_args"]))

    return go


class Webhook:
    """SendGrid posting signed batches to the public app."""

    def __init__(self, client: InProcess, key: ec.EllipticCurvePrivateKey) -> None:
        self.client = client
        self.key = key

    def post(self, events: list[dict[str, Any]], **headers: str) -> dict[str, int]:
        body = body_of(events)
        response = self.client.post("/webhooks/sendgrid", content=body,
                                    headers={**signed(self.key, body), **headers})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def webhook_for(sendgrid_settings: Settings) -> Iterator[Callable[..., Webhook]]:
    """webhook_for(**settings changed): the public app with a key of the test's own."""
    opened: list[InProcess] = []

    def start(**changes: Any) -> Webhook:
        key = ec.generate_private_key(ec.SECP256R1())
        settings = sendgrid_settings.model_copy(
            update={"sendgrid_webhook_public_key": public_key_text(key), **changes}
        )
        opened.append(InProcess(create_app(settings, announce=False)))
        return Webhook(opened[-1], key)

    yield start
    for client in opened:
        client.close()


@pytest.fixture
def webhook(webhook_for: Callable[..., Webhook]) -> Webhook:
    return webhook_for()
