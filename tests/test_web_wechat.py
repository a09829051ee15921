"""Both channels at once: a web buyer's order reaches a WeChat seller as AMR, within WeChat's rules."""

from __future__ import annotations

from web_service import Chat, WebService
from wechat_service import SELLER, shop_service

from voicebot.app import PIPELINE, SENDER
from voicebot.testing.wechat_emulator import EmulatorAccount, WechatEmulator


async def test_a_web_buyers_order_reaches_the_wechat_seller_as_amr(aiohttp_server, tmp_path):
    emulator = WechatEmulator(account=EmulatorAccount())
    server = await aiohttp_server(emulator.app)
    emulator.url = str(server.make_url("")).rstrip("/")
    service = await shop_service(aiohttp_server, tmp_path, emulator, [("蜂蜜", 45, 5, "瓶")])
    web = WebService(service.config, service.app, service.url)
    assert set(service.app[PIPELINE].channels) == {"wechat", "web"}
    async with service.client() as wx:
        await wx.user(SELLER).send_text("今天卖了多少")  # the seller's 48-hour window is open
        await service.settle()
        chat = await Chat(web, web.buyer_link()).open()
        try:
            await chat.send({"type": "text", "id": "t-1", "text": "我要两瓶蜂蜜"})
            reply = await chat.next("reply")
            assert ".mp3?" in reply["audio_url"] and "九十" in reply["text"]
        finally:
            await chat.close()
        await service.settle()
        await service.app[SENDER].flush()
    voices = [emulator.media[s.payload["voice"]["media_id"]].data for s in emulator.sent_to(SELLER)
              if s.payload["msgtype"] == "voice"]
    assert len(voices) == 2  # her own answer, then the new order
    assert voices[-1].startswith(b"#!AMR\n")
