"""The web channel: browser chats over WebSockets, as a pipeline Channel like WeChat.

Its delivery rules: no reply window or quota; a reply goes to every open chat of the user; when none
is open the reply is held in the outbox and released when the user connects again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from aiohttp import web

from voicebot.channels.web.cards import catalog
from voicebot.channels.web.files import file_url, media_key
from voicebot.channels.web.links import CHANNEL
from voicebot.config import Config
from voicebot.logs import log_event
from voicebot.pipeline.dbthread import DbThread
from voicebot.pipeline.events import Heard, RunEvent, StageEnd
from voicebot.pipeline.inbound import Limits, SendError
from voicebot.shop.facade import Shop
from voicebot.shop.shops import DEFAULT_SHOP
from voicebot.store.outbox import DEFAULT_MAX_AGE_S, Outbox


def clip_id(channel_msg_id: str | None, user: str) -> str | None:
    """The page's clip id from an inbox ``channel_msg_id`` (``<user>/<clip id>``)."""
    prefix = f"{user}/"
    if channel_msg_id and channel_msg_id.startswith(prefix):
        return channel_msg_id[len(prefix):]
    return None


def reply_event(shop: Shop, config: Config, row: dict[str, Any]) -> dict[str, Any]:
    """The ``reply`` event for one outbox row."""
    msg = shop.get_message(row["message_id"]) if row.get("message_id") else None
    mine = msg is not None and msg["channel"] == row["channel"] and msg["user"] == row["user"]
    payload = row.get("payload") or {}
    url = file_url(config, row.get("media_path"), user=row["user"], key=media_key(shop.db))
    return {
        "type": "reply",
        "id": clip_id(msg["channel_msg_id"], row["user"]) if mine else None,
        "message_id": row.get("message_id") if mine else None,
        "outbox_id": row["id"],
        "kind": row["kind"],
        "text": payload.get("text", ""),
        "audio_url": url if row["kind"] == "voice" else None,
        "image_url": url if row["kind"] == "image" else None,
        "heard": (msg.get("transcript") if mine else None),
        "notification": bool(payload.get("notification")) or not mine,
    }


def resent_replies(shop: Shop, config: Config, user: str, after: int, limit: int = 20) -> list[dict[str, Any]]:
    """Replies already sent to ``user`` with an outbox id above ``after`` (a page may have missed them
    when its socket died just as they were written), oldest first."""
    return [reply_event(shop, config, r) for r in shop.outbox.sent_after(CHANNEL, user, after, limit)]


# A page plays any length; replies are cut as for WeChat, so a long answer arrives (and replays) in parts.
LIMITS = Limits(max_voice_s=55.0, max_voice_bytes=2 * 1024 * 1024)


class WebPolicy:
    """No reply window or quota in a browser; a reply waits in the outbox while the user has no chat open."""

    text_copy = False  # the page shows each voice reply's words already
    resend_ambiguous = 0  # a push never ends without knowing whether the page took it
    max_age_s = DEFAULT_MAX_AGE_S
    passive_only = False

    def hold_reason(self, outbox: Outbox, channel: str, user: str, now: datetime) -> str | None:
        return None


class WebChannel:
    """Implements the pipeline's Channel protocol for browser chats."""

    name = CHANNEL
    limits = LIMITS

    def __init__(self, config: Config, db: DbThread) -> None:
        self.config = config
        self.db = db
        self.reply_format = config.web.reply_format
        self.policy = WebPolicy()
        self.sockets: dict[str, set[web.WebSocketResponse]] = {}
        self.shop_of: dict[web.WebSocketResponse, int] = {}  # the shop whose page each chat is
        self.on_accept: list[Any] = []  # callbacks after a new message or a connect (the sender's wake)
        self._cards: dict[int, list[dict[str, Any]]] = {}  # per shop: the product cards its pages last got

    async def connect(self, user: str, ws: web.WebSocketResponse, shop_id: int = DEFAULT_SHOP) -> int:
        """Register an open chat of ``shop_id``'s page; replies held while the user was away become due now."""
        self.sockets.setdefault(user, set()).add(ws)
        self.shop_of[ws] = shop_id
        released = await self.db.run(lambda shop: shop.outbox.release(CHANNEL, user))
        self.wake()
        log_event("web.connected", user=user, released=released, open=len(self.sockets[user]))
        return released

    def recipients(self) -> set[str]:
        """The users with a chat open on this process: the sender sends only their replies here. A reply
        for a user whose chat is on another process waits for that process's sender; one for a user
        with no chat anywhere waits until she opens one (her connect makes it due wherever she lands)."""
        return set(self.sockets)

    def disconnect(self, user: str, ws: web.WebSocketResponse) -> None:
        self.shop_of.pop(ws, None)
        chats = self.sockets.get(user)
        if chats is not None:
            chats.discard(ws)
            if not chats:
                del self.sockets[user]
        log_event("web.disconnected", user=user)

    def wake(self) -> None:
        for callback in self.on_accept:
            callback()

    async def fetch_media(self, ref: str, max_bytes: int) -> bytes:
        raise SendError("browser clips arrive with their bytes; there is nothing to fetch", retryable=False)

    async def _push(self, user: str, event: dict[str, Any], shop_id: int | None = None) -> int:
        """Send ``event`` to every open chat of ``user`` (those of ``shop_id``'s page when she has one
        open there: a reply from one shop does not show in her other shop's tab); how many took it."""
        chats = list(self.sockets.get(user, ()))
        if shop_id is not None and any(self.shop_of.get(ws) == shop_id for ws in chats):
            chats = [ws for ws in chats if self.shop_of.get(ws) == shop_id]
        delivered = 0
        for ws in chats:
            if ws.closed:
                continue
            try:
                await ws.send_json(event)
                delivered += 1
            except (ConnectionError, RuntimeError) as e:
                log_event("web.push_failed", logging.WARNING, user=user, error=str(e))
        return delivered

    async def on_event(self, event: RunEvent) -> None:
        """A pipeline event: what was recognised in one of this channel's clips goes to the page as
        ``heard``, before the reply is ready (best effort)."""
        if event.run.channel != self.name or not isinstance(event, StageEnd) or not isinstance(event.outcome, Heard):
            return
        run = event.run
        await self._push(run.user, {"type": "heard", "id": clip_id(run.channel_msg_id, run.user),
                                    "message_id": run.message_id, "text": event.outcome.text})

    async def send(self, row: dict[str, Any]) -> None:
        """Deliver one outbox row to the user's open chats, or hold it until they come back."""
        event = await self.db.run(reply_event, self.config, row)
        shop_id = row.get("shop_id")
        await self.refresh_cards(shop_id or DEFAULT_SHOP)  # first, so the reply is marked sent as soon as it is written
        if not await self._push(row["user"], event, shop_id):
            raise SendError("no open chat: kept until the user opens it again", retryable=False, hold=True)

    async def refresh_cards(self, shop_id: int = DEFAULT_SHOP) -> list[dict[str, Any]]:
        """A shop's current product cards; its open pages get them when they changed (a seller's new price)."""
        cards = await self.db.run(lambda shop: catalog(shop.other(shop_id), self.config))
        before = self._cards.get(shop_id)
        if before is not None and cards != before:
            event = {"type": "products", "products": cards}
            for ws, shop in list(self.shop_of.items()):
                if shop == shop_id and not ws.closed:
                    try:
                        await ws.send_json(event)
                    except (ConnectionError, RuntimeError) as e:
                        log_event("web.push_failed", logging.WARNING, error=str(e))
        self._cards[shop_id] = cards
        return cards


async def close_all(channel: WebChannel) -> None:
    chats = [ws for group in channel.sockets.values() for ws in group]
    await asyncio.gather(*(ws.close(code=1001, message=b"server shutting down") for ws in chats),
                         return_exceptions=True)
