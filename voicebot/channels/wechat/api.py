"""Async client for the WeChat Official Account HTTP API (token, media, customer-service send, QR codes).

The access token is fetched lazily, refreshed ``refresh_margin_s`` before it expires, fetched by
one caller while the others wait (single flight), and kept in a pluggable :class:`KeyValueCache`
so several processes can share it. The token in hand is also kept in memory: a call reads the shared
cache only when it has no live token or WeChat rejected it (then another process's newer one is
picked up), so downloading a voice note never waits behind the database's queued work. Neither the
secret nor the token is ever logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

import aiohttp

from voicebot.channels.wechat.http import OwnedSession
from voicebot.config import WechatConfig
from voicebot.logs import log_event

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
RETRYABLE_ERRORS = frozenset({-1, 45009})
NO_PERMISSION_ERRORS = frozenset({48001})
WINDOW_ERRORS = frozenset({45015, 45047})
MEDIA_TTL_S = 3 * 86400
MEDIA_SAFETY_S = 3600  # reuse an uploaded media_id only while it has at least an hour left
CONTENT_TYPES = {
    "amr": "audio/amr",
    "mp3": "audio/mpeg",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
}


class WechatApiError(Exception):
    """An API call failed: WeChat's ``errcode``/``errmsg``, or a transport problem (errcode None)."""

    def __init__(self, errcode: int | None, errmsg: str, http_status: int | None = None, *,
                 ambiguous: bool = False):
        super().__init__(f"errcode={errcode} {errmsg}" if errcode is not None else errmsg)
        self.errcode = errcode
        self.errmsg = errmsg
        self.http_status = http_status
        # The request may have reached WeChat and been acted on (a timeout, a dropped connection).
        self.ambiguous = ambiguous

    @property
    def retryable(self) -> bool:
        """Worth retrying later with backoff: system busy, rate limit, 5xx, timeouts, network."""
        if self.http_status is not None and self.http_status >= 500:
            return True
        if self.errcode is None:
            return self.http_status is None  # timeouts and network errors; a 4xx page is not retried
        return self.errcode in RETRYABLE_ERRORS or self.errcode in TOKEN_ERRORS

    @property
    def permanent(self) -> bool:
        return not self.retryable

    @property
    def no_permission(self) -> bool:
        """The account may not use this API (e.g. no customer-service permission): reply passively."""
        return self.errcode in NO_PERMISSION_ERRORS

    @property
    def window_closed(self) -> bool:
        """The user's 48-hour window is over or its quota used up: wait for their next message."""
        return self.errcode in WINDOW_ERRORS


class MediaTooLarge(WechatApiError):
    """A download was stopped at the size limit (never worth retrying)."""

    def __init__(self, path: str, limit: int) -> None:
        super().__init__(None, f"{path}: media larger than the limit of {limit} bytes", 200)
        self.limit = limit

    @property
    def retryable(self) -> bool:
        return False


class KeyValueCache(Protocol):
    """Where tokens and media ids are kept: values with an absolute expiry (epoch seconds)."""

    async def get(self, key: str) -> tuple[str, float] | None: ...

    async def set(self, key: str, value: str, expires_at: float) -> None: ...


TokenCache = KeyValueCache


class MemoryCache:
    """In-process :class:`KeyValueCache`; expired entries are dropped on read."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self._data: dict[str, tuple[str, float]] = {}
        self._clock = clock

    async def get(self, key: str) -> tuple[str, float] | None:
        item = self._data.get(key)
        if item is not None and item[1] <= self._clock():
            del self._data[key]
            return None
        return item

    async def set(self, key: str, value: str, expires_at: float) -> None:
        self._data[key] = (value, expires_at)


def _content_type(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return CONTENT_TYPES.get(ext, "application/octet-stream")


class WechatApi(OwnedSession):
    """One Official Account's API client; use as ``async with WechatApi(config) as api``."""

    def __init__(
        self,
        config: WechatConfig,
        *,
        session: aiohttp.ClientSession | None = None,
        token_cache: KeyValueCache | None = None,
        media_cache: KeyValueCache | None = None,
        clock: Callable[[], float] = time.time,
        refresh_margin_s: float = 300.0,
        timeout_s: float = 10.0,
        stable_token: bool = False,
    ):
        self.config = config
        self.base = config.api_base.rstrip("/")
        self.clock = clock
        self.token_cache = token_cache or MemoryCache(clock)
        self.media_cache = media_cache or MemoryCache(clock)
        self.refresh_margin_s = refresh_margin_s
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.stable_token = stable_token
        self.token_fetches = 0
        super().__init__(session)
        self._inflight: asyncio.Future[str] | None = None
        self._token: tuple[str, float] | None = None  # the token in hand and its expiry (epoch s)

    @property
    def _token_key(self) -> str:
        return f"wechat:access_token:{self.config.app_id}"

    # -- access token -----------------------------------------------------------------------------
    async def access_token(self, stale: str | None = None) -> str:
        """A valid token; ``stale`` is one WeChat just rejected, so it must not be returned again."""
        if (token := self._usable(self._token, stale)) is not None:
            return token
        cached = await self.token_cache.get(self._token_key)  # shared: maybe another process's newer one
        if (token := self._usable(cached, stale)) is not None:
            self._token = cached
            return token
        if self._inflight is None:
            fut = asyncio.ensure_future(self._fetch_token())
            self._inflight = fut

            def _done(f: asyncio.Future[str]) -> None:
                if self._inflight is f:
                    self._inflight = None
                if not f.cancelled():
                    f.exception()  # mark retrieved; callers get it through the shield

            fut.add_done_callback(_done)
        return await asyncio.shield(self._inflight)

    def _usable(self, item: tuple[str, float] | None, stale: str | None) -> str | None:
        """The token of ``item`` unless it is ``stale`` or (nearly) expired."""
        if item is None or item[0] == stale or item[1] - self.refresh_margin_s <= self.clock():
            return None
        return item[0]

    async def _fetch_token(self) -> str:
        self.token_fetches += 1
        cfg = self.config
        if self.stable_token:
            path = "/cgi-bin/stable_token"
            body = {"grant_type": "client_credential", "appid": cfg.app_id, "secret": cfg.app_secret}
            coro = self.session.post(self.base + path, json=body, timeout=self.timeout)
        else:
            path = "/cgi-bin/token"
            params = {"grant_type": "client_credential", "appid": cfg.app_id, "secret": cfg.app_secret}
            coro = self.session.get(self.base + path, params=params, timeout=self.timeout)
        started = time.perf_counter()
        data = await self._json(coro, path, secrets=(cfg.app_secret,))
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise WechatApiError(None, "token response without access_token")
        expires_in = int(data.get("expires_in", 7200))
        self._token = (token, self.clock() + expires_in)
        await self.token_cache.set(self._token_key, *self._token)
        log_event(
            "wechat.token_fetched", expires_in=expires_in, ms=round((time.perf_counter() - started) * 1000, 1)
        )
        return token

    # -- transport ----------------------------------------------------------------------------------
    @staticmethod
    async def _fetch(
        request: Any, path: str, secrets: tuple[str, ...], max_bytes: int | None = None
    ) -> tuple[int, str, bytes]:
        """Await ``request`` (a session call): ``(status, content type, body)``; transport errors raise.

        With ``max_bytes`` the body is streamed and the download stopped (:class:`MediaTooLarge`) as
        soon as it is declared or found to be larger, so nothing past the limit is read or kept.
        """
        try:
            async with request as resp:
                ctype = resp.headers.get("Content-Type", "")
                if max_bytes is None:
                    return resp.status, ctype, await resp.read()
                if resp.content_length is not None and resp.content_length > max_bytes:
                    raise MediaTooLarge(path, max_bytes)
                chunks, size = [], 0
                async for chunk in resp.content.iter_chunked(65536):
                    size += len(chunk)
                    if size > max_bytes:
                        raise MediaTooLarge(path, max_bytes)
                    chunks.append(chunk)
                return resp.status, ctype, b"".join(chunks)
        except TimeoutError:
            raise WechatApiError(None, f"timeout calling {path}", ambiguous=True) from None
        except aiohttp.ClientError as e:
            # Not connected at all: the request never left. Anything later may have been acted on.
            sent = not isinstance(e, aiohttp.ClientConnectorError)
            raise WechatApiError(
                None, f"{type(e).__name__} calling {path}: {_redact(str(e), secrets)}", ambiguous=sent
            ) from None

    async def _json(self, request: Any, path: str, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
        """Await ``request``, decode its JSON and raise on a non-zero errcode."""
        status, _, raw = await self._fetch(request, path, secrets)
        return _decode(raw, status, path)

    async def _call(
        self, path: str, build: Callable[[str], Any], binary: bool = False, max_bytes: int | None = None
    ) -> Any:
        """Call ``path`` with a token; on an invalid/expired token refresh it and retry once."""
        token = await self.access_token()
        for attempt in (1, 2):
            try:
                if binary:
                    return await self._binary(build(token), path, token, max_bytes)
                return await self._json(build(token), path, secrets=(token,))
            except WechatApiError as e:
                log_event(
                    "wechat.api_error",
                    logging.WARNING,
                    path=path,
                    errcode=e.errcode,
                    errmsg=e.errmsg,
                    attempt=attempt,
                    retryable=e.retryable,
                )
                if e.errcode in TOKEN_ERRORS and attempt == 1:
                    token = await self.access_token(stale=token)
                    continue
                raise
        raise AssertionError("unreachable")

    async def _binary(self, request: Any, path: str, token: str, max_bytes: int | None = None) -> bytes:
        status, ctype, raw = await self._fetch(request, path, (token,), max_bytes)
        if "json" in ctype or "text/plain" in ctype or status != 200:
            _decode(raw, status, path)  # raises on errcode / bad status
            raise WechatApiError(None, f"{path} returned JSON instead of media", status)
        return raw

    def _url(self, path: str, token: str, **params: str) -> tuple[str, dict[str, str]]:
        return self.base + path, {"access_token": token, **params}

    # -- media ---------------------------------------------------------------------------------------
    async def upload_media(self, kind: Literal["voice", "image"], data: bytes, filename: str,
                           fresh: bool = False) -> str:
        """Upload temporary media and return its media_id; identical bytes reuse a live media_id
        (unless ``fresh``: WeChat rejected the cached one, so it is replaced)."""
        key = f"wechat:media:{kind}:{hashlib.sha256(data).hexdigest()}"
        cached = None if fresh else await self.media_cache.get(key)
        if cached is not None and cached[1] - MEDIA_SAFETY_S > self.clock():
            return cached[0]

        def build(token: str) -> Any:
            form = aiohttp.FormData()
            form.add_field("media", data, filename=filename, content_type=_content_type(filename))
            url, params = self._url("/cgi-bin/media/upload", token, type=kind)
            return self.session.post(url, params=params, data=form, timeout=self.timeout)

        result = await self._call("/cgi-bin/media/upload", build)
        media_id = result.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise WechatApiError(None, "upload response without media_id")
        created = float(result.get("created_at") or self.clock())
        await self.media_cache.set(key, media_id, created + MEDIA_TTL_S)
        log_event("wechat.media_uploaded", kind=kind, bytes=len(data))
        return media_id

    async def download_media(self, media_id: str, max_bytes: int | None = None) -> bytes:
        """The bytes of a user's temporary media; an error JSON body raises :class:`WechatApiError`,
        more than ``max_bytes`` raises :class:`MediaTooLarge` (the download is stopped there)."""

        def build(token: str) -> Any:
            url, params = self._url("/cgi-bin/media/get", token, media_id=media_id)
            return self.session.get(url, params=params, timeout=self.timeout)

        return await self._call("/cgi-bin/media/get", build, binary=True, max_bytes=max_bytes)

    # -- customer-service messages ----------------------------------------------------------------
    async def send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")

        def build(token: str) -> Any:
            url, params = self._url("/cgi-bin/message/custom/send", token)
            headers = {"Content-Type": "application/json; charset=utf-8"}
            return self.session.post(url, params=params, data=body, headers=headers, timeout=self.timeout)

        await self._call("/cgi-bin/message/custom/send", build)
        log_event("wechat.sent", msgtype=payload.get("msgtype"), touser=payload.get("touser"))

    async def send_text(self, openid: str, text: str) -> None:
        await self.send({"touser": openid, "msgtype": "text", "text": {"content": text}})

    async def send_voice(self, openid: str, media_id: str) -> None:
        await self.send({"touser": openid, "msgtype": "voice", "voice": {"media_id": media_id}})

    async def send_image(self, openid: str, media_id: str) -> None:
        await self.send({"touser": openid, "msgtype": "image", "image": {"media_id": media_id}})


    # -- parametric QR codes ---------------------------------------------------------------------
    async def create_qrcode(self, action_name: str, scene: dict[str, Any],
                            expire_seconds: int | None = None) -> dict[str, Any]:
        """``qrcode/create``: ``{"ticket", "url", "expire_seconds"?}`` (no expiry for permanent codes).

        ``scene`` is ``{"scene_str": …}`` or ``{"scene_id": …}``; callers check it (voicebot/channels/
        wechat/qrcode.py). Not retried here: a permanent code counts against the account's cap.
        """
        payload: dict[str, Any] = {"action_name": action_name, "action_info": {"scene": scene}}
        if expire_seconds is not None:
            payload["expire_seconds"] = expire_seconds
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")

        def build(token: str) -> Any:
            url, params = self._url("/cgi-bin/qrcode/create", token)
            headers = {"Content-Type": "application/json; charset=utf-8"}
            return self.session.post(url, params=params, data=body, headers=headers, timeout=self.timeout)

        result = await self._call("/cgi-bin/qrcode/create", build)
        if not isinstance(result.get("ticket"), str) or not isinstance(result.get("url"), str):
            raise WechatApiError(None, "qrcode/create response without ticket or url")
        log_event("wechat.qrcode_created", action_name=action_name)
        return result


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


def _decode(raw: bytes, status: int, path: str) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WechatApiError(None, f"{path} returned HTTP {status} without JSON", status) from None
    if not isinstance(data, dict):
        raise WechatApiError(None, f"{path} returned a JSON {type(data).__name__}", status)
    errcode = data.get("errcode", 0)
    if errcode or status >= 400:
        raise WechatApiError(int(errcode) if errcode else None, str(data.get("errmsg", "")), status)
    return data
