"""Listening sockets for `digest serve` and `digest preview`.

The socket is bound here rather than by uvicorn so that a busy port becomes a clear message
instead of a logged traceback and a bare exit status.
"""

from __future__ import annotations

import errno
import socket
from urllib.parse import urlsplit

from digest.errors import DigestError


def root_path(base_url: str) -> str:
    """The path part of BASE_URL ("/news" for https://example.org/news): behind a proxy that
    serves the app under a prefix, links the app builds itself keep that prefix."""
    return urlsplit(base_url).path.rstrip("/")


def bind(host: str, port: int, *, command: str = "serve", backlog: int = 2048) -> socket.socket:
    """A listening TCP socket on host:port, or a DigestError that says what to do.

    `command` ("serve" or "preview") names the command and settings the hints point at.
    Listening before uvicorn starts means a browser opened on the announced URL waits in the
    backlog instead of being refused while the app is still starting.
    """
    setting = f"DIGEST_{command.upper()}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise DigestError(
            f"cannot listen on host {host!r}: {exc.strerror}",
            hint=f"Pass an IP address such as 127.0.0.1 with --host (or set {setting}_HOST).",
        ) from None
    sock = socket.socket(family, kind, proto)
    # Like uvicorn: lets a restart reuse a port still in TIME_WAIT (never one that is listening).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise DigestError(
                f"port {port} on {host} is already in use (by another program, or another "
                f"digest {command}).",
                hint=f"Stop it, or choose another port: digest {command} --port {port + 1} "
                f"(or set {setting}_PORT).",
            ) from None
        if exc.errno == errno.EACCES:
            raise DigestError(
                f"not allowed to listen on port {port}",
                hint="Ports below 1024 need privileges: use a higher one with --port and put "
                "the reverse proxy on 80/443.",
            ) from None
        raise DigestError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            hint=f"Choose another port with --port (or set {setting}_PORT).",
        ) from None
    sock.set_inheritable(True)
    return sock
