"""Passive replies: only the delivering user's replies ride on their HTTP response, and a reply counts as
sent only once that response was written."""

from __future__ import annotations

import asyncio

from test_wechat_e2e import assert_spoken, zh_service_without_cs_permission
from wechat_service import SELLER

from voicebot.app import WECHAT
from voicebot.shop.facade import Shop
from voicebot.store import outbox


async def test_a_delivery_never_carries_a_reply_meant_for_someone_else(aiohttp_server, tmp_path):
    emulator, service = await zh_service_without_cs_permission(aiohttp_server, tmp_path, "passive")
    pipeline = service.pipeline
    process = pipeline.process

    async def process_with_seller_note(message_id: int):  # a private note to the seller, queued first
        await pipeline.db.run(lambda shop: outbox.enqueue(
            shop.db, "wechat", SELLER, "text", message_id=message_id, payload={"text": "新订单：张三的私事"}))
        return await process(message_id)

    pipeline.process = process_with_seller_note
    async with service.client() as wx:
        buyer = wx.user()
        delivery = await buyer.send_text("蜂蜜多少钱")
    assert delivery.reply is not None and delivery.reply.kind == "voice"
    assert_spoken(emulator.media[delivery.reply.media_id].data)
    with Shop.open(service.config) as shop:
        (waiting,) = outbox.undelivered(shop.db)
    assert waiting["user"] == SELLER and waiting["status"] == "pending"


async def test_a_reply_lost_with_its_http_response_is_not_marked_sent(aiohttp_server, tmp_path):
    emulator, service = await zh_service_without_cs_permission(aiohttp_server, tmp_path, "passive")
    channel = service.app[WECHAT]
    channel.passive_wait_s, channel.passive_hold_s = 0.5, 0.6
    # the reply's upload outlasts WeChat's patience for every delivery of this message
    emulator.delay_next(4.0, times=3, path="/cgi-bin/media/upload")
    async with service.client(timeout_s=1.0) as wx:
        buyer = wx.user()
        await buyer.send_text("蜂蜜多少钱")
        await service.settle()
        await asyncio.sleep(4.5)  # the slow uploads finish after WeChat hung up
    with Shop.open(service.config) as shop:
        rows = [r for r in outbox.undelivered(shop.db) if r["user"] == buyer.openid]
    assert [r["status"] for r in rows] == ["pending"]  # still owed to the buyer, shown by `log pending`

    async with service.client() as wx:  # the buyer's next message carries the owed reply
        again = await wx.user(buyer.openid).send_text("蜂蜜多少钱")
    assert again.reply is not None and again.reply.kind == "voice"
    sent = 0
    for _ in range(100):  # marked sent just after the response is written: wait for that (bounded)
        with Shop.open(service.config) as shop:
            sent = shop.village.execute("SELECT count(*) FROM outbox WHERE user = ? AND status = 'sent'",
                                   (buyer.openid,)).fetchone()[0]
        if sent:
            break
        await asyncio.sleep(0.1)
    assert sent == 1
