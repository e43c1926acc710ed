"""What a preview page was made from, as a short token: the page reloads when it changes."""

from __future__ import annotations

import hashlib
from pathlib import Path


def fingerprint(*paths: Path) -> str:
    """A short token that changes whenever one of the files `paths` changes *content*, appears
    or goes away. Content, not modification time: a rebuild that writes the same bytes (same
    inputs, same output) must not reload the editor's page."""
    seen = hashlib.sha256()
    for path in paths:
        seen.update(f"{path}:{_content_digest(path)};".encode())
    return seen.hexdigest()[:16]


_digests: dict[Path, tuple[int, int, str]] = {}


def _content_digest(path: Path) -> str:
    """SHA-256 of a file, remembered while its size and mtime stay the same."""
    try:
        stat = path.stat()
        known = _digests.get(path)
        if known and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return "absent"
    except OSError as exc:
        return f"unreadable {exc.errno}"
    if len(_digests) > 4096:
        _digests.clear()
    _digests[path] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest
