"""The one way to write to the store: ``with write_tx(db):``.

It takes the write lock up front (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: one transaction-level advisory
lock, :meth:`PgDatabase.write_tx`) so two writers never interleave a read-check-write; a busy SQLite file
is retried a bounded number of times on top of its ``busy_timeout``, a PostgreSQL lock waits up to
``lock_timeout``.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator

import psycopg
import sqlite_utils

from voicebot.store.postgres import PgDatabase

BEGIN_RETRIES = 3


class StoreBusy(RuntimeError):
    """The database stayed locked by another writer for longer than we are willing to wait."""


def _is_busy(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


@contextlib.contextmanager
def write_tx(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One atomic write: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception.

    Nested use becomes a savepoint inside the outer transaction.
    """
    pg = getattr(db, "raw", db)  # a ShopDb's database
    if isinstance(pg, PgDatabase):
        try:
            with pg.write_tx():
                yield db
        except psycopg.errors.LockNotAvailable as e:
            raise StoreBusy(f"database is busy: {e}") from e
        return
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
