"""A channel's own rules reach the pipeline and the outbox sender unchanged: a toy channel with short voice
messages, a text copy of every reply and no reply window is served by the same code as WeChat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from voicebot.audio.decode import decode_sync
from voicebot.channels.wechat.policy import WechatPolicy
from voicebot.config import AudioConfig, WechatConfig, load_config
from voicebot.pipeline.dbthread import DbThread
from voicebot.pipeline.inbound import Inbound, Limits, SendError
from voicebot.pipeline.run import Pipeline
from voicebot.pipeline.sender import OutboxSender
from voicebot.shop.facade import Shop
from voicebot.store.outbox import Outbox
from voicebot.tts.service import TtsService

PRODUCTS = [("绿松石手链", 200, 10, "条"), ("蜂蜜", 45, 5, "瓶"), ("核桃", 30, 8, "斤"), ("香菇", 25, 6, "斤")]
TOY_VOICE_S = 2.5


class ToyPolicy:
    """No window, a text copy of each reply, two resends of an unanswered send, and one user who asked
    for quiet (a rule WeChat does not have)."""

    text_copy = True
    resend_ambiguous = 2
    max_age_s = 3600.0
    passive_only = False

    def hold_reason(self, outbox: Outbox, channel: str, user: str, now: datetime) -> str | None:
        return "quiet please" if user == "quiet" else None


class ToyChannel:
    name, reply_format = "toy", "mp3"
    limits = Limits(max_voice_s=TOY_VOICE_S, max_voice_bytes=1_000_000)

    def __init__(self) -> None:
        self.policy = ToyPolicy()
        self.on_accept: list[Any] = []
        self.sent: list[dict[str, Any]] = []
        self.unanswered = 0  # the next sends of a reply's (first) voice message get no answer

    async def fetch_media(self, ref: str, max_bytes: int) -> bytes:
        raise AssertionError("toy messages carry their bytes")

    async def send(self, item: dict[str, Any]) -> None:
        if self.unanswered and item["dedup_key"].endswith(":voice"):
            self.unanswered -= 1
            raise SendError("no answer", retryable=True, ambiguous=True)
        self.sent.append(item)


class Clock:
    """The sender's clock: real time plus whatever the test lets pass."""

    def __init__(self) -> None:
        self.passed = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.passed


@pytest.fixture
async def toy(tmp_path):
    config = load_config(overrides={"server": {"data_dir": str(tmp_path)}, "tts": {"engines": {"zh": "espeak"}}},
                         environ={})
    with Shop.open(config) as shop:
        for name, price, stock, unit in PRODUCTS:
            shop.add_product(name, price, stock, unit=unit)
    db, tts = DbThread(config), TtsService(config)
    await db.start()
    await tts.start()
    pipeline = Pipeline(config, db, None, tts)  # text messages only: no recogniser needed
    channel = ToyChannel()
    pipeline.add_channel(channel)
    clock = Clock()
    sender = OutboxSender(config, db, pipeline.channels, clock=clock)
    try:
        yield pipeline, channel, sender, clock
    finally:
        await pipeline.close()
        await tts.close()
        await db.close()


async def ask(pipeline: Pipeline, user: str, text: str, n: int = 1) -> None:
    mid, _ = await pipeline.accept(Inbound("toy", f"{user}-{n}", user, "text", text=text))
    await pipeline.schedule(mid)


async def test_the_pipeline_cuts_voice_and_adds_text_as_the_channel_says(toy):
    pipeline, channel, sender, clock = toy
    await ask(pipeline, "buyer", "有什么卖的")
    clock.passed += timedelta(hours=72)  # long past WeChat's 48-hour window: this channel has none
    assert await sender.flush() == len(channel.sent)
    voices = [r for r in channel.sent if r["kind"] == "voice"]
    texts = [r for r in channel.sent if r["kind"] == "text"]
    assert len(voices) >= 2, "a reply longer than the toy's voice limit comes in parts"
    durations = [decode_sync(Path(r["media_path"]).read_bytes(), AudioConfig()).duration for r in voices]
    assert all(d <= TOY_VOICE_S + 0.3 for d in durations), durations  # mp3 frames pad a little
    assert len(texts) == 1 and all(name in texts[0]["payload"]["text"] for name, *_ in PRODUCTS[:2])
    assert "".join(r["payload"]["text"] for r in voices) == texts[0]["payload"]["text"]


async def test_the_sender_holds_and_resends_by_the_channels_rules(toy):
    pipeline, channel, sender, clock = toy
    await ask(pipeline, "quiet", "蜂蜜多少钱一瓶")
    assert await sender.flush() == 0 and channel.sent == []
    with Shop.open(pipeline.config) as shop:
        held = shop.outbox.undelivered()
    assert {r["kind"] for r in held} == {"voice", "text"} and {r["last_error"] for r in held} == {"quiet please"}

    channel.unanswered = 2  # the voice reply's first two sends get no answer: resent twice (WeChat's default: 0)
    await ask(pipeline, "buyer", "蜂蜜多少钱一瓶")
    for _ in range(3):
        await sender.flush()
        clock.passed += timedelta(minutes=10)
    assert channel.unanswered == 0 and channel.sent[-1]["dedup_key"].endswith(":voice")  # third time lucky
    with Shop.open(pipeline.config) as shop:
        assert [r["user"] for r in shop.outbox.undelivered()] == ["quiet"] * len(held)

    channel.policy.passive_only = True  # replies ride on the user's own deliveries: the sender leaves them
    await ask(pipeline, "buyer", "绿松石手链多少钱", n=2)
    assert await sender.flush() == 0


def test_wechat_policy_keeps_the_48_hour_window_and_quota(tmp_path):
    policy = WechatPolicy(WechatConfig(window_hours=48, window_quota=2, send_text_copy=True))
    assert policy.text_copy and not policy.passive_only
    with Shop.open(load_config(overrides={"server": {"data_dir": str(tmp_path)}}, environ={})) as shop:
        now = datetime.now(UTC)
        assert policy.hold_reason(shop.outbox, "wechat", "u1", now) is not None  # never wrote to us
        shop.record_inbound("wechat", "m1", "u1", "text", transcript="hi")
        assert policy.hold_reason(shop.outbox, "wechat", "u1", now) is None
        for n in range(2):
            rid = shop.outbox.enqueue("wechat", "u1", "text", payload={"text": "ok"}, dedup_key=f"r{n}")
            shop.outbox.mark_sent(rid)
        assert "quota of 2" in policy.hold_reason(shop.outbox, "wechat", "u1", now)
        assert "window closed" in policy.hold_reason(shop.outbox, "wechat", "u1", now + timedelta(hours=49))
