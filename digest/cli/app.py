"""The Typer application every command module registers on."""

from __future__ import annotations

from typing import Any

import typer
import typer.main

from digest.cli.help import HelpCommand, HelpGroup


class App(typer.Typer):
    """A Typer app whose commands and groups draw the fast help pages of `digest.cli.help`.

    Sub-command groups are made with `App(...)` too, then `app.add_typer(group, name=...)`.
    """

    def __init__(self, **options: Any) -> None:
        options.setdefault("cls", HelpGroup)
        options.setdefault("add_completion", False)
        # None: Typer's rich_utils (and its imports) stay out of help pages and usage errors.
        super().__init__(rich_markup_mode=None, **options)

    def command(self, name: str | None = None, *, cls: Any = None, **options: Any) -> Any:
        return super().command(name, cls=cls or HelpCommand, **options)


app = App(
    name="digest",
    help="Build, preview and send the publisher's weekly newsletter digests.",
    no_args_is_help=True,
)


@app.callback()
def _root() -> None:
    """Build, preview and send the publisher's weekly newsletter digests."""


def command_paths() -> list[tuple[str, ...]]:
    """Every command of the CLI as its words: (), ("build",), ("subscribers", "sync")...

    For checks that must cover each command, however many are added (tests, bench/startup.py).
    """
    import digest.cli  # noqa: F401  (importing registers the commands)

    found: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        found.append(path)
        group = getattr(command, "commands", {})  # a group (Typer vendors its own Click)
        for name in sorted(group):
            walk(group[name], (*path, name))

    walk(typer.main.get_command(app), ())
    return found
