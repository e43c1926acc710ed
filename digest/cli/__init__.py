"""The command line: thin commands over the library, one module per area."""

from digest.cli import (  # noqa: F401  (importing registers the commands)
    build,
    config,
    ingest,
    preview,
    send,
    serve,
    subscribers,
)
from digest.cli.app import app


def main() -> None:
    app()
