"""A read-only connection on its own thread for the console's pages, so a long list or dashboard query never
holds up the pipeline's database thread (SQLite's WAL, like PostgreSQL, lets readers run beside the writer)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils
from aiohttp import web

from voicebot.store.db import open_db
from voicebot.store.postgres import PgDatabase

T = TypeVar("T")


class ReadThread:
    """``await reads.run(fn, *args)`` calls ``fn(db, *args)`` on a query-only connection."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voicebot-console-read")
        self._db: sqlite_utils.Database | PgDatabase | None = None

    def _open(self) -> sqlite_utils.Database | PgDatabase:
        db = open_db(self.path, migrate_schema=False)  # the service's DbThread has migrated it
        if isinstance(db, PgDatabase):
            db.execute("SET default_transaction_read_only = on")
        else:
            db.conn.execute("PRAGMA query_only = ON")
        return db

    async def start(self) -> None:
        self._db = await asyncio.get_running_loop().run_in_executor(self._executor, self._open)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._db is None:
            raise RuntimeError("ReadThread.start() was not awaited")
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, functools.partial(fn, self._db, *args))

    async def close(self) -> None:
        if self._db is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)


READS = web.AppKey("console_reads", ReadThread)
