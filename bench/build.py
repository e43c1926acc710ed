"""`digest build` at scale: 10,000 generated articles, 20 newsletters, one week, all built.

    .venv/bin/python bench/build.py [--articles 10000] [--newsletters 20] [--weeks N] [--runs 5]
                                    [--tiny]

Generates (in a temporary folder) a taxonomy of 24 tags, 20 newsletters over it (by tag and by
kind, one taking every article) and an archive of articles spread over N ISO weeks ending with
the week built. Two scenarios by default: the archive spans a year (about 190 articles in the
week, a busy publisher's real load), then all 10,000 fall in the week built (the worst case for
curation: every newsletter's manifest then lists ~10,000 decisions). A tenth of the articles
are untagged (their tags must be inferred), one in fifty is a reworded copy of another (to be
folded), half have a standfirst. Articles run 5-8 paragraphs.

Each run builds the week in a fresh Python process, the way an editor's `digest build` runs
(the package's bytecode compiled first, as an installed copy has it). That process reports the
time build_editions() took by stage, wall clock and CPU (CPU time is the figure to compare when
other work shares the machine), its total CPU time and its peak resident memory (VmHWM: the
ru_maxrss of a process started by this big one would count this one's memory too);
the parent measures the whole process's wall time, interpreter start-up and imports included.
Each run also times the real command, `python -m digest build --week WEEK` (the CLI's Typer and
Rich on top, and its table), as an editor would see it: in a new process, then with a warm
server running (`digest warm start`, digest/warm), which forks the build from a process that has
done the imports (started before and stopped after that one timed build).
After each build, the reference MJML compiler (npm `mjml`, as `.ci/run` installs it, or
DIGEST_MJML_VALIDATOR) renders the largest of the emails just built, also as a whole process:
the bench prints both medians and their ratio. Every run builds with one process and with two
(DIGEST_BUILD_PROCESSES; the npm ratio is of the last, the default 2; CPU counts the forked ones).
The timed runs read back what the week's first build stored and kept (the bodies' sentences in
the archive, compiled templates and parsed stylesheets in the TMPDIR the runs share), as every
build after an editor's first does; that first build, as on a fresh machine, has a line of its own.
Beside the ratio, two figures that bound it: a process that only imports the card's libraries
and SQLAlchemy (no build in a new process can take less), and the same build run a second time in
the process that built it first, in one process, as the preview's rebuild runs.
Goals: the realistic case at most 0.6 s whole process, and `digest build` (with `digest warm`
running: a new process cannot, as the import floor shows) faster than that one npm render; the
worst case at most 1.5 s.
`--tiny` builds a small archive once (CI checks that the bench still works).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOALS = {52: 0.6, 1: 1.5}  # whole-process seconds, by the weeks the archive spans
NPM_GOAL_WEEKS = 52  # the realistic case must beat one npm render
STAGES = ("load", "curate", "summarise", "render_mjml", "compile", "inline", "checks", "write")
WEEK = "2026-W47"
TAGS = {
    "ai-policy": ["artificial intelligence", "AI Act", "foundation model"],
    "antitrust": ["antitrust", "cartel", "abuse of dominance"],
    "mergers": ["merger", "acquisition", "takeover"],
    "data-privacy": ["GDPR", "personal data", "data protection"],
    "trade": ["tariffs", "export controls", "anti-dumping"],
    "sanctions": ["sanctions", "asset freeze"],
    "telecoms": ["spectrum", "broadband", "mobile operators"],
    "financial-regulation": ["capital requirements", "stablecoin", "prudential"],
    "cybersecurity": ["ransomware", "vulnerability", "NIS2"],
    "digital-markets": ["gatekeeper", "Digital Markets Act", "app store"],
    "state-aid": ["state aid", "subsidy"],
    "energy": ["electricity market", "gas storage"],
    "pharma": ["drug pricing", "marketing authorisation"],
    "consumer": ["consumer protection", "unfair terms"],
    "employment": ["platform workers", "minimum wage"],
    "tax": ["digital services tax", "transfer pricing"],
    "environment": ["emissions trading", "deforestation"],
    "transport": ["airline slots", "rail liberalisation"],
    "media": ["media freedom", "broadcasting"],
    "public-procurement": ["tender", "procurement"],
    "litigation": ["damages claim", "class action"],
    "lobbying": ["transparency register", "lobbyists"],
    "courts": ["Court of Justice", "General Court"],
    "opinion": [],
}
KINDS = ["News", "Insight", "Comment", "Analysis", "Interview"]
# Words drawn Zipf-like (as in real prose): a few very common, a long tail of rare ones, so
# openings share common phrases the way news copy does without being copies of each other.
FUNCTION = [
    "the", "of", "and", "to", "in", "a", "that", "for", "on", "is", "was", "said", "by",
    "with", "as", "at", "from", "it", "has", "be", "have", "will", "its", "which", "an", "are",
    "after", "would", "not", "but", "this", "were", "been", "also", "had", "over", "their",
    "more", "than", "into", "about",
]
CONTENT = [
    "commission", "regulator", "ministry", "authority", "court", "tribunal", "council",
    "parliament", "agency", "board", "company", "group", "platform", "provider", "operator",
    "bank", "insurer", "retailer", "airline", "carrier", "network", "announced", "opened",
    "closed", "fined", "approved", "blocked", "cleared", "reviewed", "proposed", "adopted",
    "delayed", "rules", "guidance", "decision", "ruling", "investigation", "probe", "review",
    "consultation", "framework", "regime", "regulation", "market", "sector", "customers",
    "consumers", "rivals", "suppliers", "partners", "investors", "lawyers", "officials",
    "staff", "week", "month", "year", "quarter", "deadline", "timetable", "hearing", "appeal",
    "filing", "complaint", "notice", "order", "remedy", "european", "national", "federal",
    "regional", "global", "digital", "financial", "public", "private", "cross-border",
    "significant", "substantial", "limited", "narrow", "broad", "early", "late", "further",
    "final", "preliminary", "formal",
]
SYLLABLES = [
    "ka", "lo", "mi", "re", "su", "ta", "ve", "no", "bri", "cor", "dan", "fel", "gor", "hal",
    "jin", "kem", "lus", "mar", "nor", "pel",
]


def vocabulary(seed: int = 5) -> tuple[list[str], list[float]]:
    rng = random.Random(seed)
    rare = sorted({"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(6000)})
    words = FUNCTION + CONTENT + rare
    weights = [1 / (rank + 10) for rank in range(len(words))]
    cumulative, total = [], 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    return words, cumulative


WORDS, CUMULATIVE = vocabulary()
NAMES = ["Ada Byrne", "Tomas Vik", "Lena Ortiz", "Sam Okafor", "Ines Caballero", "Kai Tanabe",
         "Maria Rossi", "John Park", "Priya Raman", "Ellen Marsh"]
CONTACT = ("Please e-mail editors@regwire.example to contact the editorial staff regarding this "
           "story.")


def sentence(rng: random.Random, extra: str = "") -> str:
    words = rng.choices(WORDS, cum_weights=CUMULATIVE, k=rng.randint(14, 26))
    if extra:
        words.insert(rng.randint(0, len(words)), extra)
    return " ".join(words).capitalize() + "."


def generate_articles(count: int, weeks: int, seed: int = 47) -> list[dict]:
    rng = random.Random(seed)
    monday = datetime.combine(date.fromisocalendar(2026, 47, 1), datetime.min.time(), UTC)
    start = monday - timedelta(weeks=weeks - 1)
    span = timedelta(weeks=weeks).total_seconds() - 1
    slugs = list(TAGS)
    out: list[dict] = []
    for n in range(count):
        tags = rng.sample(slugs[:-1], rng.choice((1, 1, 2, 2, 3)))
        if rng.random() < 0.05:
            tags.append("opinion")
        keyword = rng.choice(TAGS[tags[0]])
        paragraphs = [" ".join(sentence(rng, keyword if p == 0 and s == 0 else "")
                               for s in range(rng.randint(2, 4)))
                      for p in range(rng.randint(5, 8))]
        title = f"{rng.choice(CONTENT).capitalize()} {keyword} " + " ".join(
            rng.choices(WORDS, cum_weights=CUMULATIVE, k=rng.randint(5, 9)))
        published = start + timedelta(seconds=rng.uniform(0, span))
        article = {
            "id": f"bench-{n:05d}", "title": title,
            "published_at": published.isoformat().replace("+00:00", "Z"),
            "url": f"https://regwire.example/articles/bench-{n:05d}",
            "authors": rng.sample(NAMES, rng.choice((1, 1, 2))), "kind": rng.choice(KINDS),
            "tags": [] if rng.random() < 0.1 else
            [{"slug": t, "name": t.replace("-", " ").capitalize(), "inferred": False}
             for t in tags],
            "standfirst": sentence(rng, keyword) if rng.random() < 0.5 else None,
            "body": [{"kind": "paragraph", "text": p} for p in paragraphs],
            "contact": CONTACT, "source": "bench",
        }
        if out and rng.random() < 0.02:  # a reworded copy of an earlier story, published later
            original = rng.choice(out)
            article.update(title=original["title"] + " (updated)", tags=original["tags"],
                           body=[{"kind": "paragraph",
                                  "text": original["body"][0]["text"] + " " + sentence(rng)},
                                 *original["body"][1:]])
        out.append(article)
    return out


def write_config(folder: Path, newsletters: int, seed: int = 20) -> None:
    rng = random.Random(seed)
    lines = []
    for slug, keywords in TAGS.items():
        lines.append(f'[tags.{slug}]\nname = "{slug.replace("-", " ").capitalize()}"\n'
                     f"keywords = {json.dumps(keywords)}\n")
    (folder / "taxonomy.toml").write_text("\n".join(lines))
    slugs = list(TAGS)[:-1]
    lines = []
    for n in range(newsletters):
        tags = ["*"] if n == newsletters - 1 else rng.sample(slugs, rng.randint(2, 5))
        lines.append(
            f"[newsletters.letter-{n:02d}]\ntitle = \"Letter {n}\"\n"
            f"description = \"Bench newsletter {n}.\"\ntags = {json.dumps(tags)}\n"
            f"exclude_tags = {json.dumps(['opinion'] if n % 3 == 0 else [])}\n"
            f"max_articles = {rng.randint(10, 15)}\nsections = \"{'kind' if n % 2 else 'tag'}\"\n"
            f"summary_words = {rng.choice((40, 50, 60))}\n"
            'subject = "Letter: {{ edition.label }} — {{ lead.title }}"\n')
    (folder / "newsletters.toml").write_text("\n".join(lines))


CHILD = """
import json, sys, time
from pathlib import Path
from bench.send import cpu_seconds, peak_rss_mb
from digest.build import build_editions
from digest.settings import Settings
settings = Settings(database_url="sqlite:///" + sys.argv[1], subscribers_dir=Path(sys.argv[2]),
                    out_dir=Path(sys.argv[3]), data_dir=Path(sys.argv[3]) / "data",
                    templates_dir=Path(sys.argv[3]) / "no-templates",
                    build_processes=int(sys.argv[5]))
started, cpu = time.perf_counter(), cpu_seconds()
result = build_editions(settings, week=sys.argv[4])
seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
process_cpu, rebuild = cpu_seconds(), None
if len(sys.argv) > 6:  # a separate run: this one's whole-process time is not a build's
    # The same week again in this process, as the preview rebuilds it (one process: a web
    # server has threads), with what the first build loaded and compiled still there.
    again = settings.model_copy(update={"build_processes": 1,
                                        "out_dir": Path(sys.argv[6])})
    restarted = time.perf_counter()
    build_editions(again, week=sys.argv[4])
    rebuild = time.perf_counter() - restarted
print(json.dumps({"seconds": seconds, "cpu": cpu, "process_cpu": process_cpu,
                  "rebuild": rebuild,
                  "stages": dict(result.timings.wall), "stages_cpu": dict(result.timings.cpu),
                  "built": len(result.built),
                  "peak_mb": peak_rss_mb(),
                  "articles": sum(n.articles for n in result.newsletters),
                  "max_kb": max(n.html_bytes for n in result.newsletters) / 1024}))
import gc
gc.freeze()  # as `digest`'s main() does before the interpreter exits (digest/cli/__init__.py)
"""


def run_once(db: Path, subscribers: Path, out: Path, processes: int,
             again: Path | None = None) -> dict:
    """One build in a fresh process; with `again`, then a second one there (into `again`)."""
    started = time.perf_counter()
    extra = [str(again)] if again else []
    done = subprocess.run([sys.executable, "-c", CHILD, str(db), str(subscribers), str(out),
                           WEEK, str(processes), *extra], capture_output=True, text=True,
                          check=False, cwd=out.parent, env=process_env(out))
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"build failed:\n{done.stderr}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    data["wall"] = wall
    return data


def process_env(out: Path) -> dict[str, str]:
    """Every run's: this checkout's code, and the TMPDIR the runs share (what they keep)."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(out.parent / "tmp")}


def command_env(db: Path, subscribers: Path, out: Path, processes: int) -> dict[str, str]:
    return {**process_env(out), "DIGEST_DATABASE_URL": f"sqlite:///{db}",
            "DIGEST_SUBSCRIBERS_DIR": str(subscribers), "DIGEST_OUT_DIR": str(out),
            "DIGEST_DATA_DIR": str(out / "data"), "DIGEST_TEMPLATES_DIR": str(out / "none"),
            "DIGEST_BUILD_PROCESSES": str(processes)}


def command_once(db: Path, subscribers: Path, out: Path, processes: int) -> float:
    """The real command, `digest build --week WEEK`, whole process: the CLI's own start-up
    (Typer, Rich) and its printed table included."""
    env = command_env(db, subscribers, out, processes)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "digest", "build", "--week", WEEK],
                          capture_output=True, text=True, check=False, cwd=out.parent, env=env)
    if done.returncode != 0:
        sys.exit(f"digest build failed:\n{done.stdout}{done.stderr}")
    return time.perf_counter() - started


def warm_command_once(db: Path, subscribers: Path, out: Path, processes: int) -> float:
    """`digest build` as command_once times it, with a warm server running (digest.warm),
    started before and stopped after: the build is forked from it."""
    env = command_env(db, subscribers, out, processes)
    warm = [sys.executable, "-m", "digest", "warm"]
    subprocess.run([*warm, "start", "--idle", "10"], env=env, cwd=out.parent, check=True,
                   capture_output=True)
    try:
        seconds = command_once(db, subscribers, out, processes)
        served = json.loads(subprocess.run(
            [sys.executable, "-c", "import json; from digest.warm import wire; "
             "print(json.dumps(wire.ask({'op': 'status'})))"], env=env, cwd=out.parent,
            check=True, capture_output=True, text=True).stdout)
    finally:
        subprocess.run([*warm, "stop"], env=env, cwd=out.parent, check=True,
                       capture_output=True)
    if not served or served["served"] != 1:
        sys.exit(f"the warm server did not run the build: {served}")
    return seconds


def imports_alone(modules: str = "digest.build, digest.settings") -> float:
    """A process that only starts and imports `modules` (by default what a build imports: the
    floor of the figure)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import gc, {modules}; gc.freeze()"], check=True)
    return time.perf_counter() - started


# What no build in a new process can do without: the card's libraries (pydantic-settings, jinja2,
# premailer, mjml-python) and the database layer.
FIXED = "pydantic_settings, jinja2, premailer, mjml, sqlalchemy"


def npm_mjml() -> Path | None:
    """The npm `mjml` compiler CI installs, if this machine has it."""
    for candidate in (os.environ.get("DIGEST_MJML_VALIDATOR", ""),
                      str(ROOT / ".ci/node/node_modules/.bin/mjml")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def largest_email(out: Path) -> Path:
    """The email.mjml of the newsletter whose HTML came out largest."""
    htmls = sorted(out.glob(f"{WEEK}/*/email.html"), key=lambda p: (p.stat().st_size, p.name))
    return htmls[-1].with_name("email.mjml")


def npm_render(mjml: Path, source: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run([str(mjml), str(source), "-s"], capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"npm mjml failed on {source}:\n{done.stderr.decode()}")
    return seconds


def scenario(articles: int, newsletters: int, weeks: int, runs: int, judge: bool,
             processes: list[int]) -> None:
    from digest.archive import connect
    from digest.archive.articles import save_articles
    from digest.models import Article
    from digest.taxonomy import load_taxonomy

    mjml = npm_mjml()
    renders: list[float] = []
    floors: list[float] = []
    fixed: list[float] = []
    rebuilds: list[float] = []
    commands: list[float] = []
    warm: list[float] = []
    results: dict[int, list[dict]] = {p: [] for p in processes}
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
        root = Path(tmp)
        subscribers = root / "subscribers"
        subscribers.mkdir()
        write_config(subscribers, newsletters)
        db = root / "archive.db"
        t0 = time.perf_counter()
        generated = [Article.from_dict(a) for a in generate_articles(articles, weeks)]
        # As `digest ingest` stores them: with the untagged ones' inferred tags.
        save_articles(connect(f"sqlite:///{db}"), generated,
                      taxonomy=load_taxonomy(subscribers / "taxonomy.toml"))
        in_week = articles if weeks == 1 else f"about {articles // weeks:,}"
        print(f"\narchive: {articles:,} articles over {weeks} week(s) ending {WEEK} "
              f"({in_week} in the week built), {newsletters} newsletters "
              f"(generated and saved in {time.perf_counter() - t0:.1f} s)")
        # The week's first build on a fresh machine works out and stores the bodies' sentences
        # (digest.summarise.stored), and keeps the compiled templates and parsed stylesheets in
        # its TMPDIR (digest.render.kept); every later one, like the timed runs, reads them back.
        (root / "tmp").mkdir()
        first_build = run_once(db, subscribers, root / "first", processes[-1])
        for n in range(runs):  # alternating, so a burst of load hits every figure alike
            for p in processes:
                results[p].append(run_once(db, subscribers, root / f"out-{n}-{p}", p))
            floors.append(imports_alone())
            fixed.append(imports_alone(FIXED))
            rebuilds.append(run_once(db, subscribers, root / f"twice-{n}", processes[-1],
                                     again=root / f"again-{n}")["rebuild"])
            commands.append(command_once(db, subscribers, root / f"cli-{n}", processes[-1]))
            warm.append(warm_command_once(db, subscribers, root / f"warm-{n}", processes[-1]))
            if mjml is not None:
                renders.append(npm_render(mjml, largest_email(root / f"out-{n}-{processes[-1]}")))

    first = results[processes[-1]][0]
    print(f"built {first['built']} newsletters, {first['articles']} articles in all, "
          f"largest email {first['max_kb']:.1f} KB; medians of {runs} runs:")
    for p in processes:
        whole = _stages(results[p], p, floors, GOALS.get(weeks) if judge else None)
    print(f"  the week's first build on a fresh machine ({processes[-1]} process(es): nothing "
          f"stored or kept yet): whole process {first_build['wall']:5.2f} s, build_editions() "
          f"{first_build['seconds']:5.2f} s")
    print(f"  `digest build` itself ({processes[-1]} process(es)), whole process  "
          f"{statistics.median(commands):6.2f} s   (the CLI: Typer, Rich, its table too)")
    if len(processes) > 1:
        base = statistics.median(r["wall"] for r in results[processes[0]])
        print(f"  whole process, {processes[0]} process(es) / {processes[-1]}: "
              f"{base / whole:.2f}")
    npm = statistics.median(renders) if renders else None
    if npm:
        print(f"  npm mjml, one render of the largest email {npm:6.2f} s   (whole process)")
        print(f"  ratio: our whole build of {first['built']} ({processes[-1]} process(es)) in a "
              f"new process / one npm render = {whole / npm:.2f}")
    else:
        print("  npm mjml: not installed here (.ci/run installs it into .ci/node; or set "
              "DIGEST_MJML_VALIDATOR): no comparison")

    def of_npm(seconds: float) -> str:
        return f"   / one npm render = {seconds / npm:.2f}" if npm else ""

    floor, again, warmed = (statistics.median(fixed), statistics.median(rebuilds),
                            statistics.median(warm))
    print(f"    the card's libraries and SQLAlchemy, imported alone {floor:6.2f} s{of_npm(floor)}"
          "   (the least a build in a new process costs)")
    print(f"  the same build again in a running process, as the preview rebuilds it (1 "
          f"process) {again:6.2f} s{of_npm(again)}")
    judged = judge and npm and weeks == NPM_GOAL_WEEKS
    verdict = f"   goal < 1: {'met' if warmed < npm else 'NOT met'}" if judged else ""
    print(f"  `digest build` with `digest warm` running ({processes[-1]} process(es)), whole "
          f"process {warmed:6.2f} s{of_npm(warmed)}{verdict}")
    print("    (forked from the warm server, which has imported it all; started before, "
          "stopped after)")


def _stages(results: list[dict], processes: int, floors: list[float],
            goal: float | None) -> float:
    """One block of figures: the whole process, build_editions() and its stages; returns the
    whole process's median wall time."""
    def median(key: str) -> float:
        return statistics.median(r[key] for r in results)

    whole = median("wall")
    print(f"DIGEST_BUILD_PROCESSES={processes}                  wall      CPU (all processes)")
    verdict = f"goal <= {goal} s: {'met' if whole <= goal else 'NOT met'}" if goal else ""
    print(f"  whole process (start-up, imports, build) {whole:6.2f} s "
          f"{median('process_cpu'):6.2f} s   {verdict}")
    print(f"    of which start-up and imports alone    {statistics.median(floors):6.2f} s   "
          "(python -c 'import digest.build, digest.settings', exiting as digest does)")
    print(f"  build_editions()                         {median('seconds'):6.2f} s "
          f"{median('cpu'):6.2f} s")
    print("    by stage (summed over the processes):")
    for stage in STAGES:
        wall = statistics.median(r["stages"].get(stage, 0.0) for r in results)
        cpu = statistics.median(r["stages_cpu"].get(stage, 0.0) for r in results)
        print(f"    {stage:<12}{'':26}{wall * 1000:5.0f} ms {cpu * 1000:5.0f} ms")
    peak = max(r["peak_mb"] for r in results)
    print(f"  peak memory (the build process's VmHWM)    {peak:4.0f} MB   target <= 300 MB")
    return whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--newsletters", type=int, default=20)
    parser.add_argument("--weeks", type=int, action="append",
                        help="weeks the archive spans (repeatable) [default: 52, then 1]")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--processes", type=int, action="append",
                        help="DIGEST_BUILD_PROCESSES to build with (repeatable; the last is "
                        "judged) [default: 1, then 2]")
    parser.add_argument("--tiny", action="store_true", help="300 articles, 3 newsletters, once")
    args = parser.parse_args()
    if args.tiny:
        args.articles, args.newsletters, args.runs = 300, 3, 1
    compileall.compile_dir(ROOT / "digest", quiet=1)  # as an installed copy has it
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    judge = (args.articles, args.newsletters) == (10_000, 20)  # the goals' sizes
    for weeks in args.weeks or [52, 1]:
        scenario(args.articles, args.newsletters, weeks, args.runs, judge,
                 args.processes or [1, 2])


if __name__ == "__main__":
    main()
