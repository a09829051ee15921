"""A PostgreSQL database with the part of ``sqlite_utils.Database``'s interface the project uses.

``execute(sql, params)`` returns a cursor with ``fetchone``/``fetchall`` (tuples), ``rowcount`` and
``lastrowid``; ``query(sql, params)`` yields dicts; ``atomic()`` is a transaction or, nested, a savepoint;
``conn.in_transaction`` says whether one is open. SQL is written in the shared spelling
(:mod:`voicebot.store.pgsql`). The connection is in autocommit mode, so a read outside ``write_tx`` holds
no transaction open, as with SQLite. Values are bound client-side (as untyped literals), so ``? IS NULL``
and ``coalesce(?, col)`` need no casts; ``numeric`` values come back as int when whole, else float
(quantities such as 2.5 斤), like SQLite's.
"""

from __future__ import annotations

import contextlib
import decimal
import re
from collections.abc import Generator, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import ClientCursor
from psycopg.adapt import Loader
from psycopg.pq import TransactionStatus

from voicebot.store.pgsql import insert_table, to_postgres

# One exclusive transaction-level advisory lock every write transaction takes: PostgreSQL's equivalent
# of SQLite's BEGIN IMMEDIATE (one writer at a time), so every read-check-write stays as safe as it was.
WRITE_LOCK_KEY = 0x766F_6963  # "voic"
MIGRATE_LOCK_KEY = 0x766F_6D67  # "vomg": held around migrations, so several processes starting at once migrate once
LOCK_TIMEOUT_MS = 5000  # like SQLite's busy timeout
URL_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for logs and /healthz)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


class _NumericLoader(Loader):
    """``numeric`` as int when whole, else float (SQLite's INTEGER/REAL)."""

    def load(self, data: Any) -> int | float:
        value = decimal.Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


class PgCursor:
    """The finished statement: ``fetchone``/``fetchall`` like sqlite3's (None/[] after a statement without
    rows), ``rowcount``, and ``lastrowid`` for an ``INSERT`` into a table with an ``id`` column."""

    def __init__(self, cursor: psycopg.Cursor, returned_id: bool) -> None:
        self._cursor = cursor
        self.rowcount = cursor.rowcount
        self.lastrowid: int | None = None
        if returned_id:
            row = cursor.fetchone()
            self.lastrowid = row[0] if row else None

    @property
    def description(self) -> Any:
        return self._cursor.description

    def fetchone(self) -> tuple | None:
        return self._cursor.fetchone() if self._cursor.description is not None else None

    def fetchall(self) -> list[tuple]:
        return self._cursor.fetchall() if self._cursor.description is not None else []

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.fetchall())


class PgConn:
    """What code reaches through ``db.conn``: ``in_transaction``, ``execute``, ``commit``, ``rollback``."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    @property
    def in_transaction(self) -> bool:
        return self._db.pg.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, parameters: Sequence | None = None) -> PgCursor:
        return self._db.execute(sql, parameters)

    def commit(self) -> None:
        """Nothing to do: outside ``write_tx`` every statement commits on its own."""

    def rollback(self) -> None:
        if self.in_transaction:
            self._db.pg.rollback()

    def close(self) -> None:
        self._db.close()


class PgTable:
    """The few ``sqlite_utils`` table helpers tests and tools use: ``insert``, ``get``, ``count``, ``rows``,
    ``rows_where``."""

    def __init__(self, db: PgDatabase, name: str) -> None:
        self.db = db
        self.name = quote_ident(name)

    def insert(self, record: dict[str, Any]) -> PgTable:
        names = ", ".join(f'"{k}"' for k in record)
        self.db.execute(f"INSERT INTO {self.name} ({names}) VALUES ({', '.join('?' * len(record))})",
                        tuple(record.values()))
        return self

    def get(self, row_id: int) -> dict:
        """The row with this ``id`` (KeyError when there is none)."""
        rows = list(self.db.query(f"SELECT * FROM {self.name} WHERE id = ?", (row_id,)))
        if not rows:
            raise KeyError(f"{self.name} has no row {row_id}")
        return rows[0]

    @property
    def count(self) -> int:
        return self.db.execute(f"SELECT count(*) FROM {self.name}").fetchone()[0]  # type: ignore[index]

    def rows_where(self, where: str | None = None, where_args: Sequence | None = None,
                   order_by: str | None = None) -> Iterator[dict]:
        sql = f"SELECT * FROM {self.name}" + (f" WHERE {where}" if where else "")
        return self.db.query(sql + (f" ORDER BY {order_by}" if order_by else ""), where_args)

    @property
    def rows(self) -> Iterator[dict]:
        return self.rows_where()


class PgDatabase:
    """One PostgreSQL connection (use it from one thread at a time, like a SQLite connection)."""

    engine = "postgresql"

    def __init__(self, url: str, *, application_name: str = "voicebot") -> None:
        self.url = url
        self.pg = psycopg.connect(url, autocommit=True, cursor_factory=ClientCursor,
                                  application_name=application_name)
        self.pg.adapters.register_loader("numeric", _NumericLoader)
        self.pg.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
        self.conn = PgConn(self)
        self._id_tables: frozenset[str] | None = None

    def __repr__(self) -> str:
        return f"<PgDatabase {mask_url(self.url)}>"

    @property
    def id_tables(self) -> frozenset[str]:
        """Tables with an ``id`` column (their INSERTs report ``lastrowid``); read once per connection."""
        if self._id_tables is None:
            rows = self.pg.execute(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND column_name = 'id'").fetchall()
            self._id_tables = frozenset(r[0] for r in rows)
        return self._id_tables

    def forget_schema(self) -> None:
        """Call after DDL: the tables with ids are read again."""
        self._id_tables = None

    def execute(self, sql: str, parameters: Sequence | None = None) -> PgCursor:
        table = insert_table(sql)
        returning = table is not None and table in self.id_tables
        statement = to_postgres(sql) + (" RETURNING id" if returning else "")
        cursor = self.pg.cursor()
        cursor.execute(statement, tuple(parameters or ()))
        return PgCursor(cursor, returning)

    def query(self, sql: str, params: Sequence | None = None) -> Generator[dict, None, None]:
        cursor = self.execute(sql, params)
        if cursor.description is None:
            raise ValueError("query() needs a statement that returns rows; use execute()")
        names = [c.name for c in cursor.description]
        rows = cursor.fetchall()
        return (dict(zip(names, row, strict=True)) for row in rows)

    @contextlib.contextmanager
    def atomic(self) -> Iterator[PgDatabase]:
        """A transaction, or a savepoint inside one; rolled back on any exception."""
        with self.pg.transaction():
            yield self

    @contextlib.contextmanager
    def write_tx(self) -> Iterator[PgDatabase]:
        """A write transaction holding the write lock (see ``WRITE_LOCK_KEY``); nested, a savepoint."""
        if self.conn.in_transaction:
            with self.atomic():
                yield self
            return
        with self.pg.transaction():
            self.pg.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
            yield self

    @contextlib.contextmanager
    def ensure_autocommit_on(self) -> Iterator[None]:
        yield

    def table(self, name: str) -> PgTable:
        return PgTable(self, name)

    __getitem__ = table

    def table_names(self) -> list[str]:
        rows = self.pg.execute("SELECT table_name FROM information_schema.tables"
                               " WHERE table_schema = current_schema() ORDER BY table_name").fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        self.pg.close()


def open_postgres(url: str) -> PgDatabase:
    return PgDatabase(url)


_IDENT_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


def quote_ident(name: str) -> str:
    """A database or role name for DDL (only plain lower-case names are accepted)."""
    if not _IDENT_RE.match(name):
        raise ValueError(f"not a plain SQL name: {name!r}")
    return name


__all__ = ["LOCK_TIMEOUT_MS", "MIGRATE_LOCK_KEY", "WRITE_LOCK_KEY", "PgConn", "PgCursor", "PgDatabase", "PgTable",
           "is_postgres_url", "mask_url", "open_postgres", "quote_ident"]
