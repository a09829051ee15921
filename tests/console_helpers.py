"""Test helpers for the operator console: a running service with an operator, and a logged-in HTTP client."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from wechat_service import Service, shop_service

from voicebot.console.auth import add_user
from voicebot.shop.facade import Shop
from voicebot.testing.wechat_emulator import EmulatorAccount, WechatEmulator

OPERATOR, PASSWORD = "ana", "turquoise-2026"
ZH_PRODUCTS = [("绿松石手链", 200, 10, "条"), ("蜂蜜", 45, 5, "瓶")]
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


async def serve_emulator(aiohttp_server: Callable, account: EmulatorAccount | None = None) -> WechatEmulator:
    """A WeChat emulator served on loopback (``emulator.url``)."""
    emulator = WechatEmulator(account=account or EmulatorAccount())
    server = await aiohttp_server(emulator.app)
    emulator.url = str(server.make_url("")).rstrip("/")
    return emulator


async def console_service(
    aiohttp_server: Callable, tmp_path: Path, products: list[tuple[str, float, int, str]] | None = None,
    **sections: dict[str, Any],
) -> Service:
    """A running zh shop with the WeChat channel (emulated) and one console operator."""
    emulator = await serve_emulator(aiohttp_server)
    service = await shop_service(aiohttp_server, tmp_path, emulator, ZH_PRODUCTS if products is None else products,
                                 **sections)
    with Shop.open(service.config) as shop:
        add_user(shop.db, OPERATOR, PASSWORD)
    return service


class Browserless:
    """An HTTP client that keeps cookies (also for 127.0.0.1) and knows the page's CSRF token."""

    def __init__(self, base: str, local_addr: str | None = None) -> None:
        """``local_addr``: connect from this loopback address (127.0.0.2, ...) to look like another machine."""
        self.base = base
        connector = aiohttp.TCPConnector(limit=0, local_addr=(local_addr, 0) if local_addr else None)
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), connector=connector)
        self.csrf = ""

    async def __aenter__(self) -> Browserless:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()

    async def get(self, path: str, **kw: Any) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.session.get(self.base + path, allow_redirects=False, **kw) as r:
            body = await r.read()
            text = body.decode("utf-8", "replace")
            found = CSRF_RE.search(text)
            if found:
                self.csrf = found.group(1)
            return r.status, text, r

    async def post(self, path: str, data: dict[str, Any], **kw: Any) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.session.post(self.base + path, data=data, allow_redirects=False, **kw) as r:
            text = await r.text()
            found = CSRF_RE.search(text)
            if found:
                self.csrf = found.group(1)
            return r.status, text, r

    async def login(self, name: str = OPERATOR, password: str = PASSWORD) -> tuple[int, str, aiohttp.ClientResponse]:
        await self.get("/console/login")
        result = await self.post("/console/login", {"csrf": self.csrf, "name": name, "password": password})
        if result[0] == 303:
            await self.get("/console/")  # picks up the session's CSRF token
        return result
