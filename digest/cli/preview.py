"""`digest preview`: serve the built editions to the editor's browser, live."""

from __future__ import annotations

import typer

from digest.cli.app import app
from digest.cli.common import console, load_settings, user_errors


@app.command("preview")
def preview_command(
    port: int | None = typer.Option(
        None, "--port", "-p", min=0, max=65535,
        help="Port to serve on (default: DIGEST_PREVIEW_PORT, 8025; 0 picks a free one).",
    ),
    host: str | None = typer.Option(
        None, "--host", help="Interface to bind (default: DIGEST_PREVIEW_HOST, 127.0.0.1)."
    ),
    no_open: bool = typer.Option(False, "--no-open", help="Don't open the browser."),
) -> None:
    """Preview the built editions in the browser; pages reload when templates or inputs change."""
    settings = load_settings()
    from digest.web.preview.server import serve_preview

    with user_errors():
        serve_preview(
            settings,
            open_browser=not no_open,
            port=port,
            host=host,
            announce=lambda line: console.print(line, highlight=False, soft_wrap=True),
        )
