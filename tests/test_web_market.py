"""A village on one web address: each shop's buyer link, the market front page, and chats that stay in
their shop. Real service, real SQLite, real espeak-ng speech (MP3)."""

from __future__ import annotations

import re

import aiohttp
import pytest
from web_service import Chat, start_web, web_config

from voicebot.audio.decode import decode_sync
from voicebot.channels.web import links
from voicebot.config import AudioConfig
from voicebot.shop.shops import add_shop, buyer_shop, remove_shop
from voicebot.store.scoped import ShopDb

ESPEAK = {"tts": {"engines": {"zh": "espeak", "en": "espeak", "ko": "espeak"}}}
GUO = [("蜂蜜", 45, 5, "瓶"), ("绿松石手链", 200, 10, "条")]
LI = [("腊肉", 60, 8, "斤"), ("蜂蜜", 50, 3, "瓶")]  # the same honey name in both shops


@pytest.fixture
async def service(aiohttp_server, tmp_path):
    config = web_config(tmp_path / "data", shop={"name": "郭姐的店"}, **ESPEAK)
    service = await start_web(aiohttp_server, config, GUO)
    old_link = service.buyer_link()  # the one-shop link, made before the village grew
    with service.shop() as shop:
        li = add_shop(shop.village, "李家腊肉", code="lijia")
        for name, price, stock, unit in LI:
            shop.other(li["id"]).add_product(name, price, stock, unit=unit)
    service.old_link = old_link
    service.li = li["id"]
    return service


def link_of(service, shop_id: int) -> str:
    with service.shop() as shop:
        return links.shop_link(ShopDb(shop.village, shop_id))


async def test_each_shop_has_its_own_link_and_the_old_one_still_opens_shop_1(service):
    li_link = link_of(service, service.li)
    assert service.buyer_link() == service.old_link != li_link
    guo = await Chat(service, service.old_link).open()
    li = await Chat(service, li_link, guo.session).open()  # the same phone: one buyer, two shops
    try:
        assert guo.welcome["shop"] == "郭姐的店" and li.welcome["shop"] == "李家腊肉"
        assert [p["name"] for p in guo.welcome["products"]] == ["蜂蜜", "绿松石手链"]
        assert [(p["name"], p["price_text"]) for p in li.welcome["products"]] == [("腊肉", "六十块"), ("蜂蜜", "五十块")]
        await li.send({"type": "hello", "after": 0, "greet": True})
        assert (await li.next("greeting"))["text"] == "欢迎来到李家腊肉！我们卖腊肉，蜂蜜。按住下面的按钮说话。"
        # the card's order button of one shop cannot name the other shop's product
        guo_bracelet = guo.welcome["products"][1]["id"]
        await li.send({"type": "order", "id": "o-1", "product_id": guo_bracelet})
        assert (await li.next("error"))["code"] == "bad_product"
        async with li.session.get(f"{service.url}/chat/{li_link}/say/product-{guo_bracelet}") as r:
            assert r.status == 404
        # where she is: the shop of the tab she speaks in
        user = links.buyer_user(next(c.value for c in li.session.cookie_jar if c.key == "vb_buyer"))
        with service.shop() as shop:
            assert buyer_shop(shop.village, "web", user) == service.li
        await guo.send({"type": "ping"})
        await guo.next("pong")
        await guo.send({"type": "text", "id": "t-1", "text": "蜂蜜多少钱"})
        await guo.next("received")
        with service.shop() as shop:
            assert buyer_shop(shop.village, "web", user) == 1
    finally:
        await li.close(session_too=False)
        await guo.close()


async def test_a_sellers_link_opens_her_own_shop(service):
    from voicebot.shop.shops import shops_of_seller

    with service.shop() as shop:
        token, li_seller = links.create_seller_link(ShopDb(shop.village, service.li), "Guo")
        guo_token, guo_seller = links.create_seller_link(shop.db, "Guo")  # shop 1's seller of the same name
        assert guo_seller["channel_user_id"] == "seller:Guo"  # as before the village
        assert shops_of_seller(shop.village, "web", li_seller["channel_user_id"]) == [service.li]
        assert shops_of_seller(shop.village, "web", "seller:Guo") == [1]
    seller = await Chat(service, token).open()
    try:
        assert seller.welcome["role"] == "seller" and seller.welcome["shop"] == "李家腊肉"
        assert [p["name"] for p in seller.welcome["products"]] == ["腊肉", "蜂蜜"]
    finally:
        await seller.close()
    with service.shop() as shop:  # revoking one shop's link leaves the other shop's seller as she was
        assert links.revoke_seller_links(ShopDb(shop.village, service.li), "Guo") == 1
        assert shops_of_seller(shop.village, "web", "seller:Guo") == [1]
        assert links.seller_for_token(shop.db, guo_token) == "seller:Guo"
    async with aiohttp.ClientSession() as s, s.get(f"{service.url}/chat/{token}/qr.svg") as r:
        assert r.status == 404  # a seller's private token is never drawn as a public code


async def test_the_market_page_shows_every_shop_with_its_link_qr_and_spoken_name(service, tmp_path):
    from voicebot.testing.speech import espeak_wav, wav_duration

    li_link = link_of(service, service.li)
    async with aiohttp.ClientSession() as s:
        async with s.get(service.url + "/") as r:
            assert r.status == 200
            body = await r.text()
        shops = re.findall(r'<article class="shop" data-shop="(\d+)"', body)
        assert shops == ["1", str(service.li)]
        for link in (service.old_link, li_link):
            assert f'href="/chat/{link}"' in body and f"{service.url}/chat/{link}" in body
            assert f'data-say="/chat/{link}/say/name"' in body
        assert body.count("<svg") == 2 and 'href="/console/"' in body
        # the TTS worker's first espeak call sometimes ignores the rate (see test_web_greeting.py)
        async with s.get(f"{service.url}/chat/{li_link}/say/offline") as r:
            assert r.status == 200
        async with s.get(f"{service.url}/chat/{li_link}/say/name") as r:
            assert r.status == 200 and r.content_type == "audio/mpeg"
            heard = decode_sync(await r.read(), AudioConfig(), check_silence=True).duration
        said = wav_duration(espeak_wav("李家腊肉，卖腊肉，蜂蜜。", "cmn-latn-pinyin+f3", tmp_path / "n.wav", rate=160))
        assert 0.8 * said < heard < 1.2 * said, (heard, said)
        async with s.get(f"{service.url}/chat/{li_link}/qr.svg") as r:
            assert r.status == 200 and r.content_type == "image/svg+xml" and "<svg" in await r.text()
        # a removed shop is gone from the market, and its link with it
        with service.shop() as shop:
            remove_shop(shop.village, service.li)
        async with s.get(service.url + "/") as r:
            assert re.findall(r'<article class="shop" data-shop="(\d+)"', await r.text()) == ["1"]
        for path in (f"/chat/{li_link}", f"/chat/{li_link}/say/name", f"/chat/{li_link}/qr.svg"):
            async with s.get(service.url + path) as r:
                assert r.status == 404, path


async def test_many_shops_load_their_codes_lazily_and_the_market_follows_the_village(service):
    import io

    from PIL import Image

    async with aiohttp.ClientSession() as s:
        async with s.get(service.url + "/") as r:
            assert (await r.text()).count('<article class="shop"') == 2
        with service.shop() as shop:
            for n in range(5):
                add_shop(shop.village, f"第{n}家")
        async with s.get(service.url + "/") as r:  # not an old copy of the market
            body = await r.text()
        assert body.count('<article class="shop"') == 7 and "<svg" not in body
        assert body.count('class="qr" loading="lazy"') == 7 and body.count('class="photo nophoto"') == 7
        picture = io.BytesIO()
        Image.new("RGB", (640, 480), (200, 120, 40)).save(picture, "JPEG")
        with service.shop() as shop:
            shop.other(service.li).add_photo("腊肉", picture.getvalue())
        async with s.get(service.url + "/") as r:
            body = await r.text()
        (photo,) = re.findall(r'<img class="photo" src="(/chat/photos/[0-9a-f]{64}\.thumb\.\w+)" alt="李家腊肉">',
                              body)
        async with s.get(service.url + photo) as r:
            assert r.status == 200 and r.content_type.startswith("image/")


async def test_the_same_question_in_two_shops_tabs_is_answered_by_each_shop(service):
    """Both shops sell 蜂蜜 (45 and 50 a bottle): each tab hears its own shop's price, and an order in one
    tab changes only that shop."""
    guo = await Chat(service, service.old_link).open()
    li = await Chat(service, link_of(service, service.li), guo.session).open()  # one phone, two tabs
    try:
        await li.send({"type": "text", "id": "t-1", "text": "蜂蜜多少钱"})
        assert "五十" in (await li.next("reply"))["text"]
        await guo.send({"type": "text", "id": "t-2", "text": "蜂蜜多少钱"})
        assert "四十五" in (await guo.next("reply"))["text"]
        await li.send({"type": "text", "id": "t-3", "text": "我要两瓶蜂蜜"})
        reply = await li.next("reply")
        assert "一百" in reply["text"], reply["text"]  # two of Li's bottles
        await service.settle()
    finally:
        await li.close(session_too=False)
        await guo.close()
    with service.shop() as shop:
        assert shop.list_orders() == []  # shop 1 untouched
        assert {p["name"]: p["stock"] for p in shop.list_products()} == {"蜂蜜": 5, "绿松石手链": 10}
        li_shop = shop.other(service.li)
        (order,) = li_shop.list_orders()
        assert [(i["name"], i["quantity"]) for i in order["items"]] == [("蜂蜜", 2)]
        assert {p["name"]: p["stock"] for p in li_shop.list_products()} == {"腊肉": 8, "蜂蜜": 1}
