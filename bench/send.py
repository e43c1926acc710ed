"""How fast the sender goes, and how much memory it needs.

    .venv/bin/python bench/send.py            # 100,000 recipients to SendGrid (3 runs)
    .venv/bin/python bench/send.py --big      # and one run of 1,000,000 recipients
    .venv/bin/python bench/send.py --tiny     # 1,000 recipients once (CI)

SendGrid: the official client against the SendGrid-compatible test server on 127.0.0.1, run in
a process of its own so it does not share the sender's GIL. Each send runs in a fresh process
(`--child`), which reports its own peak RSS. The edition is a ~70 KB HTML digest, the size of a
real one. (SMTP has a bench of its own: bench/smtp.py.)
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
    from digest.checks.edition import check_edition
    from digest.send.runner import run_send
    from digest.settings import Settings

    settings = Settings()
    # The pre-send checks (Chromium, SpamAssassin) run before the clock starts, as `digest
    # check` runs before a send; the send then reuses their findings. The bench's page is not a
    # designed email (no dark-mode colours), so its errors are forced past.
    checked = time.perf_counter()
    check_edition(settings, args.edition, [args.slug])
    checks = time.perf_counter() - checked
    started, cpu = time.perf_counter(), time.process_time()
    report = run_send(settings, args.edition, args.slug, force=True)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak_mb = peak_rss_mb()
    print(
        json.dumps(
            {
                "sent": report.sent,
                "seconds": seconds,
                "cpu": cpu,
                "checks": checks,
                "peak_mb": peak_mb,
                "ok": report.ok,
                "stopped": report.stopped,
                # (a list of addresses before lost answers were counted in doubt)
                "in_doubt": report.in_doubt if isinstance(report.in_doubt, int)
                else len(report.in_doubt),
                "retries": report.retries,
            }
        )
    )


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


def run_child(env: dict[str, str], edition: str, slug: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--edition", edition, "--slug", slug],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"send failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


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
    parser.add_argument("--tiny", action="store_true", help="1,000 recipients once (CI)")
    args = parser.parse_args()
    if args.tiny:
        args.count, args.runs, args.big = 1000, 1, False
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
            rates, peaks = [], []
            for run in range(runs):
                edition = f"2026-W{run + 1:02d}"
                make_edition(work / "editions", edition, slug, html=html, text=TEXT)
                before = stats(port)["recipients"]
                result = run_child(sendgrid_env, edition, slug)
                taken = stats(port)["recipients"] - before
                rate = result["sent"] / result["seconds"]
                rates.append(rate)
                peaks.append(result["peak_mb"])
                print(
                    f"  run {run + 1}: {result['sent']:,} sent in {result['seconds']:.2f}s = "
                    f"{rate:,.0f} recipients/s ({result['sent'] / result['cpu']:,.0f} per "
                    f"CPU-second of the sender), peak RSS {result['peak_mb']:.0f} MB "
                    f"(server took {taken:,}; the checks before it {result['checks']:.1f}s)"
                )
            print(
                f"  median {statistics.median(rates):,.0f} recipients/s, "
                f"peak RSS {max(peaks):.0f} MB (target >= 20,000/s, < 200 MB at 1,000,000)"
            )
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
