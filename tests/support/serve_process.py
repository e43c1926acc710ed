"""`digest serve` as a real process (uvicorn) on 127.0.0.1, and a lean HTTP/1.1 client for
load: what the benchmarks in bench/ fire requests at."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_serve(folder: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """Start `digest serve` on a free port (its log in folder/server.log) and wait until its
    health check answers."""
    port = free_port()
    command = [sys.executable, "-m", "digest", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log"]
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"digest serve exited early:\n{(folder / 'server.log').read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server, port
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("digest serve did not answer /healthz within 30 s")


def stop_serve(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """(status, whether the server closes the connection, body) of one HTTP/1.1 answer.

    Load is generated with plain asyncio streams: on a two-core machine httpx's connection pool
    costs more CPU per request than the server does, and a benchmark would mostly measure its
    own client.
    """
    status = int((await reader.readline()).split(b" ", 2)[1])
    length, close = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
        elif name.strip().lower() == "connection" and value.strip().lower() == "close":
            close = True
    return status, close, await reader.readexactly(length)
