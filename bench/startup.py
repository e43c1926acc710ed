"""Start-up of every `digest` command: `digest CMD --help`, whole process, beside `python -c pass`.

    .venv/bin/python bench/startup.py [--runs 15] [--tiny]

The commands are found by walking the CLI (so a new command is measured without editing this
file). Each run starts a fresh process, the way a person's shell does; rounds go through every
command in turn, so a burst of load on the shared machine spreads over all of them rather than
spoiling one. Prints each command's median and fastest wall time, the interpreter's own start-up
(`python -c pass`) and the difference, which is what `digest` adds, and the median CPU time
(user + system: the figure to compare when other work shares the machine). Goal: at most 0.3 s whole
process for every command. `--tiny` runs once each (CI checks that the bench still works).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.cli.app import command_paths  # noqa: E402

GOAL = 0.3


def digest_program() -> list[str]:
    """The installed `digest` script beside this interpreter, else `python -m digest`."""
    script = Path(sys.executable).with_name("digest")
    return [str(script)] if script.exists() else [sys.executable, "-m", "digest"]


def run(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one whole process."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{child.stderr.read().decode()}")
    child.stderr.close()
    return seconds, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command")
    parser.add_argument("--tiny", action="store_true", help="one run each (CI)")
    args = parser.parse_args()
    runs = 1 if args.tiny else args.runs
    compileall.compile_dir(ROOT / "digest", quiet=1)  # as an installed copy has it

    program = digest_program()
    cases: dict[str, list[str]] = {"python -c pass": [sys.executable, "-c", "pass"]}
    for path in command_paths():
        cases[" ".join(("digest", *path, "--help"))] = [*program, *path, "--help"]
    times: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, argv in cases.items():
            seconds, used = run(argv)
            times[name].append(seconds)
            cpu[name].append(used)

    base = statistics.median(times["python -c pass"])
    width = max(map(len, cases))
    print(f"start-up, whole process, {runs} run(s) each; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'':{width}}  {'median':>7}  {'fastest':>7}  {'digest adds':>11}  {'CPU median':>10}")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        added = "" if name == "python -c pass" else f"{median - base:+.3f} s"
        print(f"{name:{width}}  {median:6.3f}s  {min(seconds):6.3f}s  {added:>11}  "
              f"{statistics.median(cpu[name]):9.3f}s")
    slowest = max(statistics.median(s) for n, s in times.items() if n != "python -c pass")
    met = "met" if slowest <= GOAL else "NOT met"
    verdict = "" if args.tiny else f"; goal at most {GOAL} s: {met}"
    print(f"slowest command median {slowest:.3f} s{verdict}")


if __name__ == "__main__":
    main()
