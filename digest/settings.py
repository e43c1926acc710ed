"""All settings in one typed class, read from the environment and `.env` (prefix DIGEST_)."""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import json
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from digest.setting_errors import mask_url
from digest.setting_types import (
    ArticleUrlTemplate,
    DatabaseUrl,
    EmailAddress,
    FileOrEmpty,
    Folder,
    Fonts,
    HttpUrl,
    HttpUrlOrEmpty,
    ListenPort,
    Mailbox,
    Name,
    OneLine,
    Port,
    SendGridKey,
    WebhookKey,
)

# A rate limit as the `limits` library reads it: "20/hour", "5 per minute", "100/day".
_RATE = re.compile(r"[1-9]\d*\s*(?:/|per)\s*(?:second|minute|hour|day)s?", re.IGNORECASE)


class Settings(BaseSettings):
    """Each setting's docstring is its description (`descriptions()`, `.env.example`)."""

    model_config = SettingsConfigDict(
        env_prefix="DIGEST_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # Where things live
    data_dir: Folder = Path("data")
    """Folder for the SQLite archive, the generated secret key and other working files."""
    database_url: DatabaseUrl = ""
    """SQLAlchemy URL of the archive; empty means a SQLite file in the data folder."""
    out_dir: Folder = Path("editions")
    """Where `digest build` writes editions (one folder per edition)."""
    templates_dir: Folder = Path("templates")
    """The editors' template folder, searched before the packaged defaults."""
    subscribers_dir: Folder = Path("subscribers")
    """Folder with newsletters.toml, taxonomy.toml and one SLUG.csv subscriber list each."""

    # The publisher
    publisher_name: OneLine = "Regwire"
    """Publisher's name, shown in the footer and the List-Id."""
    postal_address: str = "Regwire Ltd, 10 Fleet Lane, London EC4A 1AB, United Kingdom"
    """Physical postal address printed in every email's footer (CAN-SPAM)."""
    editorial_contact: str = ""
    """Editorial contact line for the footer; empty falls back to the one found in the articles."""
    article_url_template: ArticleUrlTemplate = "https://regwire.example/articles/{id}"
    """URL of an article that came without one ({id} is replaced)."""
    fetch_timeout: float = Field(20.0, gt=0)
    """Seconds `digest ingest` waits for a feed URL to answer before giving up on it."""
    fetch_max_bytes: int = Field(20_000_000, ge=1024)
    """Largest body `digest ingest` reads from a URL (bytes, after decompression)."""
    base_url: HttpUrl = "http://127.0.0.1:8000"
    """Public base URL of `digest serve`: unsubscribe links and the web archive live under it."""

    # Building
    summary_words: int = Field(60, ge=10)
    """Default word budget of an article's summary (a newsletter may set its own)."""
    summariser: Name = "extractive"
    """Summariser backend when an article has no usable standfirst: extractive, lead or model."""
    # The model backend (DIGEST_SUMMARISER=model): nothing is sent unless it is chosen.
    model_url: HttpUrlOrEmpty = ""
    """Base URL of an OpenAI-compatible API, such as https://api.openai.com/v1 (no default)."""
    model_name: OneLine = ""
    """Model to ask for summaries (as the API names it)."""
    model_api_key: SecretStr = SecretStr("")
    """API key sent as a bearer token (secret); empty sends none (local servers)."""
    model_timeout: float = Field(60.0, gt=0)
    """Seconds to wait for one model answer before trying again or giving up."""
    model_retries: int = Field(2, ge=0, le=10)
    """Retries of a model request after a 429, 5xx, timeout or dropped connection."""
    model_concurrency: int = Field(4, ge=1, le=64)
    """Model requests in flight at once during a build."""
    size_warn_kb: float = 90.0
    """Warn when an email's inlined HTML passes this many KB."""
    size_limit_kb: float = 100.0
    """Shrink an edition until its inlined HTML fits under this many KB (Gmail clips at ~102)."""
    email_lang: str = "en"
    """Language of the emails (the lang attribute screen readers use)."""
    email_fonts: Fonts = Field(default_factory=dict)
    """Web fonts the email links, as JSON {"Name": "https://...css"}; empty links none."""
    build_processes: int = Field(2, ge=1, le=16)
    """Processes a build works in at once: they share its newsletters, and in a big week one
    finds the near-duplicates while another lists the tags (1: this one alone; a build that
    asks a model for its summaries renders in one)."""

    # Sending
    sender: Name = "outbox"
    """Delivery backend: outbox (writes .eml files), smtp or sendgrid."""
    from_email: EmailAddress = "newsletters@regwire.example"
    """Address the newsletters are sent from."""
    reply_to: Mailbox = "editors@regwire.example"
    """Reply-To address of every newsletter."""
    secret_key: SecretStr = SecretStr("")
    """Key that signs unsubscribe tokens; empty means one generated into the data folder."""
    send_rate: float = Field(0.0, ge=0)
    """Messages per second at most (0 means as fast as the backend allows)."""
    send_batch_size: int = Field(1000, ge=1, le=1000)
    """Recipients per provider request (SendGrid allows at most 1,000)."""
    send_retries: int = Field(5, ge=0)
    """Retries of a batch the provider provably did not take (429, 5xx, refused connection)."""
    send_backoff: float = Field(1.0, ge=0)
    """Seconds the first retry waits at most; each further retry doubles it (with jitter)."""
    send_processes: int = Field(2, ge=1, le=16)
    """Processes sending a list of more than 2,000 at once, each its own share of it; a crash
    leaves at most one batch per process in doubt."""
    send_lease_seconds: float = Field(60.0, gt=0)
    """Seconds a send's or build's lock in the database outlives its holder's last renewal."""
    sendgrid_api_key: SendGridKey = SecretStr("")
    """SendGrid API key (secret)."""
    sendgrid_api_host: HttpUrl = "https://api.sendgrid.com"
    """SendGrid API base URL: override for a proxy or a local test server."""
    sendgrid_timeout: float = Field(30.0, gt=0)
    """Seconds to wait for SendGrid; a batch whose answer does not come in time is in doubt."""
    sendgrid_asm_group_id: int | None = None
    """SendGrid unsubscribe group id, if the account uses one."""
    sendgrid_sandbox: bool = False
    """SendGrid sandbox mode: requests are validated but nothing is delivered."""
    sendgrid_webhook_public_key: WebhookKey = ""
    """SendGrid event-webhook verification key (base64 public key); empty refuses the webhook."""
    webhook_allow_unsigned: bool = False
    """Accept unsigned SendGrid events when no key is set (insecure; for trusted networks only)."""
    webhook_max_age_seconds: int = Field(600, ge=1)
    """Refuse signed webhook events whose timestamp is older than this."""
    webhook_max_body_bytes: int = Field(1_048_576, ge=1024)
    """Refuse (413) webhook requests larger than this many bytes, without reading them."""
    soft_bounce_limit: int = Field(3, ge=1)
    """Suppress an address after this many editions in a row soft-bounced (deferred, blocked)."""
    smtp_host: OneLine = "127.0.0.1"
    """SMTP server host."""
    smtp_port: Port = 25
    """SMTP server port."""
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    """SMTP transport security: none, starttls or tls (implicit TLS)."""
    smtp_username: str = ""
    """SMTP login name (empty: no login)."""
    smtp_password: SecretStr = SecretStr("")
    """SMTP password (secret)."""
    smtp_timeout: float = Field(30.0, gt=0)
    """Seconds before an SMTP operation is abandoned."""
    smtp_ca_file: FileOrEmpty = ""
    """CA certificates (PEM) to verify the SMTP server with; empty uses the system's."""
    smtp_allow_plaintext_auth: bool = False
    """Log in with DIGEST_SMTP_SECURITY=none, password in clear (only for a relay on loopback)."""
    smtp_connections: int = Field(4, ge=1, le=32)
    """SMTP connections sending at once, each reused; a crash leaves at most this many in doubt."""

    # Pre-send checks (digest check)
    chromium_path: Path = Path("/usr/bin/chromium")
    """Chromium for the checks that need a browser (axe-core, contrast, text size)."""
    spamassassin_path: Path = Path("/usr/bin/spamassassin")
    """SpamAssassin for the spam-score check (local rules only, no network tests)."""
    spam_error_score: float = 5.0
    """A SpamAssassin score above this is an error that stops `digest send`."""
    spam_warn_score: float = 2.5
    """A SpamAssassin score above this is a warning."""
    check_online_timeout: float = Field(10.0, gt=0)
    """Seconds `digest check --online` waits for each article link to answer."""
    check_online_concurrency: int = Field(8, ge=1, le=64)
    """Article links `digest check --online` requests at the same time."""
    editor: str = ""
    """Who sends from this machine, recorded with a forced send; empty means the OS user."""

    # Web
    preview_host: str = "127.0.0.1"
    """Interface the editor's preview binds to."""
    preview_port: ListenPort = 8025
    """Port of the editor's preview."""
    preview_token: SecretStr = SecretStr("")
    """Secret a preview bound off loopback asks for (once, as ?token=); empty: random per start."""
    serve_host: str = "127.0.0.1"
    """Interface `digest serve` binds to (put a reverse proxy in front for the public)."""
    serve_port: ListenPort = 8000
    """Port of `digest serve`."""
    serve_forwarded_allow_ips: str = "127.0.0.1"
    """Reverse proxies trusted for X-Forwarded-For/-Proto (comma-separated IPs, or *)."""

    # Readers: sign-up, the preference centre, digests cut to their topics
    confirm_hours: int = Field(72, ge=1)
    """Hours a sign-up's confirmation link stays valid."""
    pending_days: int = Field(7, ge=1)
    """Days an unconfirmed sign-up is kept (purged by serve start-up, sync and purge)."""
    signup_rate_ip: str = "20/hour"
    """Sign-up and link requests accepted per client IP, as N/second|minute|hour|day."""
    signup_rate_address: str = "3/hour"
    """Sign-up and link requests accepted per email address, as N/second|minute|hour|day."""
    public_form_max_bytes: int = Field(16_384, ge=1024)
    """Refuse (413) sign-up and manage-page posts larger than this many bytes."""
    variant_quiet: Literal["full", "skip"] = "full"
    """Readers whose topics have no story this week get the full edition (full) or none (skip)."""

    @field_validator("signup_rate_ip", "signup_rate_address")
    @classmethod
    def _rate(cls, value: str) -> str:
        if not _RATE.fullmatch(value.strip()):
            raise ValueError(f"{value!r} is not a rate such as 20/hour or 5/minute")
        return value.strip()

    @property
    def database(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'digest.db'}"

    def article_url(self, article_id: str) -> str:
        """The link of an article that came without one: `{id}` in the template replaced (the
        one rule ingest and render share; other braces in the template stay as they are)."""
        return self.article_url_template.replace("{id}", article_id)

    def editor_name(self) -> str:
        """Who is at the keyboard, for the records of forced sends and hand-settled batches:
        DIGEST_EDITOR, else the OS user."""
        if self.editor.strip():
            return self.editor.strip()
        import getpass

        try:
            return getpass.getuser()
        except (KeyError, OSError):  # no user name for this uid (a bare container)
            return "unknown"

    def signing_key(self) -> bytes:
        """The token key: the configured one, else one generated once and kept in the data dir."""
        if self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value().encode()
        from digest.keyfile import generated_key

        return generated_key(self.data_dir / "secret.key")

    @classmethod
    def secret_fields(cls) -> frozenset[str]:
        return frozenset(n for n, f in cls.model_fields.items() if isinstance(f.default, SecretStr))

    def public_view(self) -> dict[str, str]:
        """Every setting as text, secrets masked: what `digest config` prints."""
        shown: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else "(not set)"
            shown[name] = mask_url("" if value is None else str(value))
        shown["database_url"] = mask_url(self.database)
        return shown


@functools.cache
def descriptions() -> dict[str, str]:
    """Each setting's docstring, read from this module's source when asked: pydantic's
    `use_attribute_docstrings` would parse the class's source on every start (~30 ms), for text
    only `digest config` and `.env.example` show."""
    try:
        body = ast.parse(inspect.getsource(Settings)).body[0].body
    except (OSError, TypeError):  # no source shipped (a frozen build): names and values only
        return {}
    found = {}
    for node, after in itertools.pairwise(body):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)):
            found[node.target.id] = inspect.cleandoc(after.value.value)
    return found


def env_example() -> str:
    """The text of `.env.example`: every setting, its docstring and its default, written the way
    the setting reads it back (JSON for a dict, true/false for a flag)."""
    lines = ["# digest settings: copy to .env and uncomment what you change.", ""]
    described = descriptions()
    for name, field in Settings.model_fields.items():
        lines.extend(f"# {line}" for line in described.get(name, "").splitlines())
        default = field.get_default(call_default_factory=True)
        lines.append(f"# DIGEST_{name.upper()}={_as_env(default)}")
        lines.append("")
    return "\n".join(lines)


def _as_env(value: object) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else str(value)
