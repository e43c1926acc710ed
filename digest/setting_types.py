"""Setting types that need more than a Python type: each checks its value when the settings load
and says what it expected, so a wrong value is one clear line (setting_errors.py) instead of a
traceback deep inside SQLAlchemy, httpx or smtplib later on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr
from pydantic_settings import NoDecode

Port = Annotated[int, Field(ge=1, le=65535)]
ListenPort = Annotated[int, Field(ge=0, le=65535)]  # 0: the system picks a free one

DATABASE_EXAMPLES = "sqlite:///data/digest.db or postgresql+psycopg://user:password@host/dbname"


def _http_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http(s) URL with a host, such as https://news.example.org")
    return value.strip()


def _http_url_or_empty(value: str) -> str:
    return _http_url(value) if value.strip() else ""


def _article_url_template(value: str) -> str:
    if "{id}" not in value:
        raise ValueError("expected a URL with {id} where the article's id goes, such as "
                         "https://news.example.org/articles/{id}")
    _http_url(value.replace("{id}", "id"))
    return value.strip()


def _database_url(value: str) -> str:
    value = value.strip()
    if not value:
        return value  # the SQLite file in the data folder
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        url = make_url(value)
        url.get_dialect()
    except (ArgumentError, ValueError):
        raise ValueError(f"expected a database URL, such as {DATABASE_EXAMPLES}") from None
    except NoSuchModuleError:
        raise ValueError(
            f"expected a database URL, such as {DATABASE_EXAMPLES} "
            f"({url.drivername!r} is not a database SQLAlchemy knows)"
        ) from None
    return value


def _one_line(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("expected one line of text (it goes into mail headers), without "
                         "line breaks or control characters")
    return value


def _name(value: str) -> str:
    if not re.fullmatch(r"[\w.-]+", value.strip()):
        raise ValueError("expected one word, the name of a backend (such as outbox or smtp)")
    return value.strip()


_ADDRESS = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def _email_address(value: str) -> str:
    # A syntax check only: email_validator is too heavy to import for every command's start-up.
    if not _ADDRESS.fullmatch(_one_line(value).strip()):
        raise ValueError("expected an email address such as news@example.org")
    return value.strip()


def _mailbox(value: str) -> str:
    """An address, optionally with a display name: `Editors <editors@example.org>`."""
    from email.utils import parseaddr

    _, address = parseaddr(_one_line(value))
    if not address or "@" not in address:
        raise ValueError("expected an email address, optionally with a name: "
                         "Editors <editors@example.org>")
    _email_address(address)
    return value.strip()


def _folder(value: Path) -> Path:
    if value.exists() and not value.is_dir():
        raise ValueError("expected a folder (it may not exist yet), but this is a file")
    return value


def _file_or_empty(value: str) -> str:
    if value and not Path(value).is_file():
        raise ValueError("expected the path of a readable file, or nothing")
    return value


def _webhook_key(value: str) -> str:
    if not value.strip():
        return value
    from digest.errors import DigestError
    from digest.web.public.signature import load_public_key

    try:
        load_public_key(value)
    except DigestError:
        raise ValueError("expected SendGrid's verification key (an ECDSA P-256 public key in "
                         "base64, on one line, as SendGrid shows it)") from None
    return value


def _sendgrid_key(value: SecretStr) -> SecretStr:
    key = value.get_secret_value()
    if key and (not key.startswith("SG.") or any(c.isspace() for c in key)):
        raise ValueError("expected a SendGrid API key: one word starting with SG.")
    return value


def _json_object(value: object) -> object:
    """The environment's text as JSON, read here (not by pydantic-settings, whose failure would
    name neither the setting nor what it expects)."""
    if not isinstance(value, str):
        return value
    import json

    try:
        parsed = json.loads(value) if value.strip() else {}
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ValueError('expected a JSON object, such as {"Merriweather": "https://...css"}')
    return parsed


def _fonts(value: dict[str, str]) -> dict[str, str]:
    for name, url in value.items():
        try:
            _http_url(url)
        except ValueError:
            raise ValueError(f'expected JSON {{"Font name": "https://...css"}}; the URL of '
                             f"{name!r} is not an http(s) URL") from None
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
HttpUrlOrEmpty = Annotated[str, AfterValidator(_http_url_or_empty)]
ArticleUrlTemplate = Annotated[str, AfterValidator(_article_url_template)]
DatabaseUrl = Annotated[str, AfterValidator(_database_url)]
OneLine = Annotated[str, AfterValidator(_one_line)]
Name = Annotated[str, AfterValidator(_name)]
EmailAddress = Annotated[str, AfterValidator(_email_address)]
Mailbox = Annotated[str, AfterValidator(_mailbox)]
Folder = Annotated[Path, AfterValidator(_folder)]
FileOrEmpty = Annotated[str, AfterValidator(_file_or_empty)]
WebhookKey = Annotated[str, AfterValidator(_webhook_key)]
SendGridKey = Annotated[SecretStr, AfterValidator(_sendgrid_key)]
Fonts = Annotated[dict[str, str], NoDecode, BeforeValidator(_json_object), AfterValidator(_fonts)]
