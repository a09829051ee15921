"""The WeChat channel: an adapter between the webhook/API and the pipeline. No shop logic here.

Inbound: a verified message becomes an :class:`Inbound`, is committed to the inbox, and its run is
scheduled. Replies go through the outbox and the customer-service API (``customer_service``), in
the HTTP response of a later redelivery (``passive``), or the first with a fallback to the second
when the account lacks the permission (``auto``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from voicebot.channels.wechat.api import WechatApi, WechatApiError
from voicebot.channels.wechat.messages import InboundMessage, text_reply, voice_reply
from voicebot.channels.wechat.webhook import Mode, ReplyEncoder, WechatWebhook
from voicebot.config import Config
from voicebot.dialogue.replies import say
from voicebot.logs import log_event
from voicebot.pipeline.dbthread import DbThread
from voicebot.pipeline.inbound import Inbound, SendError
from voicebot.pipeline.run import Pipeline
from voicebot.store import outbox
from voicebot.store.kv import kv_get, kv_set
from voicebot.store.nonces import claim_nonce

CHANNEL = "wechat"
PASSIVE_MODE_KEY = "wechat.passive_only"
WECHAT_ATTEMPTS = 3


class WechatChannel:
    """Implements the pipeline's Channel protocol for a WeChat Official Account."""

    name = CHANNEL
    reply_format = "amr"
    reply_window = True

    def __init__(self, config: Config, pipeline: Pipeline, api: WechatApi, db: DbThread,
                 passive_wait_s: float = 4.5, passive_hold_s: float = 6.0) -> None:
        self.config = config
        self.pipeline = pipeline
        self.api = api
        self.db = db
        self.passive_wait_s = passive_wait_s  # answer a delivery this soon, before WeChat's 5 s
        self.passive_hold_s = passive_hold_s  # keep an unanswered delivery open past WeChat's 5 s
        self.passive_only = config.wechat.reply_mode == "passive"
        self.webhook = WechatWebhook(config.wechat, self.on_message, nonce_guard=self._claim_nonce)
        self._deliveries: collections.Counter[str] = collections.Counter()
        self.on_accept: list[Any] = []  # callbacks after a new message is accepted (the sender's wake)

    def routes(self) -> list[web.RouteDef]:
        return self.webhook.routes(self.config.wechat.path)

    # -- inbound ----------------------------------------------------------------------------
    async def _claim_nonce(self, timestamp: str, nonce: str, digest: str) -> bool:
        keep_s = 2 * (self.config.wechat.timestamp_window_s or 43_200)
        now = time.time()
        return await self.db.run(
            lambda shop: claim_nonce(shop.db, CHANNEL, timestamp, nonce, digest, now, keep_s)
        )

    @staticmethod
    def to_inbound(msg: InboundMessage) -> Inbound:
        key = msg.dedup_key
        if msg.msg_type == "text":
            return Inbound(CHANNEL, key, msg.from_user, "text", text=msg.content)
        if msg.msg_type == "voice":
            return Inbound(CHANNEL, key, msg.from_user, "voice", media_ref=msg.media_id, media_format=msg.format)
        if msg.msg_type == "image":
            return Inbound(CHANNEL, key, msg.from_user, "image", media_ref=msg.media_id)
        if msg.msg_type == "event" and msg.event.lower() in ("subscribe", "unsubscribe"):
            return Inbound(CHANNEL, key, msg.from_user, "event", event=msg.event.lower())
        if msg.msg_type == "event":
            return Inbound(CHANNEL, key, msg.from_user, "event", event=f"ignored:{msg.event}")
        return Inbound(CHANNEL, key, msg.from_user, "event", event="unsupported")

    async def on_message(self, msg: InboundMessage, mode: Mode, encoder: ReplyEncoder) -> web.Response | str | None:
        mid, is_new = await self.pipeline.accept(self.to_inbound(msg))
        task = self.pipeline.schedule(mid)
        for callback in self.on_accept:
            callback()
        if not self.passive_only:
            return None  # `success` now; the reply goes through the customer-service API
        self._deliveries[msg.dedup_key] += 1
        return await self._passive(msg, mid, task, self._deliveries[msg.dedup_key])

    async def _passive(self, msg: InboundMessage, mid: int, task: asyncio.Task, delivery: int) -> str | None:
        """Answer this delivery with the reply if it is ready in time; else let WeChat redeliver."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), self.passive_wait_s)
        reply = await self._passive_reply(msg, mid)
        if reply is not None:
            self._deliveries.pop(msg.dedup_key, None)
            return reply
        if delivery >= WECHAT_ATTEMPTS:  # the last attempt: a short text rather than WeChat's error
            lang = self.config.shop.language
            log_event("wechat.passive_fallback", message_id=mid)
            return text_reply(msg, say(lang, "errors.still_working"))
        await asyncio.sleep(max(0.0, self.passive_hold_s - self.passive_wait_s))
        return None

    async def _passive_reply(self, msg: InboundMessage, mid: int) -> str | None:
        rows = await self.db.run(lambda shop: outbox.for_message(shop.db, mid))
        rows += await self.db.run(lambda shop: outbox.held_for(shop.db, CHANNEL, msg.from_user))
        for row in rows:
            if row["kind"] not in ("voice", "text"):
                continue
            if not await self.db.run(lambda shop, r=row: outbox.mark_sent(shop.db, r["id"], via="passive")):
                continue
            if row["kind"] == "voice":
                try:
                    media_id = await self.upload(row)
                    return voice_reply(msg, media_id)
                except (WechatApiError, OSError) as e:
                    log_event("wechat.passive_upload_failed", logging.WARNING, error=str(e), message_id=mid)
            return text_reply(msg, row["payload"].get("text", ""))
        return None

    # -- outbound ---------------------------------------------------------------------------
    async def fetch_media(self, ref: str) -> bytes:
        return await self.api.download_media(ref)

    async def upload(self, row: dict[str, Any]) -> str:
        path = Path(row["media_path"])
        data = await asyncio.to_thread(path.read_bytes)
        kind = "voice" if row["kind"] == "voice" else "image"
        return await self.api.upload_media(kind, data, path.name)

    async def send(self, row: dict[str, Any]) -> None:
        """Send one outbox row through the customer-service API."""
        user = row["user"]
        try:
            if row["kind"] == "text":
                await self.api.send_text(user, row["payload"]["text"])
            elif row["kind"] == "voice":
                await self.api.send_voice(user, await self.upload(row))
            else:
                await self.api.send_image(user, await self.upload(row))
        except WechatApiError as e:
            if e.no_permission and self.config.wechat.reply_mode == "auto":
                self.passive_only = True
                log_event("wechat.passive_fallback_mode", reason=str(e))
                raise SendError(f"no customer-service permission ({e}); replying passively", retryable=False,
                                hold=True) from e
            raise SendError(str(e), retryable=e.retryable, hold=e.window_closed) from e
        except OSError as e:
            raise SendError(f"reply file unreadable: {e}", retryable=False) from e


class DbCache:
    """The API client's token/media cache on the database's ``kv`` table, shared by processes."""

    def __init__(self, db: DbThread) -> None:
        self.db = db

    async def get(self, key: str) -> tuple[str, float] | None:
        item = await self.db.run(lambda shop: kv_get(shop.db, key))
        if item is None or item[1] is None or item[1] <= time.time():
            return None
        return item[0], item[1]

    async def set(self, key: str, value: str, expires_at: float) -> None:
        await self.db.run(lambda shop: kv_set(shop.db, key, value, expires_at))
