"""`digest build` with DIGEST_SUMMARISER=model, end to end against the local model server:
summaries in the email and the manifest, the guard's verdicts, cost reported, cached answers
giving the same bytes on a rebuild, and --refresh-summaries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cli import app
from tests.support.model_server import API_KEY, MODEL, ModelServer, Reply

WEEK = "2026-W10"
FAITHFUL = ("A data protection authority fined a chatbot developer €4m for processing "
            "children's data without a lawful basis under the GDPR.")
INVENTED_FIGURE = ("The competition regulator opened an antitrust investigation into cloud "
                   "licensing deals after complaints from five rival providers.")
INVENTED_NAME = "Chair Anna Berg said the board adopted an opinion on pseudonymised data."


@pytest.fixture
def server(build_settings, archive, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelServer]:
    with ModelServer() as running:
        running.answer("Chatbot maker fined", Reply.text(FAITHFUL, usage=(200, 25)))
        running.answer("widens scope to AI services", Reply.text(INVENTED_FIGURE))
        running.answer("pseudonymisation", Reply.text(INVENTED_NAME))
        for name, value in {"SUMMARISER": "model", "MODEL_URL": running.url,
                            "MODEL_NAME": MODEL, "MODEL_API_KEY": API_KEY}.items():
            monkeypatch.setenv(f"DIGEST_{name}", value)
        yield running


def build(*extra: str) -> str:
    result = CliRunner().invoke(app, ["build", "--week", WEEK, *extra], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def edition(build_settings) -> dict[str, bytes]:
    root = Path(build_settings.out_dir) / WEEK
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def articles(build_settings, slug: str) -> dict[str, dict]:
    path = Path(build_settings.out_dir) / WEEK / slug / "manifest.json"
    return {a["id"]: a for a in json.loads(path.read_text())["articles"]}


def test_model_summaries_end_to_end(server: ModelServer, build_settings) -> None:
    out = build()
    # chatbot fine at 40 words (tech-brief) and 60 (everything), two more at 60.
    assert server.posts == 4
    assert ("Model summaries (test-model): 4 wanted, 0 from the cache, 4 asked (640 prompt + "
            "110 completion tokens;") in out
    assert "2 set aside for the extractive summary" in out

    picked = articles(build_settings, "everything")
    fine = picked["fx-chatbot-fine"]
    assert (fine["summary"], fine["summary_method"]) == (FAITHFUL, "model")
    assert fine["summary_model"] == {
        "model": MODEL, "accepted": True,
        "detail": "every fact found in the article (1 amount, 1 name)"}
    probe = picked["fx-cloud-probe-update"]
    assert probe["summary_method"] == "extractive"
    assert probe["summary_model"] == {"model": MODEL, "accepted": False,
                                      "detail": "not in the article: figure 'five'",
                                      "answer": INVENTED_FIGURE}
    old = picked["fx-privacy-old"]
    assert old["summary_method"] == "extractive"
    assert old["summary_model"]["detail"] == "not in the article: name 'Chair Anna Berg'"
    # Standfirsts still win, and say nothing about a model.
    assert "summary_model" not in picked["fx-cartel"]
    warnings = json.loads((Path(build_settings.out_dir) / WEEK / "everything" /
                           "manifest.json").read_text())["warnings"]
    assert ("fx-cloud-probe-update: the model's summary was set aside (not in the article: "
            "figure 'five'); the extractive one is used") in warnings
    text = (Path(build_settings.out_dir) / WEEK / "tech-brief" / "email.txt").read_text()
    assert "fined a chatbot developer €4m" in text.replace("\n", " ")

    first = edition(build_settings)
    out = build()
    assert server.posts == 4  # all from the cache: nothing asked, nothing paid
    assert "4 wanted, 4 from the cache, 0 asked" in out
    assert edition(build_settings) == first  # same bytes

    server.answer("Chatbot maker fined", Reply.text("Unused: the earlier rule wins."))
    out = build("--refresh-summaries")
    assert server.posts == 8 and "0 from the cache, 4 asked" in out
    assert edition(build_settings) == first


def test_model_backend_chosen_but_not_configured(build_settings, archive,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SUMMARISER", "model")
    result = CliRunner().invoke(app, ["build", "--week", WEEK])
    assert result.exit_code == 1
    assert "DIGEST_SUMMARISER=model needs DIGEST_MODEL_URL and DIGEST_MODEL_NAME" in result.output
    assert "Traceback" not in result.output
    assert not (Path(build_settings.out_dir) / WEEK).exists()
