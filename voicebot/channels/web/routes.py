"""HTTP side of the browser chat: the front page, the chat page, its WebSocket, audio and photos."""

from __future__ import annotations

import asyncio
import collections
import functools
import html
import json
import logging
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from voicebot.channels.web import files, links
from voicebot.channels.web.channel import WebChannel, resent_replies
from voicebot.channels.web.clips import check_clip
from voicebot.channels.web.greeting import greeting_text, shop_said
from voicebot.channels.web.market import market_shops_cached, shop_cards
from voicebot.channels.web.protocol import ClientMessage, ProtocolError, parse_binary, parse_text
from voicebot.channels.web.qr import qr_svg
from voicebot.config import Config
from voicebot.dialogue.replies import default_unit, price, quantity, say
from voicebot.logs import log_event, log_limited
from voicebot.pipeline.dbthread import DbThread
from voicebot.pipeline.inbound import Inbound
from voicebot.pipeline.run import Pipeline
from voicebot.shop import addresses
from voicebot.shop.shops import list_shops
from voicebot.store import rates
from voicebot.store.rates import Limit
from voicebot.tts.service import TtsService

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self' blob:; connect-src 'self' {ws}; "
       "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
RATE_MESSAGES, RATE_WINDOW_S = 12, 30.0  # per user: a person talks far slower; a script gets "slow_down"
COOKIE = "vb_buyer"
_FILE_RE = re.compile(r"[0-9a-f]{64}(\.thumb)?\.[a-z0-9]{2,5}")
_STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html"}
_MEDIA_TYPES = {"mp3": "audio/mpeg", "ogg": "audio/ogg", "wav": "audio/wav", "jpeg": "image/jpeg", "jpg": "image/jpeg",
                "png": "image/png", "webp": "image/webp", "gif": "image/gif"}


@functools.cache
def _template(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def base_url(config: Config) -> str:
    if config.web.public_url:
        return config.web.public_url.rstrip("/")
    host = config.server.host if config.server.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    return f"http://{host}:{config.server.port}"


def chat_url(config: Config, link: str) -> str:
    return f"{base_url(config)}/chat/{link}"


class WebRoutes:
    """The web chat's handlers; the channel and pipeline are set when the app starts."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.channel: WebChannel | None = None
        self.pipeline: Pipeline | None = None
        self.db: DbThread | None = None
        self.tts: TtsService | None = None
        web_config = config.web
        # counted in the store, so the allowances hold for all the processes behind a load balancer together
        self._per_user = Limit("web.user", RATE_MESSAGES, RATE_WINDOW_S)
        self._per_address = Limit("web.address", web_config.messages_per_address_min, 60.0)
        self._overall = Limit("web.all", web_config.messages_per_min, 60.0)
        self._new_by_address = Limit("web.new.address", web_config.new_buyers_per_address_hour, 3600.0)
        self._new_overall = Limit("web.new.all", web_config.new_buyers_per_hour, 3600.0)
        self._media_key: bytes | None = None
        self._stored_day, self._stored = 0, collections.Counter[str]()
        self._open_by_address: collections.Counter[str] = collections.Counter()
        self._open_by_user: collections.Counter[str] = collections.Counter()
        self._address_of: dict[str, tuple[str, float]] = {}  # user -> (address, when recorded)
        self._market: tuple[Any, list[dict[str, Any]]] | None = None  # (the village's state, its shops)

    @staticmethod
    async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
        """CSP, no framing and no sniffing on the front page and everything under /chat/ (an
        ``on_response_prepare`` hook, so error pages get them too)."""
        if request.path != "/" and not request.path.startswith("/chat/"):
            return
        host = request.host.replace(" ", "").replace(";", "")
        response.headers.setdefault("Content-Security-Policy", CSP.format(ws=f"ws://{host} wss://{host}"))
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_get("/", self.front)
        router.add_get("/chat/static/{name}", self.static)
        router.add_get("/chat/media/{name}", self.media)
        router.add_get("/chat/photos/{name}", self.photo)
        router.add_get("/chat/{link}", self.page)
        router.add_get("/chat/{link}/ws", self.websocket)
        router.add_get("/chat/{link}/say/{what}", self.say)
        router.add_get("/chat/{link}/qr.svg", self.qr)

    # -- pages ------------------------------------------------------------------------------
    def _share_base(self, request: web.Request) -> str:
        # without a configured public_url, the address this visitor used is the best one to share
        return self.config.web.public_url.rstrip("/") or f"{request.scheme}://{request.host}"

    async def front(self, request: web.Request) -> web.Response:
        """The village market: every shop with a photo of its goods, a speaker that says its name and
        goods, its buyer link and QR code (one shop: just that shop); and the way to the console."""
        assert self.db is not None
        self._market = await self.db.run(lambda shop: market_shops_cached(shop.village, self.config, self._market))
        shops = self._market[1]
        lang = self.config.shop.language
        title = shops[0]["name"] if len(shops) == 1 else say(lang, "web.market")
        body = (_template("front.html").replace("{{lang}}", lang).replace("{{title}}", html.escape(title))
                .replace("{{shops}}", await asyncio.to_thread(shop_cards, shops, self._share_base(request))))
        return web.Response(text=body, content_type="text/html", headers={"Cache-Control": "no-cache"})

    async def qr(self, request: web.Request) -> web.Response:
        """A buyer link's QR code as SVG (the market page loads each when it is scrolled to)."""
        link = request.match_info["link"]
        opened = await self._open(link, None)
        if opened is None or opened.role != "buyer":  # a seller's token is never drawn for a page
            raise web.HTTPNotFound()
        svg = await asyncio.to_thread(qr_svg, f"{self._share_base(request)}/chat/{link}")  # ~8 ms uncached
        return web.Response(text=svg, content_type="image/svg+xml", headers={"Cache-Control": "max-age=3600"})

    async def page(self, request: web.Request) -> web.Response:
        assert self.db is not None
        link = request.match_info["link"]
        cookie = request.cookies.get(COOKIE)
        opened = await self._open(link, cookie)
        if opened is None:
            raise web.HTTPNotFound(text="This chat link is unknown or was revoked.")
        role, user, lang = opened.role, opened.user, opened.lang
        page = {"role": role, "lang": lang, "shop": opened.name,
                "texts": {k: say(lang, f"web.{k}") for k in ("mic_refused", "offline", "failed")},
                "max_seconds": self.config.audio.max_voice_seconds,
                "village": await self.db.run(lambda shop: len(list_shops(shop.village)) > 1)}
        body = _template("chat.html")
        body = body.replace("{{role}}", role).replace("{{lang}}", lang).replace(
            "{{shop}}", html.escape(opened.name)).replace(
            "{{page_json}}", html.escape(json.dumps(page, ensure_ascii=False)))
        response = web.Response(text=body, content_type="text/html",
                                headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
        if role == "buyer" and user is None:
            address = request.remote or ""
            if await self._admit([(self._new_by_address, address), (self._new_overall, "")]) is not None:
                log_limited("web.identity_refused", address, remote=address)
                raise web.HTTPTooManyRequests(text="too many new visitors; try again in a while",
                                              headers={"Retry-After": "600"})
            cookie = await self.db.run(lambda shop: links.new_buyer_cookie(shop.db))
            response.set_cookie(COOKIE, cookie, max_age=self.config.web.cookie_days * 86400,
                                path="/chat/", httponly=True, samesite="Lax")
            user = links.buyer_user(cookie)
        if role == "buyer" and user is not None:
            await self._place(user, opened.shop_id)
        return response

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Content-Type": _STATIC_TYPES.get(path.suffix, "application/octet-stream")})

    async def _file(self, folder: Path, name: str) -> web.StreamResponse:
        path = folder / name
        if not _FILE_RE.fullmatch(name) or not path.is_file():
            raise web.HTTPNotFound()
        kind = _MEDIA_TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")
        return web.FileResponse(path, headers={"Content-Type": kind, "Cache-Control": "private, max-age=86400"})

    async def media(self, request: web.Request) -> web.StreamResponse:
        """Reply audio, for the user its URL was signed for (see :mod:`voicebot.channels.web.files`)."""
        assert self.db is not None
        if self._media_key is None:
            self._media_key = await self.db.run(lambda shop: files.media_key(shop.db))
        name, query = request.match_info["name"], request.query
        if not files.media_allowed(self._media_key, name, query.get("u", ""), query.get("e", ""), query.get("s", "")):
            raise web.HTTPNotFound()
        return await self._file(self.config.media_dir / "out", name)

    async def photo(self, request: web.Request) -> web.StreamResponse:
        return await self._file(self.config.photos_dir, request.match_info["name"])

    async def say(self, request: web.Request) -> web.Response:
        """Spoken audio for the page: ``greeting`` (the shop and its goods), ``name`` (the shop's name and
        goods in a breath, for the market page), ``product-<id>`` (its name and price) or ``mic_refused`` /
        ``offline`` / ``failed``. In the link's shop and language."""
        assert self.db is not None and self.tts is not None
        link, what = request.match_info["link"], request.match_info["what"]
        opened = await self._open(link, None)
        if opened is None:
            raise web.HTTPNotFound()
        lang = opened.lang
        if what in ("mic_refused", "offline", "failed"):
            text = say(lang, f"web.{what}")
        elif what == "greeting":
            text = await self._greeting(opened)
        elif what == "name":
            text = await self.db.run(lambda shop: shop_said(shop.other(opened.shop_id), lang, opened.name))
        elif (m := re.fullmatch(r"product-(\d{1,9})", what)):
            from voicebot.shop.catalog import get_product

            product = await self.db.run(lambda shop: get_product(shop.other(opened.shop_id).db, int(m.group(1))))
            if product is None or not product["active"]:
                raise web.HTTPNotFound()
            unit = product["unit"] or default_unit(lang)
            text = say(lang, "price_is", product=product["name"], unit=unit,
                       price=price(lang, product["price_fen"] / 100, opened.currency))
            if opened.role == "seller":  # she also hears what is left
                text += " " + say(lang, "stock_is", product=product["name"],
                                  quantity=quantity(lang, product["stock"], unit))
        else:
            raise web.HTTPNotFound()
        fmt = self.config.web.reply_format
        audio = await self.tts.speak(text, lang, fmt)
        return web.Response(body=audio, content_type=_MEDIA_TYPES[fmt], headers={"Cache-Control": "no-cache"})

    # -- the WebSocket ----------------------------------------------------------------------
    async def websocket(self, request: web.Request) -> web.StreamResponse:
        assert self.db is not None and self.channel is not None
        link = request.match_info["link"]
        opened = await self._open(link, request.cookies.get(COOKIE))
        if opened is None:
            raise web.HTTPForbidden(text="unknown or revoked chat link")
        user = opened.user
        if user is None:
            raise web.HTTPForbidden(text="open the chat page first (it gives you an identity)")
        if not self._same_origin(request):
            raise web.HTTPForbidden(text="cross-site chat connections are refused")
        address = request.remote or ""
        if self._open_by_address[address] >= self.config.web.max_sockets_per_address:
            log_limited("web.socket_refused", f"address:{address}", reason="per_address", remote=address)
            raise web.HTTPTooManyRequests(text="too many open chats from this address")
        if self._open_by_user[user] >= self.config.web.max_sockets_per_user:
            log_limited("web.socket_refused", f"user:{user}", reason="per_user", user=user)
            raise web.HTTPTooManyRequests(text="this chat is open in too many tabs")
        self._open_by_address[address] += 1
        self._open_by_user[user] += 1
        try:
            return await self._chat(request, link, opened, user)
        finally:
            for counter, key in ((self._open_by_address, address), (self._open_by_user, user)):
                counter[key] -= 1
                if counter[key] <= 0:
                    del counter[key]

    async def _chat(self, request: web.Request, link: str, opened: links.Opened,
                    user: str) -> web.WebSocketResponse:
        assert self.channel is not None
        role = opened.role
        max_clip = self.config.web.max_clip_bytes
        ws = web.WebSocketResponse(heartbeat=25, max_msg_size=max_clip * 2 + 65536)
        await ws.prepare(request)
        products = await self.channel.refresh_cards(opened.shop_id)
        await ws.send_json({"type": "welcome", "role": role, "shop": opened.name, "language": opened.lang,
                            "products": products})
        if role == "buyer":
            await self._place(user, opened.shop_id)
        await self.channel.connect(user, ws, opened.shop_id)
        try:
            async for frame in ws:
                if frame.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                try:
                    if role == "seller" and not await self._still_linked(link, opened.shop_id):
                        await ws.send_json(ProtocolError("revoked", "this seller link was revoked").event())
                        break
                    if frame.type == WSMsgType.TEXT:
                        msg = parse_text(frame.data, max_clip)
                    else:
                        msg = parse_binary(frame.data, max_clip)
                    await self._handle(ws, link, opened, user, msg, request.remote or "")
                except ProtocolError as e:
                    log_event("web.bad_frame", logging.WARNING, user=user, code=e.code)
                    await ws.send_json(e.event())
        finally:
            self.channel.disconnect(user, ws)
        return ws

    def _same_origin(self, request: web.Request) -> bool:
        """A browser's socket must come from our own page (no cross-site WebSocket hijacking)."""
        origin = request.headers.get("Origin")
        if origin is None:  # not a browser (tests, tools): the link and cookie are the credentials
            return True
        host = urlsplit(origin).netloc.lower()
        allowed = {request.host.lower(), urlsplit(base_url(self.config)).netloc.lower()}
        return host in allowed

    async def _admit(self, checks: list[tuple[Limit, str]]) -> Limit | None:
        assert self.db is not None
        return await self.db.run_first(lambda shop: rates.admit(shop.village, checks))

    async def _rate_limit(self, user: str, address: str, msg_id: str) -> None:
        """Per identity, per client address and overall: made-up identities do not multiply the allowance."""
        full = await self._admit([(self._per_user, user), (self._per_address, address), (self._overall, "")])
        if full is not None:
            raise ProtocolError("slow_down", f"at most {full.limit} messages in {full.window_s:.0f} s", msg_id)

    def _charge_storage(self, user: str, size: int, msg_id: str) -> None:
        """``storage.media_mb_per_user_day``: what one identity may store a day (a clip over it is refused)."""
        quota = self.config.storage.media_mb_per_user_day * 1_000_000
        if quota <= 0:
            return
        day = int(time.time() // 86400)
        if self._stored_day != day:
            self._stored_day, self._stored = day, collections.Counter()
        if self._stored[user] + size > quota:
            raise ProtocolError("quota", "today's voice clips are used up; try again tomorrow", msg_id)
        self._stored[user] += size

    async def _note_address(self, user: str, address: str) -> None:
        """Record the address this identity speaks from (its orders count against the address's cap);
        written when it changes or once an hour, not on every message."""
        assert self.db is not None
        now = time.monotonic()
        last = self._address_of.get(user)
        if last is not None and last[0] == address and now - last[1] < 3600:
            return
        await self.db.run(lambda shop: addresses.record(shop.db, links.CHANNEL, user, address))
        if len(self._address_of) > 10_000:
            self._address_of.clear()
        self._address_of[user] = (address, now)

    async def _still_linked(self, link: str, shop_id: int) -> bool:
        assert self.db is not None
        return await self.db.run(lambda shop: links.seller_for_token(shop.other(shop_id).db, link)) is not None

    async def _open(self, link: str, cookie: str | None) -> links.Opened | None:
        assert self.db is not None
        return await self.db.run(lambda shop: links.open_link(shop.db, link, cookie))

    async def _place(self, user: str, shop_id: int) -> None:
        """This buyer is now in the shop whose link she opened (or speaks on): her messages are that shop's."""
        assert self.db is not None
        await self.db.run(lambda shop: links.place_link_buyer(shop.village, user, shop_id))

    async def _greeting(self, opened: links.Opened) -> str:
        assert self.db is not None
        return await self.db.run(lambda shop: greeting_text(shop.other(opened.shop_id), opened.lang, opened.name))

    async def _handle(self, ws: web.WebSocketResponse, link: str, opened: links.Opened, user: str,
                      msg: ClientMessage, address: str) -> None:
        assert self.pipeline is not None and self.channel is not None and self.db is not None
        if msg.type == "ping":
            await ws.send_json({"type": "pong"})
            return
        if msg.type == "hello":
            if msg.greet and opened.role == "buyer":  # a seller opens her own page all day: no welcome speech
                text = await self._greeting(opened)
                await ws.send_json({"type": "greeting", "text": text, "audio_url": f"/chat/{link}/say/greeting"})
                log_event("web.greeted", user=user)
            for event in await self.db.run(resent_replies, self.config, user, msg.after):
                await ws.send_json(event)
            return
        await self._rate_limit(user, address, msg.id)
        await self._note_address(user, address)
        if opened.role == "buyer":  # she may have opened another shop in another tab since: this tab's shop
            await self._place(user, opened.shop_id)
        key = f"{user}/{msg.id}"
        if msg.type == "clip":
            check_clip(msg.data, msg.id, self.config.web.max_clip_bytes, self.config.audio.max_voice_seconds)
            self._charge_storage(user, len(msg.data), msg.id)
            inbound = Inbound(links.CHANNEL, key, user, "voice", media=msg.data, media_format=msg.mime)
        elif msg.type == "text":
            inbound = Inbound(links.CHANNEL, key, user, "text", text=msg.text)
        else:
            from voicebot.shop.catalog import get_product

            product = await self.db.run(lambda shop: get_product(shop.other(opened.shop_id).db, msg.product_id))
            if product is None or not product["active"]:
                raise ProtocolError("bad_product", "no such product on sale", msg.id)
            inbound = Inbound(links.CHANNEL, key, user, "text", text=say(opened.lang, "web.order",
                                                                         product=product["name"]))
        mid, is_new = await self.pipeline.accept(inbound)
        await ws.send_json({"type": "received", "id": msg.id, "message_id": mid, "duplicate": not is_new})
        self.pipeline.schedule(mid)
        self.channel.wake()
