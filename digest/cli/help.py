"""Help pages drawn with Rich, at a fraction of the start-up cost of Typer's own Rich help.

Typer's Rich help (`typer.rich_utils`) imports `rich.markdown` (markdown-it-py) and
`rich.traceback` (Pygments, attrs) before it draws anything, though a help page in "rich" markup
mode uses neither: that import alone doubled the time of `digest --help`. These classes draw the
same kind of page (usage, description, panels of arguments, options and commands) from Click's
own help records, with only the Rich modules a table in a panel needs.

Typer 0.29 also builds a pydantic TypeAdapter for every option it coerces, even one left unset,
so an unset `--help` flag imported pydantic into every `digest CMD --help`; the help option here
defaults to False, which Typer passes through untouched.
"""

from __future__ import annotations

import inspect
import io
import shutil
from typing import Any

from typer.core import TyperCommand, TyperGroup

MAX_WIDTH = 100


class HelpCommand(TyperCommand):
    def get_help_option(self, ctx: Any) -> Any:
        return _unset_is_false(super().get_help_option(ctx))

    def format_help(self, ctx: Any, formatter: Any) -> None:
        formatter.write(render_help(self, ctx))


class HelpGroup(TyperGroup):
    def get_help_option(self, ctx: Any) -> Any:
        return _unset_is_false(super().get_help_option(ctx))

    def format_help(self, ctx: Any, formatter: Any) -> None:
        formatter.write(render_help(self, ctx))


def _unset_is_false(option: Any) -> Any:
    if option is not None:
        option.default = False
    return option


def render_help(command: Any, ctx: Any) -> str:
    """The help page of `command`, with ANSI styles (Click strips them off a non-terminal)."""
    from rich.console import Console, Group
    from rich.padding import Padding
    from rich.text import Text

    usage = " ".join(command.collect_usage_pieces(ctx))
    parts: list[Any] = [Text.assemble(("Usage: ", "yellow"), (ctx.command_path, "bold"), " ",
                                      usage)]
    for index, paragraph in enumerate(_paragraphs(command)):
        parts.append(Text(paragraph, style="" if index == 0 else "dim"))
    panels: dict[str, list[tuple[str, str]]] = {}
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is not None:
            default = "Arguments" if param.param_type_name == "argument" else "Options"
            panels.setdefault(getattr(param, "rich_help_panel", None) or default, []).append(record)
    if isinstance(command, TyperGroup):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                panel = getattr(sub, "rich_help_panel", None) or "Commands"
                summary = sub.short_help or next(iter(_paragraphs(sub)), "")
                panels.setdefault(panel, []).append((name, summary))
    parts.extend(_panel(title, rows) for title, rows in panels.items())
    if command.epilog:
        parts.append(Text(inspect.cleandoc(command.epilog), style="dim"))

    out = io.StringIO()
    width = min(shutil.get_terminal_size().columns, MAX_WIDTH)
    console = Console(file=out, width=width, force_terminal=True, highlight=False)
    console.print(Padding(Group(*_spaced(parts)), (1, 1, 0, 1)))
    return out.getvalue()


def _paragraphs(command: Any) -> list[str]:
    """The description, cut at a form feed, each paragraph's lines joined for Rich to re-wrap."""
    text = inspect.cleandoc(command.help or "").partition("\f")[0]
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    if command.deprecated:
        note = command.deprecated if isinstance(command.deprecated, str) else ""
        paragraphs.insert(0, f"(deprecated{': ' + note if note else ''})")
    return paragraphs


def _panel(title: str, rows: list[tuple[str, str]]) -> Any:
    from rich import box
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for name, text in rows:
        table.add_row(Text(name), Text(text))  # Text: a '[default: x]' is not markup
    return Panel(table, title=title, title_align="left", border_style="dim", box=box.ROUNDED)


def _spaced(parts: list[Any]) -> list[Any]:
    """A blank line between the usage line, each paragraph and the panels, none between panels."""
    from rich.text import Text

    spaced: list[Any] = []
    for part in parts:
        if spaced and (isinstance(part, Text) or isinstance(spaced[-1], Text)):
            spaced.append(Text())
        spaced.append(part)
    return spaced
