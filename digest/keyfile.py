"""The generated signing key in the data folder: made once, readable by its owner only, and the
same for every process, even several started at the same moment.

The key is written to a private temporary file (O_CREAT|O_EXCL, mode 0600 from the first byte)
and published with link(), which fails if the key already exists: a process either puts the one
key in place or finds another's, whole, and uses that. Nobody ever reads a half-written key, and
no second key can replace the first (every link mailed with it would break).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from digest.errors import DigestError

PRIVATE = 0o600


def generated_key(path: Path) -> bytes:
    """The key kept at `path`, created there first if there is none yet."""
    key = _read(path)
    if key is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _publish(path, secrets.token_urlsafe(32))
        key = _read(path)
    if not key:
        raise DigestError(
            f"the signing key {path} is empty",
            hint="Restore it from a backup (links already mailed were signed with it), or "
            "delete it to make a new one, or set DIGEST_SECRET_KEY.",
        )
    return key


def _read(path: Path) -> bytes | None:
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_mode & 0o077:  # an older version's, or by hand
                with contextlib.suppress(OSError):  # not ours to change: read it all the same
                    os.fchmod(handle.fileno(), PRIVATE)
            return handle.read().strip()
    except FileNotFoundError:
        return None


def _publish(path: Path, key: str) -> None:
    staging = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(staging, path)
        except FileExistsError:
            pass  # another process was first: its key is the key
        except OSError:
            _create_directly(path, key)  # a file system without hard links
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)


def _create_directly(path: Path, key: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
