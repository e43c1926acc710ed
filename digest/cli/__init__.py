"""The command line: thin commands over the library, one module per area.

Every `digest` run imports every command module (Typer needs them all to parse the command line
and to list them in `--help`), so a command module must be cheap to import. The rule for a
command module (tests/test_cli_imports.py enforces it for every command, found by walking the
CLI, so a new command is covered without being listed anywhere):

- At module level import only the standard library, `typer`, `digest.cli.app`,
  `digest.cli.common` and `digest.errors`. Register the command with `@app.command(...)`; a
  group of sub-commands is an `App(...)` from `digest.cli.app`, added with `app.add_typer`.
- Import everything else inside the function that uses it: the library (`digest.build`,
  `digest.archive`, `digest.send`, `digest.settings`...), and through it SQLAlchemy, pydantic,
  Jinja2, premailer, the web and send stacks; Rich's tables and progress bars too. Names needed
  only in annotations go under `if TYPE_CHECKING:` (with `from __future__ import annotations`).
- Help texts and option defaults are literals, not values imported from the library: Typer
  reads every command's options whenever `digest` starts, whichever command runs.

`digest CMD --help` then starts in about a tenth of a second (`bench/startup.py` measures each).
"""

import gc

from digest.cli import (  # noqa: F401  (importing registers the commands)
    build,
    check,
    config,
    ingest,
    preview,
    report,
    send,
    serve,
    settle,
    status,
    subscribers,
    warm,
)
from digest.cli.app import app


def main() -> None:
    try:
        app()
    finally:
        # On the way out the interpreter's last collections would walk every object the
        # libraries made (~0.15 s after a build); frozen, they are skipped. Nothing is lost:
        # objects freed by refcount are still finalised, files are closed and commits durable
        # by then, and the memory goes back to the system with the process.
        gc.freeze()
