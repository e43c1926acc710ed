"""What code made something kept between processes (a body's stored sentences, a parsed
stylesheet): a fingerprint of the source files and installed packages it came from, so that any
change to them gives what is kept a new key and nobody has to remember to bump a version."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path


def code_fingerprint(files: Iterable[str | None], packages: Iterable[str]) -> str:
    """sha256 over each package's installed version and each file's bytes, as installed."""
    made_by = hashlib.sha256()
    for package in packages:
        made_by.update(f"{package} {version(package)}\n".encode())
    for file in files:
        made_by.update(Path(str(file)).read_bytes())
    return made_by.hexdigest()
