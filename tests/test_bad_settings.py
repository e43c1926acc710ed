"""A wrong setting is one clear line: the setting, its value (secrets masked), what was expected;
exit status 2 and never a traceback."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from typer.testing import CliRunner

from digest.archive import connect
from digest.cli import app
from digest.setting_errors import SettingError
from digest.settings import Settings, mask_url
from tests.conftest import ROOT

runner = CliRunner()
EC_KEY = base64.b64encode(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
    Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).decode()

WRONG = [
    # (setting, value, what the message says is expected)
    ("DIGEST_DATABASE_URL", "https://example.org", "expected a database URL, such as sqlite:///"),
    ("DIGEST_DATABASE_URL", "not a url", "expected a database URL"),
    ("DIGEST_SENDER", "outbox\r\nX: y", "expected one word, the name of a backend"),
    ("DIGEST_PUBLISHER_NAME", "Regwire\nBcc: all@example.org", "expected one line of text"),
    ("DIGEST_FROM_EMAIL", "newsletters", "expected an email address"),
    ("DIGEST_REPLY_TO", "Editors <nobody>", "expected an email address, optionally with a name"),
    ("DIGEST_SMTP_PORT", "70000", "expected a number at most 65535"),
    ("DIGEST_SERVE_PORT", "http", "expected a whole number"),
    ("DIGEST_SMTP_SECURITY", "ssl", "expected one of 'none', 'starttls' or 'tls'"),
    ("DIGEST_BASE_URL", "news.example.org", "expected an http(s) URL with a host"),
    ("DIGEST_SENDGRID_API_HOST", "ftp://api.sendgrid.com", "expected an http(s) URL"),
    ("DIGEST_ARTICLE_URL_TEMPLATE", "https://x.example/a", "expected a URL with {id}"),
    ("DIGEST_SENDGRID_WEBHOOK_PUBLIC_KEY", "c2VjcmV0", "expected SendGrid's verification key"),
    ("DIGEST_SENDGRID_WEBHOOK_PUBLIC_KEY", EC_KEY[:40], "expected SendGrid's verification key"),
    ("DIGEST_EMAIL_FONTS", "Merriweather", "expected a JSON object"),
    ("DIGEST_EMAIL_FONTS", '{"A": "javascript:x"}', "the URL of 'A' is not an http(s) URL"),
    ("DIGEST_SENDGRID_SANDBOX", "maybe", "expected true or false"),
    ("DIGEST_SEND_RATE", "-1", "expected a number at least 0"),
    ("DIGEST_SMTP_CA_FILE", "/no/such/ca.pem", "expected the path of a readable file"),
    ("DIGEST_DATA_DIR", "{file}", "expected a folder"),
    ("DIGEST_SUBSCRIBERS_DIR", "{file}", "expected a folder"),
]


@pytest.mark.parametrize(("name", "value", "expected"), WRONG,
                         ids=[f"{w[0]}={w[1][:20]}" for w in WRONG])
def test_a_wrong_setting_names_itself_its_value_and_what_is_expected(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, expected: str
) -> None:
    (tmp_path / "a-file").write_text("x")
    value = value.replace("{file}", str(tmp_path / "a-file"))
    monkeypatch.setenv(name, value)
    for command in (["config"], ["ingest", "--dry-run"], ["build", "--week", "2026-W10"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, (command, result.output)
        said = " ".join(result.output.split())  # the console wraps long lines
        assert f"{name}={value!r}"[:60] in said or name in said
        assert expected in said, said
        assert "Traceback" not in result.output


@pytest.mark.parametrize(("name", "value", "secret"), [
    ("DIGEST_SENDGRID_API_KEY", "SG.hunter22 with spaces", "hunter22"),
    ("DIGEST_DATABASE_URL", "postgresql://editor:hunter22@db:notaport/digest", "hunter22"),
    ("DIGEST_DATABASE_URL", "wat://editor:hunter22@db/digest", "hunter22"),
])
def test_secrets_in_a_wrong_setting_are_masked(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, secret: str
) -> None:
    monkeypatch.setenv(name, value)
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 2 and name in result.output
    assert secret not in result.output


def test_the_database_url_of_a_website_is_refused_without_a_traceback(tmp_path: Path) -> None:
    """As a new user would see it: a real process, its real stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env.update(DIGEST_DATABASE_URL="https://example.org", PYTHONPATH=str(ROOT))
    for command in (["config"], ["ingest"]):
        done = subprocess.run([sys.executable, "-m", "digest", *command], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 2, (command, done.stderr)
        assert "Traceback" not in done.stderr and "NoSuchModuleError" not in done.stderr
        assert "DIGEST_DATABASE_URL='https://example.org'" in done.stderr


@pytest.mark.parametrize(("url", "expected"), [
    ("https://example.org", "expected a database URL"),
    ("mysql://editor:hunter22@db/digest", "a database whose driver is installed (MySQLdb"),
])
def test_connect_refuses_what_it_cannot_open_as_a_setting_error(url: str, expected: str) -> None:
    with pytest.raises(SettingError) as caught:
        connect(url)
    assert expected in str(caught.value) and "hunter22" not in str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("url", [
    "postgresql://editor:hunter22@db.internal/digest",
    "postgresql://editor:hunter22@db.internal:notaport/digest",  # SQLAlchemy cannot parse it
    "postgresql://editor:hun@ter22@db.internal/digest",  # an @ in the password
    "postgresql://editor:hunter22/x@db.internal/digest",
    "editor:hunter22@db.internal/digest",  # no scheme at all
    "host=db.internal user=editor password=hunter22",  # libpq's keyword form
])
def test_mask_url_never_returns_a_password(url: str) -> None:
    masked = mask_url(url)
    assert "hunter22" not in masked and "ter22" not in masked
    assert "db.internal" in masked


def test_config_shows_a_url_setting_with_its_password_masked(monkeypatch) -> None:
    monkeypatch.setenv("DIGEST_SENDGRID_API_HOST", "https://proxy:hunter22@relay.example/sg")
    result = runner.invoke(app, ["config", "--json"])
    assert result.exit_code == 0 and "hunter22" not in result.output
    assert "relay.example" in result.output


def test_a_good_setting_loads_unchanged() -> None:
    settings = Settings(sendgrid_webhook_public_key=EC_KEY, reply_to="Desk <desk@example.org>",
                        email_fonts={"Lora": "https://fonts.example/lora.css"})
    assert settings.reply_to == "Desk <desk@example.org>"


def test_a_dotenv_that_is_not_utf8_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"DIGEST_PUBLISHER_NAME=\xff\xfeRegwire\n")
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 2 and ".env is not UTF-8 text (byte 0xff" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
