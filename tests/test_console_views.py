"""Console pages over HTTP on a shop fed through emulated WeChat: filters, replies waiting, orders,
`voicebot chat` turns and the dashboard's numbers."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner
from console_helpers import Browserless, console_service
from wechat_service import SELLER

from voicebot.cli import main
from voicebot.console.charts import bars, columns
from voicebot.console.views_dashboard import percentile
from voicebot.shop.facade import Shop
from voicebot.store import outbox


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), "teal").save(out, "JPEG")
    return out.getvalue()


def shown(html: str) -> set[int]:
    """Message ids listed on the conversations page."""
    return {int(i) for i in re.findall(r'data-message-id="(\d+)"', html)}


async def seeded(aiohttp_server, tmp_path):
    service = await console_service(aiohttp_server, tmp_path)
    async with service.client() as wx:
        seller, asker, orderer = wx.user(SELLER), wx.user(), wx.user()
        await seller.send_text("卖了两条手链给张三")
        await asker.send_text("蜂蜜多少钱")
        await orderer.send_text("我要蜂蜜")  # the bot asks how many: waiting for an answer
        await service.settle()
        await asker.send_voice(b"#!AMR\n" + bytes(range(256)) * 8)  # not speech: fails with an error
        await service.settle()
    with Shop.open(service.config) as shop:
        ids = {u: [m["id"] for m in shop.list_messages(user=u, direction="in")]
               for u in (SELLER, asker.openid, orderer.openid)}
    return service, ids, asker.openid, orderer.openid


async def test_filters_and_search_pick_the_right_people(aiohttp_server, tmp_path):
    service, ids, asker, orderer = await seeded(aiohttp_server, tmp_path)
    (sale,), (voice, price_q), (order,) = ids[SELLER], ids[asker], ids[orderer]
    with Shop.open(service.config) as shop:  # one reply held by WeChat's window, one word heard badly
        outbox.enqueue(shop.db, "wechat", SELLER, "text", message_id=sale, payload={"text": "好"}, held=True)
        shop.update_message(price_q, words=[{"word": "蜂蜜", "conf": 0.41}, {"word": "多少钱", "conf": 0.97}])
    async with Browserless(service.url) as op:
        await op.login()
        cases = {
            "": {sale, voice, order},  # each person once, with the newest message
            "?role=seller": {sale},
            "?role=buyer": {voice, order},
            "?intent=record_sale": {sale},
            "?intent=ask_price": {price_q},
            "?status=failed": {voice},
            "?status=low_confidence": {price_q},
            "?status=awaiting": {order},
            "?status=held": {sale},
            "?q=张三": {sale},
            "?q=%25": set(),  # LIKE wildcards are searched as text
            "?channel=wechat": {sale, voice, order},
            "?channel=nowhere": set(),
            "?date_from=2999-01-01": set(),
            "?date_to=2000-01-01": set(),
            f"?user={asker}": {voice, price_q},
        }
        for query, expected in cases.items():
            status, html, _ = await op.get("/console/" + query)
            assert status == 200
            assert shown(html) == expected, query
        status, html, _ = await op.get(f"/console/messages/{price_q}")
        assert '<mark class="low" title="confidence 0.41">蜂蜜</mark>' in html
        status, html, _ = await op.get(f"/console/messages/{voice}")
        assert 'id="error"' in html and 'id="voice-in"' in html
        status, _, r = await op.get(f"/console/media/in/{voice}")  # AMR, converted for the browser
        assert status == 200 and r.headers["Content-Type"] == "audio/ogg"
        garbage = service.config.media_dir / "in" / "garbage.bin"
        garbage.write_bytes(b"not audio at all" * 64)
        with Shop.open(service.config) as shop:
            shop.update_message(voice, media_path=str(garbage))
        status, body, _ = await op.get(f"/console/media/in/{voice}")  # not audio: said plainly
        assert status == 422 and "cannot be played" in body


async def test_replies_waiting_can_be_retried_or_dropped(aiohttp_server, tmp_path):
    service, ids, asker, _ = await seeded(aiohttp_server, tmp_path)
    with Shop.open(service.config) as shop:
        held = outbox.enqueue(shop.db, "wechat", asker, "text", payload={"text": "等一下"}, held=True)
        failing = outbox.enqueue(shop.db, "nowhere", asker, "text", payload={"text": "坏了"})
        outbox.mark_failed(shop.db, failing, "45015: reply time limit exceeded", permanent=True)
        stopped = outbox.enqueue(shop.db, "wechat", asker, "text", payload={"text": "好了"})
        outbox.mark_failed(shop.db, stopped, "-1: system busy", permanent=True)
    async with Browserless(service.url) as op:
        await op.login()
        status, html, _ = await op.get("/console/outbox")
        assert f'data-outbox-id="{held}"' in html and "at the user's next message" in html
        assert "45015: reply time limit exceeded" in html
        status, html, _ = await op.post(f"/console/outbox/{failing}/drop", {"csrf": op.csrf})
        assert status == 200 and "dropped" in html
        status, html, _ = await op.post(f"/console/outbox/{held}/retry", {"csrf": op.csrf})
        assert status == 200 and "held until the user writes again" in html
        status, html, _ = await op.post(f"/console/outbox/{stopped}/retry", {"csrf": op.csrf})
        assert status == 200 and "will be sent now" in html
        await service.settle()
    with Shop.open(service.config) as shop:
        rows = {r["id"]: r for r in shop.village.query("SELECT * FROM outbox WHERE id IN (?, ?, ?)",
                                                   (held, failing, stopped))}
    assert rows[stopped]["status"] == "sent"  # retried at once, and the emulated WeChat took it
    assert rows[held]["status"] == "pending" and rows[held]["next_attempt_at"] == outbox.HELD
    assert rows[failing]["status"] == "gave_up" and rows[failing]["last_error"] == "dropped by ana"


async def test_order_status_change_is_the_sellers_undoable_action(aiohttp_server, tmp_path):
    service, *_ = await seeded(aiohttp_server, tmp_path)
    with Shop.open(service.config) as shop:
        (order,) = shop.list_orders()
        photo = shop.add_photo("蜂蜜", _jpeg())
    async with Browserless(service.url) as op:
        await op.login()
        status, html, _ = await op.get("/console/shop")
        assert f'id="order-{order["id"]}"' in html and "2 items, 400.00 yuan" in html
        assert f'src="/console/media/photo/{photo["id"]}"' in html
        status, _, r = await op.get(f"/console/media/photo/{photo['id']}")
        assert status == 200 and r.headers["Content-Type"] == "image/jpeg"
        status, html, _ = await op.post(f"/console/shop/orders/{order['id']}", {"csrf": op.csrf, "status": "shipped"})
        assert status == 200 and "is now shipped" in html
        status, html, _ = await op.post(f"/console/shop/orders/{order['id']}", {"csrf": op.csrf, "status": "pending"})
        assert status == 409  # an illegal change is refused with the shop's reason
        status, html, _ = await op.post("/console/shop/products/1", {"csrf": op.csrf, "price": "-3", "stock": ""})
        assert status == 400 and "a price cannot be negative" in html
    with Shop.open(service.config) as shop:
        assert shop.get_order(order["id"])["status"] == "shipped"
        seller = shop.customer("wechat", SELLER)["id"]
        assert shop.undo(seller).kind == "set_status"
        assert shop.get_order(order["id"])["status"] == "confirmed"


async def test_chat_turns_and_dashboard_numbers(aiohttp_server, tmp_path):
    service, ids, *_ = await seeded(aiohttp_server, tmp_path)
    result = CliRunner().invoke(main, ["chat", "--role", "seller", "--user", "guo", "--new-seller", "--lang", "zh", "蜂蜜还有几瓶",
                                       "--db", str(service.config.db_path)])
    assert result.exit_code == 0, result.output
    async with Browserless(service.url) as op:
        await op.login()
        status, html, _ = await op.get("/console/?channel=console")
        assert len(shown(html)) == 1 and "蜂蜜还有几瓶" in html and "check_stock" in html
        status, html, _ = await op.get("/console/dashboard")
        assert status == 200 and "5 messages in the last 7 days." in html
        # 1 of 5 turns failed (the unreadable voice note); 1 waited on the stock question
        assert re.search(r">failed</text>.*?>20%</text>", html)
        assert html.count("<svg") == 3 and ">dialogue</text>" in html
        (errors,) = re.findall(r'<table id="errors">.*?</table>', html, re.S)
        assert re.findall(r"<tr><td>([a-z_.]+)</td><td>(\d+)</td></tr>", errors) == [("decode.silent", "1")]  # the seeded note that is not speech


def test_percentile_and_charts_escape_labels():
    assert percentile([5.0], 95) == 5.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0
    assert percentile([1.0, 2.0, 3.0, 100.0], 50) == 2.0
    svg = str(columns([("<b>", 3)], "t<"))
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    svg = str(bars([("asr", [10.0, 30.0])], ["median", "p95"], "time", " ms"))
    assert svg.count("<rect") == 2 and "30 ms" in svg


async def test_a_correction_waits_for_newer_changes_and_bad_input_changes_nothing(aiohttp_server, tmp_path):
    service = await console_service(aiohttp_server, tmp_path)
    async with service.client() as wx:
        seller = wx.user(SELLER)
        await seller.send_text("卖了三条手链给张三")
        await service.settle()
        await seller.send_text("蜂蜜进货五瓶")  # a newer change by the same seller
        await service.settle()
    with Shop.open(service.config) as shop:
        first = shop.list_messages(user=SELLER, direction="in")[-1]
        before = (shop.product("绿松石手链")["stock"], shop.product("蜂蜜")["stock"])
    async with Browserless(service.url) as op:
        await op.login()
        path = f"/console/messages/{first['id']}/correct"
        for op_name in ("preview", "apply"):
            status, html, _ = await op.post(path, {"csrf": op.csrf, "text": "卖了两条手链给张三", "op": op_name,
                                                   "previewed": "卖了两条手链给张三"})
            assert status == 409 and "changed the shop again since" in html
        status, html, _ = await op.post(path, {"csrf": op.csrf, "text": "   ", "op": "apply"})
        assert status == 409 and "type what the user really said" in html
        assert (await op.post("/console/messages/999/correct", {"csrf": op.csrf, "text": "x"}))[0] == 404
    with Shop.open(service.config) as shop:
        assert (shop.product("绿松石手链")["stock"], shop.product("蜂蜜")["stock"]) == before
        assert shop.village.execute("SELECT count(*) FROM corrections").fetchone()[0] == 0


async def test_apply_with_words_other_than_the_previewed_ones_only_previews(aiohttp_server, tmp_path):
    service = await console_service(aiohttp_server, tmp_path)
    async with service.client() as wx:
        await wx.user(SELLER).send_text("卖了三条手链给张三")
        await service.settle()
    with Shop.open(service.config) as shop:
        (msg,) = shop.list_messages(user=SELLER, direction="in")
    async with Browserless(service.url) as op:
        await op.login()
        path = f"/console/messages/{msg['id']}/correct"
        status, html, _ = await op.post(path, {"csrf": op.csrf, "text": "卖了一条手链给张三", "op": "apply",
                                               "previewed": "卖了两条手链给张三"})
        assert status == 200 and "would be: <b>record_sale 绿松石手链 ×1 → 张三</b>" in html
        with Shop.open(service.config) as shop:
            assert shop.product("绿松石手链")["stock"] == 7  # nothing applied yet
        status, html, _ = await op.post(path, {"csrf": op.csrf, "text": "卖了一条手链给张三", "op": "apply",
                                               "previewed": "卖了一条手链给张三"})
        assert status == 200 and "Corrected to" in html and "spoken notice" in html
    with Shop.open(service.config) as shop:
        assert shop.product("绿松石手链")["stock"] == 9
        (line,) = [json.loads(x) for x in _export(service.config)]
        assert line["text"] == "卖了一条手链给张三" and line["expect"]["quantity"] == 1


def _export(config) -> list[str]:
    result = CliRunner().invoke(main, ["export", "corrections", "--db", str(config.db_path)])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


async def test_conversations_page_through_older_people(aiohttp_server, tmp_path, monkeypatch):
    from voicebot.console import views_conversations

    monkeypatch.setattr(views_conversations, "PAGE", 2)
    service, ids, asker, orderer = await seeded(aiohttp_server, tmp_path)
    async with Browserless(service.url) as op:
        await op.login()
        status, html, _ = await op.get("/console/?role=buyer&q=")
        first = shown(html)
        older = re.search(r'href="([^"]+)" id="older"', html).group(1).replace("&amp;", "&")
        assert "role=buyer" in older
        status, html, _ = await op.get(older)
        assert first == {ids[asker][0], ids[orderer][0]} and shown(html) == set()
        status, html, _ = await op.get("/console/")
        assert len(shown(html)) == 2
        status, html, _ = await op.get(re.search(r'href="([^"]+)" id="older"', html).group(1).replace("&amp;", "&"))
        assert shown(html) == {ids[SELLER][0]} and 'id="older"' not in html


def test_chat_turns_are_logged_failed_only_when_the_dialogue_failed(tmp_path):
    """An answer about goods not sold is no failure; a dialogue that broke is ``dialogue.internal``."""
    import sqlite3

    db = tmp_path / "voicebot.db"

    def chat(text: str) -> dict:
        result = CliRunner().invoke(main, ["chat", "--role", "buyer", "--user", "li", "--lang", "zh", text,
                                           "--db", str(db)])
        assert result.exit_code == 0, result.output
        with sqlite3.connect(db) as conn:
            conn.row_factory = sqlite3.Row
            return dict(conn.execute("SELECT status, error, reply_text FROM messages ORDER BY id DESC").fetchone())

    answered = chat("核桃多少钱")  # the dialogue's error_code is unknown_product: an answer, not a failure
    assert (answered["status"], answered["error"]) == ("replied", None) and "核桃" in answered["reply_text"]
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TRIGGER no_state BEFORE UPDATE ON dialogue_state BEGIN SELECT RAISE(ABORT, 'no'); END")
        conn.execute("CREATE TRIGGER no_new_state BEFORE INSERT ON dialogue_state BEGIN SELECT RAISE(ABORT, 'no'); END")
    broken = chat("蜂蜜多少钱")
    assert broken["status"] == "failed" and broken["error"].startswith("dialogue.internal: ")
