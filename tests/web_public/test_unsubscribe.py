"""One-click unsubscribe (RFC 8058) and the unsubscribe page, in-process."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx
import pytest

from digest.send.tokens import make_token
from digest.web.core.sockets import root_path
from digest.web.public.app import create_app

ONE_CLICK = {"content-type": "application/x-www-form-urlencoded"}
EMAIL = "ada@example.org"


def test_one_click_post_unsubscribes_at_once_without_cookie(client, token_for, suppressed):
    token = token_for(EMAIL, "antitrust-weekly")

    response = client.post(f"/u/{token}", content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)

    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert suppressed() == {(EMAIL, "antitrust-weekly", "unsubscribed", "one-click")}


def test_repeating_the_one_click_post_is_harmless(client, token_for, suppressed):
    token = token_for(EMAIL, "antitrust-weekly")
    for _ in range(3):
        response = client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
    assert suppressed() == {(EMAIL, "antitrust-weekly", "unsubscribed", "one-click")}


def test_only_the_named_newsletter_is_suppressed(client, token_for, suppressed):
    client.post(f"/u/{token_for(EMAIL, 'trade-brief')}", data={"List-Unsubscribe": "One-Click"})
    assert suppressed() == {(EMAIL, "trade-brief", "unsubscribed", "one-click")}


def test_the_page_names_newsletter_and_address_and_changes_nothing(client, token_for, suppressed):
    token = token_for(EMAIL, "antitrust-weekly")

    response = client.get(f"/u/{token}")

    assert response.status_code == 200
    assert "Antitrust Weekly" in response.text
    assert EMAIL in response.text
    forms = re.findall(r'<form method="post" action="([^"]+)">', response.text)
    assert forms == [f"/u/{token}"]
    assert "<script" not in response.text
    assert response.headers["referrer-policy"] == "no-referrer"  # the URL holds the token
    assert suppressed() == set()  # link scanners GET every URL: a GET must not unsubscribe


def test_page_button_unsubscribes_and_offers_resubscribe(client, token_for, suppressed):
    token = token_for(EMAIL, "antitrust-weekly")

    done = client.post(f"/u/{token}", data={"confirm": "yes"})

    assert done.status_code == 200
    assert "You are unsubscribed" in done.text
    assert suppressed() == {(EMAIL, "antitrust-weekly", "unsubscribed", "unsubscribe-page")}
    assert f'action="/u/{token}/resubscribe"' in done.text

    again = client.post(f"/u/{token}/resubscribe")

    assert again.status_code == 200
    assert "subscribed again" in again.text
    assert suppressed() == set()


def test_page_escapes_what_it_shows(client, token_for):
    response = client.get(f"/u/{token_for(EMAIL, 'trade-brief')}")
    assert "Trade &amp; &lt;Tariffs&gt; Brief" in response.text
    assert "<Tariffs>" not in response.text


def _altered(token: str) -> str:
    middle = len(token) // 2
    swap = "B" if token[middle] != "B" else "C"
    return token[:middle] + swap + token[middle + 1 :]


FORGERIES = {
    "garbage": lambda t: "not-a-token",
    "truncated": lambda t: t[:-3],
    "half": lambda t: t[: len(t) // 2],
    "altered": _altered,
    "other key": lambda t: make_token(b"someone-elses-key", EMAIL, "antitrust-weekly"),
    "extended": lambda t: t + "A",
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_forged_tokens_get_400_and_record_nothing(client, token_for, suppressed, forge):
    forged = forge(token_for(EMAIL, "antitrust-weekly"))

    answers = [
        client.get(f"/u/{forged}"),
        client.post(f"/u/{forged}", data={"List-Unsubscribe": "One-Click"}),
        client.post(f"/u/{forged}", data={"confirm": "yes"}),
        client.post(f"/u/{forged}/resubscribe"),
    ]

    for response in answers:
        assert response.status_code == 400
        assert EMAIL not in response.text and "ada" not in response.text
        assert "antitrust" not in response.text.lower()
    assert len({r.text for r in answers}) == 1  # one page for every failure: nothing to probe
    assert suppressed() == set()


def test_resubscribe_lifts_only_that_newsletter(client, token_for, suppressed):
    antitrust, trade = token_for(EMAIL, "antitrust-weekly"), token_for(EMAIL, "trade-brief")
    client.post(f"/u/{antitrust}", data={"List-Unsubscribe": "One-Click"})
    client.post(f"/u/{trade}", data={"List-Unsubscribe": "One-Click"})

    client.post(f"/u/{trade}/resubscribe")

    assert suppressed() == {(EMAIL, "antitrust-weekly", "unsubscribed", "one-click")}


def test_an_oversized_post_still_unsubscribes(client, token_for, suppressed):
    token = token_for(EMAIL, "antitrust-weekly")
    response = client.post(f"/u/{token}", content=b"x" * 100_000, headers=ONE_CLICK)
    assert response.status_code == 200
    assert suppressed() == {(EMAIL, "antitrust-weekly", "unsubscribed", "unsubscribe-page")}


def test_behind_a_prefix_the_page_links_keep_it(public_settings, token_for):
    """A proxy serving https://regwire.example/news/ strips /news; uvicorn is given
    root_path=/news (from BASE_URL), and the forms must post back under the prefix."""
    assert root_path("https://regwire.example/news/") == "/news"
    assert root_path("https://regwire.example") == ""
    token = token_for(EMAIL, "antitrust-weekly")
    transport = httpx.ASGITransport(app=create_app(public_settings), root_path="/news")

    async def fetch() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
            return await client.get(f"/news/u/{token}")

    # In a thread of its own: Playwright's sync API may hold this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        response = pool.submit(anyio.run, fetch).result()
    assert response.status_code == 200
    assert f'action="/news/u/{token}"' in response.text
