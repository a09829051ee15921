"""The webhook's verification front: size limit, signature, timestamp, decryption, safe parsing.

Only a request that passes every check reaches ``on_message``; anything else gets 403/400/408/413
with one structured log line (at most one a second per reason) and no stack trace.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from voicebot.channels.wechat.crypto import WechatCrypto
from voicebot.channels.wechat.errors import (
    BodyTimeout,
    BodyTooLarge,
    MalformedMessage,
    PlaintextRefused,
    ReplayedNonce,
    WechatProtocolError,
)
from voicebot.channels.wechat.messages import SUCCESS, InboundMessage, parse_message, parse_xml_fields
from voicebot.channels.wechat.signature import verify_request
from voicebot.config import WechatConfig
from voicebot.logs import RateLimiter, log_event, log_limited

Mode = Literal["plain", "compat", "aes"]


@dataclass(frozen=True)
class ReplyEncoder:
    """Turns a passive reply's XML into the HTTP body the request's mode needs."""

    mode: Mode
    crypto: WechatCrypto | None = None
    key_index: int = 0
    nonce: str = ""
    clock: Callable[[], float] = time.time

    @property
    def encrypted(self) -> bool:
        return self.mode != "plain"

    def encode(self, reply_xml: str) -> str:
        """The body to return: ``reply_xml`` itself, or its encrypted envelope (same key as the request)."""
        if not self.encrypted or reply_xml in ("", SUCCESS):
            return reply_xml
        assert self.crypto is not None
        return self.crypto.encrypt_reply(
            reply_xml, timestamp=int(self.clock()), nonce=self.nonce or None, key_index=self.key_index
        )

    def response(self, reply_xml: str) -> web.Response:
        if reply_xml in ("", SUCCESS):
            return web.Response(text=reply_xml, content_type="text/plain")
        return web.Response(text=self.encode(reply_xml), content_type="application/xml")


OnMessage = Callable[[InboundMessage, Mode, ReplyEncoder], Awaitable["web.Response | str | None"]]
# (timestamp, nonce, sha256 of the body) -> True when the pair is new or came with this same body.
NonceGuard = Callable[[str, str, str], Awaitable[bool]]


def _reject(request: web.Request, error: WechatProtocolError, limiter: RateLimiter | None = None) -> web.Response:
    # Anyone can send these: at most one line per reason per second (with a count of the rest).
    log_limited(
        "wechat.rejected",
        error.code,
        logging.WARNING,
        limiter,
        reason=error.code,
        status=error.status,
        detail=str(error)[:200],  # may quote the sender (a tag name): bounded
        method=request.method,
        remote=request.remote,
    )
    return web.Response(status=error.status, text=error.code, content_type="text/plain")


async def read_limited(request: web.Request, limit: int, timeout_s: float | None = None) -> bytes:
    """Read the body, refusing anything larger than ``limit`` bytes or slower than ``timeout_s`` in all."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(f"declared body of {request.content_length} bytes exceeds {limit}")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                chunk = await request.content.read(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(f"body exceeds {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise BodyTimeout(f"body not received within {timeout_s} s ({size} bytes arrived)") from None
    return b"".join(chunks)


class WechatWebhook:
    """GET (URL verification) and POST (messages) handlers for one Official Account."""

    def __init__(
        self,
        config: WechatConfig,
        on_message: OnMessage,
        clock: Callable[[], float] = time.time,
        nonce_guard: NonceGuard | None = None,
    ):
        self.config = config
        self.on_message = on_message
        self.clock = clock
        self.log_limiter = RateLimiter()
        self.nonce_guard = nonce_guard
        self.crypto: WechatCrypto | None = None
        if config.encoding_aes_key:
            self.crypto = WechatCrypto(
                config.token, config.encoding_aes_key, config.app_id, config.previous_encoding_aes_key
            )

    def _verify_plain(self, query: dict[str, str]) -> None:
        verify_request(
            self.config.token,
            query.get("signature", ""),
            query.get("timestamp", ""),
            query.get("nonce", ""),
            window_s=self.config.timestamp_window_s,
            now=self.clock(),
        )

    async def get(self, request: web.Request) -> web.Response:
        """URL verification: echo ``echostr`` unchanged when the signature is right."""
        query = dict(request.query)
        try:
            self._verify_plain(query)
            if "echostr" not in query:
                raise MalformedMessage("echostr missing")
        except WechatProtocolError as e:
            return _reject(request, e, self.log_limiter)
        log_event("wechat.url_verified", remote=request.remote)
        return web.Response(text=query["echostr"], content_type="text/plain")

    def _open(self, query: dict[str, str], body: bytes) -> tuple[InboundMessage, ReplyEncoder]:
        if query.get("encrypt_type", "raw").lower() != "aes":
            if self.crypto is not None:
                raise PlaintextRefused("safe mode is configured: only encrypted messages are accepted")
            self._verify_plain(query)
            return parse_message(body), ReplyEncoder("plain")
        if self.crypto is None:
            raise MalformedMessage("encrypted request but wechat.encoding_aes_key is not configured")
        envelope = parse_xml_fields(body)
        encrypted = envelope.get("Encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise MalformedMessage("encrypted request without <Encrypt>")
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        verify_request(
            self.config.token,
            query.get("msg_signature", ""),
            timestamp,
            nonce,
            encrypted,
            window_s=self.config.timestamp_window_s,
            now=self.clock(),
        )
        opened = self.crypto.decrypt_detailed(encrypted)
        msg = parse_message(opened.message)
        if envelope.get("ToUserName") and envelope["ToUserName"] != msg.to_user:
            raise MalformedMessage("envelope ToUserName differs from the encrypted message")
        mode: Mode = "compat" if "MsgType" in envelope else "aes"
        return msg, ReplyEncoder(mode, self.crypto, opened.key_index, nonce, self.clock)

    async def _check_replay(self, query: dict[str, str], body: bytes) -> None:
        """Refuse a verified (timestamp, nonce) pair seen before with another body.

        WeChat's own redeliveries are byte-identical and pass (the inbox de-duplicates them, and
        passive mode answers them); a captured URL reused with a new body does not.
        """
        if self.nonce_guard is None:
            return
        digest = hashlib.sha256(body).hexdigest()
        if not await self.nonce_guard(query.get("timestamp", ""), query.get("nonce", ""), digest):
            raise ReplayedNonce("this timestamp and nonce were already used with another body")

    async def post(self, request: web.Request) -> web.Response:
        """Verify, decrypt and parse a message, then hand it to ``on_message``.

        The query ``signature`` (token, timestamp, nonce: WeChat sends it in every mode) is checked
        before a byte of the body is read, so an outsider cannot make us read, time or parse anything.
        """
        query = dict(request.query)
        try:
            self._verify_plain(query)
            body = await read_limited(request, self.config.max_body_bytes, self.config.body_timeout_s)
            msg, encoder = self._open(query, body)
            await self._check_replay(query, body)
        except WechatProtocolError as e:
            return _reject(request, e, self.log_limiter)
        log_limited(  # a byte-identical replay of a captured request passes: one line a second at most
            "wechat.received",
            msg.dedup_key,
            logging.INFO,
            self.log_limiter,
            mode=encoder.mode,
            msg_type=msg.msg_type,
            dedup_key=msg.dedup_key,
            from_user=msg.from_user,
            key_index=encoder.key_index,
        )
        try:
            result = await self.on_message(msg, encoder.mode, encoder)
        except Exception as e:  # the handler failed: let WeChat redeliver, but never leak a trace
            log_event(
                "wechat.handler_failed",
                logging.ERROR,
                dedup_key=msg.dedup_key,
                error=f"{type(e).__name__}: {e}",
            )
            return web.Response(status=500, text="error", content_type="text/plain")
        if isinstance(result, web.StreamResponse):
            return result
        return encoder.response(SUCCESS if result is None else result)

    def routes(self, path: str | None = None) -> list[web.RouteDef]:
        p = path or self.config.path
        return [web.get(p, self.get), web.post(p, self.post)]


def make_webhook(
    config: WechatConfig, on_message: OnMessage, clock: Callable[[], float] = time.time
) -> tuple[
    Callable[[web.Request], Awaitable[web.Response]], Callable[[web.Request], Awaitable[web.Response]]
]:
    """``(get_handler, post_handler)`` for the configured path."""
    hook = WechatWebhook(config, on_message, clock)
    return hook.get, hook.post
