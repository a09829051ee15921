"""One client must not lock everyone out: per-address shares, the reserve, body deadlines on every route.

Linux routes all of 127/8 to the loopback device, so "the attacker" connects from 127.0.0.2 (and
127.0.0.3..) while the genuine buyer, WeChat and the operator connect from 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from typing import Any

import aiohttp
from console_helpers import OPERATOR, PASSWORD, Browserless, serve_emulator
from web_service import Chat, WebService
from wechat_service import AES_KEY, TOKEN, Service, seed, wechat_config

from voicebot.app import create_app
from voicebot.channels.web import links
from voicebot.channels.web.routes import COOKIE
from voicebot.console.auth import add_user
from voicebot.server import start_site
from voicebot.shop.facade import Shop
from voicebot.testing.wechat_client import WechatClient

ATTACK_SOCKETS, SLOW_LOGINS = 300, 20
LIMITS = {"max_connections": 160, "max_connections_per_address": 40, "reserved_connections": 30,
          "body_timeout_s": 2.0}


@contextlib.asynccontextmanager
async def capped_service(aiohttp_server: Any, tmp_path: Any, **sections: dict[str, Any]):
    """The whole service (web chat, WeChat emulated, console) behind the real capped site."""
    emulator = await serve_emulator(aiohttp_server)
    sections["server"] = {**LIMITS, **sections.get("server", {})}
    config = wechat_config(tmp_path / "data", emulator.url, emulator, **sections)
    seed(config, [("绿松石手链", 200, 10, "条")])
    with Shop.open(config) as shop:
        add_user(shop.db, OPERATOR, PASSWORD)
        link = links.shop_link(shop.db)
    app = create_app(config)
    runner, site = await start_site(app, config, "127.0.0.1", 0)
    try:
        yield Service(config, app, f"http://127.0.0.1:{site.port}", emulator), link
    finally:
        await runner.cleanup()


def attacker_session(source: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0), limit=0, force_close=True))


async def open_sockets(session: aiohttp.ClientSession, url: str, link: str, cookies: list[str]) -> list[Any]:
    """One buyer socket per cookie, opened at once; the ones that opened."""

    async def one(cookie: str) -> Any:
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
            return await session.ws_connect(f"{url}/chat/{link}/ws", timeout=aiohttp.ClientWSTimeout(ws_close=5),
                                            headers={"Cookie": f"{COOKIE}={cookie}"})
        return None

    opened = await asyncio.gather(*(one(c) for c in cookies))
    return [ws for ws in opened if ws is not None]


def made_up_cookies(n: int) -> list[str]:
    return [secrets.token_urlsafe(32) for _ in range(n)]


def minted_cookies(service: Service, n: int) -> list[str]:
    """Genuine identities, as an attacker collects them by loading the page over days."""
    with Shop.open(service.config) as shop:
        return [links.new_buyer_cookie(shop.db) for _ in range(n)]


async def slow_login(source: str, port: int, until: float) -> bytes:
    """A login form whose body is sent one byte a second; what the server answered (b"" if nothing)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    try:
        writer.write(b"POST /console/login HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n")
        while time.monotonic() < until:
            with contextlib.suppress(ConnectionError):
                writer.write(b"a")
                await writer.drain()
            try:
                return await asyncio.wait_for(reader.read(200), 1.0)
            except TimeoutError:
                continue
        return b"still open"
    finally:
        writer.close()


async def genuine_traffic_is_served(service: Service, link: str) -> None:
    """/healthz, a WeChat delivery, a logged-in operator and a new genuine buyer all get answers."""
    async with aiohttp.ClientSession() as session, session.get(service.url + "/healthz") as r:
        assert r.status == 200
    wx = service.client()
    attempt = await wx.post_once(wx.prepare(wx.user().text("绿松石手链多少钱")))
    assert attempt.status == 200
    async with Browserless(service.url) as operator:
        assert (await operator.login())[0] == 303
        assert (await operator.get("/console/"))[0] == 200
    buyer = Chat(WebService(service.config, service.app, service.url), link)
    try:
        await buyer.open()
        await buyer.send({"type": "text", "id": "t-1", "text": "绿松石手链多少钱"})
        assert (await buyer.next("received", timeout=30))["duplicate"] is False
    finally:
        await buyer.close()


async def test_one_address_with_hundreds_of_sockets_and_slow_logins_locks_no_one_out(aiohttp_server, tmp_path):
    async with capped_service(aiohttp_server, tmp_path) as (service, link):
        port = int(service.url.rsplit(":", 1)[1])
        until = time.monotonic() + 15
        slow = [asyncio.create_task(slow_login("127.0.0.2", port, until)) for _ in range(SLOW_LOGINS)]
        async with attacker_session("127.0.0.2") as attacker:
            sockets = await open_sockets(attacker, service.url, link,
                                         made_up_cookies(ATTACK_SOCKETS // 2) + minted_cookies(service, ATTACK_SOCKETS // 2))
            try:
                # one address gets its share and no more: the rest of the service is untouched
                assert len(sockets) <= service.config.web.max_sockets_per_address
                await genuine_traffic_is_served(service, link)
                # slow login bodies are cut after server.body_timeout_s, not held for the attack's length
                answers = await asyncio.gather(*slow)
                assert all(a != b"still open" for a in answers), answers
            finally:
                await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
                for task in slow:
                    task.cancel()


async def test_the_reserve_keeps_health_webhook_and_console_answering_when_many_addresses_fill_up(
        aiohttp_server, tmp_path):
    async with (capped_service(aiohttp_server, tmp_path, web={"max_sockets_per_address": 25}) as (service, link),
                Browserless(service.url) as operator):
            assert (await operator.login())[0] == 303  # an operator logged in before the crowd came
            attackers = [attacker_session(f"127.0.0.{n}") for n in range(2, 10)]
            sockets: list[Any] = []
            try:
                # 8 addresses x 25 sockets (each address within its share) would be 200 of 160 connections
                for session in attackers:
                    sockets += await open_sockets(session, service.url, link, minted_cookies(service, 25))
                limits = service.config.server
                # the crowd stops where the reserve begins (WebSockets are not served from it)
                assert 100 <= len(sockets) <= limits.max_connections - limits.reserved_connections
                async with aiohttp.ClientSession() as session, session.get(service.url + "/healthz") as r:
                    assert r.status == 200
                wx = service.client()
                assert (await wx.post_once(wx.prepare(wx.user().text("绿松石手链多少钱")))).status == 200
                assert (await operator.get("/console/"))[0] == 200
            finally:
                await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
                for session in attackers:
                    await session.close()


async def test_an_address_past_its_share_still_delivers_webhooks_but_gets_no_chat_pages(aiohttp_server, tmp_path):
    async with capped_service(aiohttp_server, tmp_path) as (service, link):
        port = int(service.url.rsplit(":", 1)[1])
        held = []
        try:
            for _ in range(LIMITS["max_connections_per_address"] + 5):  # keep-alive connections, all answered
                reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.3", 0))
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                assert (await asyncio.wait_for(reader.readline(), 10)).split(b" ")[1] == b"200"
                held.append(writer)
            crowded = aiohttp.TCPConnector(local_addr=("127.0.0.3", 0))
            async with aiohttp.ClientSession(connector=crowded) as session:
                async with session.get(f"{service.url}/chat/{link}") as r:
                    assert r.status == 503
                wx = WechatClient(service.url + service.config.wechat.path, TOKEN, app_id=service.emulator.account.app_id,
                                  mode="safe", encoding_aes_key=AES_KEY, emulator=service.emulator, session=session)
                assert (await wx.post_once(wx.prepare(wx.user().text("绿松石手链多少钱")))).status == 200
        finally:
            for writer in held:
                writer.close()
