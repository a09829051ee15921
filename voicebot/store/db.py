"""Opening the store: each thread or process opens its own connection with :func:`open_db`.

``open_db`` takes a SQLite file path (the default) or a ``postgresql://`` URL (``[storage] url``, see
:attr:`voicebot.config.Config.database`). Writes that must be atomic run inside ``with write_tx(db):``
(from :mod:`voicebot.store.transactions`, re-exported here).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from voicebot.store.migrations import migrate
from voicebot.store.postgres import PgDatabase, is_postgres_url, mask_url, open_postgres
from voicebot.store.transactions import StoreBusy, write_tx

BUSY_TIMEOUT_S = 5.0
Database = sqlite_utils.Database | PgDatabase

__all__ = ["BUSY_TIMEOUT_S", "Database", "StoreBusy", "connect", "describe", "open_db", "open_sqlite", "write_tx"]


def describe(target: Path | str) -> dict[str, str]:
    """Which engine and where, safe to log or show (a PostgreSQL password becomes ``***``)."""
    if is_postgres_url(target):
        return {"engine": "postgresql", "at": mask_url(str(target))}
    return {"engine": "sqlite", "at": str(target)}


def open_db(target: Path | str, *, migrate_schema: bool = True) -> Database:
    """Open the store at ``target`` (a SQLite path, created if needed, or a PostgreSQL URL), migrated."""
    db = connect(target)
    if migrate_schema:
        try:
            migrate(db)
        except BaseException:
            db.close()
            raise
    return db


def connect(target: Path | str) -> Database:
    """A connection to ``target`` without migrating."""
    if is_postgres_url(target):
        return open_postgres(str(target))
    return open_sqlite(Path(target))


def open_sqlite(path: Path) -> sqlite_utils.Database:
    """The SQLite file at ``path`` (created if needed): WAL, foreign keys, busy timeout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # check_same_thread=False lets an asyncio app hand the connection to a worker thread; it must
    # still be used by one thread at a time.
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    db = sqlite_utils.Database(conn)
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        with db.ensure_autocommit_on():
            conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses no committed-and-synced data
    return db
