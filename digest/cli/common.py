"""What every command shares: settings, consoles, and turning user errors into clean exits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from digest.errors import DigestError

if TYPE_CHECKING:
    from digest.settings import Settings

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)


def load_settings() -> Settings:
    """The settings, or exit 2 with each wrong one named (value masked, what was expected)."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from digest.setting_errors import SettingError, explain
    from digest.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problem = explain(exc, Settings.secret_fields())
    except UnicodeDecodeError as exc:
        problem = SettingError([f".env is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} "
                                f"at offset {exc.start})"], hint="Save .env as UTF-8.")
    except SettingsError as exc:  # pydantic-settings could not read a source
        problem = SettingError([f"{exc}{f': {exc.__cause__}' if exc.__cause__ else ''}"])
    raise fail(escape(str(problem)), code=problem.exit_code) from None


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a DigestError as one clear message and exit 1 (2 for a wrong setting), with no
    traceback."""
    try:
        yield
    except DigestError as exc:
        raise fail(escape(str(exc)), code=getattr(exc, "exit_code", 1)) from None


def escape(text: str) -> str:
    """Rich markup escaped, so a user's text (a title, an address) prints as itself."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)
