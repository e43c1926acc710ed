"""Where the warm server listens, and the messages on its socket.

One server per user, Python and copy of `digest`: its socket is named for the interpreter, the
package's folder and the variables that decide what code a new process would run (`identity`),
in a folder only this user can enter, under TMPDIR (as the files a build keeps between
processes, digest.render.kept) unless that is too deep for a socket's path.

A message is a 4-byte length, then that many bytes of JSON; file descriptors travel with the
length (SCM_RIGHTS). Standard library only, and little of it: the client imports this module
on every `digest build`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import struct
import sys
import zlib

MAX_MESSAGE = 4 * 1024 * 1024  # an environment is at most a few hundred KB (ARG_MAX)
SOCKET_PATH_MAX = 107  # sockaddr_un's sun_path, less its closing NUL
PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # this `digest` package
# Variables read when a preloaded library is imported (TYPER_USE_RICH, PREMAILER_CACHE), and
# the interpreter's own: a server started with other values would run other code.
KEYED_VARIABLES = ("PYTHON", "TYPER_", "PREMAILER_")
# What a client passes on to its build: the signals a terminal or a supervisor sends.
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


class WireError(Exception):
    """The other end broke off, or sent what is not a message."""


def identity() -> str:
    """What decides the code a new `digest` process would run here. The server refuses a
    client whose identity is not its own (their sockets' names are only a checksum of it)."""
    return "\0".join([sys.executable, PACKAGE, *sorted(
        f"{name}={value}" for name, value in os.environ.items()
        if name.startswith(KEYED_VARIABLES))])


class Place:
    """The server's folder (this user's, under TMPDIR) and its socket, lock and log there."""

    def __init__(self) -> None:
        tmp = os.environ.get("TMPDIR") or "/tmp"
        self.identity = made_of = identity()
        self.folder = os.path.join(tmp, f"digest-warm-{os.getuid()}")
        if len(os.fsencode(self._in_folder(made_of, "sock"))) > SOCKET_PATH_MAX:
            # A TMPDIR too deep for a socket's path: /tmp, and that TMPDIR in the name.
            self.folder, made_of = f"/tmp/digest-warm-{os.getuid()}", f"{made_of}\0{tmp}"
        self.socket, self.lock, self.log = (self._in_folder(made_of, end)
                                            for end in ("sock", "lock", "log"))

    def _in_folder(self, made_of: str, end: str) -> str:
        key = zlib.crc32(made_of.encode("utf-8", "surrogateescape"))
        return os.path.join(self.folder, f"{key:08x}.{end}")


def is_private(folder: str) -> bool:
    """Whether `folder` is a real folder of this user's that nobody else can enter."""
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and not info.st_mode & 0o077)


def send(sock: socket.socket, message: dict[str, object], fds: list[int] | None = None) -> None:
    body = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogateescape")
    head = struct.pack(">I", len(body))
    if fds:
        socket.send_fds(sock, [head], fds)
        sock.sendall(body)
    else:
        sock.sendall(head + body)


def receive(sock: socket.socket, max_fds: int = 0) -> tuple[dict[str, object], list[int]]:
    """The next message and the descriptors that came with it; WireError if the other end
    closed or sent garbage. The descriptors are this process's to close."""
    head, fds = b"", []
    try:
        while len(head) < 4:
            if max_fds:
                data, got, _flags, _addr = socket.recv_fds(sock, 4 - len(head), max_fds)
                fds.extend(got)
            else:
                data = sock.recv(4 - len(head))
            if not data:
                raise WireError("closed")
            head += data
        (size,) = struct.unpack(">I", head)
        if size > MAX_MESSAGE:
            raise WireError(f"a message of {size} bytes")
        body = bytearray()
        while len(body) < size:
            data = sock.recv(min(size - len(body), 1 << 16))
            if not data:
                raise WireError("closed mid-message")
            body += data
        message = json.loads(body.decode("utf-8", "surrogateescape"))
        if not isinstance(message, dict):
            raise WireError("not a JSON object")
    except (OSError, ValueError, WireError) as exc:
        for fd in fds:
            os.close(fd)
        raise exc if isinstance(exc, WireError) else WireError(str(exc)) from None
    return message, fds


def connect(path: str, timeout: float) -> socket.socket | None:
    """A connection to the server at `path`, or None when nobody answers there."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def reach(here: Place, timeout: float) -> socket.socket | None:
    """A connection to this user's server, or None when there is none (or its folder is not
    private: then it is not used, whoever made it)."""
    if not os.path.exists(here.socket) or not is_private(here.folder):
        return None
    return connect(here.socket, timeout)


def ask(request: dict[str, object], timeout: float = 5.0) -> dict[str, object] | None:
    """The running server's answer to `request` (status, stop), or None if none answers."""
    sock = reach(Place(), timeout)
    if sock is None:
        return None
    with sock:
        try:
            send(sock, request)
            return receive(sock)[0]
        except (OSError, WireError):
            return None
