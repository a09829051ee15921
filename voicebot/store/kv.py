"""A small key-value table with expiry, shared by every process on the database (e.g. API tokens)."""

from __future__ import annotations

import sqlite_utils

from voicebot.store.clock import utc_now
from voicebot.store.db import write_tx


def kv_get(db: sqlite_utils.Database, key: str) -> tuple[str, float | None] | None:
    """``(value, expires_at epoch seconds or None)``, or None when absent."""
    row = db.execute("SELECT value, expires_at FROM kv WHERE key = ?", (key,)).fetchone()
    if row is None:
        return None
    return row[0], (float(row[1]) if row[1] is not None else None)


def kv_set(db: sqlite_utils.Database, key: str, value: str, expires_at: float | None = None) -> None:
    with write_tx(db):
        db.execute(
            "INSERT INTO kv (key, value, expires_at, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at,"
            " updated_at = excluded.updated_at",
            (key, value, None if expires_at is None else repr(expires_at), utc_now()),
        )
