"""The conversation log: every inbound and outbound message, and what the pipeline did with it.

Inbound rows are unique on ``(channel, channel_msg_id)``: recording a redelivered message returns
the existing row with ``is_new=False``, which is how a retry becomes a no-op, whichever process it
lands on. A row is ``claimed_by`` the process that accepted it and then by the one that runs it
(store/claims.py takes over the rows of a process that died). Status goes
``received -> processing -> replied | failed``. JSON fields (``words``, ``intent``, ``timings``)
are given and returned as Python objects; they are stored in the ``*_json`` columns.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlite_utils

from voicebot.store.clock import utc_now
from voicebot.store.db import write_tx
from voicebot.store.leases import owner_alive, process_owner
from voicebot.store.scoped import village_wide

Row = dict[str, Any]

KINDS = ("voice", "image", "text", "event")
STATUSES = ("received", "processing", "replied", "failed")
JSON_FIELDS = ("words", "intent", "timings")
PLAIN_FIELDS = (
    "customer_id",
    "kind",
    "media_path",
    "transcript",
    "language",
    "action_id",
    "reply_text",
    "reply_audio_path",
    "status",
    "error",
    "reply_to_id",
    "shop_id",
)


def _columns(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key in JSON_FIELDS:
            out[f"{key}_json"] = None if value is None else json.dumps(value, ensure_ascii=False)
        elif key in PLAIN_FIELDS:
            out[key] = value
        else:
            raise ValueError(f"unknown message field {key!r}")
    if "status" in out and out["status"] not in STATUSES:
        raise ValueError(f"unknown message status {out['status']!r}")
    if "kind" in out and out["kind"] not in KINDS:
        raise ValueError(f"unknown message kind {out['kind']!r}")
    return out


def _decode(row: Row) -> Row:
    for key in JSON_FIELDS:
        raw = row.pop(f"{key}_json", None)
        row[key] = None if raw is None else json.loads(raw)
    return row


@village_wide
def record_inbound(
    db: sqlite_utils.Database, channel: str, channel_msg_id: str, user: str, kind: str, **fields: Any
) -> tuple[int, bool]:
    """Log an inbound message once; returns ``(message_id, is_new)`` (False for a redelivery)."""
    cols = _columns({"kind": kind, **fields})
    now = utc_now()
    cols.update(channel=channel, channel_msg_id=str(channel_msg_id), user=user, direction="in")
    cols.setdefault("status", "received")
    cols["claimed_by"] = process_owner()  # the accepting process runs it, unless it dies first
    cols.update(created_at=now, updated_at=now)
    names = ", ".join(cols)
    marks = ", ".join("?" * len(cols))
    with write_tx(db):
        cur = db.execute(
            f"INSERT INTO messages ({names}) VALUES ({marks}) ON CONFLICT (channel, channel_msg_id) DO NOTHING",
            list(cols.values()),
        )
        if cur.rowcount == 1:
            return cur.lastrowid, True  # type: ignore[return-value]
        row = db.execute(
            "SELECT id FROM messages WHERE channel = ? AND channel_msg_id = ?", (channel, str(channel_msg_id))
        ).fetchone()
        return row[0], False


@village_wide
def record_outbound(
    db: sqlite_utils.Database,
    channel: str,
    user: str,
    kind: str,
    reply_to_id: int | None = None,
    channel_msg_id: str | None = None,
    **fields: Any,
) -> int:
    """Log a message we send (``status`` defaults to ``replied``); returns its id."""
    cols = _columns({"kind": kind, "reply_to_id": reply_to_id, **fields})
    now = utc_now()
    cols.update(channel=channel, channel_msg_id=channel_msg_id, user=user, direction="out")
    cols.setdefault("status", "replied")
    cols.update(created_at=now, updated_at=now)
    with write_tx(db):
        return db.execute(
            f"INSERT INTO messages ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            list(cols.values()),
        ).lastrowid  # type: ignore[return-value]


@village_wide
def update_message(db: sqlite_utils.Database, message_id: int, **fields: Any) -> None:
    """Set any of the log fields (``transcript=``, ``words=``, ``intent=``, ``status=``, ``timings=`` …)."""
    cols = _columns(fields)
    if not cols:
        return
    cols["updated_at"] = utc_now()
    sets = ", ".join(f"{k} = ?" for k in cols)
    with write_tx(db):
        cur = db.execute(f"UPDATE messages SET {sets} WHERE id = ?", [*cols.values(), message_id])
        if cur.rowcount != 1:
            raise KeyError(f"no message {message_id}")


@village_wide
def get_message(db: sqlite_utils.Database, message_id: int) -> Row | None:
    rows = list(db.query("SELECT * FROM messages WHERE id = ?", (message_id,)))
    return _decode(rows[0]) if rows else None


@village_wide
def list_messages(
    db: sqlite_utils.Database,
    channel: str | None = None,
    user: str | None = None,
    direction: str | None = None,
    status: str | None = None,
    since: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
    shop_id: int | None = None,
) -> list[Row]:
    """Log rows newest first, filtered for the operator console; page with ``before_id``."""
    where, params = [], []
    for column, value in (("channel", channel), ("user", user), ("direction", direction), ("status", status),
                          ("shop_id", shop_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if since is not None:
        where.append("created_at >= ?")
        params.append(since)
    if before_id is not None:
        where.append("id < ?")
        params.append(before_id)
    sql = "SELECT * FROM messages" + (" WHERE " + " AND ".join(where) if where else "")
    sql += f" ORDER BY id DESC LIMIT {int(limit)}"
    return [_decode(r) for r in db.query(sql, params)]


@village_wide
def unfinished_inbound(db: sqlite_utils.Database) -> list[Row]:
    """Inbound messages still ``received`` or ``processing`` (to resume after a restart), oldest first."""
    return [
        _decode(r)
        for r in db.query(
            "SELECT * FROM messages WHERE direction = 'in' AND status IN ('received', 'processing') ORDER BY id"
        )
    ]


@village_wide
def claim_message(
    db: sqlite_utils.Database, message_id: int, owner: str | None = None, now: datetime | None = None
) -> Row | None:
    """Take an inbound message for processing; None when it is finished or another live process has it.

    A message held by a process that died (on this machine: its pid is gone; elsewhere: its lease in
    ``leases`` expired) is taken over: that is how a restart or another process resumes it.
    """
    owner = owner or process_owner()
    with write_tx(db):
        row = get_message(db, message_id)
        if row is None or row["status"] in ("replied", "failed"):
            return None
        holder = row.get("claimed_by")
        if holder and holder != owner and owner_alive(db, holder, now):
            return None
        # conditional on the holder read above, so two processes claiming at once never both win
        taken = db.execute(
            "UPDATE messages SET status = 'processing', claimed_by = ?, updated_at = ? WHERE id = ?"
            " AND status IN ('received', 'processing') AND COALESCE(claimed_by, '') = ?",
            (owner, utc_now(), message_id, holder or ""),
        ).rowcount
        return row if taken == 1 else None


class ConversationLog:
    """The conversation log (the ``messages`` table) over one open database connection."""

    def __init__(self, db: sqlite_utils.Database, shop_id: int | None = None) -> None:
        self.db = db
        self.shop_id = shop_id  # the shop new rows belong to (None: not in a shop yet)

    def record_inbound(self, channel: str, channel_msg_id: str, user: str, kind: str,
                       **fields: Any) -> tuple[int, bool]:
        fields.setdefault("shop_id", self.shop_id)
        return record_inbound(self.db, channel, channel_msg_id, user, kind, **fields)

    def record_outbound(self, channel: str, user: str, kind: str, **fields: Any) -> int:
        fields.setdefault("shop_id", self.shop_id)
        return record_outbound(self.db, channel, user, kind, **fields)

    def update(self, message_id: int, **fields: Any) -> None:
        update_message(self.db, message_id, **fields)

    def get(self, message_id: int) -> Row | None:
        return get_message(self.db, message_id)

    def list(self, **filters: Any) -> list[Row]:
        """This log's shop's messages (every shop's when the log has none)."""
        if self.shop_id is not None:
            filters.setdefault("shop_id", self.shop_id)
        return list_messages(self.db, **filters)

    def claim(self, message_id: int) -> Row | None:
        return claim_message(self.db, message_id)

    def unfinished(self) -> list[Row]:
        return unfinished_inbound(self.db)
