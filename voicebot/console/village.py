"""The village at a glance, per shop: sales today and this week, how often its sellers were not understood
this week, and the replies still waiting to go out. Periods are each shop's own (its time zone)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlite_utils

from voicebot.console.access import Access
from voicebot.shop.reports import SALE_SQL, period_bounds
from voicebot.store.clock import to_iso
from voicebot.store.outbox import HELD

# a seller's turn the bot did not understand: no intent found, or the voice note could not be heard at all
NOT_UNDERSTOOD = "(json_extract(m.intent_json, '$.intent') = 'unknown' OR m.error IS NOT NULL)"
TOP = 10


def _by_timezone(db: sqlite_utils.Database, shop_ids: list[int]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for row in db.query("SELECT id, timezone FROM shops WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) AND removed_at IS NULL"
                        " ORDER BY id",
                        [json.dumps(shop_ids)]):
        out.setdefault(row["timezone"], []).append(row["id"])
    return out


def village_stats(db: sqlite_utils.Database, seen: Access, now: datetime | None = None) -> dict[str, Any]:
    """``shops``: one row per shop in view (sales today/week, seller turns and not understood this week,
    unsent replies); ``not_understood``: the shops with most such turns this week; ``unsent``: per shop,
    with the replies to buyers in no shop yet as shop None (admins only)."""
    rows: dict[int, dict[str, Any]] = {}
    for tz, ids in _by_timezone(db, seen.shop_ids).items():
        day = [to_iso(t) for t in period_bounds("today", tz, now)]
        week = [to_iso(t) for t in period_bounds("week", tz, now)]
        sales = db.query(
            "SELECT s.id AS shop_id, s.name,"
            " (SELECT count(*) FROM orders o WHERE o.shop_id = s.id AND o.status IN " + SALE_SQL +
            "   AND o.created_at >= ? AND o.created_at < ?) AS orders_today,"
            " (SELECT coalesce(sum(o.total_fen), 0) FROM orders o WHERE o.shop_id = s.id AND o.status IN " + SALE_SQL +
            "   AND o.created_at >= ? AND o.created_at < ?) AS fen_today,"
            " (SELECT count(*) FROM orders o WHERE o.shop_id = s.id AND o.status IN " + SALE_SQL +
            "   AND o.created_at >= ? AND o.created_at < ?) AS orders_week,"
            " (SELECT coalesce(sum(o.total_fen), 0) FROM orders o WHERE o.shop_id = s.id AND o.status IN " + SALE_SQL +
            "   AND o.created_at >= ? AND o.created_at < ?) AS fen_week"
            " FROM shops s WHERE s.id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))",
            [*day, *day, *week, *week, json.dumps(ids)],
        )
        for r in sales:
            rows[r["shop_id"]] = {**r, "seller_turns": 0, "not_understood": 0, "unsent": 0, "held": 0, "gave_up": 0}
        heard = db.query(
            "SELECT m.shop_id, count(*) AS turns, sum(CASE WHEN " + NOT_UNDERSTOOD + " THEN 1 ELSE 0 END) AS missed"
            " FROM messages m JOIN customers c ON c.shop_id = m.shop_id AND c.channel = m.channel"
            " AND c.channel_user_id = m.user AND c.role = 'seller'"
            " WHERE m.direction = 'in' AND m.shop_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))"
            " AND m.created_at >= ? AND m.created_at < ? GROUP BY m.shop_id",
            [json.dumps(ids), *week],
        )
        for r in heard:
            rows[r["shop_id"]].update(seller_turns=r["turns"], not_understood=r["missed"] or 0)
    unsent: dict[int | None, dict[str, int]] = {}
    for r in db.query(
        "SELECT o.shop_id, count(*) AS unsent, sum(CASE WHEN o.status = 'pending' AND o.next_attempt_at = ? THEN 1 ELSE 0 END)"
        " AS held, sum(CASE WHEN o.status IN ('gave_up', 'ambiguous') THEN 1 ELSE 0 END) AS gave_up"
        " FROM outbox o WHERE o.status != 'sent'"
        " AND (o.shop_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) OR (? AND o.shop_id IS NULL)) GROUP BY o.shop_id",
        [HELD, *seen.params()],
    ):
        counts = {"unsent": r["unsent"], "held": r["held"] or 0, "gave_up": r["gave_up"] or 0}
        if r["shop_id"] in rows:
            rows[r["shop_id"]].update(counts)
        unsent[r["shop_id"]] = counts
    ordered = [rows[i] for i in seen.shop_ids if i in rows]
    worst = sorted((r for r in ordered if r["not_understood"]), key=lambda r: (-r["not_understood"], r["shop_id"]))
    return {"shops": ordered, "not_understood": worst[:TOP], "shopless_unsent": unsent.get(None),
            "total_today_fen": sum(r["fen_today"] for r in ordered),
            "total_week_fen": sum(r["fen_week"] for r in ordered)}
