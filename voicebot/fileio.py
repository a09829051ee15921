"""Atomic file writes that any number of concurrent writers of the same file can share."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see no file or the whole file.

    Each call writes its own uniquely named temporary file in the same folder (so ``os.replace`` is
    atomic); identical concurrent writes all succeed and leave one complete file.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_media(folder: Path, data: bytes, ext: str) -> Path:
    """Content-addressed file ``folder/<sha256>.<ext>``, written atomically (safe for concurrent writers)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()}.{ext}"
    if not path.exists():
        write_atomic(path, data)
    return path
