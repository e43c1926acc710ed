"""`digest serve` as a real process (uvicorn) on 127.0.0.1, and a lean HTTP/1.1 client for
load: what the benchmarks in bench/ fire requests at."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
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


@dataclass
class Fired:
    latencies: list[float] = field(default_factory=list)  # seconds, of the requests answered
    failures: list[str] = field(default_factory=list)  # a connection lost, a status not 200
    bodies: list[bytes] = field(default_factory=list)  # of the 200 answers

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def hammer(port: int, requests: Iterable[bytes], clients: int) -> Fired:
    """Send the raw HTTP/1.1 `requests` over `clients` keep-alive connections, each taking the
    next one as soon as it has its answer.

    Plain asyncio streams: on a two-core machine httpx's connection pool costs more CPU per
    request than the server does, and a benchmark would mostly measure its own client.
    """
    fired = Fired()
    queue = iter(requests)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in queue:
                started = time.perf_counter()
                try:
                    writer.write(request)
                    status, close, body = await read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    fired.failures.append(type(exc).__name__)
                    close = True
                else:
                    fired.latencies.append(time.perf_counter() - started)
                    if status == 200:
                        fired.bodies.append(body)
                    else:
                        fired.failures.append(f"HTTP {status}: {body[:200]!r}")
                if close:
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(clients)))
    return fired


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """(status, whether the server closes the connection, body) of one HTTP/1.1 answer."""
    status = int((await reader.readline()).split(b" ", 2)[1])
    length, close = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
        elif name.strip().lower() == "connection" and value.strip().lower() == "close":
            close = True
    return status, close, await reader.readexactly(length)
