"""Opening the shop's SQLite file, and the one way to write to it: ``write_tx``.

Each thread or process opens its own connection with :func:`open_db`. Writes that must be atomic
run inside ``with write_tx(db):``, which takes SQLite's write lock up front (``BEGIN IMMEDIATE``)
so two writers never interleave a read-check-write; a busy database is retried a bounded number
of times on top of SQLite's own ``busy_timeout``.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from voicebot.store.migrations import migrate

BUSY_TIMEOUT_S = 5.0
BEGIN_RETRIES = 3


class StoreBusy(RuntimeError):
    """The database stayed locked by another writer for longer than we are willing to wait."""


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


def _is_busy(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


@contextlib.contextmanager
def write_tx(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One atomic write: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception.

    Nested use becomes a savepoint inside the outer transaction.
    """
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    for attempt in range(BEGIN_RETRIES + 1):
        try:
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as e:
            if not _is_busy(e):
                raise
            if attempt == BEGIN_RETRIES:
                raise StoreBusy(f"database is busy (gave up after {attempt + 1} tries)") from e
            time.sleep(0.05 * (attempt + 1))
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
