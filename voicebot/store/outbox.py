"""The outbox: replies waiting to be sent, sent exactly once, retried with backoff on failure.

A row is ``pending`` until a channel sends it (``sent``) or it cannot be (``gave_up``, with the
error shown to operators). Rows ``held`` for a user (window or quota used up) keep ``pending`` with
``next_attempt_at`` at :data:`HELD` and are released by the user's next message.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from voicebot.store.clock import to_iso, utc_now
from voicebot.store.db import write_tx

Row = dict[str, Any]
HELD = "9999-12-31T00:00:00.000000Z"
BACKOFF_S = (1, 2, 5, 15, 60, 300)
MAX_ATTEMPTS = len(BACKOFF_S) + 1


def _decode(row: Row) -> Row:
    row["payload"] = json.loads(row.pop("payload_json") or "{}")
    return row


def enqueue(
    db: sqlite_utils.Database,
    channel: str,
    user: str,
    kind: str,
    *,
    message_id: int | None = None,
    payload: dict[str, Any] | None = None,
    media_path: str | None = None,
    dedup_key: str | None = None,
    held: bool = False,
) -> int | None:
    """Queue one reply; a ``dedup_key`` already queued is a no-op (returns None)."""
    now = utc_now()
    with write_tx(db):
        cur = db.execute(
            "INSERT INTO outbox (message_id, channel, user, kind, payload_json, media_path, dedup_key,"
            " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (dedup_key) DO NOTHING",
            (message_id, channel, user, kind, json.dumps(payload or {}, ensure_ascii=False), media_path,
             dedup_key, HELD if held else now, now),
        )
        return cur.lastrowid if cur.rowcount == 1 else None


def due(db: sqlite_utils.Database, channel: str, limit: int = 20) -> list[Row]:
    """Pending rows of ``channel`` whose time has come, oldest first."""
    rows = db.query(
        "SELECT * FROM outbox WHERE channel = ? AND status = 'pending' AND next_attempt_at <= ?"
        " ORDER BY id LIMIT ?",
        (channel, utc_now(), limit),
    )
    return [_decode(r) for r in rows]


def for_message(db: sqlite_utils.Database, message_id: int, status: str = "pending") -> list[Row]:
    rows = db.query("SELECT * FROM outbox WHERE message_id = ? AND status = ? ORDER BY id", (message_id, status))
    return [_decode(r) for r in rows]


def held_for(db: sqlite_utils.Database, channel: str, user: str) -> list[Row]:
    rows = db.query(
        "SELECT * FROM outbox WHERE channel = ? AND user = ? AND status = 'pending' AND next_attempt_at = ?"
        " ORDER BY id",
        (channel, user, HELD),
    )
    return [_decode(r) for r in rows]


def mark_sent(db: sqlite_utils.Database, outbox_id: int, via: str = "api") -> bool:
    """Mark a row sent; False if another sender got there first (so nothing is sent twice)."""
    with write_tx(db):
        cur = db.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, sent_via = ?, attempts = attempts + 1"
            " WHERE id = ? AND status = 'pending'",
            (utc_now(), via, outbox_id),
        )
        return cur.rowcount == 1


def mark_failed(db: sqlite_utils.Database, outbox_id: int, error: str, *, permanent: bool = False) -> str:
    """Record a failed attempt; schedules a retry with backoff, or gives up. Returns the new status."""
    with write_tx(db):
        row = db.execute("SELECT attempts FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
        attempts = (row[0] if row else 0) + 1
        if permanent or attempts >= MAX_ATTEMPTS:
            db.execute(
                "UPDATE outbox SET status = 'gave_up', attempts = ?, last_error = ? WHERE id = ?",
                (attempts, error, outbox_id),
            )
            return "gave_up"
        delay = BACKOFF_S[min(attempts - 1, len(BACKOFF_S) - 1)]
        when = to_iso(datetime.now(UTC) + timedelta(seconds=delay))
        db.execute(
            "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
            (attempts, error, when, outbox_id),
        )
        return "pending"


def hold(db: sqlite_utils.Database, outbox_id: int, reason: str) -> None:
    """Keep a row until the user's next message (their reply window or quota is used up)."""
    with write_tx(db):
        db.execute(
            "UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ? AND status = 'pending'",
            (HELD, reason, outbox_id),
        )


def release(db: sqlite_utils.Database, channel: str, user: str) -> int:
    """The user wrote again: their held rows become due now. Returns how many."""
    with write_tx(db):
        return db.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE channel = ? AND user = ? AND status = 'pending'"
            " AND next_attempt_at = ?",
            (utc_now(), channel, user, HELD),
        ).rowcount


def sent_since(db: sqlite_utils.Database, channel: str, user: str, since_iso: str) -> int:
    """How many replies were sent to ``user`` through the API since ``since_iso``."""
    return db.execute(
        "SELECT count(*) FROM outbox WHERE channel = ? AND user = ? AND status = 'sent' AND sent_at >= ?"
        " AND sent_via = 'api'",
        (channel, user, since_iso),
    ).fetchone()[0]


def last_inbound_at(db: sqlite_utils.Database, channel: str, user: str) -> str | None:
    row = db.execute(
        "SELECT max(created_at) FROM messages WHERE channel = ? AND user = ? AND direction = 'in'",
        (channel, user),
    ).fetchone()
    return row[0] if row else None


def claim(db: sqlite_utils.Database, outbox_id: int, lease_s: float = 60.0) -> bool:
    """Take a due row for sending (a lease, so two senders never send it twice); False if taken."""
    now = datetime.now(UTC)
    with write_tx(db):
        return db.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND status = 'pending' AND next_attempt_at <= ?",
            (to_iso(now + timedelta(seconds=lease_s)), outbox_id, to_iso(now)),
        ).rowcount == 1


def undelivered(db: sqlite_utils.Database, limit: int = 200) -> list[Row]:
    """Rows not sent (pending, held or given up), oldest first: what operators should look at."""
    rows = db.query(f"SELECT * FROM outbox WHERE status != 'sent' ORDER BY id LIMIT {int(limit)}")
    return [_decode(r) for r in rows]
