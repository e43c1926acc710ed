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
    from pydantic import ValidationError

    from digest.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"DIGEST_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise fail(f"invalid settings ({problems}). Fix them in the environment or .env.") from None


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a DigestError as one clear message and exit 1, with no traceback."""
    try:
        yield
    except DigestError as exc:
        raise fail(escape(str(exc))) from None


def escape(text: str) -> str:
    """Rich markup escaped, so a user's text (a title, an address) prints as itself."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)
