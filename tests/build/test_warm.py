"""`digest warm`: a build handed to the warm server is the build a new process runs (same files,
output, exit status, settings, folder), its code is never older than the code on disk, signals
reach it, and nobody else can use the server. Real processes throughout: the server as
`digest warm start` runs it, the client as `python -m digest build`."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from digest.settings import Settings
from digest.warm import wire
from tests.support.settings import settings_env

from .conftest import WEEK

Digest = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def warm_env(build_settings: Settings, archive: object) -> Iterator[dict[str, str]]:
    """The build settings as a process's environment, with a TMPDIR of the test's own (short:
    a Unix socket's path is at most 107 bytes) where the server lives; any server left is
    stopped afterwards."""
    tmp = tempfile.mkdtemp(prefix="warm-", dir="/tmp")
    env = {**settings_env(build_settings), "TMPDIR": tmp, "COLUMNS": "200",
           "DIGEST_SUBSCRIBERS_DIR": str(build_settings.subscribers_dir)}
    yield env
    subprocess.run([sys.executable, "-m", "digest", "warm", "stop"], env=env,
                   capture_output=True, timeout=60, check=False)
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def digest(warm_env: dict[str, str], tmp_path: Path) -> Digest:
    def run(*args: str, cwd: Path = tmp_path, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "digest", *args],
                              env={**warm_env, **extra}, cwd=cwd, capture_output=True,
                              text=True, timeout=120, check=False)
    return run


@contextlib.contextmanager
def seen_from(env: dict[str, str]) -> Iterator[None]:
    """This process's environment as the client's, where it decides which server answers."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(wire.KEYED_VARIABLES) and name not in env:
                patch.delenv(name)
        for name, value in env.items():
            if name == "TMPDIR" or name.startswith(wire.KEYED_VARIABLES):
                patch.setenv(name, value)
        yield


def status(env: dict[str, str]) -> dict[str, object] | None:
    with seen_from(env):
        return wire.ask({"op": "status"})


def place(env: dict[str, str]) -> wire.Place:
    with seen_from(env):
        return wire.Place()


def start(digest: Digest, *args: str, **extra: str) -> None:
    done = digest("warm", "start", *args, **extra)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warm server started: pid" in done.stdout


def served(env: dict[str, str]) -> int:
    found = status(env)
    assert found is not None, "no warm server is running"
    return int(found["served"])  # type: ignore[call-overload]


def edition_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_a_build_handed_over_writes_and_prints_what_a_new_process_does(
        digest: Digest, warm_env: dict[str, str], tmp_path: Path) -> None:
    start(digest)
    warm = digest("build", "--week", WEEK, DIGEST_OUT_DIR=str(tmp_path / "warm"))
    assert warm.returncode == 0, warm.stdout + warm.stderr
    assert served(warm_env) == 1  # the server ran it
    assert digest("warm", "stop").returncode == 0
    assert status(warm_env) is None
    fresh = digest("build", "--week", WEEK, DIGEST_OUT_DIR=str(tmp_path / "fresh"))
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert warm.stdout.replace("warm", "fresh") == fresh.stdout
    assert "Wrote 3 newsletter(s)" in warm.stdout and warm.stderr == fresh.stderr == ""
    assert edition_files(tmp_path / "warm") == edition_files(tmp_path / "fresh")
    assert len(edition_files(tmp_path / "warm")) >= 12


def test_the_callers_settings_folder_and_exit_status_are_the_builds(
        digest: Digest, warm_env: dict[str, str], tmp_path: Path) -> None:
    start(digest)
    wrong = digest("build", "--week", WEEK, DIGEST_BUILD_PROCESSES="lots")
    assert wrong.returncode == 2
    assert "DIGEST_BUILD_PROCESSES='lots': expected a whole number" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    # The .env of the folder the editor runs it in, and that folder for relative paths.
    newsroom = tmp_path / "newsroom"
    newsroom.mkdir()
    (newsroom / ".env").write_text("DIGEST_OUT_DIR=from-dotenv\n")
    env = {k: v for k, v in warm_env.items() if k != "DIGEST_OUT_DIR"}
    done = subprocess.run([sys.executable, "-m", "digest", "build", "--week", WEEK], env=env,
                          cwd=newsroom, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (newsroom / "from-dotenv" / WEEK / "markets" / "email.html").is_file()
    assert served(warm_env) == 2


def test_code_changed_on_disk_is_never_run_stale(
        digest: Digest, warm_env: dict[str, str], tmp_path: Path) -> None:
    """A folder on sys.path changes (as when a package is installed): that build runs in a
    process of its own, and the server starts afresh with the new code."""
    extra = tmp_path / "on-path"
    extra.mkdir()
    path = {"PYTHONPATH": str(extra)}
    start(digest, **path)
    before = status({**warm_env, **path})
    assert before is not None and before["current"] is True
    (extra / "new_module.py").write_text("")
    os.utime(extra, ns=(time.time_ns(), time.time_ns() + 10**9))  # however coarse the clock
    done = digest("build", "--week", WEEK, **path)
    assert done.returncode == 0, done.stdout + done.stderr
    log = Path(place({**warm_env, **path}).log)
    deadline = time.monotonic() + 30
    after = None
    while time.monotonic() < deadline:
        after = status({**warm_env, **path})
        if after is not None and after["started"] != before["started"]:
            break
        time.sleep(0.1)
    assert after is not None and after["started"] != before["started"], log.read_text()
    assert after["served"] == 0 and after["current"] is True  # the build ran elsewhere
    assert "the code changed on disk" in log.read_text()
    assert digest("build", "--week", WEEK, **path).returncode == 0
    assert served({**warm_env, **path}) == 1


@pytest.fixture
def endless(tmp_path: Path, warm_env: dict[str, str]) -> dict[str, str]:
    """Templates that never finish rendering: a build that runs until it is stopped."""
    folder = tmp_path / "endless-templates"
    folder.mkdir()
    (folder / "email.txt.j2").write_text("{% for i in range(10**12) %}{% endfor %}\n")
    return {"DIGEST_TEMPLATES_DIR": str(folder)}


def running_build(warm_env: dict[str, str], endless: dict[str, str],
                  tmp_path: Path) -> subprocess.Popen[str]:
    client = subprocess.Popen([sys.executable, "-m", "digest", "build", "--week", WEEK],
                              env={**warm_env, **endless}, cwd=tmp_path, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = status(warm_env)
        if found is not None and found["running"] == 1:
            time.sleep(0.5)  # into the templates
            return client
        time.sleep(0.05)
    client.kill()
    raise AssertionError(f"the build never started: {client.communicate()}")


def log_says(env: dict[str, str], pattern: str) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if re.search(pattern, Path(place(env).log).read_text()):
            return True
        time.sleep(0.1)
    return False


def test_ctrl_c_reaches_the_build(digest: Digest, warm_env: dict[str, str],
                                   endless: dict[str, str], tmp_path: Path) -> None:
    start(digest)
    client = running_build(warm_env, endless, tmp_path)
    client.send_signal(signal.SIGINT)
    _out, err = client.communicate(timeout=30)
    assert client.returncode == 130, err  # as `digest build` stopped by Ctrl-C ends
    assert log_says(warm_env, r"pid \d+: exit 130")
    assert status(warm_env)["running"] == 0  # type: ignore[index]


def test_a_client_that_dies_stops_its_build(digest: Digest, warm_env: dict[str, str],
                                             endless: dict[str, str], tmp_path: Path) -> None:
    start(digest)
    client = running_build(warm_env, endless, tmp_path)
    client.kill()
    client.communicate(timeout=30)
    assert log_says(warm_env, r"pid \d+: its client went away; stopping it")
    assert log_says(warm_env, r"pid \d+: SIGTERM after")
    assert status(warm_env)["running"] == 0  # type: ignore[index]


def test_a_folder_others_can_enter_is_not_used(digest: Digest, warm_env: dict[str, str]) -> None:
    start(digest)
    folder = place(warm_env).folder
    os.chmod(folder, 0o755)
    try:
        done = digest("build", "--week", WEEK)
        assert done.returncode == 0, done.stdout + done.stderr  # built here instead
        os.chmod(folder, 0o700)
        assert served(warm_env) == 0
        os.chmod(folder, 0o755)
        assert digest("warm", "stop").stdout.startswith("No warm server is running")
    finally:
        os.chmod(folder, 0o700)
    assert digest("warm", "stop").returncode == 0
    os.chmod(folder, 0o777)
    refused = digest("warm", "start")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "is not a folder of yours that only you can enter" in refused.stderr


@pytest.mark.skipif(os.getuid() != 0, reason="needs root, to connect as another user")
def test_another_user_is_refused(digest: Digest, warm_env: dict[str, str]) -> None:
    start(digest)
    here = place(warm_env)
    # Only the folders (0700) keep anybody else from the socket; opened up here, the server
    # itself must refuse them.
    opened = [(warm_env["TMPDIR"], 0o711), (here.folder, 0o711), (here.socket, 0o777)]
    for path, mode in opened:
        os.chmod(path, mode)
    try:
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child)
            os.close(reader)
            os.setuid(65534)
            sock = wire.connect(here.socket, timeout=5)
            answer = "no connection"
            if sock is not None:
                try:
                    wire.send(sock, {"op": "status"})
                    answer = json.dumps(wire.receive(sock)[0])
                except (OSError, wire.WireError):
                    answer = "refused"
            os.write(writer, answer.encode())
            os._exit(0)
        os.close(writer)
        os.waitpid(pid, 0)
        answer = os.read(reader, 4096).decode()
        os.close(reader)
    finally:
        for path, _ in opened:
            os.chmod(path, 0o700)
    assert answer == "refused"
    assert log_says(warm_env, r"refused a connection from uid 65534")


def test_status_start_stop_and_the_idle_timeout(digest: Digest,
                                                warm_env: dict[str, str]) -> None:
    none = digest("warm", "status")
    assert none.returncode == 3 and "No warm server is running" in none.stdout
    start(digest, "--idle", "0.03")  # minutes
    again = digest("warm", "start")
    assert again.returncode == 0 and "Warm server already running" in again.stdout
    shown = digest("warm", "status")
    assert shown.returncode == 0 and "0 build(s) run" in shown.stdout
    assert "up to date" in shown.stdout
    deadline = time.monotonic() + 30  # 1.8 s idle, then it stops by itself
    while status(warm_env) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status(warm_env) is None
    assert not os.path.exists(place(warm_env).socket)
    assert log_says(warm_env, "idle for 2 s: stopping")
    bad = digest("warm", "start", "--idle", "0")
    assert bad.returncode == 2 and "--idle" in bad.stderr


def test_the_client_imports_only_the_standard_library() -> None:
    probe = ("import sys; before = set(sys.modules); import digest.warm.client; "
             "print(' '.join(sorted(set(sys.modules) - before)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=60)
    ours = {name.split(".")[0] for name in done.stdout.split()}
    assert ours - set(sys.stdlib_module_names) == {"digest"}
    assert not any(name.startswith("digest.") and not name.startswith("digest.warm")
                   for name in done.stdout.split())


def test_every_variable_a_preloaded_library_reads_on_import_is_in_the_key() -> None:
    """A library that reads the environment when imported keeps the server's value in every
    build, so a server started with another value must be another server."""
    import importlib.util

    from digest.warm.server import PRELOAD, PRELOAD_IF_INSTALLED

    read = re.compile(r"""^\S.*os\.(?:getenv\(|environ\.get\(|environ\[)\s*["']([A-Z_0-9]+)""",
                      re.MULTILINE)
    packages = {name.split(".")[0] for name in (*PRELOAD, *PRELOAD_IF_INSTALLED)} - {"digest"}
    packages |= {"pydantic", "pydantic_core", "pydantic_settings", "premailer", "cssutils",
                 "jinja2", "mjml", "requests", "urllib3", "lxml", "pysbd", "markupsafe"}
    found = {}
    for package in sorted(packages):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for source in Path(next(iter(spec.submodule_search_locations))).rglob("*.py"):
            for name in read.findall(source.read_text(encoding="utf-8", errors="replace")):
                found[name] = source
    assert "PREMAILER_CACHE" in found and "TYPER_USE_RICH" in found  # the scan works
    unkeyed = {n: str(p) for n, p in found.items() if not n.startswith(wire.KEYED_VARIABLES)}
    assert unkeyed == {}


def test_a_tmpdir_too_deep_for_a_socket_has_its_own_server_under_tmp(
        monkeypatch: pytest.MonkeyPatch) -> None:
    deep = "/tmp/" + "d" * 120
    monkeypatch.setenv("TMPDIR", deep)
    first = wire.Place()
    monkeypatch.setenv("TMPDIR", deep + "e")
    second = wire.Place()
    assert first.folder == second.folder == f"/tmp/digest-warm-{os.getuid()}"
    assert first.socket != second.socket
    assert len(os.fsencode(first.socket)) <= wire.SOCKET_PATH_MAX


def test_builds_at_once_each_get_their_own_answer(
        digest: Digest, warm_env: dict[str, str], tmp_path: Path) -> None:
    start(digest)
    clients = [subprocess.Popen([sys.executable, "-m", "digest", "build", "--week", WEEK,
                                 "--newsletter", slug],
                                env={**warm_env, "DIGEST_OUT_DIR": str(tmp_path / slug)},
                                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
               for slug in ("markets", "tech-brief", "nonexistent")]
    outcomes = [(c.communicate(timeout=120), c.returncode) for c in clients]
    assert [code for _, code in outcomes] == [0, 0, 1]
    assert "Wrote 1 newsletter(s)" in outcomes[0][0][0]
    assert "nonexistent" in outcomes[2][0][1]
    assert (tmp_path / "tech-brief" / WEEK / "tech-brief" / "email.html").is_file()
    assert served(warm_env) == 3


def test_a_client_of_another_copy_is_sent_away(digest: Digest, warm_env: dict[str, str],
                                               tmp_path: Path) -> None:
    """Sockets are named by a checksum of the identity; a client whose identity is not the
    server's (another interpreter or copy of digest) builds in a process of its own."""
    start(digest)
    here = place(warm_env)
    sock = wire.connect(here.socket, timeout=5)
    assert sock is not None
    with sock:
        wire.send(sock, {"op": "run", "identity": "another copy", "argv": ["build"],
                         "cwd": str(tmp_path), "env": {}, "umask": 0o022, "path": [],
                         "fds": [], "streams": [None, None, None]})
        assert wire.receive(sock)[0] == {"other": True}
    assert served(warm_env) == 0


def test_in_the_foreground_it_logs_here_and_stops_on_ctrl_c(
        digest: Digest, warm_env: dict[str, str], tmp_path: Path) -> None:
    server = subprocess.Popen([sys.executable, "-m", "digest", "warm", "start", "--foreground"],
                              env=warm_env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while status(warm_env) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert digest("build", "--week", WEEK).returncode == 0
        assert served(warm_env) == 1
        server.send_signal(signal.SIGINT)
        _, log = server.communicate(timeout=30)
    finally:
        server.kill()
    assert server.returncode == 0
    assert "ready in" in log and "exit 0 after" in log
    assert "SIGINT: stopping once running builds are done" in log
    assert not os.path.exists(place(warm_env).socket)
