"""The outbox: replies waiting to be sent, sent exactly once, retried with backoff on failure.

A row is ``pending`` until a channel sends it (``sent``) or it cannot be (``gave_up``, with the
error shown to operators). Rows ``held`` for a user (window or quota used up) keep ``pending`` with
``next_attempt_at`` at :data:`HELD` and are released by the user's next message.

Transient failures are retried with capped exponential backoff for as long as the reply is useful
(``max_age_s`` after it was queued), never abandoned after a few minutes of API errors. A send is
recorded as attempted (``attempt_started_at``) before the API call: when its outcome is unknown (a
timeout after the request went out, or the process died mid-send) WeChat may have delivered it, and
it has no idempotency key, so the row is resent at most ``resend_limit`` times and then marked
``ambiguous`` for an operator (``voicebot outbox retry`` sends it again on purpose).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from voicebot.store.clock import from_iso, to_iso, utc_now
from voicebot.store.db import write_tx
from voicebot.store.scoped import village_wide

Row = dict[str, Any]
HELD = "9999-12-31T00:00:00.000000Z"
BACKOFF_S = (1, 2, 5, 15, 60)
MAX_BACKOFF_S = 300.0
DEFAULT_MAX_AGE_S = 48 * 3600.0
LEASE_S = 60.0  # a claimed row is the claiming sender's for this long
STOPPED = ("gave_up", "ambiguous")  # statuses an operator can retry


def backoff_s(attempts: int) -> float:
    """Delay before the next try after ``attempts`` failed ones: 1, 2, 5, 15, 60 s, then every 5 min."""
    return float(BACKOFF_S[attempts - 1]) if attempts <= len(BACKOFF_S) else MAX_BACKOFF_S


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _decode(row: Row) -> Row:
    row["payload"] = json.loads(row.pop("payload_json") or "{}")
    return row


@village_wide
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
    shop_id: int | None = None,
) -> int | None:
    """Queue one reply; a ``dedup_key`` already queued is a no-op (returns None)."""
    now = utc_now()
    with write_tx(db):
        cur = db.execute(
            "INSERT INTO outbox (message_id, channel, user, kind, payload_json, media_path, dedup_key,"
            " next_attempt_at, created_at, shop_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (dedup_key) DO NOTHING",
            (message_id, channel, user, kind, json.dumps(payload or {}, ensure_ascii=False), media_path,
             dedup_key, HELD if held else now, now, shop_id),
        )
        return cur.lastrowid if cur.rowcount == 1 else None


@village_wide
def due(db: sqlite_utils.Database, channel: str, limit: int = 20, now: datetime | None = None,
        users: Collection[str] | None = None) -> list[Row]:
    """Pending rows of ``channel`` whose time has come, oldest first (only ``users``' rows when given)."""
    only, params = "", list(users or ())
    if users is not None:
        if not params:
            return []
        only = f" AND user IN ({', '.join('?' * len(params))})"
    rows = db.query(
        f"SELECT * FROM outbox WHERE channel = ? AND status = 'pending' AND next_attempt_at <= ?{only}"
        " ORDER BY id LIMIT ?",
        (channel, to_iso(_now(now)), *params, limit),
    )
    return [_decode(r) for r in rows]


@village_wide
def for_message(db: sqlite_utils.Database, message_id: int, status: str = "pending") -> list[Row]:
    rows = db.query("SELECT * FROM outbox WHERE message_id = ? AND status = ? ORDER BY id", (message_id, status))
    return [_decode(r) for r in rows]


@village_wide
def pending_for(db: sqlite_utils.Database, channel: str, user: str) -> list[Row]:
    """Every reply still waiting for ``user`` (held or not), oldest first."""
    rows = db.query("SELECT * FROM outbox WHERE channel = ? AND user = ? AND status = 'pending' ORDER BY id",
                    (channel, user))
    return [_decode(r) for r in rows]


@village_wide
def mark_sent(db: sqlite_utils.Database, outbox_id: int, via: str = "api") -> bool:
    """Mark a row sent; False if another sender got there first (so nothing is sent twice)."""
    with write_tx(db):
        cur = db.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, sent_via = ?, attempts = attempts + 1,"
            " attempt_started_at = NULL WHERE id = ? AND status = 'pending'",
            (utc_now(), via, outbox_id),
        )
        return cur.rowcount == 1


@village_wide
def start_attempt(db: sqlite_utils.Database, outbox_id: int, now: datetime | None = None) -> None:
    """Record, before the API call, that this row is being sent (its outcome is unknown until marked)."""
    with write_tx(db):
        db.execute("UPDATE outbox SET attempt_started_at = ? WHERE id = ? AND status = 'pending'",
                   (to_iso(_now(now)), outbox_id))


@village_wide
def _retry_later(db: sqlite_utils.Database, outbox_id: int, attempts: int, error: str, created_at: str,
                 now: datetime, max_age_s: float, extra: str = "") -> str:
    when = now + timedelta(seconds=backoff_s(attempts))
    if (when - from_iso(created_at)).total_seconds() > max_age_s:
        db.execute(
            "UPDATE outbox SET status = 'gave_up', attempts = ?, last_error = ?,"
            f" attempt_started_at = NULL{extra} WHERE id = ?",
            (attempts, f"{error} (no longer useful: queued more than {max_age_s / 3600:g} h ago)", outbox_id),
        )
        return "gave_up"
    db.execute(
        "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ?,"
        f" attempt_started_at = NULL{extra} WHERE id = ?",
        (attempts, error, to_iso(when), outbox_id),
    )
    return "pending"


@village_wide
def mark_failed(
    db: sqlite_utils.Database, outbox_id: int, error: str, *, permanent: bool = False,
    now: datetime | None = None, max_age_s: float = DEFAULT_MAX_AGE_S,
) -> str:
    """Record a failed attempt (nothing was delivered); schedules a retry with capped backoff while the
    reply is useful, else gives up. Returns the new status."""
    with write_tx(db):
        row = db.execute("SELECT attempts, created_at FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
        if row is None:
            return "gave_up"
        attempts = row[0] + 1
        if permanent:
            db.execute(
                "UPDATE outbox SET status = 'gave_up', attempts = ?, last_error = ?,"
                " attempt_started_at = NULL WHERE id = ?",
                (attempts, error, outbox_id),
            )
            return "gave_up"
        return _retry_later(db, outbox_id, attempts, error, row[1], _now(now), max_age_s)


@village_wide
def mark_ambiguous(
    db: sqlite_utils.Database, outbox_id: int, error: str, *, resend_limit: int,
    now: datetime | None = None, max_age_s: float = DEFAULT_MAX_AGE_S,
) -> str:
    """An attempt whose outcome is unknown (WeChat may have delivered it): resend it only while fewer
    than ``resend_limit`` resends were made for that reason, else stop at ``ambiguous``."""
    with write_tx(db):
        row = db.execute("SELECT attempts, created_at, ambiguous_attempts FROM outbox WHERE id = ?",
                         (outbox_id,)).fetchone()
        if row is None:
            return "gave_up"
        attempts, ambiguous = row[0] + 1, row[2] + 1
        error = f"outcome unknown, may have been delivered: {error}"
        if ambiguous > resend_limit:
            db.execute(
                "UPDATE outbox SET status = 'ambiguous', attempts = ?, ambiguous_attempts = ?,"
                " last_error = ?, attempt_started_at = NULL WHERE id = ?",
                (attempts, ambiguous, error, outbox_id),
            )
            return "ambiguous"
        return _retry_later(db, outbox_id, attempts, error, row[1], _now(now), max_age_s,
                            extra=f", ambiguous_attempts = {int(ambiguous)}")


@village_wide
def retry(db: sqlite_utils.Database, ids: list[int] | None = None, now: datetime | None = None) -> int:
    """An operator's retry: stopped rows (``gave_up``, ``ambiguous``) and rows waiting minutes for a
    backoff become due now (all of them, or ``ids``). Rows held for a user's next message stay held, and
    rows a sender holds right now (claimed or mid-send: due within its lease) are left to it."""
    moment = _now(now)
    where = ("(status IN ('gave_up', 'ambiguous') OR (status = 'pending' AND next_attempt_at != ?"
             " AND next_attempt_at > ? AND attempt_started_at IS NULL))")
    params: list[Any] = [HELD, to_iso(moment + timedelta(seconds=LEASE_S))]
    if ids is not None:
        if not ids:
            return 0
        where += f" AND id IN ({', '.join('?' * len(ids))})"
        params += ids
    with write_tx(db):
        return db.execute(
            "UPDATE outbox SET status = 'pending', next_attempt_at = ?, ambiguous_attempts = 0,"
            f" attempt_started_at = NULL WHERE {where}",
            [to_iso(moment), *params],
        ).rowcount


def _shop_cond(where: list[str], params: list[Any], shop_id: int | None) -> str:
    if shop_id is not None:
        where.append("shop_id = ?")
        params.append(shop_id)
    return ("WHERE " + " AND ".join(where)) if where else ""


@village_wide
def list_rows(db: sqlite_utils.Database, status: str | None = None, limit: int = 200,
              shop_id: int | None = None) -> list[Row]:
    """Outbox rows, newest first (of one ``status``, or all; of one shop, or every shop)."""
    where, params = (["status = ?"], [status]) if status else ([], [])
    cond = _shop_cond(where, params, shop_id)
    rows = db.query(f"SELECT * FROM outbox {cond} ORDER BY id DESC LIMIT {int(limit)}", params)
    return [_decode(r) for r in rows]


@village_wide
def hold(db: sqlite_utils.Database, outbox_id: int, reason: str) -> None:
    """Keep a row until the user's next message (their reply window or quota is used up)."""
    with write_tx(db):
        db.execute(
            # a held row was not delivered: its attempt is over, so a release must not read it as interrupted
            "UPDATE outbox SET next_attempt_at = ?, last_error = ?, attempt_started_at = NULL"
            " WHERE id = ? AND status = 'pending'",
            (HELD, reason, outbox_id),
        )


@village_wide
def release(db: sqlite_utils.Database, channel: str, user: str) -> int:
    """The user wrote again: their held rows become due now. Returns how many."""
    with write_tx(db):
        return db.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE channel = ? AND user = ? AND status = 'pending'"
            " AND next_attempt_at = ?",
            (utc_now(), channel, user, HELD),
        ).rowcount


@village_wide
def sent_since(db: sqlite_utils.Database, channel: str, user: str, since_iso: str) -> int:
    """How many replies were sent to ``user`` through the API since ``since_iso``."""
    return db.execute(
        "SELECT count(*) FROM outbox WHERE channel = ? AND user = ? AND status = 'sent' AND sent_at >= ?"
        " AND sent_via = 'api'",
        (channel, user, since_iso),
    ).fetchone()[0]


@village_wide
def sent_after(db: sqlite_utils.Database, channel: str, user: str, after: int, limit: int = 20) -> list[Row]:
    """The last ``limit`` rows sent to ``user`` with an id above ``after``, oldest first."""
    rows = db.query(
        "SELECT * FROM (SELECT * FROM outbox WHERE channel = ? AND user = ? AND status = 'sent' AND id > ?"
        " ORDER BY id DESC LIMIT ?) AS recent ORDER BY id",
        (channel, user, after, limit),
    )
    return [_decode(r) for r in rows]


@village_wide
def last_inbound_at(db: sqlite_utils.Database, channel: str, user: str) -> str | None:
    row = db.execute(
        "SELECT max(created_at) FROM messages WHERE channel = ? AND user = ? AND direction = 'in'",
        (channel, user),
    ).fetchone()
    return row[0] if row else None


@village_wide
def claim(
    db: sqlite_utils.Database, outbox_id: int, lease_s: float = LEASE_S, now: datetime | None = None
) -> bool:
    """Take a due row for sending (a lease, so two senders never send it twice); False if taken."""
    now = _now(now)
    with write_tx(db):
        return db.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND status = 'pending' AND next_attempt_at <= ?",
            (to_iso(now + timedelta(seconds=lease_s)), outbox_id, to_iso(now)),
        ).rowcount == 1


@village_wide
def undelivered(db: sqlite_utils.Database, limit: int = 200, shop_id: int | None = None) -> list[Row]:
    """Rows not sent (pending, held or given up), oldest first: what operators should look at."""
    params: list[Any] = []
    cond = _shop_cond(["status != 'sent'"], params, shop_id)
    rows = db.query(f"SELECT * FROM outbox {cond} ORDER BY id LIMIT {int(limit)}", params)
    return [_decode(r) for r in rows]


class Outbox:
    """The outbox over one open database connection: what the pipeline, the sender and channels use."""

    def __init__(self, db: sqlite_utils.Database, shop_id: int | None = None) -> None:
        self.db = db
        self.shop_id = shop_id  # the shop new rows belong to (None: not in a shop)

    def enqueue(self, channel: str, user: str, kind: str, **fields: Any) -> int | None:
        fields.setdefault("shop_id", self.shop_id)
        return enqueue(self.db, channel, user, kind, **fields)

    def due(self, channel: str, limit: int = 20, now: datetime | None = None,
            users: Collection[str] | None = None) -> list[Row]:
        return due(self.db, channel, limit, now, users)

    def for_message(self, message_id: int, status: str = "pending") -> list[Row]:
        return for_message(self.db, message_id, status)

    def pending_for(self, channel: str, user: str) -> list[Row]:
        return pending_for(self.db, channel, user)

    def claim(self, outbox_id: int, now: datetime | None = None, lease_s: float = LEASE_S) -> bool:
        return claim(self.db, outbox_id, lease_s, now)

    def start_attempt(self, outbox_id: int, now: datetime | None = None) -> None:
        start_attempt(self.db, outbox_id, now)

    def mark_sent(self, outbox_id: int, via: str = "api") -> bool:
        return mark_sent(self.db, outbox_id, via)

    def mark_failed(self, outbox_id: int, error: str, **how: Any) -> str:
        return mark_failed(self.db, outbox_id, error, **how)

    def mark_ambiguous(self, outbox_id: int, error: str, **how: Any) -> str:
        return mark_ambiguous(self.db, outbox_id, error, **how)

    def hold(self, outbox_id: int, reason: str) -> None:
        hold(self.db, outbox_id, reason)

    def release(self, channel: str, user: str) -> int:
        return release(self.db, channel, user)

    def sent_since(self, channel: str, user: str, since_iso: str) -> int:
        return sent_since(self.db, channel, user, since_iso)

    def sent_after(self, channel: str, user: str, after: int, limit: int = 20) -> list[Row]:
        return sent_after(self.db, channel, user, after, limit)

    def last_inbound_at(self, channel: str, user: str) -> str | None:
        return last_inbound_at(self.db, channel, user)

    def retry(self, ids: list[int] | None = None) -> int:
        return retry(self.db, ids)

    def list_rows(self, status: str | None = None, limit: int = 200) -> list[Row]:
        return list_rows(self.db, status, limit, self.shop_id)

    def undelivered(self, limit: int = 200) -> list[Row]:
        return undelivered(self.db, limit, self.shop_id)
