"""Settings: environment and .env, masked secrets, `.env.example` complete, clean CLI errors."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from digest.cli import app
from digest.settings import Settings, descriptions, env_example
from tests.conftest import ROOT

runner = CliRunner()


def test_env_example_is_current() -> None:
    # Regenerate with: digest config --env-example > .env.example
    assert (ROOT / ".env.example").read_text() == env_example()


def test_env_example_lists_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    uncommented = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert uncommented == [], "a line .env would read as a setting (or fail to parse)"
    listed = set(re.findall(r"^#?\s*DIGEST_([A-Z0-9_]+)=", text, flags=re.M))
    expected = {name.upper() for name in Settings.model_fields}
    assert expected - listed == set(), "settings missing from .env.example"
    assert listed - expected == set(), ".env.example names settings that do not exist"


def test_each_example_value_reads_back_as_the_default(monkeypatch) -> None:
    """Uncommenting a line of .env.example changes nothing (no `PydanticUndefined`, JSON for
    a dict, true/false for a flag)."""
    text = (ROOT / ".env.example").read_text()
    values = dict(re.findall(r"^# (DIGEST_[A-Z0-9_]+)=(.*)$", text, flags=re.M))
    assert "PydanticUndefined" not in text and values["DIGEST_EMAIL_FONTS"] == "{}"
    for name, value in values.items():
        if value:  # an empty line means "not set", which is the default by definition
            monkeypatch.setenv(name, value)
    assert Settings().model_dump() == Settings.model_construct().model_dump()


def test_every_setting_has_a_docstring() -> None:
    undocumented = [n for n in Settings.model_fields if not descriptions().get(n)]
    assert undocumented == []
    assert descriptions()["out_dir"] == (
        "Where `digest build` writes editions (one folder per edition).")


def test_dotenv_file_is_read(tmp_path) -> None:
    (tmp_path / ".env").write_text("DIGEST_PUBLISHER_NAME=Dotenv News\nDIGEST_SEND_RATE=12.5\n")
    settings = Settings()
    assert settings.publisher_name == "Dotenv News"
    assert settings.send_rate == 12.5


def test_config_masks_secrets(monkeypatch) -> None:
    monkeypatch.setenv("DIGEST_SENDGRID_API_KEY", "SG.very-secret-value")
    monkeypatch.setenv("DIGEST_DATABASE_URL", "postgresql://editor:hunter22@db.internal/digest")
    result = runner.invoke(app, ["config", "--json"])
    assert result.exit_code == 0, result.output
    assert "very-secret-value" not in result.output
    assert "hunter22" not in result.output
    shown = json.loads(result.output)
    assert shown["sendgrid_api_key"] == "********"
    assert shown["secret_key"] == "(not set)"
    assert "db.internal" in shown["database_url"]


def test_invalid_setting_is_a_clear_error_without_traceback(monkeypatch) -> None:
    monkeypatch.setenv("DIGEST_SEND_RATE", "fast")
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 2
    assert "DIGEST_SEND_RATE='fast': expected a number" in result.output
    assert "Traceback" not in result.output


def test_generated_signing_key_is_kept(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = settings.signing_key()
    assert len(first) >= 32
    assert Settings(data_dir=tmp_path / "data").signing_key() == first
    assert (tmp_path / "data" / "secret.key").stat().st_mode & 0o077 == 0
