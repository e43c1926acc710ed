"""How fast the sender goes, and how much memory it needs.

    .venv/bin/python bench/send.py            # 100,000 recipients to SendGrid (3 runs)
    .venv/bin/python bench/send.py --big      # and one run of 1,000,000 recipients
    .venv/bin/python bench/send.py --tiny     # 3,000 recipients once (CI)

SendGrid: the official client against the SendGrid-compatible test server on 127.0.0.1, run in
a process of its own so it does not share the sender's GIL. Each send runs in a fresh process
(`--child`), which reports its own peak RSS and that of the sending processes it forks: each
size runs with every DIGEST_SEND_PROCESSES of `--processes` (1 and 2: one process, then the
default), alternating, and prints both medians and their ratio. The edition is a ~70 KB HTML
digest, the size of a real one. (SMTP has a bench of its own: bench/smtp.py.)
Then one send to a server that takes every batch but drops `--drop-fraction` of its answers
(5% by default): how many recipients end up in doubt, and how many the provider got twice (the
answer must be 0; before lost answers were in doubt, this run mailed thousands twice).
Target on this machine: >= 20,000 recipients/s to SendGrid and < 200 MB at 1,000,000.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.data import TEXT, add_subscribers, big_html, make_edition  # noqa: E402


def child(args: argparse.Namespace) -> None:
    """One send in this fresh process; prints its figures as JSON."""
    from digest.send.runner import run_send
    from digest.settings import Settings

    settings = Settings()
    # The pre-send checks ran before, in a process of their own (run_child); the send reuses
    # their findings. The bench's page is not a designed email (no dark-mode colours), so its
    # errors are forced past.
    started, cpu = time.perf_counter(), cpu_seconds()
    report = run_send(settings, args.edition, args.slug, force=True)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    # The sending processes (DIGEST_SEND_PROCESSES) are forked from this one: the largest of
    # them, and the sum with this one's (an upper bound: pages they share are counted twice).
    peak_mb = peak_rss_mb()
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "sent": report.sent,
                "seconds": seconds,
                "cpu": cpu,
                "peak_mb": peak_mb,
                "children_mb": children_mb,
                "processes": settings.send_processes if report.sent > 2000 else 1,
                "ok": report.ok,
                "stopped": report.stopped,
                # (a list of addresses before lost answers were counted in doubt)
                "in_doubt": report.in_doubt if isinstance(report.in_doubt, int)
                else len(report.in_doubt),
                "retries": report.retries,
            }
        )
    )


def cpu_seconds() -> float:
    """CPU time of this process and of the sending processes it forked and waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM belongs to the process image, so unlike
    ru_maxrss it does not count the parent's memory the fork copied before exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


CHECKS = """
import sys
from digest.checks.edition import check_edition
from digest.settings import Settings
check_edition(Settings(), sys.argv[1], [sys.argv[2]])
"""


def run_child(env: dict[str, str], edition: str, slug: str) -> dict:
    """The pre-send checks (Chromium, SpamAssassin), as `digest check` runs before a send, in a
    process of their own; then the send, timed, in a fresh one."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", CHECKS, edition, slug], env=env, check=True,
                   capture_output=True)
    checks = time.perf_counter() - started
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--edition", edition, "--slug", slug],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"send failed:\n{out.stdout}\n{out.stderr}")
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "checks": checks}


def start_server(command: list[str]) -> tuple[subprocess.Popen[str], int]:
    server = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert server.stdout is not None
    line = server.stdout.readline().split()
    if not line or line[0] != "PORT":
        raise SystemExit("the test server did not start")
    return server, int(line[1])


def stats(port: int) -> dict:
    from urllib.request import urlopen

    with urlopen(f"http://127.0.0.1:{port}/_stats", timeout=10) as answer:
        return json.load(answer)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--big", action="store_true", help="also send to 1,000,000 recipients")
    parser.add_argument(
        "--count", type=int, default=100_000, help="recipients of the SendGrid runs"
    )
    parser.add_argument("--runs", type=int, default=3, help="SendGrid runs (the median is shown)")
    parser.add_argument("--database", default="", help="database URL (default: a temporary SQLite)")
    parser.add_argument("--drop-fraction", type=float, default=0.05,
                        help="answers the lossy server drops in the last run (0: skip that run)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--edition", help=argparse.SUPPRESS)
    parser.add_argument("--slug", help=argparse.SUPPRESS)
    parser.add_argument("--processes", default="1,2",
                        help="DIGEST_SEND_PROCESSES values to compare, run by run [1,2]")
    parser.add_argument("--tiny", action="store_true", help="3,000 recipients once (CI)")
    args = parser.parse_args()
    args.processes = [int(n) for n in str(args.processes).split(",") if n.strip()]
    if args.tiny:  # just over the size that is sent in several processes
        args.count, args.runs, args.big = 3000, 1, False
    if args.child:
        child(args)
        return
    work = Path(tempfile.mkdtemp(prefix="digest-sendbench-"))
    try:
        run_benchmarks(args, work)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run_benchmarks(args: argparse.Namespace, work: Path) -> None:
    from digest.archive import connect

    database = args.database or f"sqlite:///{work / 'bench.db'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")},
        "DIGEST_DATA_DIR": str(work / "data"),
        "DIGEST_OUT_DIR": str(work / "editions"),
        "DIGEST_DATABASE_URL": database,
        "DIGEST_SECRET_KEY": "bench-secret",
        "DIGEST_SENDGRID_API_KEY": "SG.test-key",
        "PYTHONPATH": str(ROOT),
    }
    engine = connect(database)
    html = big_html()
    print(f"edition HTML: {len(html.encode()) / 1024:.0f} KB; database: {engine.dialect.name}")

    server, port = start_server([sys.executable, "-m", "tests.support.sendgrid_server"])
    sendgrid_env = {
        **env,
        "DIGEST_SENDER": "sendgrid",
        "DIGEST_SENDGRID_API_HOST": f"http://127.0.0.1:{port}",
    }
    try:
        sizes = [(args.count, args.runs)] + ([(1_000_000, 1)] if args.big else [])
        for count, runs in sizes:
            slug = f"bench-{count}"
            started = time.perf_counter()
            add_subscribers(engine, slug, count)
            engine.dispose()  # as after a `subscribers sync`: the loading process is gone
            loaded = time.perf_counter() - started
            print(f"\nSendGrid, {count:,} recipients ({loaded:.1f}s to load them)")
            rates: dict[int, list[float]] = {n: [] for n in args.processes}
            peaks: dict[int, list[float]] = {n: [] for n in args.processes}
            edition_no = 0
            for run in range(runs):
                for processes in args.processes:  # alternating, so load hits each alike
                    edition_no += 1
                    edition = f"2026-W{edition_no:02d}"
                    make_edition(work / "editions", edition, slug, html=html, text=TEXT)
                    before = stats(port)["recipients"]
                    result = run_child({**sendgrid_env, "DIGEST_SEND_PROCESSES": str(processes)},
                                       edition, slug)
                    taken = stats(port)["recipients"] - before
                    rate = result["sent"] / result["seconds"]
                    rates[processes].append(rate)
                    children = result["children_mb"] if result["processes"] > 1 else 0.0
                    peaks[processes].append(result["peak_mb"] + children)
                    print(
                        f"  run {run + 1}, {result['processes']} process(es): "
                        f"{result['sent']:,} sent in {result['seconds']:.2f}s = {rate:,.0f} "
                        f"recipients/s ({result['sent'] / result['cpu']:,.0f} per CPU-second), "
                        f"peak RSS {result['peak_mb']:.0f} MB + {children:.0f} MB the largest "
                        f"child (server took {taken:,}; checks before it {result['checks']:.1f}s)"
                    )
            for processes in args.processes:
                print(
                    f"  median, {processes} process(es): "
                    f"{statistics.median(rates[processes]):,.0f} recipients/s, peak RSS "
                    f"{max(peaks[processes]):.0f} MB all processes together"
                )
            if len(args.processes) > 1:
                first, last = args.processes[0], args.processes[-1]
                ratio = statistics.median(rates[last]) / statistics.median(rates[first])
                print(f"  {last} / {first} process(es): {ratio:.2f}x")
            print("  target: >= 20,000 recipients/s, < 200 MB at 1,000,000 (the default "
                  "DIGEST_SEND_PROCESSES=2)")
        print(f"  server: {stats(port)}")
    finally:
        server.terminate()
        server.wait()

    if args.drop_fraction:
        lossy(args, env, engine, html, work)


def lossy(args: argparse.Namespace, env: dict[str, str], engine: object, html: str,
          work: Path) -> None:
    """One send of --count recipients to a server that drops a fraction of its answers."""
    command = [sys.executable, "-m", "tests.support.sendgrid_server",
               "--drop-fraction", str(args.drop_fraction)]
    server, port = start_server(command)
    try:
        slug = "bench-lossy"
        add_subscribers(engine, slug, args.count)  # type: ignore[arg-type]
        engine.dispose()  # type: ignore[attr-defined]
        make_edition(work / "editions", "2026-W01", slug, html=html, text=TEXT)
        lossy_env = {**env, "DIGEST_SENDER": "sendgrid",
                     "DIGEST_SENDGRID_API_HOST": f"http://127.0.0.1:{port}"}
        result = run_child(lossy_env, "2026-W01", slug)
        taken = stats(port)
        print(
            f"\nSendGrid dropping {args.drop_fraction:.0%} of its answers, {args.count:,} "
            f"recipients: {result['sent']:,} sent, {result['in_doubt']:,} in doubt "
            f"({taken['dropped']:,} answers dropped), {result['retries']:,} retries; the "
            f"provider took {taken['recipients']:,}, {taken['duplicates']:,} of them twice"
            + (f"; stopped: {result['stopped']}" if result["stopped"] else "")
        )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
