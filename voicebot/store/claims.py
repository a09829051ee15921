"""Taking over inbound messages that a dead process left unfinished, in batches, by several processes at once.

A row is ``claimed_by`` the process that accepted or runs it. It is an orphan when that process is
gone: on this machine its pid is dead; on another its ``process:`` lease (store/leases.py) expired.
:func:`claim_orphans` moves a batch of orphans to the caller in one write transaction: on PostgreSQL
the candidate rows are locked ``FOR UPDATE SKIP LOCKED`` so two processes sweeping at once take
different rows; on SQLite the write lock taken by ``BEGIN IMMEDIATE`` serialises the sweeps.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlite_utils

from voicebot.store.clock import to_iso, utc_now
from voicebot.store.db import write_tx
from voicebot.store.leases import PROCESS, owner_alive, process_owner
from voicebot.store.scoped import village_wide

UNFINISHED = "direction = 'in' AND status IN ('received', 'processing')"


def skip_locked(db: sqlite_utils.Database) -> str:
    """The row-locking clause of a queue read for this engine ("" on SQLite, whose writes are serial)."""
    return " FOR UPDATE SKIP LOCKED" if getattr(db, "engine", "sqlite") == "postgresql" else ""


@village_wide
def claim_orphans(db: sqlite_utils.Database, limit: int, owner: str | None = None,
                  now: datetime | None = None) -> list[int]:
    """Claim up to ``limit`` unfinished inbound messages whose process is gone; their ids, oldest first.

    The rows keep their status (``received`` or ``processing``); the caller runs them, and its run's
    claim (``claim_message``) finds them its own.
    """
    owner = owner or process_owner()
    moment = now or datetime.now(UTC)
    with write_tx(db):
        rows = db.execute(
            f"SELECT id, claimed_by FROM messages WHERE {UNFINISHED}"
            " AND (claimed_by IS NULL OR claimed_by != ?)"
            f" AND NOT EXISTS (SELECT 1 FROM leases WHERE leases.name = '{PROCESS}' || messages.claimed_by"
            " AND leases.expires_at > ?)"
            f" ORDER BY id LIMIT ?{skip_locked(db)}",
            (owner, to_iso(moment), int(limit)),
        ).fetchall()
        taken = [mid for mid, holder in rows if holder is None or not owner_alive(db, holder, moment)]
        if taken:
            marks = ", ".join("?" * len(taken))
            db.execute(f"UPDATE messages SET claimed_by = ?, updated_at = ? WHERE id IN ({marks})",
                       (owner, utc_now(), *taken))
    return taken


@village_wide
def claimed_unfinished(db: sqlite_utils.Database, limit: int, owner: str | None = None) -> list[int]:
    """The oldest ``limit`` unfinished inbound messages this process holds (accepted or taken over)."""
    rows = db.execute(
        f"SELECT id FROM messages WHERE {UNFINISHED} AND claimed_by = ? ORDER BY id LIMIT ?",
        (owner or process_owner(), int(limit)),
    ).fetchall()
    return [r[0] for r in rows]


@village_wide
def claim_backlog(db: sqlite_utils.Database, limit: int, owner: str | None = None) -> list[int]:
    """This process's run backlog: the orphans it can take (up to ``limit``), then the oldest ``limit``
    unfinished messages it holds. Rows another live process holds are never included."""
    owner = owner or process_owner()
    claim_orphans(db, limit, owner)
    return claimed_unfinished(db, limit, owner)
