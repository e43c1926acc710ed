"""The model backend against a real OpenAI-compatible HTTP server on 127.0.0.1 with canned
answers: faithful, invented figure, invented name, over budget, 429, timeout, malformed body;
the cache, the refresh, the concurrency limit, and the settings it needs."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, func, select

from digest.archive import connect
from digest.archive.schema import model_summaries
from digest.errors import DigestError
from digest.models import Article, Block
from digest.settings import Settings
from digest.summarise import ModelSummariser, get_summariser, summarise
from digest.summarise.model import prompt
from tests.support import wait_until
from tests.support.model_server import API_KEY, MODEL, ModelServer, Reply

BODY = [
    "A data protection authority fined a chatbot developer four million euros on Wednesday "
    "for processing children's personal data without a lawful basis under the GDPR.",
    "The regulator said the company's age checks could be bypassed in seconds. "
    "The company said it would appeal.",
    "The decision is the first of its kind against a chatbot provider in the bloc.",
]
TITLE = "Chatbot maker fined over children's personal data"
FAITHFUL = ("A data protection authority fined a chatbot developer €4m on Wednesday over "
            "children's data processed without a lawful basis under the GDPR.")


def article(n: int = 0, title: str = TITLE) -> Article:
    return Article(id=f"fine-{n}", title=title if not n else f"{title} ({n})",
                   published_at=datetime(2026, 3, 4, tzinfo=UTC),
                   body=[Block("paragraph", p) for p in BODY])


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with ModelServer() as running:
        yield running


def model_settings(server: ModelServer, tmp_path: Path, **extra: object) -> Settings:
    values = {"summariser": "model", "model_url": server.url, "model_name": MODEL,
              "model_api_key": API_KEY, "model_timeout": 5.0, "model_retries": 1,
              "database_url": f"sqlite:///{tmp_path / 'cache.db'}"} | extra
    return Settings(**values)


def backend(settings: Settings, engine: Engine | None = None,
            refresh: bool = False) -> ModelSummariser:
    opened = get_summariser("model", settings=settings, engine=engine, refresh=refresh)
    assert isinstance(opened, ModelSummariser)
    return opened


def test_a_faithful_answer_is_the_summary(server: ModelServer, tmp_path: Path) -> None:
    server.answer(TITLE, Reply.text(f"  Summary: \u201c{FAITHFUL}\u201d\n"))
    model = backend(model_settings(server, tmp_path))
    summary = model.summarise(article(), 40)
    assert (summary.text, summary.method) == (FAITHFUL, "model")
    assert summary.words == len(FAITHFUL.split()) and summary.sentences == 1
    assert summary.model is not None and summary.model.accepted
    assert summary.model.detail.startswith("every fact found in the article (1 amount")
    assert model.usage.asked == 1 and model.usage.prompt_tokens == 120
    (request,) = server.requests
    assert request["model"] == MODEL and request["temperature"] == 0
    assert "at most 40 words" in request["messages"][0]["content"]
    assert BODY[1] in request["messages"][1]["content"]


@pytest.mark.parametrize(("answer", "reason"), [
    ("A data protection authority fined a chatbot developer €5m on Wednesday.",
     "not in the article: amount '€5m'"),
    ("Commissioner Maria Lopez fined a chatbot developer four million euros on Wednesday.",
     "not in the article: name 'Commissioner Maria Lopez'"),
    (" ".join(["The authority fined the developer."] * 9), "45 words, over the budget of 40"),
    ("   ", "the answer was empty"),
])
def test_an_unfaithful_or_unfit_answer_falls_back(server: ModelServer, tmp_path: Path,
                                                  answer: str, reason: str) -> None:
    server.answer(TITLE, Reply.text(answer))
    summary = backend(model_settings(server, tmp_path)).summarise(article(), 40)
    assert summary.method == "extractive"
    assert summary.text == summarise(article(), 40).text  # exactly the extractive summary
    assert summary.model is not None and not summary.model.accepted
    assert summary.model.detail == reason
    assert summary.model.answer == " ".join(answer.split())


def test_a_cut_off_answer_falls_back(server: ModelServer, tmp_path: Path) -> None:
    server.answer(TITLE, Reply.text("A data protection authority fined", finish_reason="length"))
    summary = backend(model_settings(server, tmp_path)).summarise(article(), 40)
    assert summary.method == "extractive"
    assert summary.model is not None and "cut off" in summary.model.detail


def test_a_429_is_retried_after_its_retry_after(server: ModelServer, tmp_path: Path) -> None:
    server.script(Reply.status(429, retry_after="0"))
    server.answer(TITLE, Reply.text(FAITHFUL))
    summary = backend(model_settings(server, tmp_path)).summarise(article(), 40)
    assert summary.method == "model" and len(server.requests) == 2


def test_429s_past_the_retries_fall_back(server: ModelServer, tmp_path: Path) -> None:
    server.script(*[Reply.status(429, retry_after="0")] * 3)
    model = backend(model_settings(server, tmp_path, model_retries=2))
    summary = model.summarise(article(), 40)
    assert summary.method == "extractive" and len(server.requests) == 3
    assert summary.model is not None
    assert summary.model.detail == ("no answer: HTTP 429 from the model server after 3 tries: "
                                    "scripted 429")
    assert model.usage.failed == 1 and model.usage.asked == 0
    # An unanswered request is not cached: the next build asks again.
    server.answer(TITLE, Reply.text(FAITHFUL))
    assert backend(model_settings(server, tmp_path)).summarise(article(), 40).method == "model"


def test_a_timeout_is_retried_then_falls_back(server: ModelServer, tmp_path: Path) -> None:
    server.script(Reply.slow(30), Reply.slow(30))
    settings = model_settings(server, tmp_path, model_timeout=0.3, model_retries=1)
    summary = backend(settings).summarise(article(), 40)
    assert summary.method == "extractive" and len(server.requests) == 2
    assert summary.model is not None
    assert summary.model.detail == "no answer: no answer within 0.3 s (2 tries)"


def test_a_malformed_body_falls_back_without_retrying(server: ModelServer,
                                                      tmp_path: Path) -> None:
    server.script(Reply.malformed(), Reply.malformed(b"<html>gateway</html>"))
    model = backend(model_settings(server, tmp_path))
    first = model.summarise(article(1), 40)
    second = model.summarise(article(2), 40)
    assert len(server.requests) == 2
    for summary in (first, second):
        assert summary.method == "extractive" and summary.model is not None
        assert "the model server's answer is not a chat completion" in summary.model.detail


def test_a_wrong_key_stops_asking(server: ModelServer, tmp_path: Path) -> None:
    model = backend(model_settings(server, tmp_path, model_api_key="sk-wrong"))
    details = {model.summarise(article(n), 40).model.detail for n in range(3)}  # type: ignore[union-attr]
    assert details == {"no answer: HTTP 401 from the model server: Incorrect API key provided"}
    assert server.posts == 1  # not once per article


def test_answers_are_cached_by_article_prompt_model_and_budget(server: ModelServer,
                                                               engine: Engine,
                                                               tmp_path: Path) -> None:
    server.answer(TITLE, Reply.text(FAITHFUL))
    settings = model_settings(server, tmp_path)
    first = backend(settings, engine).summarise(article(), 40)
    again = backend(settings, engine)
    assert again.summarise(article(), 40) == first
    assert len(server.requests) == 1 and again.usage.cached == 1 and again.usage.asked == 0
    # Another budget, another model or another text of the article is another question.
    again.summarise(article(), 35)
    backend(settings.model_copy(update={"model_name": "other-model"}), engine).summarise(
        article(), 40)
    edited = article()
    edited.body.append(Block("paragraph", "The fine is the regulator's largest."))
    again.summarise(edited, 40)
    assert len(server.requests) == 4
    # Tags or the URL are not what the model reads: still cached.
    retagged = article()
    retagged.url = "https://elsewhere.example/fine"
    again.summarise(retagged, 40)
    assert len(server.requests) == 4
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(model_summaries)) == 4


def test_refresh_asks_again_and_replaces_the_cached_answer(server: ModelServer, engine: Engine,
                                                           tmp_path: Path) -> None:
    server.script(Reply.text(FAITHFUL))
    settings = model_settings(server, tmp_path)
    backend(settings, engine).summarise(article(), 40)
    newer = "A data protection authority fined a chatbot developer four million euros."
    server.script(Reply.text(newer))
    assert backend(settings, engine, refresh=True).summarise(article(), 40).text == newer
    assert backend(settings, engine).summarise(article(), 40).text == newer
    assert len(server.requests) == 2


def test_prefetch_keeps_to_the_concurrency_limit(server: ModelServer, tmp_path: Path) -> None:
    server.default = Reply.hold(FAITHFUL)
    model = backend(model_settings(server, tmp_path, model_concurrency=2))
    work = threading.Thread(target=model.prefetch, args=([(article(n), 40) for n in range(5)],))
    work.start()
    wait_until(lambda: server.in_flight == 2, what="the model test server")
    assert len(server.requests) == 2  # the other three wait for a slot
    server.release()
    work.join(30)
    assert not work.is_alive()
    assert len(server.requests) == 5 and server.most_in_flight == 2
    assert model.usage.asked == 5
    assert all(model.summarise(article(n), 40).method == "model" for n in range(5))
    assert len(server.requests) == 5  # summarise found every answer prefetched


def test_the_standfirst_still_wins_and_asks_nothing(server: ModelServer, tmp_path: Path) -> None:
    fitted = article()
    fitted.standfirst = "A chatbot developer was fined."
    summary = summarise(fitted, 40, backend=backend(model_settings(server, tmp_path)))
    assert summary.method == "standfirst" and server.requests == []


@pytest.mark.parametrize(("unset", "named"), [
    ({"model_url": ""}, "DIGEST_MODEL_URL"),
    ({"model_name": " "}, "DIGEST_MODEL_NAME"),
    ({"model_url": "", "model_name": ""}, "DIGEST_MODEL_URL and DIGEST_MODEL_NAME"),
])
def test_the_backend_says_which_settings_it_needs(tmp_path: Path, unset: dict,
                                                  named: str) -> None:
    settings = Settings(summariser="model", model_url="http://127.0.0.1:9/v1",
                        model_name="m", database_url=f"sqlite:///{tmp_path / 'a.db'}") \
        .model_copy(update=unset)
    with pytest.raises(DigestError) as info:
        get_summariser("model", settings=settings)
    assert info.value.message == f"DIGEST_SUMMARISER=model needs {named}"
    assert "DIGEST_SUMMARISER=extractive" in (info.value.hint or "")


def test_a_model_url_that_is_not_http_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="model_url"):  # as the settings load
        Settings(summariser="model", model_url="api.openai.com/v1", model_name="m")
    settings = Settings(summariser="model", model_name="m",
                        database_url=f"sqlite:///{tmp_path / 'a.db'}").model_copy(
        update={"model_url": "api.openai.com/v1"})  # a caller that skipped the settings' check
    with pytest.raises(DigestError, match="DIGEST_MODEL_URL must be an http\\(s\\) URL"):
        get_summariser("model", settings=settings)


def test_a_server_that_is_not_there_is_asked_once(tmp_path: Path) -> None:
    settings = Settings(summariser="model", model_url="http://127.0.0.1:9/v1", model_name="m",
                        model_retries=0, database_url=f"sqlite:///{tmp_path / 'a.db'}")
    model = backend(settings)
    first, second = (model.summarise(article(n), 40) for n in (1, 2))
    assert first.method == second.method == "extractive"
    assert first.model is not None and first.model.detail.startswith(
        "no answer: cannot reach http://127.0.0.1:9/v1/chat/completions")
    assert second.model == first.model


def test_the_prompt_version_moves_with_the_prompt() -> None:
    """Edit the prompt, bump PROMPT_VERSION (cached answers are keyed by it), update this."""
    sample = article()
    sample.standfirst = "A standfirst."
    text = json.dumps([prompt.messages(sample, 60), prompt.article_text(sample)])
    assert (prompt.PROMPT_VERSION, hashlib.sha256(text.encode()).hexdigest()[:16]) == (
        "1", "51299daaf1f00289")


def test_no_request_without_the_model_backend(server: ModelServer, tmp_path: Path) -> None:
    settings = model_settings(server, tmp_path, summariser="extractive")
    summariser = get_summariser(settings.summariser, settings=settings)
    assert summariser.summarise(article(), 40).method == "extractive"
    assert server.requests == []
    connect(settings.database)  # nothing else to close: the extractive backend holds nothing


def test_a_build_without_the_model_does_not_load_httpx() -> None:
    probe = "import sys, digest.build; print('httpx' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip() == "False"
