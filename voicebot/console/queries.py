"""Read-only SQL for the console's lists: people with their latest exchange, filtered and searched."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from voicebot.console.access import Access
from voicebot.store.clock import to_iso, utc_now
from voicebot.store.outbox import HELD

Row = dict[str, Any]
STATUSES = ("failed", "low_confidence", "awaiting", "held")
ROLES = ("seller", "buyer")


@dataclass
class Filters:
    """What the operator asked for (all optional); ``user`` narrows to one person's messages."""

    q: str = ""
    role: str = ""
    channel: str = ""
    intent: str = ""
    status: str = ""
    date_from: str = ""
    date_to: str = ""
    user: str = ""
    before: str = ""  # paging: only people whose newest matching message is older than this id

    @classmethod
    def from_query(cls, query: Any) -> Filters:
        return cls(**{k: str(query.get(k, "")).strip()[:200] for k in cls.__dataclass_fields__})


def _day_start(day: str, tz: str, days_after: int = 0) -> str | None:
    """The UTC start of ``day`` (+ ``days_after``) in ``tz``; None (no bound) for a non-date or a day past
    what a datetime holds (0001-01-01 east of UTC, 9999-12-31 + 1): from the beginning, or until the end."""
    try:
        d = date.fromisoformat(day) + timedelta(days=days_after)
        return to_iso(datetime.combine(d, time(), ZoneInfo(tz)))
    except (ValueError, OverflowError):
        return None


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(access: Access, f: Filters, tz: str, low_conf: float) -> tuple[str, list[Any]]:
    where, params = ["m.direction = 'in' AND (m.shop_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) OR (? AND m.shop_id IS NULL))"], access.params()
    if f.q:
        where.append("(lower(m.transcript) LIKE lower(?) ESCAPE '\\' OR lower(m.reply_text) LIKE lower(?) ESCAPE '\\')")
        params += [_like(f.q), _like(f.q)]
    if f.role in ROLES:
        where.append("COALESCE(c.role, 'buyer') = ?")
        params.append(f.role)
    if f.channel:
        where.append("m.channel = ?")
        params.append(f.channel)
    if f.user:
        where.append("m.user = ?")
        params.append(f.user)
    if f.intent:
        where.append("json_extract(m.intent_json, '$.intent') = ?")
        params.append(f.intent)
    start = _day_start(f.date_from, tz) if f.date_from else None
    if start:
        where.append("m.created_at >= ?")
        params.append(start)
    end = _day_start(f.date_to, tz, days_after=1) if f.date_to else None  # the "to" day is included
    if end:
        where.append("m.created_at < ?")
        params.append(end)
    if f.status == "failed":
        where.append("(m.status = 'failed' OR m.error IS NOT NULL)")
    elif f.status == "low_confidence":
        where.append(LOW_CONFIDENCE)
        params.append(low_conf)
    elif f.status == "awaiting":
        where.append(
            "EXISTS (SELECT 1 FROM dialogue_state d WHERE d.shop_id = m.shop_id AND d.channel = m.channel"
            " AND d.user = m.user"
            " AND json_extract(d.state_json, '$.pending') IS NOT NULL AND (d.expires_at IS NULL OR d.expires_at > ?))"
        )
        params.append(utc_now())
    elif f.status == "held":
        where.append("EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = m.id"
                     " AND (o.shop_id IS NOT DISTINCT FROM m.shop_id OR o.shop_id IS NULL)"  # the message's reply, queued in no shop
                     " AND o.status = 'pending' AND o.next_attempt_at = ?)")
        params.append(HELD)
    return " AND ".join(where), params


# the message's turn as the dialogue kept it (its hearing: voicebot/dialogue/doubts.py)
_TURN = "FROM dialogue_turns t WHERE t.turn_id = CAST(m.id AS TEXT) AND t.shop_id = m.shop_id"
# a word heard below the cut (Vosk), or the whole note (Whisper decodes without word confidences)
LOW_CONFIDENCE = (
    "EXISTS (SELECT 1 FROM (SELECT CAST(? AS DOUBLE PRECISION) AS cut) k WHERE"
    " EXISTS (SELECT 1 FROM json_each(COALESCE(m.words_json, '[]')) w"
    " WHERE CAST(json_extract(w.value, '$.conf') AS DOUBLE PRECISION) < k.cut)"
    f" OR EXISTS (SELECT 1 {_TURN} AND CAST(json_extract(t.result_json, '$.heard.confidence') AS DOUBLE PRECISION)"
    " < k.cut))"
)
_FROM = ("FROM messages m LEFT JOIN customers c ON c.shop_id = m.shop_id AND c.channel = m.channel"
         " AND c.channel_user_id = m.user")
_COLUMNS = (
    "m.id, m.shop_id, (SELECT name FROM shops s WHERE s.id = m.shop_id) AS shop_name,"
    " m.created_at, m.channel, m.user, m.kind, m.status, m.transcript, m.reply_text, m.error,"
    " json_extract(m.intent_json, '$.intent') AS intent, c.id AS customer_id, c.display_name,"
    " COALESCE(c.role, 'buyer') AS role,"
    " (SELECT group_concat(alias, ', ') FROM customer_aliases a WHERE a.shop_id = c.shop_id"
    " AND a.customer_id = c.id) AS aliases,"
    f" (SELECT json_extract(t.result_json, '$.heard.asked') {_TURN}) AS asked_json"
)


def _asked(rows: list[Row]) -> list[Row]:
    """Each row's ``asked``: the reasons its turn read a change back instead of acting (codes), if any."""
    for r in rows:
        try:
            asked = json.loads(r.pop("asked_json") or "[]")
        except ValueError:
            asked = []
        r["asked"] = [a["reason"] for a in asked if isinstance(a, dict) and isinstance(a.get("reason"), str)]
    return rows


def conversations(db: sqlite_utils.Database, access: Access, f: Filters, tz: str, low_conf: float,
                  limit: int = 100) -> list[Row]:
    """Each person's newest matching inbound message in the shops in view, newest first (with how many
    matched); one person in two shops is two people here."""
    where, params = _where(access, f, tz, low_conf)
    if f.user:  # one person: every matching message
        if f.before.isdigit() and len(f.before) < 19:
            where += " AND m.id < ?"
            params.append(int(f.before))
        sql = f"SELECT {_COLUMNS}, 1 AS matched {_FROM} WHERE {where} ORDER BY m.id DESC LIMIT {int(limit)}"
        return _asked(list(db.query(sql, params)))
    before = int(f.before) if f.before.isdigit() and len(f.before) < 19 else None
    sql = (
        f"WITH hits AS (SELECT m.id, m.shop_id, m.channel, m.user {_FROM} WHERE {where}),"
        " latest AS (SELECT max(id) AS id, count(*) AS matched FROM hits GROUP BY shop_id, channel, user)"
        f" SELECT {_COLUMNS}, latest.matched {_FROM} JOIN latest ON latest.id = m.id"
        + (" WHERE m.id < ?" if before is not None else "")
        + f" ORDER BY m.id DESC LIMIT {int(limit)}"
    )
    return _asked(list(db.query(sql, params + ([before] if before is not None else []))))


def choices(db: sqlite_utils.Database, access: Access) -> Row:
    """The values the filter menus offer: channels and intents seen in the log of the shops in view."""
    channels = [r[0] for r in db.execute(
        "SELECT DISTINCT m.channel FROM messages m WHERE (m.shop_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) OR (? AND m.shop_id IS NULL)) ORDER BY 1", access.params())]
    intents = [r[0] for r in db.execute(
        "SELECT DISTINCT json_extract(m.intent_json, '$.intent') AS i FROM messages m"
        " WHERE json_extract(m.intent_json, '$.intent') IS NOT NULL AND (m.shop_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) OR (? AND m.shop_id IS NULL)) ORDER BY i", access.params())]
    return {"channels": channels, "intents": intents}
