"""The outbox against a flaky WeChat API: no reply sent twice, none abandoned while it is still useful."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from test_wechat_e2e import ZH_PRODUCTS, voice_payloads
from wechat_service import shop_service

from voicebot.app import SENDER
from voicebot.cli import main
from voicebot.shop.facade import Shop
from voicebot.store import outbox

SEND = "/cgi-bin/message/custom/send"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def cli(config, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--db", str(config.db_path)])
    assert result.exit_code == 0, result.output
    return result.output


async def test_late_answers_never_make_a_reply_go_twice(aiohttp_server, tmp_path, emulator):  # noqa: F811
    service = await shop_service(aiohttp_server, tmp_path, emulator, ZH_PRODUCTS, wechat={"api_timeout_s": 0.3})
    clock = service.app[SENDER].clock = FakeClock()
    emulator.delay_next(1.0, times=5, path=SEND)  # WeChat delivers, but answers after our timeout
    async with service.client() as wx:
        buyers = [wx.user() for _ in range(5)]
        for buyer in buyers:
            await buyer.send_text("蜂蜜多少钱一瓶")
        await service.settle()
        for _ in range(5):  # an hour of the sender's retry schedule passes
            clock.advance(minutes=12)
            await service.app[SENDER].flush()
    assert len(emulator.sent) == 5 and sorted(s.touser for s in emulator.sent) == sorted(b.openid for b in buyers)
    pending = json.loads(cli(service.config, "log", "pending", "--json"))["replies"]
    assert [r["status"] for r in pending] == ["ambiguous"] * 5
    assert all("may have been delivered" in r["last_error"] for r in pending)
    assert "ambiguous" in cli(service.config, "outbox", "list", "--status", "ambiguous")

    # an operator who knows the first buyer did not get it sends it again, on purpose
    assert json.loads(cli(service.config, "outbox", "retry", "--id", str(pending[0]["id"]), "--json")) == {"retried": 1}
    await service.app[SENDER].flush()
    assert len(emulator.sent) == 6


async def test_a_send_interrupted_by_process_death_is_not_blindly_repeated(aiohttp_server, tmp_path, emulator):  # noqa: F811
    service = await shop_service(aiohttp_server, tmp_path, emulator, ZH_PRODUCTS)
    clock = service.app[SENDER].clock = FakeClock()
    async with service.client() as wx:
        buyer = wx.user()
        emulator.fail_next(-1, times=1, path=SEND)
        await buyer.send_text("蜂蜜多少钱一瓶")
        await service.settle()
    with Shop.open(service.config) as shop:  # as if a process had claimed it, started sending, and died
        (row,) = outbox.undelivered(shop.db)
        outbox.claim(shop.db, row["id"], now=clock())
        outbox.start_attempt(shop.db, row["id"], now=clock())
    clock.advance(minutes=2)  # its lease ran out
    await service.app[SENDER].flush()
    assert emulator.sent == []
    with Shop.open(service.config) as shop:
        (row,) = outbox.undelivered(shop.db)
    assert row["status"] == "ambiguous" and "stopped during the send" in row["last_error"]


async def test_replies_survive_an_hour_of_api_errors_and_go_out_when_it_recovers(aiohttp_server, tmp_path, emulator):  # noqa: F811
    service = await shop_service(aiohttp_server, tmp_path, emulator, ZH_PRODUCTS)
    clock = service.app[SENDER].clock = FakeClock()
    emulator.fail_next(-1, times=10_000, path=SEND)  # the API is down
    async with service.client() as wx:
        buyer = wx.user()
        await buyer.send_text("蜂蜜多少钱一瓶")
        await service.settle()
        for _ in range(12):  # an hour of errors, 5 minutes at a time
            clock.advance(minutes=5)
            await service.app[SENDER].flush()
        failed_calls = emulator.calls_to(SEND)
        emulator.recover()
        clock.advance(minutes=5)
        await service.app[SENDER].flush()
    assert failed_calls >= 12  # it kept trying (the backoff is capped at 5 minutes)
    assert len(voice_payloads(emulator, buyer.openid)) == 1
    with Shop.open(service.config) as shop:
        assert outbox.undelivered(shop.db) == []


async def test_a_cached_upload_that_wechat_rejects_is_uploaded_again(aiohttp_server, tmp_path, emulator):  # noqa: F811
    service = await shop_service(aiohttp_server, tmp_path, emulator, ZH_PRODUCTS)
    async with service.client() as wx:
        buyer = wx.user()
        await buyer.send_text("蜂蜜多少钱一瓶")
        await service.settle()
        (first,) = emulator.uploads
        del emulator.media[first.media_id]  # purged on WeChat's side before its 3 days were up
        await buyer.send_text("蜂蜜多少钱一瓶")  # the same answer: the cached media_id would be reused
        await service.settle()
    assert len(emulator.uploads) == 2
    audio = [s.media.data for s in emulator.sent_to(buyer.openid) if s.msgtype == "voice"]
    assert len(audio) == 2 and audio[0] == audio[1] == first.data
    with Shop.open(service.config) as shop:
        assert outbox.undelivered(shop.db) == []
