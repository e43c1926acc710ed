"""Start-up stays light: a command imports only what it needs (the rule in digest/cli/__init__.py).

`digest CMD --help` runs in a fresh interpreter for every command, found by walking the CLI (a
new command is covered without being listed here); what it imported beyond a bare interpreter
must be Typer, Rich and the CLI's own modules. Then a few commands really run, and must leave
out the heavy libraries they do not use.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from digest.cli.app import command_paths

ROOT = Path(__file__).resolve().parent.parent

# What a help page may import besides digest.cli and digest.errors: Typer (and what it needs), Rich.
HELP_PACKAGES = {"typer", "rich", "shellingham", "annotated_doc", "typing_extensions", "colorama"}

# Libraries that cost start-up time; a command that does not use one must not import it.
HEAVY = {
    "sqlalchemy", "psycopg", "pydantic", "pydantic_settings", "premailer", "cssutils", "lxml",
    "jinja2", "mjml", "html2text", "pysbd", "feedparser", "httpx", "yaml", "email_validator",
    "starlette", "uvicorn", "watchfiles", "sendgrid", "cryptography", "markdown_it", "pygments",
    "requests", "urllib3",
}

PROBE = """
import json, os, sys
baseline = set(sys.modules)
args = json.loads(sys.argv[1])
sys.argv = ["digest", *args]
real_stdout, sys.stdout = sys.stdout, open(os.devnull, "w")
from digest.cli import main
try:
    main()
except SystemExit:
    pass
real_stdout.write(json.dumps(sorted(set(sys.modules) - baseline)))
"""


def imported_by(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> set[str]:
    """The modules `digest ARGS` imported, in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=120, check=True,
    )
    return set(json.loads(done.stdout))


def test_the_walk_finds_every_command() -> None:
    paths = command_paths()
    assert ("build",) in paths and ("subscribers", "sync") in paths
    assert len(paths) >= 14


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "digest")
def test_help_imports_only_typer_rich_and_the_cli(path: tuple[str, ...], tmp_path: Path) -> None:
    modules = imported_by([*path, "--help"], tmp_path)
    packages = {name.split(".")[0] for name in modules}
    third_party = {p for p in packages - set(sys.stdlib_module_names) if not p.startswith("_")}
    assert third_party - HELP_PACKAGES - {"digest"} == set(), (
        "a command module imports a library at module level; import it inside the command "
        "(digest/cli/__init__.py says how)"
    )
    ours = {m for m in modules if m.startswith("digest.")}
    assert {m for m in ours if not m.startswith("digest.cli.")} <= {"digest.cli", "digest.errors"}


def heavy(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules} & HEAVY


@pytest.mark.parametrize(
    ("args", "uses"),
    [
        (["config", "--env-example"], {"pydantic", "pydantic_settings"}),
        (["articles"], {"pydantic", "pydantic_settings", "sqlalchemy"}),
        (["subscribers", "count"], {"pydantic", "pydantic_settings", "sqlalchemy",
                                    "email_validator"}),
        (["ingest", "--dry-run", "note.md"], {"pydantic", "pydantic_settings", "sqlalchemy",
                                              "yaml"}),
        (["report", "2026-W47", "-n", "ai-policy", "--json"], {"pydantic", "pydantic_settings",
                                                               "sqlalchemy"}),
        (["check", "2026-W47"], {"pydantic", "pydantic_settings", "lxml"}),
        (["import-caniemail", "data.json"], {"pydantic", "pydantic_settings"}),
        # Stops at the missing taxonomy, having imported the whole build: not the web or send
        # stack, nor feed reading.
        (["build", "--week", "2026-W47"], {"pydantic", "pydantic_settings", "sqlalchemy",
                                           "jinja2", "mjml", "premailer", "cssutils", "lxml",
                                           "pysbd"}),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_a_command_imports_only_the_libraries_it_uses(
    args: list[str], uses: set[str], tmp_path: Path
) -> None:
    (tmp_path / "note.md").write_text(
        "---\ntitle: A note\npublished: 2026-11-16\ntags: [antitrust]\n---\nOne paragraph.\n"
    )
    env = {"PATH": "/usr/bin:/bin", "DIGEST_DATA_DIR": str(tmp_path / "data")}
    assert heavy(imported_by(args, tmp_path, env)) <= uses


def test_a_command_on_sqlite_leaves_the_postgresql_dialect_out(tmp_path: Path) -> None:
    """SQLAlchemy's PostgreSQL dialect (and asyncpg's) costs some 30 ms to import: a command
    on the default SQLite archive, saving articles too, never loads it."""
    (tmp_path / "note.md").write_text(
        "---\ntitle: A note\npublished: 2026-11-16\ntags: [antitrust]\n---\nOne paragraph.\n"
    )
    env = {"PATH": "/usr/bin:/bin", "DIGEST_DATA_DIR": str(tmp_path / "data")}
    for args in (["ingest", "note.md"], ["articles"]):
        modules = imported_by(args, tmp_path, env)
        assert "sqlalchemy.dialects.sqlite" in modules, args
        assert {m for m in modules if m.startswith("sqlalchemy.dialects.postgresql")} == set()


def test_premailer_imports_requests_only_when_it_uses_it() -> None:
    """premailer's `import requests` (urllib3, chardet...: ~90 ms) is deferred: premailer holds
    a stand-in that imports the real module when premailer first uses it; nobody else sees it."""
    probe = (
        "import sys\n"
        "import digest.render.inline\n"
        "import premailer.premailer as p\n"
        "assert 'requests' not in sys.modules and 'urllib3' not in sys.modules\n"
        "from requests.adapters import HTTPAdapter\n"
        "import requests\n"
        "assert type(requests).__name__ == 'module'\n"
        "assert requests.adapters.HTTPAdapter is HTTPAdapter\n"
        "assert p.requests.get is requests.get\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60, cwd=ROOT)


def test_digest_freezes_the_collector_on_the_way_out_and_keeps_the_exit_code(
    tmp_path: Path,
) -> None:
    """main() freezes what is left for the interpreter's exit (its last collections walked
    ~0.15 s of library objects after a build), whatever the command's outcome."""
    probe = (
        "import gc, sys\n"
        "from digest.cli import main\n"
        "sys.argv = ['digest', *sys.argv[1:]]\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    print(gc.get_freeze_count() > 0)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "DIGEST_DATA_DIR": str(tmp_path / "data")}
    ok = subprocess.run([sys.executable, "-c", probe, "--help"], capture_output=True, text=True,
                        cwd=tmp_path, env=env, timeout=60, check=False)
    assert ok.returncode == 0 and ok.stdout.strip().endswith("True")
    failed = subprocess.run([sys.executable, "-c", probe, "build", "--week", "2026-W47"],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
                            check=False)
    assert failed.returncode != 0 and failed.stdout.strip().endswith("True")
    real = subprocess.run([sys.executable, "-m", "digest", "build", "--week", "2026-W47"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
                          check=False)
    assert real.returncode == failed.returncode, real.stderr
