"""What every command shares: settings, consoles, and turning user errors into clean exits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from rich.console import Console

from digest.errors import DigestError
from digest.settings import Settings

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)


def load_settings() -> Settings:
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
        raise fail(_escape(str(exc))) from None


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
