"""The browser chat's WebSocket protocol, identities and delivery, with a plain aiohttp client.

Real service (real SQLite, real espeak-ng replies encoded as MP3); text messages stand in for speech
here, the real-voice path is in tests/test_web_browser.py.
"""

from __future__ import annotations

import base64
import json
import logging

import aiohttp
import pytest
from web_service import Chat, start_web, web_config

from voicebot.audio.decode import decode_sync
from voicebot.config import AudioConfig
from voicebot.dialogue.replies import say

PRODUCTS = [("蜂蜜", 45, 5, "瓶"), ("绿松石手链", 200, 10, "条")]


@pytest.fixture
async def service(aiohttp_server, tmp_path):
    return await start_web(aiohttp_server, web_config(tmp_path / "data", web={"max_clip_bytes": 50_000}),
                           PRODUCTS)


async def test_buyer_asks_and_hears_an_mp3_reply_logged_like_wechat(service):
    chat = await Chat(service, service.buyer_link()).open()
    try:
        assert chat.welcome["role"] == "buyer"
        assert [p["name"] for p in chat.welcome["products"]] == ["蜂蜜", "绿松石手链"]
        await chat.send({"type": "text", "id": "t-1", "text": "蜂蜜多少钱"})
        received = await chat.next("received")
        assert received["id"] == "t-1" and received["duplicate"] is False
        reply = await chat.next("reply")
        assert reply["id"] == "t-1" and reply["kind"] == "voice" and "四十五" in reply["text"]
        async with chat.session.get(service.url + reply["audio_url"]) as r:
            assert r.status == 200 and r.content_type == "audio/mpeg"
            audio = await r.read()
        assert not audio.startswith(b"#!AMR")
        assert decode_sync(audio, AudioConfig(), check_silence=True).duration > 0.5
    finally:
        await chat.close()
    (row,) = service.inbound()
    assert row["user"].startswith("buyer:") and row["transcript"] == "蜂蜜多少钱"
    assert row["status"] == "replied" and "四十五" in row["reply_text"]


async def test_a_resent_id_is_one_message_and_a_missed_reply_comes_on_reconnect(service):
    chat = await Chat(service, service.buyer_link()).open()
    await chat.send({"type": "text", "id": "t-7", "text": "我要两瓶蜂蜜"})
    assert (await chat.next("received"))["duplicate"] is False
    await chat.ws.close()  # the tab loses its connection before the reply is ready
    await service.settle()
    again = await Chat(service, service.buyer_link(), chat.session).open()  # same cookie: same buyer
    try:
        await again.send({"type": "text", "id": "t-7", "text": "我要两瓶蜂蜜"})  # the page re-sends
        events = [await again.next() for _ in range(2)]
        by_type = {e["type"]: e for e in events}
        assert by_type["received"]["duplicate"] is True
        assert by_type["reply"]["id"] == "t-7" and "九十" in by_type["reply"]["text"]
    finally:
        await again.close()
    assert len(service.inbound()) == 1
    with service.shop() as shop:
        (order,) = shop.list_orders()
        assert order["total_fen"] == 9000 and shop.list_products()[0]["stock"] == 3


async def test_buyer_cannot_run_seller_intents_but_the_seller_link_can(service):
    buyer = await Chat(service, service.buyer_link()).open()
    seller = await Chat(service, service.seller_link("Guo")).open()
    try:
        assert seller.welcome["role"] == "seller"
        with service.shop() as shop:
            actions_before = shop.village.execute("SELECT count(*) FROM actions").fetchone()[0]
        for n, text in enumerate(["上架苹果三块十个", "蜂蜜卖了两瓶", "蜂蜜价格改成十块"]):
            await buyer.send({"type": "text", "id": f"b-{n}", "text": text})
            await buyer.next("reply")
        with service.shop() as shop:
            assert [(p["name"], p["price_fen"], p["stock"]) for p in shop.list_products()] == [
                ("蜂蜜", 4500, 5), ("绿松石手链", 20000, 10)]
            assert shop.list_orders() == []
            assert shop.village.execute("SELECT count(*) FROM actions").fetchone()[0] == actions_before
        await seller.send({"type": "text", "id": "s-1", "text": "上架苹果三块十个"})
        await seller.next("reply")
        await seller.send({"type": "text", "id": "s-2", "text": "对"})
        await seller.next("reply")
        with service.shop() as shop:
            assert "苹果" in shop.product_names()
        cards = await buyer.next("products")  # the buyer's open page shows the new product
        assert "苹果" in [p["name"] for p in cards["products"]]
    finally:
        await buyer.close()
        await seller.close()


async def test_a_buyers_order_notifies_the_seller_in_her_web_chat(service):
    token = service.seller_link("Guo")
    buyer = await Chat(service, service.buyer_link()).open()
    seller = await Chat(service, token).open()
    try:
        await buyer.send({"type": "order", "id": "o-1", "product_id": 1})  # the big order button
        ask = await buyer.next("reply")
        assert ask["text"] == say("zh", "ask.quantity_place_order", unit="瓶")
        await buyer.send({"type": "text", "id": "o-2", "text": "两瓶"})
        await buyer.next("reply")
        note = await seller.next("reply")
        assert note["notification"] is True and "蜂蜜" in note["text"] and ".mp3?" in note["audio_url"]
    finally:
        await buyer.close()
        await seller.close()


async def test_hostile_frames_get_clear_errors_and_the_chat_goes_on(service):
    chat = await Chat(service, service.buyer_link()).open()
    try:
        cases = [
            ("{not json", "bad_json"),
            ("[1, 2]", "bad_json"),
            (json.dumps({"type": "launch_missiles", "id": "x"}), "unknown_type"),
            (json.dumps({"type": "text", "id": "../../etc", "text": "hi"}), "bad_id"),
            (json.dumps({"type": "clip", "id": "c-1", "data": "!!!"}), "bad_clip"),
            (json.dumps({"type": "clip", "id": "c-2", "data": base64.b64encode(b"0" * 60_000).decode()}),
             "too_large"),
            (json.dumps({"type": "order", "id": "o-9", "product_id": 999}), "bad_product"),
            ("[" * 100_000, "bad_json"),
        ]
        for frame, code in cases:
            await chat.send(frame)
            assert (await chat.next("error"))["code"] == code, frame[:40]
        async with chat.session.get(f"{service.url}/chat/{chat.link}/say/failed") as r:  # the page says it
            assert r.status == 200 and len(await r.read()) > 1000
        await chat.ws.send_bytes(b'{"type": "clip", "id": "c-3"}\n' + b"0" * 60_000)
        assert (await chat.next("error"))["code"] == "too_large"
        await chat.ws.send_bytes(b"no header at all")
        assert (await chat.next("error"))["code"] == "bad_clip"
        await chat.send({"type": "ping"})
        assert (await chat.next())["type"] == "pong"
    finally:
        await chat.close()
    assert service.inbound() == []


async def test_a_binary_clip_that_is_not_audio_is_refused_before_it_is_stored(service):
    chat = await Chat(service, service.buyer_link()).open()
    try:
        await chat.ws.send_bytes(b'{"type": "clip", "id": "c-1", "mime": "audio/webm"}\n' + b"\x00garbage" * 50)
        error = await chat.next("error")  # the page marks the clip failed and says so aloud (/say/failed)
        assert error["id"] == "c-1" and error["code"] == "bad_clip"
    finally:
        await chat.close()
    assert service.inbound() == []
    assert not list((service.config.media_dir / "in").glob("*"))


async def test_forged_and_revoked_links_are_refused(service):
    from voicebot.channels.web import links

    async with aiohttp.ClientSession() as s:
        for link in ["A" * 43, "x", service.buyer_link() + "x"]:
            async with s.get(f"{service.url}/chat/{link}") as r:
                assert r.status == 404
            with pytest.raises(aiohttp.WSServerHandshakeError) as e:
                await s.ws_connect(f"{service.url}/chat/{link}/ws")
            assert e.value.status == 403
        # a page on another site cannot open a chat with the visitor's cookie; the shop's own page can
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as visitor:
            ws_url = f"{service.url}/chat/{service.buyer_link()}/ws"
            async with visitor.get(f"{service.url}/chat/{service.buyer_link()}") as r:
                assert r.status == 200
            with pytest.raises(aiohttp.WSServerHandshakeError) as e:
                await visitor.ws_connect(ws_url, origin="https://evil.example")
            assert e.value.status == 403
            ws = await visitor.ws_connect(ws_url, origin=service.url)
            assert (await ws.receive_json())["type"] == "welcome"
            await ws.close()
        # a buyer's socket without the cookie the page gives, or with a malformed one, is refused
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await s.ws_connect(f"{service.url}/chat/{service.buyer_link()}/ws", headers={"Cookie": "vb_buyer=x"})
    token = service.seller_link("Guo")
    seller = await Chat(service, token).open()
    try:
        with service.shop() as shop:
            assert links.revoke_seller_links(shop.db, "Guo") == 1
            assert not shop.is_seller("web", links.seller_user("Guo"))
        await seller.send({"type": "text", "id": "s-1", "text": "上架苹果三块十个"})
        assert (await seller.next("error"))["code"] == "revoked"
    finally:
        await seller.close()
    async with aiohttp.ClientSession() as s, s.get(f"{service.url}/chat/{token}") as r:
        assert r.status == 404
    assert service.inbound() == []


async def test_front_page_shows_the_shop_the_buyer_link_and_its_qr_code(service):
    async with aiohttp.ClientSession() as s, s.get(service.url + "/") as r:
        body = await r.text()
    assert r.status == 200
    assert "Test shop" in body and f"{service.url}/chat/{service.buyer_link()}" in body
    assert "<svg" in body and 'href="/console/"' in body


async def test_hello_sends_again_the_replies_a_page_has_not_seen(service):
    chat = await Chat(service, service.buyer_link()).open()
    try:
        await chat.send({"type": "text", "id": "t-1", "text": "蜂蜜多少钱"})
        first = await chat.next("reply")
        await service.settle()  # marked sent
        await chat.send({"type": "hello", "after": first["outbox_id"] - 1})
        again = await chat.next("reply")
        assert again == first
        await chat.send({"type": "hello", "after": first["outbox_id"]})
        await chat.send({"type": "ping"})
        assert (await chat.next())["type"] == "pong"  # nothing newer to send
    finally:
        await chat.close()


async def test_product_cards_carry_a_photo_the_page_can_load_and_a_spoken_price(service):
    import io

    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 120, 40)).save(picture, "JPEG")
    with service.shop() as shop:
        shop.add_photo("蜂蜜", picture.getvalue())
    chat = await Chat(service, service.buyer_link()).open()
    try:
        await chat.send({"type": "text", "id": "t-1", "text": "蜂蜜多少钱"})
        replies = [await chat.next("reply") for _ in range(2)]
        (photo,) = [r for r in replies if r["kind"] == "image"]  # the answer about a product shows it
        async with chat.session.get(service.url + photo["image_url"]) as r:
            assert r.status == 200 and r.content_type == "image/jpeg"
        honey = chat.welcome["products"][0]
        assert honey["name"] == "蜂蜜" and honey["price_text"] == "四十五块"
        async with chat.session.get(service.url + honey["photo_url"]) as r:
            assert r.status == 200 and r.content_type == "image/jpeg"
        async with chat.session.get(f"{service.url}/chat/{chat.link}/say/product-{honey['id']}") as r:
            assert r.status == 200 and r.content_type == "audio/mpeg"
            buyer_audio = await r.read()
            assert decode_sync(buyer_audio, AudioConfig(), check_silence=True).duration > 0.5
        seller = service.seller_link("Guo")
        async with chat.session.get(f"{service.url}/chat/{seller}/say/product-{honey['id']}") as r:
            seller_audio = await r.read()  # she also hears the stock: a longer sentence
        assert decode_sync(seller_audio, AudioConfig()).duration > decode_sync(buyer_audio, AudioConfig()).duration
        for bad in ("/chat/photos/..%2Fvoicebot.db", "/chat/media/x.mp3", f"/chat/{chat.link}/say/product-999"):
            async with chat.session.get(service.url + bad) as r:
                assert r.status == 404, bad
    finally:
        await chat.close()


def test_serve_prints_the_front_page_and_buyer_link(tmp_path, caplog):
    from voicebot.cli.serve import _print_urls

    config = web_config(tmp_path / "data")
    with caplog.at_level(logging.INFO, logger="voicebot"):
        _print_urls(config)
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if '"serve.urls"' in r.getMessage()]
    assert line["open"] == "http://127.0.0.1:8080/" and line["console"] == "http://127.0.0.1:8080/console/"
    assert line["buyer_chat"].startswith("http://127.0.0.1:8080/chat/")


async def test_replies_can_be_ogg_opus_for_the_browser(aiohttp_server, tmp_path):
    service = await start_web(aiohttp_server, web_config(tmp_path / "data", web={"reply_format": "ogg"}), PRODUCTS)
    chat = await Chat(service, service.buyer_link()).open()
    try:
        await chat.send({"type": "text", "id": "t-1", "text": "蜂蜜多少钱"})
        reply = await chat.next("reply")
        async with chat.session.get(service.url + reply["audio_url"]) as r:
            assert r.status == 200 and r.content_type == "audio/ogg"
            audio = await r.read()
        assert audio.startswith(b"OggS") and b"OpusHead" in audio[:100]
    finally:
        await chat.close()


async def test_a_flood_of_messages_is_slowed_down_not_run(service):
    from voicebot.channels.web.routes import RATE_MESSAGES

    chat = await Chat(service, service.buyer_link()).open()
    try:
        for n in range(RATE_MESSAGES + 3):
            await chat.send({"type": "text", "id": f"f-{n}", "text": "蜂蜜多少钱"})
        errors = []
        while len(errors) < 3:
            event = await chat.next()
            if event["type"] == "error":
                errors.append(event)
        assert {e["code"] for e in errors} == {"slow_down"}
        assert [e["id"] for e in errors] == [f"f-{n}" for n in range(RATE_MESSAGES, RATE_MESSAGES + 3)]
        await service.settle()
    finally:
        await chat.close()
    assert len(service.inbound()) == RATE_MESSAGES



async def test_a_voice_clip_is_heard_on_the_page_before_its_reply(aiohttp_server, tmp_path):
    """The page's ``heard`` comes from the run's stt-end event, before the reply is spoken."""
    from voicebot.testing.speech import espeak_wav

    service = await start_web(aiohttp_server, web_config(tmp_path / "data", "ko"), [("사과", 3000, 10, "개")])
    clip = espeak_wav("사과 얼마 예요", "ko", tmp_path / "question.wav").read_bytes()
    chat = await Chat(service, service.buyer_link()).open()
    try:
        await chat.send({"type": "clip", "id": "c-1", "data": base64.b64encode(clip).decode()})
        events = [await chat.next() for _ in range(3)]
    finally:
        await chat.close()
    assert [e["type"] for e in events] == ["received", "heard", "reply"]
    (row,) = service.inbound()
    heard = events[1]
    assert (heard["id"], heard["message_id"], heard["text"]) == ("c-1", row["id"], row["transcript"])
    assert "사과" in heard["text"] and events[2]["heard"] == row["transcript"]
