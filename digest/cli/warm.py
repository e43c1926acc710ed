"""`digest warm start|stop|status`: a server that has imported what a build needs, so `digest
build` starts at once (digest/warm/__init__.py says how)."""

from __future__ import annotations

import time

import typer

from digest.cli.app import App, app
from digest.cli.common import console, escape, user_errors

warm_app = App(help="Keep a warmed-up digest running so `digest build` starts at once.",
               no_args_is_help=True)
app.add_typer(warm_app, name="warm")


@warm_app.command("start")
def start_command(
    idle: float = typer.Option(
        60.0, "--idle", help="Minutes without a build after which the server stops."),
    foreground: bool = typer.Option(
        False, "--foreground", help="Run here, logging to the terminal, until Ctrl-C (for a "
        "service manager); by default it runs in the background."),
) -> None:
    """Start the warm server for this user and this copy of digest.

    It imports the libraries once (about 0.35 s every new process would spend), then each
    `digest build` forks from it, with the caller's settings, folder and terminal, and comes
    back with the same output and exit status. It checks the code on disk before every build
    and starts afresh after a change; a build while it is not running runs as usual."""
    if idle <= 0:
        raise typer.BadParameter("must be more than 0 minutes", param_hint="--idle")
    if foreground:
        _foreground(idle * 60)
        return
    from digest.warm.control import start

    with user_errors():
        started = start(idle * 60)
    status = started.status
    verb = "already running" if started.already else "started"
    console.print(f"Warm server {verb}: pid {status['pid']}, stops after "
                  f"{status['idle'] / 60:g} minutes without a build.", highlight=False)
    console.print(f"  log: {escape(status['log'])}", highlight=False)


def _foreground(idle: float) -> None:
    """Become the server (a fresh interpreter: this one has made the CLI's consoles, which
    each build must make for its own terminal)."""
    import os

    from digest.warm.server import command

    argv = command(idle)
    os.execv(argv[0], argv)


@warm_app.command("stop")
def stop_command() -> None:
    """Stop the warm server; builds it is running finish first."""
    from digest.warm.control import stop

    answer = stop()
    if answer is None:
        console.print("No warm server is running.")
        return
    running = answer.get("running", 0)
    console.print("Warm server stopped" + (f" after {running} running build(s) finished."
                                           if running else "."))


@warm_app.command("status")
def status_command() -> None:
    """Whether the warm server is running, since when, and how many builds it has run."""
    from digest.warm.control import status

    found = status()
    if found is None:
        console.print("No warm server is running: `digest build` starts a process of its own "
                      "(`digest warm start` starts one).")
        raise typer.Exit(3)
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(found["started"]))
    current = ("[green]up to date[/] with the code on disk" if found["current"] else
               "[yellow]out of date[/]: it starts afresh at the next build")
    console.print(f"Warm server running: pid {found['pid']}, since {since}, "
                  f"{found['served']} build(s) run, {found['running']} running now; {current}.",
                  highlight=False)
    console.print(f"  stops after {found['idle'] / 60:g} minutes without a build (idle for "
                  f"{found['idle_for'] / 60:.1f})", highlight=False)
    console.print(f"  socket: {escape(found['socket'])}\n  log: {escape(found['log'])}",
                  highlight=False)
