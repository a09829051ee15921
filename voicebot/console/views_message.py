"""One message: what was heard (audio, words by confidence, what else it could have been and why the bot asked),
understood, done and said; and its correction."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils
from aiohttp import web

from voicebot.app_keys import CONFIG
from voicebot.console import corrections, doubts
from voicebot.console.access import Access
from voicebot.console.corrections import CorrectionError, MessageNotFound
from voicebot.console.notice import send_notice
from voicebot.console.web import SESSION, access, db_call, db_read, not_found, render, view
from voicebot.logs import log_event
from voicebot.shop.errors import ShopError
from voicebot.store import messages
from voicebot.store.scoped import ShopDb


def visible_message(db: sqlite_utils.Database, seen: Access, message_id: int) -> dict[str, Any] | None:
    """The message, or None when it does not exist or is not in the account's shops."""
    msg = messages.get_message(db, message_id)
    return msg if msg is not None and seen.sees(msg.get("shop_id")) else None


def _details(db: sqlite_utils.Database, seen: Access, message_id: int) -> dict[str, Any] | None:
    msg = visible_message(db, seen, message_id)
    if msg is None:
        return None
    shop_id = msg["shop_id"]
    customer = db.execute(
        "SELECT id, display_name, role, language FROM customers WHERE shop_id = ? AND channel = ?"
        " AND channel_user_id = ?", (shop_id, msg["channel"], msg["user"]),
    ).fetchone()
    replies = list(db.query("SELECT id, user, kind, status, attempts, last_error, next_attempt_at, created_at, sent_at,"
                            " payload_json, media_path IS NOT NULL AS has_media FROM outbox WHERE message_id = ?"
                            " AND (shop_id IS NOT DISTINCT FROM ? OR shop_id IS NULL) ORDER BY id", (message_id, shop_id)))
    action = None
    if msg["action_id"] is not None:
        row = db.execute("SELECT id, kind, data_json, undone FROM actions WHERE id = ? AND shop_id = ?",
                         (msg["action_id"], shop_id)).fetchone()
        if row:
            data = json.loads(row[2])
            action = {"id": row[0], "kind": row[1], "undone": bool(row[3]),
                      "text": corrections.describe_action(ShopDb(db, shop_id), row[0]),
                      "order_id": data.get("order_id"), "product_id": data.get("product_id")}
    return {
        "m": msg,
        "customer": dict(zip(("id", "display_name", "role", "language"), customer, strict=True)) if customer else None,
        "replies": replies,
        "action": action,
        "corrections": corrections.for_message(db, message_id, shop_id),
        "heard": doubts.heard(db, message_id, shop_id),
        "shop_name": seen.shops.get(shop_id, "(no shop yet)"),
    }


async def _page(request: web.Request, extra: dict[str, Any] | None = None, status: int = 200) -> web.Response:
    config = request.app[CONFIG]
    details = await db_read(request, _details, access(request), int(request.match_info["message_id"]))
    if details is None:
        raise not_found("message")
    return render(request, "message.html", {
        **details, "tz": config.shop.timezone, "low": config.dialogue.confirm_below_confidence,
        "preview": None, "text": "", **(extra or {}),
    }, status=status)


async def message_page(request: web.Request) -> web.Response:
    return await _page(request)


async def correct(request: web.Request) -> web.Response:
    """``op=preview`` shows what the typed transcript would mean and change; ``op=apply`` does it."""
    app, config = request.app, request.app[CONFIG]
    message_id = int(request.match_info["message_id"])
    seen = access(request)
    if await db_read(request, visible_message, seen, message_id) is None:
        raise not_found("message")  # before anything runs: not even a preview of another shop's message
    form = await request.post()
    text, op = str(form.get("text", ""))[:500], str(form.get("op", "preview"))
    if op == "apply" and " ".join(text.split()) != str(form.get("previewed", "")):
        op = "preview"  # the words changed after the preview: show what the new ones would do first
    operator = request[SESSION]["name"]
    try:
        if op == "apply":
            outcome = await db_call(request, corrections.apply, config, message_id, text, operator, seen.sees)
        else:
            outcome = await db_call(request, corrections.preview, config, message_id, text, seen.sees)
    except MessageNotFound:
        raise not_found("message") from None
    except (CorrectionError, ShopError) as e:
        return await _page(request, {"problem": str(e), "text": text}, status=409)
    if op != "apply":
        return await _page(request, {"preview": outcome, "text": outcome.text})
    log_event("console.corrected", message_id=message_id, operator=operator, intent=outcome.summary,
              old_action_id=outcome.old_action_id, new_action_id=outcome.new_action_id)
    outbox_id = None
    try:
        outbox_id = await send_notice(app, outcome)
    except Exception as e:  # the correction stands; the operator learns the notice did not go out
        log_event("console.notice_failed", message_id=message_id, error=f"{type(e).__name__}: {e}")
        flash = f"Corrected to “{outcome.summary}”, but the spoken notice failed: {e}"
    else:
        flash = f"Corrected to “{outcome.summary}”." + (
            " The user will hear a short spoken notice." if outbox_id else " (No channel to send a notice to.)")
    return await _page(request, {"flash": flash})


async def export_corrections(request: web.Request) -> web.Response:
    rows = await db_read(request, corrections.labelled, view(request).shop_ids)
    return web.Response(
        text=corrections.to_jsonl(rows), content_type="application/x-ndjson", charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="corrections.jsonl"'},
    )
