"""A running voicebot with the browser chat channel, and a small WebSocket client (test helper)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from voicebot.app import create_app, settle
from voicebot.app_keys import PIPELINE
from voicebot.channels.web import links
from voicebot.config import Config, load_config
from voicebot.shop.facade import Shop


def web_config(data_dir: Path, language: str = "zh", **sections: dict[str, Any]) -> Config:
    overrides: dict[str, dict[str, Any]] = {
        "server": {"data_dir": str(data_dir)},
        "shop": {"language": language, "name": "Test shop"},
        "asr": {"workers": 1},
    }
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    return load_config(overrides=overrides, environ={})


@dataclass
class WebService:
    config: Config
    app: Any
    url: str

    def shop(self) -> Shop:
        return Shop.open(self.config)

    def buyer_link(self) -> str:
        with self.shop() as shop:
            return links.shop_link(shop.db)

    def seller_link(self, name: str = "Guo") -> str:
        with self.shop() as shop:
            return links.create_seller_link(shop.db, name)[0]

    def inbound(self) -> list[dict[str, Any]]:
        with self.shop() as shop:
            return [m for m in shop.list_messages(direction="in") if m["channel"] == "web"]

    async def settle(self, timeout: float = 60.0) -> None:
        await asyncio.wait_for(settle(self.app), timeout)

    def runs_ended(self) -> dict[str, int]:
        """Runs ended so far by status, as the pipeline's run-end events were counted."""
        return self.app[PIPELINE].counters.snapshot()["ended"]


async def start_web(aiohttp_server: Callable, config: Config,
                    products: list[tuple[str, float, int, str]] = ()) -> WebService:
    with Shop.open(config) as shop:
        for name, price, stock, unit in products:
            shop.add_product(name, price, stock, unit=unit)
    app = create_app(config)
    server = await aiohttp_server(app)
    return WebService(config, app, str(server.make_url("")).rstrip("/"))


class Chat:
    """One browser tab: a cookie jar (its buyer identity) and a WebSocket to ``/chat/<link>/ws``."""

    def __init__(self, service: WebService, link: str, session: aiohttp.ClientSession | None = None) -> None:
        self.service = service
        self.link = link
        self.session = session or aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.welcome: dict[str, Any] = {}
        self._inbox: asyncio.Queue[aiohttp.WSMessage] = asyncio.Queue()
        self._reader: asyncio.Task | None = None

    async def open(self) -> Chat:
        async with self.session.get(f"{self.service.url}/chat/{self.link}") as page:
            assert page.status == 200, page.status
        self.ws = await self.session.ws_connect(f"{self.service.url}/chat/{self.link}/ws")
        self._inbox = asyncio.Queue()  # a reopened tab starts with nothing of the old socket's
        self._reader = asyncio.create_task(self._read(self.ws))
        self.welcome = await self.next("welcome")
        return self

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Read all the time, as a browser does: the server's heartbeat pings are answered even while a test
        leaves this tab idle (a slow machine would otherwise see the server close it)."""
        while True:
            msg = await ws.receive()
            self._inbox.put_nowait(msg)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED,
                            aiohttp.WSMsgType.ERROR):
                return

    async def send(self, obj: Any) -> None:
        assert self.ws is not None
        await self.ws.send_str(obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False))

    async def next(self, kind: str | None = None, timeout: float = 60.0) -> dict[str, Any]:
        """The next event (of type ``kind``, skipping others)."""
        assert self.ws is not None
        while True:
            msg = await asyncio.wait_for(self._inbox.get(), timeout)
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"socket ended: {msg.type} {msg.data!r}")
            event = json.loads(msg.data)
            if kind is None or event["type"] == kind:
                return event

    async def close(self, session_too: bool = True) -> None:
        if self._reader is not None:  # stopped first: close() then reads the server's close frame alone
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        if self.ws is not None:
            await self.ws.close()
        if session_too:
            await self.session.close()
