"""A faithful stand-in for WeChat's servers, for tests: the HTTP API and the message deliverer.

:class:`WechatEmulator` serves ``/cgi-bin/token``, ``/cgi-bin/stable_token``, ``/cgi-bin/media/upload``,
``/cgi-bin/media/get``, ``/cgi-bin/message/custom/send``, ``/cgi-bin/qrcode/create`` and
``/cgi-bin/showqrcode`` with WeChat's JSON shapes and error codes,
token expiry (a new token retires the old one after 5 minutes), the per-user 48-hour reply window
and quota, media limits measured on the real bytes, a media store and a record of all sends, and
failure injection; created QR codes can be scanned (:meth:`WechatEmulator.qr_scan`). :class:`WechatClient` / :class:`WechatUser` (in ``wechat_client``) play the other
side: they sign, encrypt and deliver inbound messages to a webhook with WeChat's redelivery.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import segno
from aiohttp import web
from PIL import Image

# The delivering side lives in its own module; re-exported so tests import one place.
from voicebot.testing.wechat_client import Delivery, Inbound, Reply, WechatClient, WechatUser
from voicebot.testing.wechat_media import sniff, voice_duration

MB = 1024 * 1024
ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40004: "invalid media type",
    40006: "invalid meida size",
    40007: "invalid media_id",
    40008: "invalid message type",
    40013: "invalid appid",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    44001: "empty media data",
    44003: "empty news data",
    45007: "playtime of voice exceed limit",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
    40052: "invalid action name",
    40053: "invalid action info",
    45029: "qrcode count out of limit",
    48001: "api unauthorized",
}
VOICE_FORMATS = {"amr", "mp3"}
IMAGE_FORMATS = {"jpeg", "png"}
PERMANENT_QR = {"QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"}
TEMPORARY_QR = {"QR_SCENE", "QR_STR_SCENE"}
QR_DEFAULT_EXPIRE_S = 60
QR_MAX_EXPIRE_S = 2_592_000
QR_MAX_SCENE_ID = 100_000  # permanent integer scenes: 1..100000


class Clock:
    """A settable clock; ``advance`` moves it forward (tests use it to expire tokens and windows)."""

    def __init__(self, start: float | None = None):
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Media:
    media_id: str
    kind: str
    data: bytes
    filename: str
    content_type: str
    created_at: float


@dataclass
class Sent:
    """One accepted customer-service message."""

    touser: str
    msgtype: str
    payload: dict[str, Any]
    at: float
    media: Media | None = None


@dataclass
class Window:
    opened_at: float
    remaining: int


@dataclass
class Injected:
    errcode: int | None
    path: str | None
    http_status: int


@dataclass
class Delayed:
    seconds: float
    path: str | None


@dataclass
class QrCode:
    """One code made by ``qrcode/create``: ``scene`` is what a scan's EventKey carries."""

    ticket: str
    url: str
    action_name: str
    scene: str
    expires_at: float | None  # None: permanent


@dataclass
class EmulatorAccount:
    app_id: str = "wx0123456789abcdef"
    app_secret: str = "emulator-secret-0123456789abcdef"
    customer_service: bool = True  # False: an unverified account, custom/send answers 48001
    token_ttl_s: int = 7200
    old_token_grace_s: int = 300
    window_quota: int = 5
    window_hours: float = 48
    media_ttl_s: int = 3 * 86400
    max_voice_bytes: int = 2 * MB
    max_voice_seconds: float = 60.0
    max_image_bytes: int = 2 * MB
    chunked_media: bool = False  # media/get streams without a Content-Length (as a CDN may)
    qrcodes: bool = True  # False: not a verified service account, qrcode/create answers 48001
    max_permanent_qrcodes: int = 100_000  # beyond it a new permanent code answers 45029


def _error(errcode: int, errmsg: str | None = None, status: int = 200) -> web.Response:
    body = {
        "errcode": errcode,
        "errmsg": (errmsg or ERRMSG.get(errcode, "error")) + f" rid: {secrets.token_hex(6)}",
    }
    return web.json_response(body, status=status)


class ApiError(Exception):
    def __init__(self, errcode: int, errmsg: str | None = None):
        super().__init__(errcode)
        self.errcode = errcode
        self.errmsg = errmsg


@dataclass
class WechatEmulator:
    """The emulated WeChat API for one Official Account; ``app`` is the aiohttp application."""

    account: EmulatorAccount = field(default_factory=EmulatorAccount)
    clock: Callable[[], float] = field(default_factory=Clock)

    def __post_init__(self) -> None:
        self.tokens: dict[str, float] = {}  # token -> expires_at
        self.current_token: str | None = None
        self.media: dict[str, Media] = {}
        self.sent: list[Sent] = []
        self.uploads: list[Media] = []
        self.windows: dict[str, Window] = {}
        self.subscribed: set[str] = set()
        self.calls: list[tuple[str, dict[str, str]]] = []  # (path, query without the token)
        self.qrcodes: dict[str, QrCode] = {}  # ticket -> code
        self._permanent: dict[tuple[str, str], QrCode] = {}  # (action, scene) -> code: made once
        self._failures: deque[Injected] = deque()
        self._delays: deque[Delayed] = deque()
        self.app = web.Application(client_max_size=64 * MB, middlewares=[self._late_answer])
        self.app.router.add_get("/cgi-bin/token", self._token)
        self.app.router.add_post("/cgi-bin/stable_token", self._stable_token)
        self.app.router.add_post("/cgi-bin/media/upload", self._upload)
        self.app.router.add_get("/cgi-bin/media/get", self._media_get)
        self.app.router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        self.app.router.add_post("/cgi-bin/qrcode/create", self._qrcode_create)
        self.app.router.add_get("/cgi-bin/showqrcode", self._showqrcode)  # mp.weixin.qq.com in production

    # -- what tests drive -------------------------------------------------------------------------
    def put_media(self, data: bytes, kind: str = "voice", filename: str = "", content_type: str = "") -> str:
        """Store a user's media (as if they had sent it) and return its media_id."""
        fmt = sniff(data) or "bin"
        media = Media(
            media_id=self._media_id(),
            kind=kind,
            data=data,
            filename=filename or f"{kind}.{fmt}",
            content_type=content_type or _content_type(fmt),
            created_at=self.clock(),
        )
        self.media[media.media_id] = media
        return media.media_id

    def user_message(self, openid: str) -> None:
        """A user's message reached the account: (re)open their reply window and quota."""
        self.subscribed.add(openid)
        self.windows[openid] = Window(self.clock(), self.account.window_quota)

    def unsubscribe(self, openid: str) -> None:
        self.subscribed.discard(openid)
        self.windows.pop(openid, None)

    def fail_next(
        self, errcode: int | None, times: int = 1, path: str | None = None, http_status: int = 200
    ) -> None:
        """The next ``times`` calls (to ``path``, or any) fail with ``errcode`` (None: bare HTTP error)."""
        for _ in range(times):
            self._failures.append(Injected(errcode, path, http_status))

    def recover(self) -> None:
        """Forget every injected failure and delay not used yet: the API works again."""
        self._failures.clear()
        self._delays.clear()

    def delay_next(self, seconds: float, times: int = 1, path: str | None = None) -> None:
        """The next ``times`` calls (to ``path``, or any) are carried out at once but answered only
        ``seconds`` later: a client that times out cannot know the call succeeded."""
        for _ in range(times):
            self._delays.append(Delayed(seconds, path))

    def qr_scan(self, content: str, openid: str) -> tuple[str, str, str]:
        """What WeChat sends when ``openid`` scans the code whose content (url) or ticket is ``content``:
        ``(event, EventKey, Ticket)`` — ``subscribe`` with ``qrscene_`` for a new follower, ``SCAN``
        for a follower. An unknown or expired code raises ValueError (WeChat sends nothing)."""
        code = self.qrcodes.get(content) or next((c for c in self.qrcodes.values() if c.url == content), None)
        if code is None:
            raise ValueError("not a code of this account")
        if code.expires_at is not None and code.expires_at <= self.clock():
            raise ValueError("the code has expired")
        if openid in self.subscribed:
            return "SCAN", code.scene, code.ticket
        return "subscribe", f"qrscene_{code.scene}", code.ticket

    def sent_to(self, openid: str) -> list[Sent]:
        return [s for s in self.sent if s.touser == openid]

    def calls_to(self, path: str) -> int:
        return sum(1 for p, _ in self.calls if p == path)

    # -- helpers ------------------------------------------------------------------------------------
    @staticmethod
    def _media_id() -> str:
        return secrets.token_urlsafe(48)[:64]

    def _issue_token(self) -> tuple[str, int]:
        now = self.clock()
        for token, expires_at in self.tokens.items():
            self.tokens[token] = min(expires_at, now + self.account.old_token_grace_s)
        token = f"{secrets.randbelow(90) + 10}_" + secrets.token_urlsafe(110).replace("-", "_")[:136]
        self.tokens[token] = now + self.account.token_ttl_s
        self.current_token = token
        return token, self.account.token_ttl_s

    def _check_token(self, request: web.Request) -> None:
        token = request.query.get("access_token")
        if not token:
            raise ApiError(41001)
        expires_at = self.tokens.get(token)
        if expires_at is None:
            raise ApiError(40001)
        if expires_at <= self.clock():
            # A token retired by a newer one reads as "not latest"; one that ran out reads as expired.
            raise ApiError(40001 if token != self.current_token else 42001)

    def _record(self, request: web.Request) -> web.Response | None:
        query = {k: v for k, v in request.query.items() if k not in ("access_token", "secret")}
        self.calls.append((request.path, query))
        for i, failure in enumerate(self._failures):
            if failure.path is None or failure.path == request.path:
                del self._failures[i]
                if failure.errcode is None:
                    return web.Response(status=failure.http_status or 500, text="<html>server error</html>")
                return _error(failure.errcode, status=failure.http_status)
        return None

    def _credentials(self, appid: str | None, secret: str | None, grant_type: str | None) -> None:
        if grant_type != "client_credential":
            raise ApiError(40002)
        if appid != self.account.app_id:
            raise ApiError(40013)
        if not secrets.compare_digest((secret or "").encode(), self.account.app_secret.encode()):
            raise ApiError(40125)

    @web.middleware
    async def _late_answer(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)  # the call takes effect now...
        for i, delayed in enumerate(self._delays):
            if delayed.path is None or delayed.path == request.path:
                del self._delays[i]
                await asyncio.sleep(delayed.seconds)  # ...its answer comes late
                break
        return response

    # -- handlers -----------------------------------------------------------------------------------
    async def _token(self, request: web.Request) -> web.Response:
        if (injected := self._record(request)) is not None:
            return injected
        q = request.query
        try:
            self._credentials(q.get("appid"), q.get("secret"), q.get("grant_type"))
        except ApiError as e:
            return _error(e.errcode)
        token, ttl = self._issue_token()
        return web.json_response({"access_token": token, "expires_in": ttl})

    async def _stable_token(self, request: web.Request) -> web.Response:
        if (injected := self._record(request)) is not None:
            return injected
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(47001)
        try:
            self._credentials(body.get("appid"), body.get("secret"), body.get("grant_type"))
        except ApiError as e:
            return _error(e.errcode)
        now = self.clock()
        current = self.current_token
        if not body.get("force_refresh") and current and self.tokens[current] > now:
            return web.json_response({"access_token": current, "expires_in": int(self.tokens[current] - now)})
        token, ttl = self._issue_token()
        return web.json_response({"access_token": token, "expires_in": ttl})

    async def _upload(self, request: web.Request) -> web.Response:
        if (injected := self._record(request)) is not None:
            return injected
        try:
            self._check_token(request)
            kind = request.query.get("type", "")
            if kind not in ("voice", "image"):
                raise ApiError(40004)
            data, filename = await _read_media_field(request)
            if not data:
                raise ApiError(44001)
            fmt = sniff(data)
            if kind == "voice":
                if len(data) > self.account.max_voice_bytes:
                    raise ApiError(40006)
                if fmt not in VOICE_FORMATS:
                    raise ApiError(40004, f"invalid media type: {fmt or 'unknown'} is not amr/mp3")
                try:
                    seconds = await voice_duration(data)
                except ValueError:
                    raise ApiError(40004, "invalid media type: unreadable audio") from None
                if seconds > self.account.max_voice_seconds:
                    raise ApiError(45007)
            else:
                if len(data) > self.account.max_image_bytes:
                    raise ApiError(40006)
                if fmt not in IMAGE_FORMATS:
                    raise ApiError(40004, f"invalid media type: {fmt or 'unknown'} is not jpg/png")
        except ApiError as e:
            return _error(e.errcode, e.errmsg)
        media = Media(self._media_id(), kind, data, filename, _content_type(fmt or ""), self.clock())
        self.media[media.media_id] = media
        self.uploads.append(media)
        return web.json_response(
            {"type": kind, "media_id": media.media_id, "created_at": int(media.created_at)}
        )

    def _live_media(self, media_id: str) -> Media:
        media = self.media.get(media_id)
        if media is None or media.created_at + self.account.media_ttl_s <= self.clock():
            raise ApiError(40007)
        return media

    async def _media_get(self, request: web.Request) -> web.Response:
        if (injected := self._record(request)) is not None:
            return injected
        try:
            self._check_token(request)
            media = self._live_media(request.query.get("media_id", ""))
        except ApiError as e:
            return _error(e.errcode, e.errmsg)
        headers = {"Content-Disposition": f'attachment; filename="{media.filename}"'}
        if not self.account.chunked_media:
            return web.Response(body=media.data, content_type=media.content_type, headers=headers)
        stream = web.StreamResponse(headers={**headers, "Content-Type": media.content_type})
        stream.enable_chunked_encoding()
        await stream.prepare(request)
        try:
            for i in range(0, len(media.data), 256 * 1024):
                await stream.write(media.data[i:i + 256 * 1024])
            await stream.write_eof()
        except ConnectionError:  # the client stopped reading (e.g. past its size limit)
            pass
        return stream

    async def _json_call(self, request: web.Request, permitted: bool) -> dict[str, Any]:
        """A JSON API call's body once its token, the account's permission and the JSON are checked."""
        self._check_token(request)
        if not permitted:
            raise ApiError(48001)
        try:
            body = json.loads(await request.read())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(47001) from None
        if not isinstance(body, dict):
            raise ApiError(47001)
        return body

    async def _custom_send(self, request: web.Request) -> web.Response:
        if (injected := self._record(request)) is not None:
            return injected
        try:
            body = await self._json_call(request, self.account.customer_service)
            touser, msgtype = body.get("touser"), body.get("msgtype")
            if not isinstance(touser, str) or not touser:
                raise ApiError(40003)
            media = None
            if msgtype == "text":
                if not (body.get("text") or {}).get("content"):
                    raise ApiError(44003)
            elif msgtype in ("voice", "image"):
                media = self._live_media((body.get(msgtype) or {}).get("media_id", ""))
                if media.kind != msgtype:
                    raise ApiError(40007)
            else:
                raise ApiError(40008)
            window = self.windows.get(touser)
            if touser not in self.subscribed or window is None:
                raise ApiError(45015)
            if window.opened_at + self.account.window_hours * 3600 <= self.clock():
                raise ApiError(45015)
            if window.remaining <= 0:
                raise ApiError(45047)
            window.remaining -= 1
        except ApiError as e:
            return _error(e.errcode, e.errmsg)
        self.sent.append(Sent(touser, msgtype, body, self.clock(), media))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _qrcode_create(self, request: web.Request) -> web.Response:
        if (injected := self._record(request)) is not None:
            return injected
        try:
            body = await self._json_call(request, self.account.qrcodes)
            action = body.get("action_name")
            if action not in PERMANENT_QR | TEMPORARY_QR:
                raise ApiError(40052)
            scene = _qr_scene(action, body.get("action_info"))
            if action in PERMANENT_QR:
                code = self._permanent.get((action, scene))
                if code is None:
                    if len(self._permanent) >= self.account.max_permanent_qrcodes:
                        raise ApiError(45029)
                    code = self._new_qrcode(action, scene, None)
                    self._permanent[(action, scene)] = code
                return web.json_response({"ticket": code.ticket, "url": code.url})
            expire = body.get("expire_seconds", QR_DEFAULT_EXPIRE_S)
            if not isinstance(expire, int) or isinstance(expire, bool) or expire <= 0:
                raise ApiError(47001)
            expire = min(expire, QR_MAX_EXPIRE_S)
            code = self._new_qrcode(action, scene, self.clock() + expire)
        except ApiError as e:
            return _error(e.errcode, e.errmsg)
        return web.json_response({"ticket": code.ticket, "expire_seconds": expire, "url": code.url})

    def _new_qrcode(self, action: str, scene: str, expires_at: float | None) -> QrCode:
        url = "http://weixin.qq.com/q/02" + secrets.token_urlsafe(16).replace("-", "x").replace("_", "y")[:20]
        # A ticket is base64 with the code's url inside (as WeChat's are): it has + / = to URL-encode.
        raw = b"\x81\x01\xf8\x3e" + secrets.token_bytes(8) + url.encode() + secrets.token_bytes(10)
        ticket = base64.b64encode(raw).decode()
        code = QrCode(ticket, url, action, scene, expires_at)
        self.qrcodes[ticket] = code
        return code

    async def _showqrcode(self, request: web.Request) -> web.Response:
        self.calls.append((request.path, dict(request.query)))
        code = self.qrcodes.get(request.query.get("ticket", ""))
        if code is None or (code.expires_at is not None and code.expires_at <= self.clock()):
            return web.Response(status=404, text="<html>not found</html>", content_type="text/html")
        png = io.BytesIO()
        segno.make(code.url, error="m").save(png, kind="png", scale=10, border=4)
        out = io.BytesIO()
        Image.open(io.BytesIO(png.getvalue())).convert("RGB").save(out, "JPEG", quality=90)
        return web.Response(body=out.getvalue(), content_type="image/jpg")


def _qr_scene(action: str, info: Any) -> str:
    """The scene a create request names, checked as WeChat does (40053 when it is not valid)."""
    scene = info.get("scene") if isinstance(info, dict) else None
    if not isinstance(scene, dict):
        raise ApiError(40053)
    if action.endswith("STR_SCENE"):
        value = scene.get("scene_str")
        if not isinstance(value, str) or not 1 <= len(value) <= 64:
            raise ApiError(40053)
        return value
    value = scene.get("scene_id")
    top = QR_MAX_SCENE_ID if action in PERMANENT_QR else 2**32 - 1
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
        raise ApiError(40053)
    return str(value)


async def _read_media_field(request: web.Request) -> tuple[bytes, str]:
    """The bytes and filename of the multipart field ``media``; (b"", "") if absent."""
    if not request.content_type.startswith("multipart/"):
        return b"", ""
    reader = await request.multipart()
    async for part in reader:
        if getattr(part, "name", None) == "media":
            data = await part.read()  # type: ignore[union-attr]
            return bytes(data), getattr(part, "filename", "") or "media"
    return b"", ""


def _content_type(fmt: str) -> str:
    return {
        "amr": "audio/amr",
        "amr-wb": "audio/amr-wb",
        "mp3": "audio/mpeg",
        "silk": "audio/silk",
        "speex": "audio/speex",
        "jpeg": "image/jpeg",
        "png": "image/png",
    }.get(fmt, "application/octet-stream")


__all__ = [
    "Clock",
    "Delivery",
    "EmulatorAccount",
    "Inbound",
    "Media",
    "QrCode",
    "Reply",
    "Sent",
    "WechatClient",
    "WechatEmulator",
    "WechatUser",
]
