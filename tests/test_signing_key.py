"""The generated signing key: private from its first byte, and one key for processes that start
together (a second key would break every link mailed with the first)."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from digest.errors import DigestError
from digest.settings import Settings

PROCESSES = 8
ROUNDS = 20


def _key_of(data_dir: str, barrier: multiprocessing.synchronize.Barrier, out) -> None:
    os.umask(0)  # nothing but the code's own mode keeps the file private
    barrier.wait()
    out.put(Settings(data_dir=Path(data_dir)).signing_key())


def test_processes_starting_together_share_one_private_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for round_ in range(ROUNDS):
        data_dir = tmp_path / f"data{round_}"
        barrier, out = context.Barrier(PROCESSES), context.Queue()
        workers = [context.Process(target=_key_of, args=(str(data_dir), barrier, out))
                   for _ in range(PROCESSES)]
        for worker in workers:
            worker.start()
        keys = {out.get(timeout=60) for _ in workers}
        for worker in workers:
            worker.join(60)
        on_disk = (data_dir / "secret.key").read_bytes().strip()
        assert keys == {on_disk}, f"round {round_}: {len(keys)} different keys"
        assert stat.S_IMODE((data_dir / "secret.key").stat().st_mode) == 0o600
        assert sorted(p.name for p in data_dir.iterdir()) == ["secret.key"]  # no leftovers


def test_the_key_file_is_created_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        key = Settings(data_dir=tmp_path / "data").signing_key()
    finally:
        os.umask(old)
    assert len(key) >= 32
    assert stat.S_IMODE((tmp_path / "data" / "secret.key").stat().st_mode) == 0o600


def test_a_world_readable_key_is_made_private_and_an_empty_one_is_an_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "secret.key"
    path.parent.mkdir()
    path.write_text("an-old-key-written-by-hand\n")
    path.chmod(0o644)
    assert Settings(data_dir=path.parent).signing_key() == b"an-old-key-written-by-hand"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("")
    with pytest.raises(DigestError, match="is empty"):
        Settings(data_dir=path.parent).signing_key()
