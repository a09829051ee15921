"""Made-up identities do not multiply the browser chat's allowance (issue 20, item 2)."""

from __future__ import annotations

import io
import secrets
import wave

import aiohttp
from web_service import Chat, start_web, web_config

from voicebot.channels.web.routes import COOKIE
from voicebot.shop.facade import Shop

PRODUCTS = [("蜂蜜", 45, 5, "瓶")]


def customers(service) -> int:
    with Shop.open(service.config) as shop:
        return shop.village.execute("SELECT count(*) FROM customers WHERE channel = 'web'").fetchone()[0]


async def test_invented_cookies_are_no_one_and_create_no_customers(aiohttp_server, tmp_path):
    service = await start_web(aiohttp_server, web_config(tmp_path / "data"), PRODUCTS)
    link = service.buyer_link()
    async with aiohttp.ClientSession() as session:
        for _ in range(20):
            headers = {"Cookie": f"{COOKIE}={secrets.token_urlsafe(32)}"}
            # a WebSocket handshake is refused before the upgrade
            async with session.get(f"{service.url}/chat/{link}/ws", headers=headers) as r:
                assert r.status == 403
    assert customers(service) == 0 and service.inbound() == []


async def test_one_address_gets_few_new_identities_others_are_not_affected(aiohttp_server, tmp_path):
    config = web_config(tmp_path / "data", web={"new_buyers_per_address_hour": 3})
    service = await start_web(aiohttp_server, config, PRODUCTS)
    link = service.buyer_link()
    buyer = await Chat(service, link).open()  # a genuine buyer: one new identity
    try:
        statuses = []
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:  # never keeps a cookie
            for _ in range(4):
                async with session.get(f"{service.url}/chat/{link}") as r:
                    statuses.append((r.status, COOKIE in r.cookies))
        assert statuses == [(200, True)] * 2 + [(429, False)] * 2
        other = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
        async with aiohttp.ClientSession(connector=other) as session, session.get(f"{service.url}/chat/{link}") as r:
            assert r.status == 200 and COOKIE in r.cookies
        # the buyer who already has her identity is served as before
        async with buyer.session.get(f"{service.url}/chat/{link}") as r:
            assert r.status == 200
        await buyer.send({"type": "text", "id": "t-1", "text": "蜂蜜多少钱"})
        assert (await buyer.next("received"))["duplicate"] is False
    finally:
        await buyer.close()


async def test_many_identities_from_one_address_share_one_message_allowance(aiohttp_server, tmp_path):
    config = web_config(tmp_path / "data", web={"messages_per_address_min": 5})
    service = await start_web(aiohttp_server, config, PRODUCTS)
    link = service.buyer_link()
    chats = [await Chat(service, link).open() for _ in range(3)]
    try:
        codes = []
        for n, chat in enumerate(chats):
            for m in range(3):
                await chat.send({"type": "text", "id": f"t-{n}-{m}", "text": "蜂蜜多少钱"})
                while (event := await chat.next())["type"] not in ("received", "error"):
                    pass
                codes.append(event.get("code", "received"))
        assert codes.count("received") == 5 and codes.count("slow_down") == 4
        await service.settle()
    finally:
        for chat in chats:
            await chat.close()
    assert len(service.inbound()) == 5


async def test_random_clips_are_refused_before_anything_is_written(aiohttp_server, tmp_path):
    config = web_config(tmp_path / "data")
    service = await start_web(aiohttp_server, config, PRODUCTS)
    chat = await Chat(service, service.buyer_link()).open()
    try:
        for n in range(10):
            noise = secrets.token_bytes(1_900_000)
            await chat.ws.send_bytes(b'{"type": "clip", "id": "c-%d", "mime": "audio/webm"}\n' % n + noise)
            assert (await chat.next("error"))["code"] == "bad_clip"
        # a WAV longer than audio.max_voice_seconds is refused from its header
        long_wav = io.BytesIO()
        with wave.open(long_wav, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"\0\0" * 8000 * int(config.audio.max_voice_seconds + 5))
        await chat.ws.send_bytes(b'{"type": "clip", "id": "c-long", "mime": "audio/wav"}\n' + long_wav.getvalue())
        assert (await chat.next("error"))["code"] == "too_long"
    finally:
        await chat.close()
    stored = list((config.media_dir / "in").glob("*")) if (config.media_dir / "in").exists() else []
    assert stored == [] and service.inbound() == []


async def test_one_identity_stores_at_most_its_daily_quota_of_clips(aiohttp_server, tmp_path):
    config = web_config(tmp_path / "data", storage={"media_mb_per_user_day": 0.1})  # 100 kB a day
    service = await start_web(aiohttp_server, config, PRODUCTS)
    chat = await Chat(service, service.buyer_link()).open()
    try:
        codes = []
        for n in range(4):
            clip = io.BytesIO()
            with wave.open(clip, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(16000)
                w.writeframes(secrets.token_bytes(2 * 16000 + 2 * n))  # 1 s each, ~32 kB, distinct
            await chat.ws.send_bytes(b'{"type": "clip", "id": "c-%d", "mime": "audio/wav"}\n' % n + clip.getvalue())
            while (event := await chat.next())["type"] not in ("received", "error"):
                pass
            codes.append(event.get("code", "received"))
        assert codes == ["received"] * 3 + ["quota"]
        await service.settle()
    finally:
        await chat.close()
    assert len(list((config.media_dir / "in").glob("*"))) == 3


async def test_identities_from_one_address_together_hold_at_most_the_address_cap(aiohttp_server, tmp_path):
    """Made-up but signed identities from one address cannot reserve the stock between them."""
    config = web_config(tmp_path / "data", web={"max_pending_orders_per_address": 3,
                                                "max_pending_units_per_address": 5})
    service = await start_web(aiohttp_server, config, [("蜂蜜", 45, 50, "瓶")])
    link = service.buyer_link()

    def stock() -> int:
        with Shop.open(service.config) as shop:
            return shop.product("蜂蜜")["stock"]

    async def order(chat: Chat, text: str, n: int) -> str:
        await chat.send({"type": "text", "id": f"o-{n}", "text": text})
        return (await chat.next("reply"))["text"]

    def from_address(address: str) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)),
                                     cookie_jar=aiohttp.CookieJar(unsafe=True))

    hoarders = [await Chat(service, link, from_address("127.0.0.2")).open() for _ in range(5)]
    buyer = await Chat(service, link, from_address("127.0.0.3")).open()
    try:
        assert len({c.value for chat in hoarders for c in chat.session.cookie_jar if c.key == COOKIE}) == 5
        assert "号订单" in await order(hoarders[0], "我要两瓶蜂蜜", 0) and stock() == 48
        assert "号订单" in await order(hoarders[1], "我要两瓶蜂蜜", 1) and stock() == 46
        # 2 + 2 + 2 units would be more than one address may hold, though this identity holds none
        reply = await order(hoarders[2], "我要两瓶蜂蜜", 2)
        assert "等老板处理" in reply and stock() == 46
        assert "号订单" in await order(hoarders[2], "我要一瓶蜂蜜", 3) and stock() == 45
        # three pending orders from the address: a fourth identity's order is refused, the shop unchanged
        assert "等老板处理" in await order(hoarders[3], "我要一瓶蜂蜜", 4) and stock() == 45
        # a buyer from another address still orders
        assert "号订单" in await order(buyer, "我要三瓶蜂蜜", 5) and stock() == 42
        # once the seller has handled one of the address's orders, another fits again
        with Shop.open(service.config) as shop:
            shop.set_order_status(shop.list_orders(status="pending")[-1]["id"], "confirmed")
        assert "号订单" in await order(hoarders[4], "我要一瓶蜂蜜", 6) and stock() == 41
        await service.settle()
    finally:
        for chat in [*hoarders, buyer]:
            await chat.close()
