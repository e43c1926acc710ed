"""What `digest build` runs before anything else: hand the command to a running warm server
(digest/warm/__init__.py), or say there is none, in a millisecond or so. Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys

from digest.warm import wire

HANDED_OVER = {"build"}  # the commands a warm server runs
# Not handed over: a build that then serves the preview until Ctrl-C (--open) runs here.
KEPT_HERE = {"--open"}


def hand_over(argv: list[str]) -> int | None:
    """`digest ARGV` run by the warm server: its exit status. None when it must run in this
    process instead: not a command the server runs, no server (or none answering, or one out
    of date with the code on disk), or an interpreter started with options of its own."""
    if not argv or argv[0] not in HANDED_OVER or KEPT_HERE.intersection(argv):
        return None
    if _interpreter_options():
        return None
    here = wire.Place()
    sock = wire.reach(here, timeout=2.0)
    if sock is None:
        return None
    with sock:
        try:
            request, fds = _request(argv, here.identity)
            wire.send(sock, request, fds)
            accepted, _ = wire.receive(sock)
        except (OSError, UnicodeError, wire.WireError):
            return None
        if "pid" not in accepted:  # out of date (it starts afresh), stopping, or not ours
            return None
        return _wait(sock)


def _interpreter_options() -> bool:
    """Whether this interpreter was started with options (-X importtime, -O, -W...): a child of
    the server would not have them."""
    given = getattr(sys, "orig_argv", [])[1:2]
    return bool(given) and given[0] not in ("-m", sys.argv[0])


def _request(argv: list[str], identity: str) -> tuple[dict[str, object], list[int]]:
    fds, streams = [], []
    for fd, stream in ((0, sys.stdin), (1, sys.stdout), (2, sys.stderr)):
        try:
            os.fstat(fd)
        except OSError:  # closed: the child gets /dev/null there
            pass
        else:
            fds.append(fd)
        streams.append([stream.encoding, stream.errors, getattr(stream, "line_buffering", False),
                        getattr(stream, "write_through", False)] if stream is not None else None)
    umask = os.umask(0o022)
    os.umask(umask)
    return {"op": "run", "identity": identity, "argv": argv, "cwd": os.getcwd(),
            "env": dict(os.environ), "umask": umask, "path": sys.path, "fds": fds,
            "streams": streams}, fds


def _wait(sock: socket.socket) -> int:
    """Forward the signals a terminal sends until the build's status comes back."""
    sock.settimeout(None)

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(OSError):
            wire.send(sock, {"op": "signal", "signal": signum})

    # Those this process ignores (SIGINT in a shell's background job, say) stay ignored.
    before = {signum: signal.signal(signum, forward)
              for signum in wire.FORWARDED_SIGNALS
              if signal.getsignal(signum) is not signal.SIG_IGN}
    try:
        outcome, _ = wire.receive(sock)
    except wire.WireError:
        print("digest: the warm server stopped during this build, so how it ended is not "
              "known: see `digest warm status` and build again.", file=sys.stderr)
        return 1
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
    if "signal" in outcome:  # end as the build did, so a shell or supervisor sees the same
        signum = int(outcome["signal"])
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return 128 + signum
    return int(outcome.get("exit", 1))
