"""Forged and replayed deliveries never act: safe mode takes only encrypted bodies, and a
captured delivery URL cannot carry a new body. Driven through the whole service."""

from __future__ import annotations

from dataclasses import replace

from wechat_service import SELLER, shop_service

from voicebot.shop.facade import Shop
from voicebot.testing.wechat_client import Prepared

PRODUCTS = [("蜂蜜", 45, 5, "瓶")]


def catalog(config) -> list[str]:
    with Shop.open(config) as shop:
        return [p["name"] for p in shop.list_products()]


def inbound_count(config) -> int:
    with Shop.open(config) as shop:
        return len(shop.list_messages(direction="in"))


async def test_safe_mode_refuses_a_plaintext_body_signed_only_by_the_query(aiohttp_server, tmp_path, emulator):
    """The query ``signature`` does not cover the body: a plaintext seller command on it is refused."""
    service = await shop_service(aiohttp_server, tmp_path, emulator, PRODUCTS)
    async with service.client(mode="safe") as genuine, service.client(mode="plain") as forger:
        seen = genuine.prepare(genuine.user(SELLER).text("蜂蜜多少钱"))  # a URL seen in a proxy log
        forged = forger.prepare(forger.user(SELLER).text("上架假货，一块钱，一百个"))
        query = seen.url.split("?", 1)[1]
        stripped = "&".join(p for p in query.split("&") if not p.startswith(("encrypt_type", "msg_signature")))
        for url in (forged.url, seen.url.split("?")[0] + "?" + stripped):
            attempt = await forger.post_once(replace(forged, url=url))
            assert (attempt.status, attempt.body) == (403, b"plaintext_refused")
        await service.settle()
    assert catalog(service.config) == ["蜂蜜"]
    assert inbound_count(service.config) == 0


async def test_compat_mode_acts_on_the_encrypted_part_only(aiohttp_server, tmp_path, emulator):
    service = await shop_service(aiohttp_server, tmp_path, emulator, PRODUCTS)
    async with service.client(mode="compat") as wx:
        genuine = wx.prepare(wx.user(SELLER).text("蜂蜜多少钱"))
        body = genuine.body.decode()
        assert "<Content><![CDATA[蜂蜜多少钱]]></Content>" in body  # compat carries a plaintext copy
        tampered = body.replace("蜂蜜多少钱", "上架假货，一块钱，一百个", 1).encode()
        attempt = await wx.post_once(Prepared(genuine.url, tampered, genuine.inbound))
        assert attempt.status == 200
        await service.settle()
    assert catalog(service.config) == ["蜂蜜"]
    with Shop.open(service.config) as shop:
        [row] = shop.list_messages(direction="in")
    assert row["transcript"] == "蜂蜜多少钱"


async def test_a_captured_url_cannot_carry_another_body_but_redelivery_passes(aiohttp_server, tmp_path, emulator):
    """Plaintext mode: the pair (timestamp, nonce) is bound to the first body seen with it."""
    service = await shop_service(
        aiohttp_server, tmp_path, emulator, PRODUCTS, wechat={"encoding_aes_key": ""}
    )
    async with service.client(mode="plain") as wx:
        seller = wx.user(SELLER)
        first = wx.prepare(seller.text("蜂蜜多少钱"))
        assert (await wx.post_once(first)).status == 200
        again = await wx.post_once(first)  # WeChat's own redelivery: byte-identical
        assert again.status == 200
        forged = wx.prepare(seller.text("上架假货，一块钱，一百个"))
        attempt = await wx.post_once(Prepared(first.url, forged.body, forged.inbound))
        assert (attempt.status, attempt.body) == (403, b"replayed_nonce")
        await service.settle()
    assert catalog(service.config) == ["蜂蜜"]
    assert inbound_count(service.config) == 1


async def test_replay_guard_is_shared_through_the_database(aiohttp_server, tmp_path, emulator):
    """A second process on the same database refuses the pair too (the guard lives in SQLite)."""
    service = await shop_service(
        aiohttp_server, tmp_path, emulator, PRODUCTS, wechat={"encoding_aes_key": ""}
    )
    async with service.client(mode="plain") as wx:
        first = wx.prepare(wx.user(SELLER).text("蜂蜜多少钱"))
        assert (await wx.post_once(first)).status == 200
        await service.settle()
    from voicebot.app import create_app

    other = await aiohttp_server(create_app(service.config))
    async with service.client(mode="plain") as wx:
        forged = wx.prepare(wx.user(SELLER).text("上架假货，一块钱，一百个"))
        url = str(other.make_url(service.config.wechat.path)) + "?" + first.url.split("?", 1)[1]
        attempt = await wx.post_once(Prepared(url, forged.body, forged.inbound))
    assert (attempt.status, attempt.body) == (403, b"replayed_nonce")
    assert catalog(service.config) == ["蜂蜜"]
