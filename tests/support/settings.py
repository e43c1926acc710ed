"""Settings for tests that start their own newsroom (and processes to run in it)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from digest.settings import Settings


def clean_settings(**values: Any) -> Settings:
    """Settings from exactly these values: no .env, no DIGEST_* from the developer's shell."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("DIGEST_") and name != "DIGEST_TEST_DATABASE_URL":
                patch.delenv(name)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def settings_env(settings: Settings) -> dict[str, str]:
    """The same settings as environment variables, for a `digest` process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    for name in ("data_dir", "database_url", "out_dir", "templates_dir", "subscribers_dir"):
        env[f"DIGEST_{name.upper()}"] = str(getattr(settings, name))
    env["DIGEST_SECRET_KEY"] = settings.secret_key.get_secret_value()
    env["DIGEST_SENDER"] = settings.sender
    return env
