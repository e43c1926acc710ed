"""`digest config`: the effective settings, secrets masked."""

from __future__ import annotations

import json

import typer

from digest.cli.app import app
from digest.cli.common import console, load_settings


@app.command("config")
def config_command(
    as_json: bool = typer.Option(False, "--json", help="Print the settings as one JSON object."),
    example: bool = typer.Option(False, "--env-example", help="Print a .env.example template."),
) -> None:
    """Show the effective settings (environment, .env and defaults), secrets masked."""
    from rich.table import Table

    from digest.settings import descriptions, env_example

    if example:
        print(env_example(), end="")
        return
    shown = load_settings().public_view()
    if as_json:
        console.print_json(json.dumps(shown))
        return
    table = Table("setting", "value", "what it is", box=None)
    described = descriptions()
    for name, value in shown.items():
        table.add_row(f"DIGEST_{name.upper()}", value, described.get(name, ""))
    console.print(table)
