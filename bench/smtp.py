"""SMTP throughput: messages per second to Postfix's smtp-sink and to aiosmtpd, by connections.

    .venv/bin/python bench/smtp.py [--messages 3000] [--runs 3] [--connections 1,4,8] [--tiny]

Both servers run on 127.0.0.1 in processes of their own: smtp-sink (a fast C sink from the
Debian package `postfix`, which `.ci/run` installs) throws each message away after its final
reply; aiosmtpd (the test suite's server) parses and keeps it. Each send is a real `run_send` of
a ~70 KB digest edition to MESSAGES subscribers, with the ledger in a fresh SQLite file, in a
fresh process that reports its wall time, CPU time and peak RSS. Prints, for each server and
number of connections (DIGEST_SMTP_CONNECTIONS) and of sending processes (DIGEST_SEND_PROCESSES:
each opens its own connections), the median messages/s of the runs, beside
listmonk's published ~830 messages/s per SMTP node. Goal: at least 1,000 messages/s to
smtp-sink with the default number of connections. `--tiny` sends 50 messages once (CI).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.send import CHECKS  # noqa: E402
from tests.support.data import TEXT, add_subscribers, big_html, make_edition  # noqa: E402
from tests.support.smtp_sink import SMTP_SINK, SmtpSink  # noqa: E402

GOAL = 1000  # messages/s to smtp-sink
LISTMONK = 830  # messages/s per SMTP node, as listmonk reports

CHILD = """
import json, sys, time
from bench.send import cpu_seconds, peak_rss_mb
from digest.send.runner import run_send
from digest.settings import Settings
# The checks ran before, in a process of their own (the send reuses their findings), and the
# bench's undesigned page is forced past their errors.
started, used = time.perf_counter(), cpu_seconds()
report = run_send(Settings(), sys.argv[1], sys.argv[2], force=True)
seconds, used = time.perf_counter() - started, cpu_seconds() - used
print(json.dumps({"sent": report.sent, "seconds": seconds, "cpu": used,
                  "peak_mb": peak_rss_mb(), "ok": report.ok, "stopped": report.stopped}))
"""

AIOSMTPD = """
import sys
sys.path.insert(0, sys.argv[1])
from tests.support.smtp_server import SmtpServer
server = SmtpServer(keep=False).start()
print("PORT", server.port, flush=True)
sys.stdin.read()  # until the bench closes our stdin
print(f"{server.count:,} messages", flush=True)
"""


class Sink:
    """smtp-sink, as the bench reports it."""

    name = "smtp-sink"

    def __init__(self) -> None:
        self.server = SmtpSink().start()
        self.port = self.server.port

    def stop(self) -> str:
        self.server.stop()
        return f"{self.server.messages:,} messages"


class Aiosmtpd:
    name = "aiosmtpd"

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", AIOSMTPD, str(ROOT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if not line or line[0] != "PORT":
            raise SystemExit("the aiosmtpd server did not start")
        self.port = int(line[1])

    def stop(self) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        received = self.process.stdout.read().strip()
        self.process.wait(timeout=30)
        return received


def send_once(env: dict[str, str], edition: str, slug: str) -> dict:
    subprocess.run([sys.executable, "-c", CHECKS, edition, slug], env=env, check=True,
                   capture_output=True, cwd=ROOT)  # as `digest check` before a send
    out = subprocess.run([sys.executable, "-c", CHILD, edition, slug], env=env,
                         capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"send failed:\n{out.stdout}\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not result["ok"]:
        raise SystemExit(f"send incomplete: {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", default="1,4,8", help="comma-separated counts to compare")
    parser.add_argument("--processes", default="1,2",
                        help="DIGEST_SEND_PROCESSES values to compare (a send of more than "
                        "2,000 messages goes in that many processes)")
    parser.add_argument("--tiny", action="store_true", help="50 messages, once (CI)")
    args = parser.parse_args()
    if args.tiny:
        args.messages, args.runs = 50, 1
    counts = [int(c) for c in args.connections.split(",")]
    processes = [int(n) for n in args.processes.split(",")] if not args.tiny else [1]
    servers: list[type[Sink] | type[Aiosmtpd]] = [Aiosmtpd]
    if SMTP_SINK.exists():
        servers.insert(0, Sink)
    else:
        print(f"{SMTP_SINK} is not installed (Debian package postfix): aiosmtpd only")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{args.messages:,} messages a send, median of {args.runs} run(s)")

    work = Path(tempfile.mkdtemp(prefix="digest-smtpbench-"))
    try:
        from digest.archive import connect

        database = f"sqlite:///{work / 'bench.db'}"
        engine = connect(database)
        slug = "bench-smtp"
        add_subscribers(engine, slug, args.messages)
        engine.dispose()
        html = big_html()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")},
            "DIGEST_DATA_DIR": str(work / "data"), "DIGEST_OUT_DIR": str(work / "editions"),
            "DIGEST_DATABASE_URL": database, "DIGEST_SECRET_KEY": "bench-secret",
            "DIGEST_SENDER": "smtp", "PYTHONPATH": str(ROOT),
        }
        from digest.settings import Settings

        default = Settings.model_fields["smtp_connections"].default
        # A send of this many goes in DIGEST_SEND_PROCESSES processes by default.
        default_processes = (Settings.model_fields["send_processes"].default
                             if args.messages > 2000 else 1)
        sink_rate: float | None = None
        week = 0
        for server_class in servers:
            for connections, sending in [(c, n) for c in counts for n in processes]:
                server = server_class()
                rates, cpus, peaks = [], [], []
                try:
                    for _ in range(args.runs):
                        week += 1
                        edition = f"2026-W{week:02d}"
                        make_edition(work / "editions", edition, slug, html=html, text=TEXT)
                        result = send_once({**env, "DIGEST_SMTP_PORT": str(server.port),
                                            "DIGEST_SMTP_CONNECTIONS": str(connections),
                                            "DIGEST_SEND_PROCESSES": str(sending)},
                                           edition, slug)
                        rates.append(result["sent"] / result["seconds"])
                        cpus.append(result["cpu"] / result["sent"] * 1000)
                        peaks.append(result["peak_mb"])
                finally:
                    received = server.stop()
                rate = statistics.median(rates)
                if server_class is Sink and connections == default and \
                        sending == default_processes:
                    sink_rate = rate
                print(f"{server.name:9} {connections:2d} connection(s) x {sending} process(es): "
                      f"{rate:7,.0f} messages/s "
                      f"({statistics.median(cpus):.2f} ms CPU a message, peak RSS "
                      f"{max(peaks):.0f} MB; server counted {received})")
        print(f"listmonk reports ~{LISTMONK} messages/s per SMTP node")
        if sink_rate is not None and not args.tiny:
            met = "met" if sink_rate >= GOAL else "NOT met"
            print(f"smtp-sink, the defaults ({default} connections x {default_processes} "
                  f"process(es)): {sink_rate:,.0f}/s "
                  f"({sink_rate / LISTMONK:.1f}x listmonk's); goal at least {GOAL:,}/s: {met}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
