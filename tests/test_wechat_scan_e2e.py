"""Scan events through the running service (emulated WeChat -> webhook -> pipeline -> customer-service API)."""

from __future__ import annotations

import time

from wechat_service import shop_service

from voicebot.shop.facade import Shop

PRODUCTS = [("蜂蜜", 45, 5, "瓶")]


def events_of(config, openid):
    with Shop.open(config) as shop:
        return sorted((r["transcript"], r["status"]) for r in shop.list_messages(user=openid, direction="in"))


async def test_a_redelivered_scan_is_one_event_and_two_scans_in_one_second_are_two(aiohttp_server, tmp_path,
                                                                                      emulator):
    service = await shop_service(aiohttp_server, tmp_path, emulator, PRODUCTS, tts={"engines": {"zh": "espeak"}})
    now = int(time.time())
    async with service.client() as wx:
        wx.clock = lambda: now  # every event below has the same CreateTime
        buyer = wx.user()
        first = wx.prepare(buyer.event("subscribe", "qrscene_guo", "T1"))
        assert (await wx.deliver(first)).status == 200
        assert (await wx.deliver(first)).status == 200  # WeChat redelivers the same bytes
        assert (await buyer.scan("zhang", "T2")).status == 200  # a second code, the same second
        await service.settle()
    assert events_of(service.config, buyer.openid) == [("scan:zhang", "replied"), ("subscribe:guo", "replied")]
    voices = [s for s in emulator.sent_to(buyer.openid) if s.msgtype == "voice"]
    assert len(voices) == 2  # each scan answered once by voice, the redelivery not at all
