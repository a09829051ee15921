"""The on-disk cache of synthesized speech: one file per (language, engine:voice, pace, text[, format])."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path


def cache_key(lang: str, voice: str, rate: int | str, text: str) -> str:
    """sha256 over the exact inputs that change the audio."""
    blob = json.dumps([lang, voice, rate, text], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def cache_path(cache_dir: Path, key: str, fmt: str = "wav") -> Path:
    # Two-character fan-out keeps directories small once thousands of prompts are cached.
    return cache_dir / key[:2] / f"{key}.{fmt}"


def temp_path_for(final: Path) -> Path:
    """A fresh temporary name next to ``final`` (same filesystem, so os.replace is atomic)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".tmp-", suffix=final.suffix, dir=final.parent)
    os.close(fd)
    return Path(name)


def write_atomic(final: Path, data: bytes) -> None:
    """Write ``data`` so that readers see either no file or the whole file."""
    tmp = temp_path_for(final)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
