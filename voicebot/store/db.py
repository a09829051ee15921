"""Opening the shop's SQLite file: each thread or process opens its own connection with :func:`open_db`.

Writes that must be atomic run inside ``with write_tx(db):`` (from :mod:`voicebot.store.transactions`,
re-exported here).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from voicebot.store.migrations import migrate
from voicebot.store.transactions import StoreBusy, write_tx

BUSY_TIMEOUT_S = 5.0

__all__ = ["BUSY_TIMEOUT_S", "StoreBusy", "open_db", "write_tx"]


def open_db(path: Path | str, *, migrate_schema: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) the SQLite file: WAL, foreign keys, busy timeout, migrations applied."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    # check_same_thread=False lets an asyncio app hand the connection to a worker thread; it must
    # still be used by one thread at a time.
    conn = sqlite3.connect(str(p), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    db = sqlite_utils.Database(conn)
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        with db.ensure_autocommit_on():
            conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses no committed-and-synced data
    if migrate_schema:
        migrate(db)
    return db
