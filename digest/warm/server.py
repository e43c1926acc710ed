"""The warm server (see digest/warm/__init__.py): imports what a build needs, listens, and runs
each command handed to it in a child forked for it alone.

    python -m digest.warm.server [--idle SECONDS]    (`digest warm start` runs it)

One thread, one loop over a selector: the listening socket, each running build's client
connection and its child's pidfd (which becomes readable when the child exits, so a reply can
never go to the wrong process, and a signal never reach a recycled pid). No thread is ever
started here: a child must be able to fork again (digest.forking).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import gc
import importlib
import io
import locale
import logging
import os
import selectors
import signal
import socket
import struct
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from digest.errors import DigestError
from digest.warm.wire import FORWARDED_SIGNALS, PACKAGE, Place, WireError, is_private
from digest.warm.wire import receive as receive_message
from digest.warm.wire import send as send_message

log = logging.getLogger("digest.warm")

# What `digest build` imports, library and CLI stack alike (a new process pays ~0.35 s for it).
# Not digest.cli's own modules: they make Rich consoles, which read the terminal and the
# environment when made, so each child imports them itself (a few ms).
PRELOAD = (
    "digest.build", "digest.settings", "digest.setting_errors", "digest.keyfile",
    "sqlalchemy.dialects.sqlite", "typer", "click", "rich.console", "rich.table", "rich.markup",
)
PRELOAD_IF_INSTALLED = ("sqlalchemy.dialects.postgresql.psycopg", "psycopg")
DEFAULT_IDLE = 3600.0


class WarmError(DigestError):
    """The server cannot start here; the message says why and what to do."""


def make_folder(here: Place) -> None:
    """The server's folder, made private to this user; WarmError if it cannot be had."""
    try:
        os.mkdir(here.folder, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise WarmError(f"cannot make {here.folder}: {exc.strerror}",
                        hint="Set TMPDIR to a folder you can write.") from None
    if not is_private(here.folder):
        raise WarmError(f"{here.folder} is not a folder of yours that only you can enter "
                        "(mode 0700).", hint="Remove it, or set TMPDIR elsewhere.")


def take_lock(path: str) -> int | None:
    """The server's lock, held (by its open file) until the process ends; None if another
    process holds it."""
    lock = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        return None
    return lock


def code_state() -> int:
    """A hash of what decides the code a new process would run: the stat of every file of the
    `digest` package and of every folder on sys.path (installing or removing a package
    changes its folder). Stat only, about a millisecond: it runs before every build."""
    seen: list[tuple[str, int, int]] = []
    for folder, subfolders, files in os.walk(PACKAGE):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(files):  # files, not folders: a first __pycache__ changes nothing
            with contextlib.suppress(OSError):
                info = os.stat(os.path.join(folder, name))
                seen.append((os.path.join(folder, name), info.st_mtime_ns, info.st_size))
    for entry in sys.path:
        try:
            seen.append((entry, os.stat(entry or ".").st_mtime_ns, 0))
        except OSError:
            seen.append((entry, -1, 0))
    return hash(tuple(seen))


@dataclass
class Build:
    """A command running in a child, and the client waiting for its exit status."""
    pid: int
    pidfd: int
    client: socket.socket | None
    started: float = field(default_factory=time.monotonic)


class Server:
    def __init__(self, here: Place, idle: float, lock: int) -> None:
        self.here, self.idle, self.lock = here, idle, lock
        self.selector = selectors.DefaultSelector()
        self.listener: socket.socket | None = None
        self.builds: dict[int, Build] = {}  # by pidfd
        self.state = code_state()
        self.started, self.last_seen = time.time(), time.monotonic()
        self.served = 0
        self.stopping = False
        self.restart = False
        self.signalled: int | None = None
        self.wake_r, self.wake_w = socket.socketpair()

    # -- the loop ------------------------------------------------------------------------------

    def listen(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.here.socket)  # a dead server's (this one holds the lock)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.here.socket)
        listener.listen(64)
        listener.setblocking(False)
        self.listener = listener
        self.selector.register(listener, selectors.EVENT_READ, self.accept)
        for fd in (self.wake_r, self.wake_w):
            fd.setblocking(False)
        self.selector.register(self.wake_r, selectors.EVENT_READ, self.woken)
        signal.set_wakeup_fd(self.wake_w.fileno(), warn_on_full_buffer=False)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self.asked_to_stop)

    def loop(self) -> None:
        while True:
            if self.signalled is not None:
                log.info("%s: stopping once running builds are done",
                         signal.Signals(self.signalled).name)
                self.signalled = None
                self.stop_listening()
            if self.stopping and not self.builds:
                break
            if self.builds:
                timeout = None
            else:
                timeout = self.last_seen + self.idle - time.monotonic()
                if timeout <= 0:
                    log.info("idle for %.0f s: stopping", self.idle)
                    break
            for key, _events in self.selector.select(timeout):
                try:
                    key.data(key.fileobj)
                except Exception:  # one request's trouble must not end the others' builds
                    log.exception("while serving")

    def asked_to_stop(self, signum: int, _frame: Any) -> None:
        self.signalled = signum  # the loop stops listening (its wake-up fd ends the wait)

    def woken(self, sock: socket.socket) -> None:
        with contextlib.suppress(BlockingIOError):
            while sock.recv(64):
                pass

    def stop_listening(self) -> None:
        """New clients find no server (and build in a process of their own); running builds
        finish and are answered."""
        self.stopping = True
        if self.listener is not None:
            self.selector.unregister(self.listener)
            self.listener.close()
            self.listener = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.here.socket)

    # -- requests ------------------------------------------------------------------------------

    def accept(self, listener: socket.socket) -> None:
        try:
            client, _ = listener.accept()
        except BlockingIOError:
            return
        client.settimeout(1.0)  # a request is written at once; nobody stalls the loop longer
        creds = client.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("iII"))
        _pid, uid, _gid = struct.unpack("iII", creds)
        if uid != os.getuid():
            log.warning("refused a connection from uid %d", uid)
            client.close()
            return
        try:
            request, fds = receive_message(client, max_fds=3)
        except WireError as exc:
            log.warning("a request that could not be read: %s", exc)
            client.close()
            return
        try:
            self.answer(client, request, fds)
        except (OSError, WireError, KeyError, TypeError, ValueError) as exc:
            log.warning("a request that could not be answered: %r", exc)
            client.close()
        finally:  # the client's streams: a child has its own copies by now
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def answer(self, client: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
        op = request.get("op")
        if op == "run":
            self.run(client, request, fds)
            return
        with client:
            if op == "status":
                send_message(client, self.status())
            elif op == "stop":
                send_message(client, {"stopping": True, "running": len(self.builds)})
                log.info("asked to stop: stopping once running builds are done")
                self.stop_listening()

    def status(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "started": self.started, "served": self.served,
                "running": len(self.builds), "idle": self.idle,
                "idle_for": time.monotonic() - self.last_seen,
                "current": code_state() == self.state, "socket": self.here.socket,
                "log": self.here.log}

    def run(self, client: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
        if request.get("identity") != self.here.identity:  # another copy's client, same checksum
            with client:
                send_message(client, {"other": True})
            return
        if self.stopping or code_state() != self.state:
            with client:
                send_message(client, {"stale": True})
            if not self.stopping:
                log.info("the code changed on disk: starting afresh once running builds "
                         "are done")
                self.restart = True
                self.stop_listening()
            return
        argv = [str(arg) for arg in request["argv"]]
        self.last_seen = time.monotonic()  # idle means without a build, whoever asks how it is
        pid = os.fork()
        if pid == 0:  # the child: never returns
            run_in_child(self, client, request, fds)
        pidfd = os.pidfd_open(pid)
        build = Build(pid, pidfd, client)
        self.builds[pidfd] = build
        self.selector.register(pidfd, selectors.EVENT_READ, self.exited)
        self.selector.register(client, selectors.EVENT_READ,
                               lambda _client: self.client_spoke(build))
        try:
            send_message(client, {"pid": pid})
        except OSError:
            self.client_gone(build)
        log.info("pid %d: digest %s", pid, " ".join(argv))

    def client_spoke(self, build: Build) -> None:
        assert build.client is not None
        try:
            message, _ = receive_message(build.client)
        except WireError:
            self.client_gone(build)
            return
        signum = message.get("signal")
        if message.get("op") == "signal" and signum in FORWARDED_SIGNALS:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(build.pidfd, signum)

    def client_gone(self, build: Build) -> None:
        """The client died (killed, its terminal closed): its build stops too, as a build
        in the client's own process would have."""
        if build.client is not None:
            self.selector.unregister(build.client)
            build.client.close()
            build.client = None
            log.info("pid %d: its client went away; stopping it", build.pid)
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(build.pidfd, signal.SIGTERM)

    def exited(self, pidfd: int) -> None:
        build = self.builds.pop(pidfd)
        self.selector.unregister(pidfd)
        _, status = os.waitpid(build.pid, 0)
        os.close(pidfd)
        code = os.waitstatus_to_exitcode(status)
        self.served += 1
        self.last_seen = time.monotonic()
        log.info("pid %d: %s after %.2f s", build.pid,
                 f"exit {code}" if code >= 0 else signal.Signals(-code).name,
                 time.monotonic() - build.started)
        if build.client is not None:
            self.selector.unregister(build.client)
            with build.client, contextlib.suppress(OSError):
                send_message(build.client, {"exit": code} if code >= 0 else {"signal": -code})

    def close_in_child(self) -> None:
        """What only the server should hold, closed in a child."""
        signal.set_wakeup_fd(-1)
        for key in list(self.selector.get_map().values()):
            with contextlib.suppress(OSError):
                if isinstance(key.fileobj, int):  # a pidfd
                    os.close(key.fileobj)
                else:
                    key.fileobj.close()
        self.selector.close()
        self.wake_w.close()
        os.close(self.lock)  # the lock is the server's: a new one may start while this runs


def run_in_child(server: Server, client: socket.socket, request: dict[str, Any],
                 fds: list[int]) -> None:
    """Become the process the client would have started: its streams, folder, umask,
    environment, sys.path and command line; then run the CLI and exit with its status."""
    code = 1
    try:
        server.close_in_child()
        client.close()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        given = [int(fd) for fd in request["fds"]]
        for target in (0, 1, 2):
            if target in given:
                os.dup2(fds[given.index(target)], target)
            else:  # closed in the client
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, target)
                os.close(null)
        for fd in fds:
            os.close(fd)
        os.chdir(request["cwd"])
        os.umask(int(request["umask"]))
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in request["env"].items()})
        tempfile.tempdir = None  # found again from this TMPDIR
        time.tzset()  # and local time from this TZ
        with contextlib.suppress(locale.Error):
            locale.setlocale(locale.LC_CTYPE, "")
        sys.path[:] = [str(entry) for entry in request["path"]]
        importlib.invalidate_caches()
        streams = request["streams"]
        sys.stdin = sys.__stdin__ = _stream(0, "r", streams[0])
        sys.stdout = sys.__stdout__ = _stream(1, "w", streams[1])
        sys.stderr = sys.__stderr__ = _stream(2, "w", streams[2])
        sys.argv = ["digest", *request["argv"]]
        logging.root.handlers.clear()  # the server's log is not the command's
        logging.root.setLevel(logging.WARNING)
        code = _run_cli()
    except BaseException:  # the child must end here, whatever happened
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    finally:
        # As a new process ends: exit functions (those its imports registered too), streams
        # flushed; then its status, or the signal that ended it.
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        if code < 0:
            signal.signal(-code, signal.SIG_DFL)
            os.kill(os.getpid(), -code)
        os._exit(code if code >= 0 else 1)


def _stream(fd: int, mode: str, how: list[Any] | None) -> io.TextIOWrapper:
    """A text stream on `fd` made as the client's interpreter made its own: encoding, error
    handler, buffering (line-buffered on a terminal, unbuffered with PYTHONUNBUFFERED)."""
    encoding, errors, line, through = how or ("utf-8", "strict", False, False)
    raw = open(fd, mode + "b", closefd=False)  # noqa: SIM115 (the stream lives as long as we do)
    return io.TextIOWrapper(raw, encoding=str(encoding), errors=str(errors),
                            line_buffering=bool(line), write_through=bool(through))


def _run_cli() -> int:
    """The command's exit status; minus a signal's number when it must end by that signal."""
    from digest.cli import main

    try:
        main()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        traceback.print_exc()  # as Python does on an uncaught Ctrl-C, then ends by SIGINT
        return -signal.SIGINT
    return 0


def serve(idle: float = DEFAULT_IDLE) -> bool:
    """Run the server until it is stopped or idle for `idle` seconds. True when it stopped
    because the code changed on disk (the caller starts afresh)."""
    if not sys.platform.startswith("linux"):
        raise WarmError("digest warm needs Linux (it forks, and uses SO_PEERCRED and pidfds).")
    here = Place()
    make_folder(here)
    lock = take_lock(here.lock)
    if lock is None:
        raise WarmError("a warm server is already running for this copy of digest "
                        "(digest warm status).")
    started = time.perf_counter()
    for name in PRELOAD:
        importlib.import_module(name)
    for name in PRELOAD_IF_INSTALLED:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    server = Server(here, idle, lock)
    gc.collect()
    gc.freeze()  # what the imports made is never collected again: children share its pages
    server.listen()
    log.info("ready in %.2f s: pid %d on %s", time.perf_counter() - started, os.getpid(),
             here.socket)
    try:
        server.loop()
    finally:
        server.stop_listening()
        os.close(lock)
    return server.restart


def command(idle: float) -> list[str]:
    """The command line that starts a server (control.start, `digest warm start --foreground`,
    and a server starting afresh)."""
    return [sys.executable, "-m", "digest.warm.server", "--idle", str(idle)]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m digest.warm.server",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--idle", type=float, default=DEFAULT_IDLE,
                        help="stop after this many seconds without a build")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        stream=sys.stderr)
    try:
        restart = serve(args.idle)
    except WarmError as exc:
        log.error("%s", exc)
        sys.exit(1)
    if restart:  # the code changed on disk: a new interpreter imports it
        log.info("starting afresh")
        sys.stderr.flush()
        os.execv(sys.executable, command(args.idle))


if __name__ == "__main__":
    main()
