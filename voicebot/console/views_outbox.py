"""Replies waiting: held by WeChat's window or quota, failing with their error and next retry; retry or drop."""

from __future__ import annotations

from typing import Any

import sqlite_utils
from aiohttp import web

from voicebot.app_keys import CONFIG, SENDER
from voicebot.console.web import SESSION, db_call, db_read, render
from voicebot.logs import log_event
from voicebot.store import outbox
from voicebot.store.db import write_tx


def _rows(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    rows = outbox.undelivered(db)
    for r in rows:  # any state another part of voicebot may add is shown as it is
        held = r["status"] == "pending" and r["next_attempt_at"] == outbox.HELD
        r["state"] = "held" if held else r["status"]
        r["text"] = (r.get("payload") or {}).get("text", "")
    return list(reversed(rows))


def retry_now(db: sqlite_utils.Database, outbox_id: int) -> bool:
    """The outbox's operator retry for one row (held and in-flight rows are left as they are)."""
    return outbox.retry(db, [outbox_id]) == 1


def drop(db: sqlite_utils.Database, outbox_id: int, operator: str) -> bool:
    """Give up on a row for good, noting who dropped it; False if it was already sent."""
    with write_tx(db):
        return db.execute(
            "UPDATE outbox SET status = 'gave_up', last_error = ? WHERE id = ? AND status != 'sent'",
            (f"dropped by {operator}", outbox_id),
        ).rowcount == 1


async def outbox_page(request: web.Request, flash: str = "") -> web.Response:
    rows = await db_read(request, _rows)
    return render(request, "outbox.html", {"rows": rows, "tz": request.app[CONFIG].shop.timezone,
                                           "held": outbox.HELD, "flash": flash})


async def outbox_action(request: web.Request) -> web.Response:
    outbox_id, op = int(request.match_info["outbox_id"]), request.match_info["op"]
    operator = request[SESSION]["name"]
    if op == "retry":
        done = await db_call(request, retry_now, outbox_id)
        request.app[SENDER].wake()
    else:
        done = await db_call(request, drop, outbox_id, operator)
    log_event("console.outbox", op=op, outbox_id=outbox_id, operator=operator, done=done)
    if done:
        flash = f"Reply #{outbox_id}: " + ("will be sent now" if op == "retry" else "dropped")
    else:
        flash = f"Reply #{outbox_id}: already sent, being sent, or held until the user writes again"
    return await outbox_page(request, flash)
