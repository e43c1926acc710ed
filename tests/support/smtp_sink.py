"""Postfix's smtp-sink on 127.0.0.1: a fast C SMTP server that takes messages and drops them.

    with SmtpSink() as sink:                 # port chosen free; needs the Debian package postfix
        ... DIGEST_SMTP_PORT=sink.port ...
    sink.messages                            # how many it took (its -c counters)

Unlike aiosmtpd it offers PIPELINING. `options` pass through to it: ["-f", "RCPT"] answers
every RCPT with a 5xx, ["-q", "."] hangs up after each message's closing dot without replying.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
from pathlib import Path

from tests.support import wait_until

SMTP_SINK = Path("/usr/sbin/smtp-sink")


def available() -> bool:
    return SMTP_SINK.exists()


class SmtpSink:
    def __init__(self, *options: str) -> None:
        self.options = list(options)
        self.messages = 0
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        # Its counters go to a file: into a pipe nobody reads, they would fill it and stall
        # the server after a few thousand messages.
        self._counters = tempfile.TemporaryFile("w+")  # noqa: SIM115  (closed by stop())

    def start(self) -> SmtpSink:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        user = ["-u", "nobody"] if os.geteuid() == 0 else []  # it will not run as root
        self._process = subprocess.Popen(
            [str(SMTP_SINK), "-c", *user, *self.options, f"127.0.0.1:{self.port}", "256"],
            stdout=self._counters, stderr=subprocess.STDOUT,
        )
        wait_until(self._listening, timeout=10, what="smtp-sink")
        return self

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None
        self._counters.seek(0)
        counters = self._counters.read().replace("\r", "\n").split()
        self._counters.close()
        last = next((c for c in reversed(counters) if c.startswith("mesg=")), "mesg=0")
        self.messages = int(last.split("=")[1])

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
