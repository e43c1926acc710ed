"""The private folder where work a new process would otherwise repeat is kept between
processes: compiled templates (Jinja's bytecode cache) and parsed stylesheets (inline.py).

It is Jinja's own default, `$TMPDIR/_jinja2-cache-UID`, which Jinja makes for this user alone
(mode 0700) and refuses if anyone else owns it. Everything kept there is checked against what
it was made from, so deleting the folder only costs the next process some milliseconds.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from pathlib import Path

from jinja2 import FileSystemBytecodeCache


@functools.cache
def kept_folder() -> Path | None:
    """The folder, or None when no private one can be had (then nothing is kept)."""
    try:
        return Path(FileSystemBytecodeCache().directory)
    except (OSError, RuntimeError):
        return None


def write_kept(name: str, data: bytes) -> None:
    """Keep `data` as `name`, whole or not at all (a reader never sees half a file); a folder
    that cannot be written only means nothing is kept."""
    folder = kept_folder()
    if folder is None:
        return
    with contextlib.suppress(OSError):
        with tempfile.NamedTemporaryFile(dir=folder, prefix=name, suffix=".tmp",
                                         delete=False) as out:
            out.write(data)
        try:
            os.replace(out.name, folder / name)
        except OSError:
            os.unlink(out.name)
            raise


def read_kept(name: str) -> bytes | None:
    folder = kept_folder()
    if folder is None:
        return None
    try:
        return (folder / name).read_bytes()
    except OSError:
        return None
