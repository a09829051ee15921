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
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from voicebot.channels.wechat.api import MediaTooLarge, WechatApi, WechatApiError
from voicebot.channels.wechat.messages import InboundMessage, text_reply, voice_reply
from voicebot.channels.wechat.policy import LIMITS, WechatPolicy
from voicebot.channels.wechat.webhook import Mode, ReplyEncoder, WechatWebhook
from voicebot.config import Config
from voicebot.dialogue.replies import say
from voicebot.logs import log_event
from voicebot.pipeline.dbthread import DbThread
from voicebot.pipeline.inbound import Inbound, MediaError, SendError
from voicebot.pipeline.run import Pipeline
from voicebot.store.kv import kv_get, kv_set
from voicebot.store.nonces import claim_nonce

CHANNEL = "wechat"
PASSIVE_MODE_KEY = "wechat.passive_only"
WECHAT_ATTEMPTS = 3
MEDIA_RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0)
EXPIRED_MEDIA_ERRORS = frozenset({40007})  # invalid media_id: expired (3 days) or never existed


class WechatChannel:
    """Implements the pipeline's Channel protocol for a WeChat Official Account."""

    name = CHANNEL
    reply_format = "amr"
    limits = LIMITS

    def __init__(self, config: Config, pipeline: Pipeline, api: WechatApi, db: DbThread,
                 passive_wait_s: float = 4.5, passive_hold_s: float = 6.0) -> None:
        self.config = config
        self.pipeline = pipeline
        self.api = api
        self.db = db
        self.passive_wait_s = passive_wait_s  # answer a delivery this soon, before WeChat's 5 s
        self.passive_hold_s = passive_hold_s  # keep an unanswered delivery open past WeChat's 5 s
        self.policy = WechatPolicy(config.wechat)
        self.webhook = WechatWebhook(config.wechat, self.on_message, nonce_guard=self._claim_nonce)
        self._deliveries: collections.Counter[str] = collections.Counter()
        self.on_accept: list[Any] = []  # callbacks after a new message is accepted (the sender's wake)
        self._passive_inflight: set[int] = set()  # outbox rows riding on a passive response being written
        self.media_retry_delays_s: tuple[float, ...] = MEDIA_RETRY_DELAYS_S

    def routes(self) -> list[web.RouteDef]:
        return self.webhook.routes(self.config.wechat.path)

    # -- inbound ----------------------------------------------------------------------------
    async def _claim_nonce(self, timestamp: str, nonce: str, digest: str) -> bool:
        keep_s = 2 * (self.config.wechat.timestamp_window_s or 43_200)
        now = time.time()
        return await self.db.run_first(  # the ack path: ahead of queued pipeline work
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
        if msg.qr_scene is not None:  # a scan of one of our codes ("" : a code we do not know)
            return Inbound(CHANNEL, key, msg.from_user, "event", event=msg.event.lower(), scene=msg.qr_scene)
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
        if not self.policy.passive_only:
            return None  # `success` now; the reply goes through the customer-service API
        self._deliveries[msg.dedup_key] += 1
        return await self._passive(msg, mid, task, self._deliveries[msg.dedup_key], encoder)

    async def _passive(self, msg: InboundMessage, mid: int, task: asyncio.Future | None, delivery: int,
                       encoder: ReplyEncoder) -> web.StreamResponse | str | None:
        """Answer this delivery with the reply if it is ready in time; else let WeChat redeliver."""
        if task is not None:  # None: the message waits in the inbox behind a backlog
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), self.passive_wait_s)
        ready = await self._passive_reply(msg, mid)
        if ready is not None:
            reply, rid = ready
            self._deliveries.pop(msg.dedup_key, None)
            return PassiveResponse(encoder, reply, functools.partial(self._passive_sent, rid, mid),
                                   functools.partial(self._passive_inflight.discard, rid))
        if delivery >= WECHAT_ATTEMPTS:  # the last attempt: a short text rather than WeChat's error
            lang = self.config.shop.language
            log_event("wechat.passive_fallback", message_id=mid)
            return text_reply(msg, say(lang, "errors.still_working"))
        await asyncio.sleep(max(0.0, self.passive_hold_s - self.passive_wait_s))
        return None

    async def _passive_reply(self, msg: InboundMessage, mid: int) -> tuple[str, int] | None:
        """The reply XML for this delivery and the outbox row it carries: this message's reply to this
        user first, then anything else still waiting for them. The row is marked sent only once the
        HTTP response carrying it has been written (:class:`PassiveResponse`)."""
        user = msg.from_user
        rows = await self.db.run(lambda shop: shop.outbox.for_message(mid))
        rows += await self.db.run(lambda shop: shop.outbox.pending_for(CHANNEL, user))
        for row in rows:
            if row["user"] != user or row["kind"] not in ("voice", "text"):
                continue
            if row["id"] in self._passive_inflight:
                continue
            self._passive_inflight.add(row["id"])  # a concurrent delivery must not carry it too
            try:
                if row["kind"] == "voice":
                    try:
                        return voice_reply(msg, await self.upload(row)), row["id"]
                    except (WechatApiError, OSError) as e:  # the words still reach the user, as text
                        log_event("wechat.passive_upload_failed", logging.WARNING, error=str(e),
                                  message_id=mid)
                return text_reply(msg, row["payload"].get("text", "")), row["id"]
            except BaseException:
                self._passive_inflight.discard(row["id"])
                raise
        return None

    async def _passive_sent(self, rid: int, mid: int) -> None:
        # the close of a delivery, like its ack: not behind queued pipeline work
        await self.db.run_first(lambda shop: shop.outbox.mark_sent(rid, via="passive"))
        log_event("outbox.sent", outbox_id=rid, message_id=mid, via="passive")

    # -- outbound ---------------------------------------------------------------------------
    async def fetch_media(self, ref: str, max_bytes: int) -> bytes:
        """Download a user's media, retrying transient errors (-1, 5xx, timeouts) with backoff."""
        delays = self.media_retry_delays_s
        for attempt in range(len(delays) + 1):
            try:
                return await self.api.download_media(ref, max_bytes)
            except MediaTooLarge as e:
                raise MediaError(str(e), "too_large") from e
            except WechatApiError as e:
                if e.errcode in EXPIRED_MEDIA_ERRORS:
                    raise MediaError(f"the media id is invalid or expired ({e})", "expired") from e
                if not e.retryable or attempt == len(delays):
                    raise MediaError(f"could not fetch the media: {e}", "unavailable") from e
                log_event("wechat.media_retry", logging.WARNING, error=str(e), attempt=attempt + 1)
                await asyncio.sleep(delays[attempt])
        raise AssertionError("unreachable")

    async def upload(self, row: dict[str, Any], fresh: bool = False) -> str:
        """Upload the row's file (a live upload of the same bytes is reused unless ``fresh``)."""
        path = Path(row["media_path"])
        data = await asyncio.to_thread(path.read_bytes)
        kind = "voice" if row["kind"] == "voice" else "image"
        return await self.api.upload_media(kind, data, path.name, fresh=fresh)

    async def send(self, row: dict[str, Any]) -> None:
        """Send one outbox row through the customer-service API.

        Uploading is safe to repeat; the send itself is not (WeChat has no idempotency key), so only
        a send that got no answer is reported ``ambiguous``.
        """
        try:
            media_id = None if row["kind"] == "text" else await self.upload(row)
            try:
                await self._send_once(row, media_id)
            except WechatApiError as e:
                if e.errcode != 40007 or media_id is None:
                    raise
                # The cached upload expired or was purged on WeChat's side: upload afresh, once.
                log_event("wechat.media_reupload", outbox_id=row.get("id"), kind=row["kind"])
                await self._send_once(row, await self.upload(row, fresh=True))
        except WechatApiError as e:
            if e.no_permission and self.config.wechat.reply_mode == "auto":
                self.policy.passive_only = True
                log_event("wechat.passive_fallback_mode", reason=str(e))
                raise SendError(f"no customer-service permission ({e}); replying passively", retryable=False,
                                hold=True) from e
            raise SendError(str(e), retryable=e.retryable, hold=e.window_closed, ambiguous=e.ambiguous) from e
        except OSError as e:
            raise SendError(f"reply file unreadable: {e}", retryable=False) from e

    async def _send_once(self, row: dict[str, Any], media_id: str | None) -> None:
        user = row["user"]
        if media_id is None:
            await self.api.send_text(user, row["payload"]["text"])
        elif row["kind"] == "voice":
            await self.api.send_voice(user, media_id)
        else:
            await self.api.send_image(user, media_id)


class PassiveResponse(web.Response):
    """A passive reply that reports when it was written to WeChat's connection (``on_sent``), and
    releases its outbox row either way (``on_done``): a response the client hung up on is not sent."""

    def __init__(self, encoder: ReplyEncoder, reply_xml: str, on_sent: Callable[[], Awaitable[None]],
                 on_done: Callable[[], None]) -> None:
        super().__init__(text=encoder.encode(reply_xml), content_type="application/xml")
        self._on_sent = on_sent
        self._on_done = on_done

    async def prepare(self, request: web.BaseRequest) -> Any:
        try:
            return await super().prepare(request)
        except BaseException:
            self._on_done()
            raise

    async def write_eof(self, data: bytes = b"") -> None:
        try:
            await super().write_eof(data)
            await self._on_sent()
        finally:
            self._on_done()


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
