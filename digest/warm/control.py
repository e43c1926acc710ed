"""Start, stop and ask the warm server (`digest warm start|stop|status`)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from digest.warm import wire
from digest.warm.server import DEFAULT_IDLE, WarmError, command, make_folder, take_lock

READY_WITHIN = 30.0  # seconds: the imports take about a second on a slow machine


@dataclass(frozen=True)
class Started:
    status: dict[str, Any]
    already: bool  # it was running before


def status() -> dict[str, Any] | None:
    """The running server's figures (pid, builds served, idle timeout...), or None."""
    return wire.ask({"op": "status"})


def start(idle: float = DEFAULT_IDLE) -> Started:
    """Start a server in the background (its own session, its log in its folder) and wait
    until it answers; a server already running is left as it is."""
    running = status()
    if running is not None:
        return Started(running, already=True)
    here = wire.Place()
    make_folder(here)
    with open(here.log, "ab") as log, open(os.devnull, "rb") as nothing:
        server = subprocess.Popen(
            command(idle), stdin=nothing, stdout=log, stderr=log, cwd="/", start_new_session=True)
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        answer = status()
        if answer is not None:
            return Started(answer, already=False)
        if server.poll() is not None:
            break
        time.sleep(0.05)
    else:
        server.kill()
        server.wait()
    raise WarmError(f"the warm server did not start:\n{_tail(here.log)}",
                    hint=f"Its log is {here.log}.")


def stop(wait: float = 30.0) -> dict[str, Any] | None:
    """Ask the running server to stop (builds it is running finish first) and wait until it
    has; None when none was running."""
    answer = wire.ask({"op": "stop"})
    if answer is None:
        return None
    deadline = time.monotonic() + wait
    here = wire.Place()
    while time.monotonic() < deadline and _locked(here.lock):
        time.sleep(0.05)
    return answer


def _locked(path: str) -> bool:
    """Whether a server still holds its lock (it does until its process ends)."""
    lock = take_lock(path)
    if lock is None:
        return True
    os.close(lock)
    return False


def _tail(log: str, lines: int = 15) -> str:
    try:
        with open(log, encoding="utf-8", errors="replace") as text:
            return "".join(text.readlines()[-lines:]).rstrip() or "(its log is empty)"
    except OSError:
        return "(no log)"
