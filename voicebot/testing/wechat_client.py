"""WeChat's delivering side: builds, signs, encrypts and POSTs inbound messages to a webhook.

Deliveries behave like WeChat's: the same bytes are redelivered when no answer comes within
``timeout_s`` (5 s in production), three attempts in all; after that the user would see
"该公众号暂时无法提供服务，请稍后再试". Passive replies are verified, decrypted and parsed.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlencode

import aiohttp

from voicebot.channels.wechat.crypto import WechatCrypto
from voicebot.channels.wechat.http import OwnedSession
from voicebot.channels.wechat.messages import SUCCESS, cdata, parse_xml_fields
from voicebot.channels.wechat.signature import sign

DeliveryMode = Literal["plain", "compat", "safe"]
UNAVAILABLE_NOTICE = "该公众号暂时无法提供服务，请稍后再试"
_msg_ids = itertools.count(24_000_000_000_000_000 + secrets.randbelow(10**15) * 1000)


class UserSide(Protocol):
    """What a delivery tells WeChat's server side (:class:`~voicebot.testing.wechat_emulator.WechatEmulator`)."""
    def put_media(self, data: bytes, kind: str = "voice", filename: str = "", content_type: str = "") -> str: ...

    def user_message(self, openid: str) -> None: ...

    def unsubscribe(self, openid: str) -> None: ...

    def qr_scan(self, content: str, openid: str) -> tuple[str, str, str]: ...


@dataclass(frozen=True)
class Inbound:
    """One inbound message as WeChat would send it (plaintext XML plus its ids)."""

    xml: str
    from_user: str
    create_time: int
    msg_type: str
    msg_id: str | None


@dataclass(frozen=True)
class Prepared:
    """The exact HTTP request of one delivery; redeliveries reuse it byte for byte."""

    url: str
    body: bytes
    inbound: Inbound


@dataclass
class Attempt:
    status: int | None
    body: bytes
    timed_out: bool
    seconds: float


@dataclass
class Reply:
    """A passive reply as the user would get it: ``kind`` text/voice/image, or ``success``/empty."""

    kind: str
    fields: dict[str, Any]
    encrypted: bool = False

    @property
    def content(self) -> str:
        return self.fields.get("Content", "")

    @property
    def media_id(self) -> str:
        inner = self.fields.get(self.kind.capitalize())
        return inner.get("MediaId", "") if isinstance(inner, dict) else ""


@dataclass
class Delivery:
    prepared: Prepared
    attempts: list[Attempt] = field(default_factory=list)
    reply: Reply | None = None

    @property
    def answered(self) -> bool:
        return bool(self.attempts) and not self.attempts[-1].timed_out

    @property
    def status(self) -> int | None:
        return self.attempts[-1].status if self.attempts else None

    @property
    def user_notice(self) -> str | None:
        """What WeChat shows the user when every attempt timed out (or failed to connect)."""
        return None if self.answered else UNAVAILABLE_NOTICE


class WechatClient(OwnedSession):
    """Delivers messages for one Official Account (``account`` gh_… id) to ``webhook_url``."""

    def __init__(
        self,
        webhook_url: str,
        token: str,
        *,
        app_id: str = "wx0123456789abcdef",
        account: str = "gh_0123456789ab",
        mode: DeliveryMode = "plain",
        encoding_aes_key: str = "",
        emulator: UserSide | None = None,
        timeout_s: float = 5.0,
        attempts: int = 3,
        clock: Callable[[], float] = time.time,
        session: aiohttp.ClientSession | None = None,
    ):
        self.webhook_url = webhook_url
        self.token = token
        self.app_id = app_id
        self.account = account
        self.mode = mode
        self.crypto = WechatCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None
        if mode != "plain" and self.crypto is None:
            raise ValueError(f"mode {mode!r} needs encoding_aes_key")
        self.emulator = emulator
        self.timeout_s = timeout_s
        self.max_attempts = attempts
        self.clock = clock
        super().__init__(session)

    def user(self, openid: str | None = None) -> WechatUser:
        """A WeChat user following the account; a realistic 28-character OpenID when none is given."""
        return WechatUser(self, openid or "o" + secrets.token_urlsafe(21).replace("-", "x")[:27])

    # -- building the request -------------------------------------------------------------------
    def prepare(
        self, inbound: Inbound, *, timestamp: int | None = None, nonce: str | None = None
    ) -> Prepared:
        """Sign (and encrypt) ``inbound`` exactly as WeChat does for this account's mode."""
        ts = str(int(self.clock()) if timestamp is None else timestamp)
        nonce = nonce or str(secrets.randbelow(9 * 10**9) + 10**9)
        query = {"signature": sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce}
        query["openid"] = inbound.from_user
        if self.mode == "plain":
            body = inbound.xml
        else:
            assert self.crypto is not None
            encrypted = self.crypto.encrypt(inbound.xml.encode("utf-8"))
            query["encrypt_type"] = "aes"
            query["msg_signature"] = self.crypto.msg_signature(ts, nonce, encrypted)
            if self.mode == "compat":
                body = inbound.xml.replace("</xml>", f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>")
            else:
                body = f"<xml><ToUserName>{cdata(self.account)}</ToUserName><Encrypt>{cdata(encrypted)}</Encrypt></xml>"
        sep = "&" if "?" in self.webhook_url else "?"
        return Prepared(self.webhook_url + sep + urlencode(query), body.encode("utf-8"), inbound)

    # -- delivering ------------------------------------------------------------------------------
    async def post_once(self, prepared: Prepared, timeout_s: float | None = None) -> Attempt:
        """One HTTP attempt; a timeout or connection failure is reported, not raised."""
        started = time.perf_counter()
        timeout = aiohttp.ClientTimeout(total=self.timeout_s if timeout_s is None else timeout_s)
        headers = {"Content-Type": "text/xml", "User-Agent": "Mozilla/4.0"}
        try:
            async with self.session.post(
                prepared.url, data=prepared.body, headers=headers, timeout=timeout
            ) as r:
                body = await r.read()
                return Attempt(r.status, body, False, time.perf_counter() - started)
        except (TimeoutError, aiohttp.ClientConnectionError):
            return Attempt(None, b"", True, time.perf_counter() - started)

    async def deliver(self, inbound: Inbound | Prepared) -> Delivery:
        """Deliver with WeChat's redelivery: the same request again after each timeout, up to 3 in all."""
        prepared = inbound if isinstance(inbound, Prepared) else self.prepare(inbound)
        if self.emulator is not None:
            self._notify_emulator(prepared.inbound)
        delivery = Delivery(prepared)
        for _ in range(self.max_attempts):
            attempt = await self.post_once(prepared)
            delivery.attempts.append(attempt)
            if not attempt.timed_out:
                break
        if delivery.answered and delivery.status == 200:
            delivery.reply = self.parse_reply(delivery.attempts[-1].body, prepared.inbound)
        return delivery

    def _notify_emulator(self, inbound: Inbound) -> None:
        assert self.emulator is not None
        if inbound.msg_type == "event" and "<Event><![CDATA[unsubscribe]]>" in inbound.xml:
            self.emulator.unsubscribe(inbound.from_user)
        else:
            self.emulator.user_message(inbound.from_user)

    def parse_reply(self, body: bytes, inbound: Inbound) -> Reply:
        """Verify, decrypt and parse a passive reply; raise ValueError if WeChat would reject it."""
        text = body.decode("utf-8").strip()
        if text in ("", SUCCESS):
            return Reply(text or "empty", {})
        encrypted = False
        fields = parse_xml_fields(text)
        if "Encrypt" in fields:
            if self.crypto is None:
                raise ValueError("encrypted reply but the account has no EncodingAESKey")
            opened = self.crypto.decrypt_envelope(text)
            fields = parse_xml_fields(opened.message)
            encrypted = True
        elif self.mode == "safe":
            raise ValueError("plaintext reply to a safe-mode message")
        if fields.get("ToUserName") != inbound.from_user or fields.get("FromUserName") != self.account:
            raise ValueError("reply is not addressed back to the sender")
        kind = fields.get("MsgType", "")
        if kind not in ("text", "voice", "image"):
            raise ValueError(f"unsupported passive reply type {kind!r}")
        return Reply(kind, fields, encrypted)


@dataclass
class WechatUser:
    """One follower of the account; builds messages with WeChat's fields and MsgIds and sends them."""

    client: WechatClient
    openid: str

    def _xml(self, msg_type: str, inner: str, msg_id: bool = True) -> Inbound:
        now = int(self.client.clock())
        mid = str(next(_msg_ids)) if msg_id else None
        xml = (
            f"<xml><ToUserName>{cdata(self.client.account)}</ToUserName>"
            f"<FromUserName>{cdata(self.openid)}</FromUserName>"
            f"<CreateTime>{now}</CreateTime><MsgType>{cdata(msg_type)}</MsgType>{inner}"
            + (f"<MsgId>{mid}</MsgId>" if mid else "")
            + "</xml>"
        )
        return Inbound(xml, self.openid, now, msg_type, mid)

    def text(self, content: str) -> Inbound:
        return self._xml("text", f"<Content>{cdata(content)}</Content>")

    def voice(self, media_id: str, format: str = "amr", recognition: str | None = None) -> Inbound:
        inner = f"<MediaId>{cdata(media_id)}</MediaId><Format>{cdata(format)}</Format>"
        if recognition is not None:
            inner += f"<Recognition>{cdata(recognition)}</Recognition>"
        return self._xml("voice", inner)

    def image(self, media_id: str, pic_url: str = "") -> Inbound:
        url = pic_url or f"http://mmbiz.qpic.cn/mmbiz_jpg/{media_id[:24]}/0"
        return self._xml("image", f"<PicUrl>{cdata(url)}</PicUrl><MediaId>{cdata(media_id)}</MediaId>")

    def event(self, event: str, event_key: str = "", ticket: str = "") -> Inbound:
        inner = f"<Event>{cdata(event)}</Event>" + (
            f"<EventKey>{cdata(event_key)}</EventKey>" if event_key else ""
        ) + (f"<Ticket>{cdata(ticket)}</Ticket>" if ticket else "")
        return self._xml("event", inner, msg_id=False)

    # -- send = build + deliver -------------------------------------------------------------------
    async def send_text(self, content: str) -> Delivery:
        return await self.client.deliver(self.text(content))

    async def send_voice(self, audio: bytes | str, format: str = "amr") -> Delivery:
        """Send a voice note: raw bytes go into the emulator's media store first."""
        return await self.client.deliver(self.voice(self._media(audio, "voice"), format))

    async def send_image(self, image: bytes | str) -> Delivery:
        return await self.client.deliver(self.image(self._media(image, "image")))

    async def subscribe(self, qrscene: str = "", ticket: str = "") -> Delivery:
        """Follow the account; with ``qrscene``, by scanning that scene's code (``EventKey=qrscene_…``)."""
        return await self.client.deliver(
            self.event("subscribe", f"qrscene_{qrscene}" if qrscene else "", ticket))

    async def scan(self, scene: str, ticket: str = "") -> Delivery:
        """A follower scans a code: ``SCAN`` with ``EventKey=<scene>`` (no prefix)."""
        return await self.client.deliver(self.event("SCAN", scene, ticket))

    async def scan_qr(self, content: str) -> Delivery:
        """Scan a code the emulator made (its url or ticket): subscribe or SCAN, as WeChat decides."""
        if self.client.emulator is None:
            raise ValueError("scanning a code needs a client bound to an emulator")
        event, key, ticket = self.client.emulator.qr_scan(content, self.openid)
        return await self.client.deliver(self.event(event, key, ticket))

    async def unsubscribe(self) -> Delivery:
        return await self.client.deliver(self.event("unsubscribe"))

    def _media(self, media: bytes | str, kind: str) -> str:
        if isinstance(media, str):
            return media
        if self.client.emulator is None:
            raise ValueError("sending media bytes needs a client bound to an emulator")
        return self.client.emulator.put_media(media, kind)
