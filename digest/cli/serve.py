"""`digest serve`: the public endpoints (unsubscribe, provider webhook, archive, health)."""

from __future__ import annotations

import typer

from digest.cli.app import app
from digest.cli.common import console, escape, load_settings, user_errors


@app.command()
def serve(
    host: str = typer.Option(None, "--host", help="Interface to bind (default DIGEST_SERVE_HOST)."),
    port: int = typer.Option(
        None, "--port", min=1, max=65535, help="Port to bind (default DIGEST_SERVE_PORT)."
    ),
    access_log: bool = typer.Option(
        True, "--access-log/--no-access-log", help="Log one line per request."
    ),
) -> None:
    """Serve one-click unsubscribe, the SendGrid event webhook and the web archive.

    Binds 127.0.0.1 by default. Put a reverse proxy (TLS) in front, set DIGEST_BASE_URL to the public address it serves and DIGEST_SERVE_FORWARDED_ALLOW_IPS to the proxy's address (README: "Running behind a reverse proxy").
    """  # noqa: E501  (one line: Typer keeps a docstring's line breaks)
    from digest.web.public.server import serve as run_server
    from digest.web.public.webhooks import webhook_mode

    settings = load_settings()
    host = host or settings.serve_host
    port = port or settings.serve_port
    webhook = {
        "signed": "signature checked",
        "unsigned": "[bold red]UNSIGNED events accepted[/]",
        "refused": "[yellow]refused (set DIGEST_SENDGRID_WEBHOOK_PUBLIC_KEY)[/]",
    }[webhook_mode(settings)]

    def ready() -> None:
        console.print(
            f"Serving on [bold]http://{escape(host)}:{port}[/] (public base URL "
            f"{escape(settings.base_url)}); SendGrid webhook: {webhook}. Ctrl+C stops.",
            highlight=False,
        )

    with user_errors():
        run_server(settings, host, port, access_log=access_log, ready=ready)
