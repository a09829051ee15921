"""Media retention: audio older than ``storage.media_retention_days`` is deleted, except what
operators still need — the voice notes of failed messages and of messages an operator corrected
(the corrections are labelled data). Product photos are never swept."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlite_utils

from voicebot.config import Config
from voicebot.store.scoped import village_wide

SWEEP_EVERY_S = 3600.0


@village_wide
def kept_paths(db: sqlite_utils.Database) -> set[str]:
    """Media files operators need: failed or errored messages, corrected ones, and any not yet run."""
    rows = db.execute(
        "SELECT media_path FROM messages WHERE media_path IS NOT NULL"
        " AND (status IN ('failed', 'received', 'processing') OR error IS NOT NULL"
        " OR id IN (SELECT message_id FROM corrections))"
    ).fetchall()
    return {str(Path(r[0])) for r in rows}


def sweep_media(config: Config, keep: set[str], now: float | None = None) -> dict[str, Any]:
    """Delete files under the media folder older than the retention period and not in ``keep``."""
    days = config.storage.media_retention_days
    stats = {"deleted": 0, "kept": 0, "bytes": 0}
    if days <= 0:
        return stats
    cutoff = (time.time() if now is None else now) - days * 86400
    for folder in (config.media_dir / "in", config.media_dir / "out"):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            try:
                info = path.stat()
            except OSError:
                continue
            if not path.is_file() or info.st_mtime >= cutoff:
                continue
            if str(path) in keep:
                stats["kept"] += 1
                continue
            path.unlink(missing_ok=True)
            stats["deleted"] += 1
            stats["bytes"] += info.st_size
    return stats
