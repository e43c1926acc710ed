"""The Typer application every command module registers on."""

import typer

app = typer.Typer(
    name="digest",
    help="Build, preview and send the publisher's weekly newsletter digests.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root() -> None:
    """Build, preview and send the publisher's weekly newsletter digests."""
