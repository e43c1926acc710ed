"""Unsubscribe tokens: they name the address and the newsletter and cannot be forged or altered."""

from __future__ import annotations

import pytest

from digest.send.tokens import InvalidToken, make_token, unsubscribe_url, verify_token
from digest.settings import Settings

KEY = b"a-secret-key"


def test_round_trip_gives_back_address_and_newsletter() -> None:
    token = make_token(KEY, "jo.smith@example.com", "ai-policy")
    assert verify_token(KEY, token) == ("jo.smith@example.com", "ai-policy")
    assert verify_token(KEY.decode(), token) == ("jo.smith@example.com", "ai-policy")


def test_token_is_url_safe_and_unpadded() -> None:
    token = make_token(KEY, "zoë+news@bücher.de", "trade-brief")
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert verify_token(KEY, token) == ("zoë+news@bücher.de", "trade-brief")


def test_settings_may_stand_for_their_key(settings: Settings) -> None:
    token = make_token(settings, "jo@example.com", "ai-policy")
    assert verify_token(settings.signing_key(), token) == ("jo@example.com", "ai-policy")
    url = unsubscribe_url("https://news.example/", KEY, "jo@example.com", "ai-policy")
    assert url.startswith("https://news.example/u/") and "//u" not in url


def test_every_single_character_change_is_refused() -> None:
    token = make_token(KEY, "jo@example.com", "ai-policy")
    alphabet = "AQgw_-.0"
    for i, original in enumerate(token):
        for replacement in alphabet:
            if replacement == original:
                continue
            altered = token[:i] + replacement + token[i + 1 :]
            with pytest.raises(InvalidToken):
                verify_token(KEY, altered)


def test_truncated_or_extended_tokens_are_refused() -> None:
    token = make_token(KEY, "jo@example.com", "ai-policy")
    for cut in range(len(token)):
        with pytest.raises(InvalidToken):
            verify_token(KEY, token[:cut])
    for tail in ("A", "=", "==", ".x", " "):
        with pytest.raises(InvalidToken):
            verify_token(KEY, token + tail)


def test_other_key_or_swapped_parts_are_refused() -> None:
    token = make_token(KEY, "jo@example.com", "ai-policy")
    with pytest.raises(InvalidToken):
        verify_token(b"another-key", token)
    other = make_token(KEY, "mallory@example.com", "ai-policy")
    forged = token.split(".")[0] + "." + other.split(".")[1]
    with pytest.raises(InvalidToken):
        verify_token(KEY, forged)


@pytest.mark.parametrize("junk", ["", ".", "abc", "a.b.c", "é.é", "WyJhIiwiYiJd.", 123])
def test_junk_is_refused_with_a_clear_message(junk: object) -> None:
    with pytest.raises(InvalidToken, match="not valid"):
        verify_token(KEY, junk)  # type: ignore[arg-type]


def test_the_senders_link_maker_makes_the_same_tokens() -> None:
    from digest.send.tokens import UnsubscribeLinks

    links = UnsubscribeLinks("https://news.example/", KEY, "ai-policy")
    url = links("jo@example.com")
    assert url == unsubscribe_url("https://news.example", KEY, "jo@example.com", "ai-policy")
    assert verify_token(KEY, url.rsplit("/", 1)[1]) == ("jo@example.com", "ai-policy")
    with pytest.raises(ValueError):
        links("jo@example.com\nmallory@example.com")
