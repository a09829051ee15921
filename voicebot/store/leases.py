"""Leases shared by every service process on one store: who is alive, and whose turn a periodic job is.

- ``process:<owner>`` (owner ``host:pid``): a service process is alive. Its heartbeat renews it every
  third of its length; the messages it claimed stay its own while it is fresh (store/claims.py).
- ``job:<name>``: the right to run a periodic job (media retention) for everyone, taken for one period
  by whichever process asks first once the last turn is over.

Every statement is a single conditional write (``INSERT … ON CONFLICT … DO UPDATE … WHERE``), so two
processes racing for one lease never both get it, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

import sqlite_utils

from voicebot.store.clock import to_iso
from voicebot.store.db import write_tx

PROCESS = "process:"
JOB = "job:"
_node: str | None = None


def set_node(name: str) -> None:
    """Name this machine (``server.node``; empty: its host name) in the owners it records."""
    global _node
    _node = name or None


def node() -> str:
    return _node or socket.gethostname()


def process_owner() -> str:
    """This process, as recorded on the messages and leases it holds: ``host:pid``."""
    return f"{node()}:{os.getpid()}"


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _upsert(db: sqlite_utils.Database, name: str, owner: str, seconds: float, now: datetime,
            mine_too: bool) -> bool:
    """Insert the lease, or take it over when it has expired (or, with ``mine_too``, when we hold it)."""
    moment = to_iso(now)
    when = "leases.expires_at <= ?" + (" OR leases.owner = ?" if mine_too else "")
    with write_tx(db):
        return db.execute(
            "INSERT INTO leases (name, owner, expires_at, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,"
            f" updated_at = excluded.updated_at WHERE {when}",
            (name, owner, to_iso(now + timedelta(seconds=seconds)), moment, moment, *([owner] if mine_too else [])),
        ).rowcount == 1


def renew(db: sqlite_utils.Database, name: str, owner: str, lease_s: float, now: datetime | None = None) -> bool:
    """Take or extend ``name`` for ``lease_s`` seconds; False while another owner holds it."""
    return _upsert(db, name, owner, lease_s, _now(now), mine_too=True)


def take_turn(db: sqlite_utils.Database, job: str, owner: str, every_s: float, now: datetime | None = None) -> bool:
    """True for exactly one caller per ``every_s`` seconds, whichever process asks first (a periodic job
    runs once for the whole store, not once per process). A holder that dies loses only its turn."""
    return _upsert(db, JOB + job, owner, every_s, _now(now), mine_too=False)


def release(db: sqlite_utils.Database, name: str, owner: str) -> None:
    with write_tx(db):
        db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))


def holder(db: sqlite_utils.Database, name: str, now: datetime | None = None) -> str | None:
    """The owner of a lease still in force, else None."""
    row = db.execute("SELECT owner FROM leases WHERE name = ? AND expires_at > ?",
                     (name, to_iso(_now(now)))).fetchone()
    return row[0] if row else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_alive(db: sqlite_utils.Database, owner: str, now: datetime | None = None) -> bool:
    """A process on this machine is alive while its pid is; one elsewhere while its lease is fresh."""
    host, _, pid = owner.rpartition(":")
    if host == node() and pid.isdigit():
        return pid_alive(int(pid))
    return holder(db, PROCESS + owner, now) == owner


def reap_dead(db: sqlite_utils.Database, now: datetime | None = None) -> list[str]:
    """Drop the process leases of this machine's processes that are gone (a SIGKILL leaves its lease
    behind): their messages are taken over at once instead of after the lease; the ones returned. Lapsed
    process leases of any machine go too (a lapsed lease and none mean the same: that process is gone)."""
    prefix = f"{PROCESS}{node()}:"
    rows = db.execute("SELECT name, expires_at FROM leases WHERE name LIKE ?", (PROCESS + "%",)).fetchall()
    pids = {r[0]: r[0][len(prefix):] for r in rows if r[0].startswith(prefix)}
    dead = [name for name, pid in pids.items() if pid.isdigit() and not pid_alive(int(pid))]
    moment = to_iso(_now(now))
    lapsed = [name for name, expires_at in rows if expires_at <= moment and name not in dead]
    if dead or lapsed:
        with write_tx(db):
            for name in dead + lapsed:
                db.execute("DELETE FROM leases WHERE name = ? AND expires_at = ?",
                           (name, dict(rows)[name]))  # unless renewed meanwhile
    return [name[len(PROCESS):] for name in dead]
