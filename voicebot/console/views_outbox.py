"""Replies waiting: held by WeChat's window or quota, failing with their error and next retry; retry or drop."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils
from aiohttp import web

from voicebot.app_keys import CONFIG, SENDER
from voicebot.console.access import Access
from voicebot.console.web import SESSION, access, db_call, db_read, not_found, render, view
from voicebot.logs import log_event
from voicebot.store import outbox
from voicebot.store.db import write_tx

LIMIT = 200


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    row["payload"] = json.loads(row.pop("payload_json") or "{}")
    return row


def _rows(db: sqlite_utils.Database, seen: Access) -> list[dict[str, Any]]:
    """The newest replies not sent in the shops in view, with their shop's name."""
    rows = [_decoded(r) for r in db.query(
        "SELECT o.*, (SELECT name FROM shops s WHERE s.id = o.shop_id) AS shop_name FROM outbox o"
        " WHERE o.status != 'sent' AND (o.shop_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) OR (? AND o.shop_id IS NULL))"
        f" ORDER BY o.id DESC LIMIT {LIMIT}", seen.params())]
    for r in rows:  # any state another part of voicebot may add is shown as it is
        held = r["status"] == "pending" and r["next_attempt_at"] == outbox.HELD
        r["state"] = "held" if held else r["status"]
        r["text"] = (r.get("payload") or {}).get("text", "")
    return rows


def visible(db: sqlite_utils.Database, seen: Access, outbox_id: int) -> tuple[int | None] | None:
    """``(shop_id,)`` of the reply if the account sees it, else None."""
    row = db.execute("SELECT shop_id FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
    return (row[0],) if row is not None and seen.sees(row[0]) else None


def retry_now(db: sqlite_utils.Database, seen: Access, outbox_id: int) -> bool | None:
    """The outbox's operator retry for one row (held and in-flight rows are left as they are);
    None when the account does not see the row."""
    if not visible(db, seen, outbox_id):
        return None
    return outbox.retry(db, [outbox_id]) == 1


def drop(db: sqlite_utils.Database, seen: Access, outbox_id: int, operator: str) -> bool | None:
    """Give up on a row for good, noting who dropped it; False if it was already sent, None when the
    account does not see it."""
    with write_tx(db):
        found = visible(db, seen, outbox_id)
        if found is None:
            return None
        return db.execute(
            "UPDATE outbox SET status = 'gave_up', last_error = ? WHERE id = ? AND shop_id IS NOT DISTINCT FROM ? AND status != 'sent'",
            (f"dropped by {operator}", outbox_id, found[0]),
        ).rowcount == 1


async def outbox_page(request: web.Request, flash: str = "") -> web.Response:
    rows = await db_read(request, _rows, view(request))
    return render(request, "outbox.html", {"rows": rows, "tz": request.app[CONFIG].shop.timezone,
                                           "held": outbox.HELD, "flash": flash})


async def outbox_action(request: web.Request) -> web.Response:
    outbox_id, op = int(request.match_info["outbox_id"]), request.match_info["op"]
    operator = request[SESSION]["name"]
    if op == "retry":
        done = await db_call(request, retry_now, access(request), outbox_id)
        request.app[SENDER].wake()
    else:
        done = await db_call(request, drop, access(request), outbox_id, operator)
    if done is None:
        raise not_found("reply")
    log_event("console.outbox", op=op, outbox_id=outbox_id, operator=operator, done=done)
    if done:
        flash = f"Reply #{outbox_id}: " + ("will be sent now" if op == "retry" else "dropped")
    else:
        flash = f"Reply #{outbox_id}: already sent, being sent, or held until the user writes again"
    return await outbox_page(request, flash)
