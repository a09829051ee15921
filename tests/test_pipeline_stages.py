"""The pipeline with in-test speech stages: real SQLite file, real audio decoding, NLU, dialogue and shop.

A :class:`ScriptedRecognizer` hears, for each clip it handed out, the text it was given; a
:class:`WavSpeaker` answers with a short WAV. Whole seller/buyer conversations then run through
``Pipeline.process`` in a fraction of a second each, with the failure paths the pipeline owns. The
real-audio end-to-end tests (test_ko_e2e, test_wechat_e2e, test_web_channel) stay beside these.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import io
import itertools
import json
import math
import struct
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from voicebot.asr.engines import Recognizers
from voicebot.asr.pool import AsrPool, AsrTimeout, WorkerCrashed
from voicebot.asr.recognizer import AsrError, ModelMissing, Recognizer, Transcript, Word
from voicebot.asr.whisper_pool import WhisperPool
from voicebot.audio.decode import decode_sync
from voicebot.channels.web.channel import WebPolicy
from voicebot.cli import main
from voicebot.config import Config, load_config
from voicebot.console import doubts
from voicebot.dialogue.replies import say
from voicebot.nlu.grammar import grammar_phrases
from voicebot.pipeline.dbthread import DbThread
from voicebot.pipeline.events import Heard, RunEvent, StageEnd
from voicebot.pipeline.inbound import Inbound
from voicebot.pipeline.run import NO_CHANNEL_LIMITS, Pipeline, RunResult
from voicebot.shop.facade import Shop
from voicebot.tts.service import TtsService
from voicebot.tts.speaker import Speaker

RATE = 16000
SELLER, BUYER = "guo", "zhang"


def wav_bytes(seconds: float, freq: float = 0.0, rate: int = RATE) -> bytes:
    """A mono 16-bit WAV: a tone at ``freq`` Hz, or silence when ``freq`` is 0."""
    n = int(seconds * rate)
    samples = (int(9000 * math.sin(2 * math.pi * freq * i / rate)) if freq else 0 for i in range(n))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return out.getvalue()


class ScriptedRecognizer:
    """Hears the text given to :meth:`clip` for that clip's audio; records what it was asked."""

    def __init__(self, config: Config, biasing: str | None = "grammar", vocabulary: frozenset[str] | None = None):
        self.config = config
        self._biasing = biasing
        self._vocabulary = vocabulary
        self._texts: dict[str, tuple[str, float, tuple[str, ...]]] = {}
        self._tones = itertools.count(300, 37)
        self.calls: list[tuple[str, list[str] | None]] = []  # (lang, grammar) per transcribe
        self.vocabulary_calls = 0
        self.fail: BaseException | None = None  # raised by the next transcribe
        self.hold: asyncio.Event | None = None  # set: transcribe waits for it (a slow decode)
        self.entered = asyncio.Event()  # a transcribe has started
        self.vocabulary_fails: BaseException | None = None

    def clip(self, text: str, conf: float = 0.95, alternatives: tuple[str, ...] = ()) -> bytes:
        """A voice note (a tone of its own) that this recogniser will hear as ``text``; with ``alternatives``
        it hears as Whisper does: no word confidences, ``conf`` for the whole note, the beam's rivals."""
        audio = wav_bytes(0.4, next(self._tones))
        pcm = decode_sync(audio, self.config.audio).data  # keyed as the pipeline will hand it over
        self._texts[hashlib.sha256(pcm).hexdigest()] = (text, conf, alternatives)
        return audio

    def biasing(self, lang: str) -> Any:
        return self._biasing

    async def vocabulary(self, lang: str) -> frozenset[str] | None:
        self.vocabulary_calls += 1
        if self.vocabulary_fails is not None:
            raise self.vocabulary_fails
        return self._vocabulary

    async def transcribe(self, pcm: bytes, lang: str, grammar: list[str] | None = None) -> Transcript:
        self.calls.append((lang, grammar))
        self.entered.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.fail is not None:
            fail, self.fail = self.fail, None
            raise fail
        text, conf, alternatives = self._texts[hashlib.sha256(pcm).hexdigest()]
        if alternatives:  # Whisper's way
            return Transcript(text, [], len(pcm) / 2 / RATE, lang, "scripted", grammar=bool(grammar),
                              utterance_confidence=conf, alternatives=alternatives)
        words = [Word(w, conf, 0.1 * i, 0.1 * (i + 1)) for i, w in enumerate(text.split())]
        return Transcript(text, words, len(pcm) / 2 / RATE, lang, "scripted", grammar=bool(grammar))


class WavSpeaker:
    """Answers every text with a short WAV (whatever the format asked); records what it said."""

    def __init__(self) -> None:
        self.said: list[tuple[str, str, str]] = []
        self.fail: BaseException | None = None

    async def speak(self, text: str, lang: str, fmt: str) -> bytes:
        if self.fail is not None:
            raise self.fail
        self.said.append((text, lang, fmt))
        return wav_bytes(0.3, 440)

    def texts(self) -> list[str]:
        return list(dict.fromkeys(t for t, _, _ in self.said))


class ChatChannel:
    """The channel as the pipeline sees it: replies as WAV."""

    name = "chat"
    reply_format = "wav"
    limits = NO_CHANNEL_LIMITS
    policy = WebPolicy()

    def __init__(self) -> None:
        self.on_accept: list = []

    async def fetch_media(self, ref: str, max_bytes: int) -> bytes:
        raise AssertionError("media comes as bytes in these tests")

    async def send(self, item: dict[str, Any]) -> None:
        raise AssertionError("the pipeline queues replies; it never sends")


class Bot:
    """A real Pipeline (SQLite file in tmp_path) with in-test speech stages, and helpers to talk to it."""

    def __init__(self, config: Config, recognizer: ScriptedRecognizer, speaker: WavSpeaker) -> None:
        self.config, self.recognizer, self.speaker = config, recognizer, speaker
        self.db = DbThread(config)
        self.channel = ChatChannel()
        self.pipeline = Pipeline(config, self.db, recognizer, speaker)
        self.events: list[RunEvent] = []  # every run's events, as a listener gets them
        self.pipeline.on_event.add(self.events.append)
        self._ids = itertools.count(1)

    async def start(self) -> None:
        await self.db.start()
        await self.db.run(lambda shop: shop.add_seller(SELLER, "chat"))
        self.pipeline.add_channel(self.channel)

    async def close(self) -> None:
        await self.pipeline.close()
        await self.db.close()

    async def send(self, user: str, kind: str, *, media: bytes | None = None, text: str = "") -> RunResult:
        mid = await self.accept(user, kind, media=media, text=text)
        result = await self.pipeline.process(mid)
        assert result is not None
        return result

    async def accept(self, user: str, kind: str, *, media: bytes | None = None, text: str = "") -> int:
        msg = Inbound(channel="chat", channel_msg_id=str(next(self._ids)), user=user, kind=kind,  # type: ignore[arg-type]
                      media=media, text=text)
        mid, _ = await self.pipeline.accept(msg)
        return mid

    async def voice(self, user: str, heard: str, conf: float = 0.95) -> RunResult:
        return await self.send(user, "voice", media=self.recognizer.clip(heard, conf))

    def shop(self) -> Shop:
        return Shop.open(self.config)

    def outbox(self, message_id: int) -> list[dict[str, Any]]:
        with self.shop() as shop:
            rows = shop.village["outbox"].rows_where("message_id = ?", [message_id], order_by="id")
            return [{**r, "payload": json.loads(r["payload_json"] or "{}")} for r in rows]

    def message(self, message_id: int) -> dict[str, Any]:
        with self.shop() as shop:
            return dict(shop.village["messages"].get(message_id))

    def heard(self) -> list[str]:
        """What the recogniser heard, as the ``stt-end`` events told it."""
        return [e.outcome.text for e in self.events if isinstance(e, StageEnd) and isinstance(e.outcome, Heard)]

    def events_of(self, message_id: int) -> list[RunEvent]:
        return [e for e in self.events if e.run.message_id == message_id]


def make_config(tmp_path: Path, lang: str = "zh") -> Config:
    return load_config(overrides={"server": {"data_dir": str(tmp_path / "data")}, "shop": {"language": lang}},
                       environ={})


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    config = make_config(tmp_path)
    b = Bot(config, ScriptedRecognizer(config), WavSpeaker())
    await b.start()
    yield b
    await b.close()


# -- conversations ------------------------------------------------------------------------------


async def test_seller_and_buyer_talk_through_the_pipeline(bot: Bot) -> None:
    added = await bot.voice(SELLER, "上架蜂蜜四十五块五瓶")
    assert added.reply_text == "好的，蜂蜜，四十五块，五瓶。" and added.status == "replied"
    with bot.shop() as shop:
        honey = shop.product("蜂蜜")
        assert (honey["price_fen"], honey["stock"], honey["unit"]) == (4500, 5, "瓶")

    price = await bot.voice(BUYER, "蜂蜜多少钱")
    assert price.reply_text == "蜂蜜四十五块一瓶。" and price.intent["intent"] == "ask_price"

    order = await bot.voice(BUYER, "我要两瓶蜂蜜")
    assert "一号订单" in order.reply_text and "九十块" in order.reply_text
    with bot.shop() as shop:
        assert shop.product("蜂蜜")["stock"] == 3
        (placed,) = shop.list_orders()
        assert (placed["status"], placed["total_fen"], placed["created_by"]) == ("pending", 9000, "buyer")

    # The seller hears the new order in her own channel, spoken by the same speaker.
    (note,) = [r for r in bot.outbox(order.message_id) if r["user"] == SELLER]
    assert note["kind"] == "voice" and note["payload"]["notification"]
    assert note["payload"]["text"].startswith("新订单，一号") and note["payload"]["text"] in bot.speaker.texts()
    assert Path(note["media_path"]).read_bytes().startswith(b"RIFF")

    report = await bot.voice(SELLER, "今天卖了多少钱")
    assert report.intent["intent"] == "sales_summary" and "等你确认" in report.reply_text

    # Every reply was spoken once, in the channel's format, and queued as that audio for its user.
    spoken = bot.speaker.texts()
    for user, result in ((SELLER, added), (BUYER, price), (BUYER, order), (SELLER, report)):
        assert result.reply_text in spoken
        (voice,) = [r for r in bot.outbox(result.message_id) if r["user"] == user]
        assert voice["kind"] == "voice" and voice["payload"]["text"] == result.reply_text
        assert voice["media_path"] == result.reply_audio_path
        logged = bot.message(result.message_id)
        assert (logged["status"], logged["reply_text"], logged["transcript"]) == (
            "replied", result.reply_text, result.transcript)
    assert {fmt for _, _, fmt in bot.speaker.said} == {"wav"}
    assert [lang for lang, _ in bot.recognizer.calls] == ["zh"] * 4
    assert bot.heard() == ["上架蜂蜜四十五块五瓶", "蜂蜜多少钱", "我要两瓶蜂蜜", "今天卖了多少钱"]


async def test_an_english_shop_runs_the_same_stages(tmp_path: Path) -> None:
    config = make_config(tmp_path, "en")
    bot = Bot(config, ScriptedRecognizer(config), WavSpeaker())
    await bot.start()
    try:
        added = await bot.voice(SELLER, "new item honey thirty dollars five in stock")
        sold = await bot.voice(SELLER, "sold two jars of honey to john")
        asked = await bot.voice(BUYER, "how much is the honey")
        ordered = await bot.voice(BUYER, "i want one jar of honey")
    finally:
        await bot.close()
    assert added.reply_text == "OK, honey, thirty yuan, five in stock."
    assert "three jars left" in sold.reply_text and sold.intent["intent"] == "record_sale"
    assert asked.reply_text == "Honey is thirty yuan."
    assert ordered.intent["intent"] == "place_order" and "thirty yuan" in ordered.reply_text
    with Shop.open(config) as shop:
        assert shop.product("honey")["stock"] == 2
        assert sorted(o["created_by"] for o in shop.list_orders()) == ["buyer", "seller"]
    assert {lang for _, lang, _ in bot.speaker.said} == {"en"}


async def test_a_change_heard_with_low_confidence_waits_for_a_yes(bot: Bot) -> None:
    unsure = await bot.voice(SELLER, "上架蜂蜜四十五块五瓶", conf=0.4)
    with bot.shop() as shop:
        assert shop.list_products() == []  # read back, not done
    assert "蜂蜜" in unsure.reply_text and unsure.reply_text != "好的，蜂蜜，四十五块，五瓶。"
    yes = await bot.voice(SELLER, "对")
    assert yes.status == "replied"
    with bot.shop() as shop:
        assert shop.product("蜂蜜")["stock"] == 5


async def test_a_rival_hearing_is_kept_with_its_turn_and_the_change_waits(bot: Bot) -> None:
    """Heard surely as 卖了两瓶, but the recogniser rated 十二瓶 nearly as high: the sale is read back, and the
    turn keeps the note's confidence, the rival and why it asked, where the operator console reads them."""
    await bot.voice(SELLER, "上架蜂蜜四十五块二十瓶")
    heard = ("卖了两瓶蜂蜜", "卖了两瓶蜂蜜。", "卖了十二瓶蜂蜜")
    sale = await bot.send(SELLER, "voice", media=bot.recognizer.clip(heard[0], 0.93, heard))
    assert "两瓶" in sale.reply_text
    with bot.shop() as shop:
        assert shop.product("蜂蜜")["stock"] == 20  # read back, not done
        kept = doubts.heard(shop.village, sale.message_id, bot.message(sale.message_id)["shop_id"])
    assert kept is not None and kept["confidence"] == 0.93 and kept["rivals"] == [heard[2]]  # not the full stop
    assert [(a["reason"], a["detail"]) for a in kept["asked"]] == [("rival", heard[2])]
    assert "“卖了十二瓶蜂蜜”" in kept["asked"][0]["text"]
    # the command line shows the operator the same (voicebot log list), only for this shop's messages
    listed = CliRunner().invoke(main, ["log", "list", "--db", str(bot.config.db_path), "--limit", "1"]).output
    assert "conf 0.93" in listed and "also heard: 卖了十二瓶蜂蜜" in listed and "卖了十二瓶蜂蜜”, which" in listed
    yes = await bot.voice(SELLER, "对", conf=0.9)
    with bot.shop() as shop:
        assert shop.product("蜂蜜")["stock"] == 18
        assert doubts.heard(shop.village, yes.message_id, 1) == {"confidence": 0.9, "rivals": [], "asked": []}


async def test_a_slow_recognition_does_not_hold_up_another_users_reply(bot: Bot) -> None:
    bot.recognizer.hold = asyncio.Event()
    slow = bot.pipeline.schedule(await bot.accept(SELLER, "voice", media=bot.recognizer.clip("上架蜂蜜四十五块五瓶")))
    await bot.recognizer.entered.wait()
    quick = bot.pipeline.schedule(await bot.accept(BUYER, "text", text="你好"))
    assert slow is not None and quick is not None
    answered = await asyncio.wait_for(quick, 60)  # a guard against a hang, not a speed limit
    assert answered is not None and answered.status == "replied" and not slow.done()
    bot.recognizer.hold.set()
    added = await slow
    assert added is not None and added.reply_text == "好的，蜂蜜，四十五块，五瓶。"


async def test_a_run_cut_off_mid_recognition_is_finished_by_the_next_start(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    first = Bot(config, ScriptedRecognizer(config), WavSpeaker())
    await first.start()
    first.recognizer.hold = asyncio.Event()  # never set: this process "dies" while recognising
    clip = first.recognizer.clip("上架蜂蜜四十五块五瓶")
    mid = await first.accept(SELLER, "voice", media=clip)
    first.pipeline.schedule(mid)
    await first.recognizer.entered.wait()
    await first.pipeline.runs.close(grace_s=0)
    await first.close()
    assert first.message(mid)["status"] == "processing" and first.speaker.said == []

    second = Bot(config, first.recognizer, WavSpeaker())
    first.recognizer.hold = None
    await second.start()
    try:
        assert await second.pipeline.resume() == [mid]
        await second.pipeline.drain()
    finally:
        await second.close()
    logged = second.message(mid)
    assert logged["status"] == "replied" and logged["reply_text"] == "好的，蜂蜜，四十五块，五瓶。"
    with second.shop() as shop:
        assert shop.product("蜂蜜")["stock"] == 5


# -- steering recognition -----------------------------------------------------------------------


async def test_the_grammar_keeps_to_the_recognizers_vocabulary_and_follows_the_catalog(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    vocab = frozenset({"蜂蜜", "多少", "钱", "香菇", "上架", "块", "瓶"})
    bot = Bot(config, ScriptedRecognizer(config, vocabulary=vocab), WavSpeaker())
    await bot.start()
    try:
        await bot.voice(BUYER, "蜂蜜多少钱")
        await bot.voice(SELLER, "上架蜂蜜四十五块五瓶")
        await bot.voice(BUYER, "蜂蜜多少钱")
    finally:
        await bot.close()
    (_, before), (_, _), (_, after) = bot.recognizer.calls
    assert bot.recognizer.vocabulary_calls == 1  # asked once, shared by every later voice note
    assert before is not None and after is not None
    for phrase in before + after:
        assert set(phrase.split()) <= vocab, phrase
    assert "蜂蜜" not in before and "蜂蜜" in after  # a new product is in the next note's grammar
    assert after == grammar_phrases("zh", ["蜂蜜"], vocab)


async def test_a_prompt_recognizer_gets_product_and_customer_names(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    bot = Bot(config, ScriptedRecognizer(config, biasing="prompt"), WavSpeaker())
    await bot.start()
    try:
        await bot.voice(SELLER, "上架蜂蜜四十五块五瓶")
        await bot.voice(SELLER, "卖了两瓶蜂蜜给张三")
        await bot.voice(SELLER, "蜂蜜还有几瓶")
    finally:
        await bot.close()
    assert bot.recognizer.vocabulary_calls == 0
    assert not bot.recognizer.calls[0][1]  # nothing to say yet: an empty prompt
    assert bot.recognizer.calls[2][1] == ["蜂蜜", "张三"]


async def test_without_biasing_the_recognizer_decodes_freely(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    bot = Bot(config, ScriptedRecognizer(config, biasing=None), WavSpeaker())
    await bot.start()
    try:
        result = await bot.voice(SELLER, "上架蜂蜜四十五块五瓶")
    finally:
        await bot.close()
    assert result.status == "replied" and bot.recognizer.calls == [("zh", None)]
    assert bot.recognizer.vocabulary_calls == 0


async def test_a_vocabulary_that_cannot_be_read_leaves_the_grammar_unfiltered(bot: Bot) -> None:
    bot.recognizer.vocabulary_fails = OSError("words.txt is unreadable")
    result = await bot.voice(SELLER, "上架蜂蜜四十五块五瓶")
    assert result.reply_text == "好的，蜂蜜，四十五块，五瓶。"
    assert bot.recognizer.calls[0][1] == grammar_phrases("zh", [])


# -- what goes wrong ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code", "reply", "status"),
    [
        (AsrError("the recogniser gave up"), "asr.failed", "errors.asr", "replied"),
        (AsrTimeout("speech recognition took longer than 30 s"), "asr.failed", "errors.asr", "replied"),
        (WorkerCrashed("a speech recognition worker crashed"), "asr.failed", "errors.asr", "replied"),
        (ModelMissing("zh", "vosk-model-small-cn-0.22"), "asr.no_model", "errors.no_model", "replied"),
        (RuntimeError("a bug in the recogniser"), "run.internal", "errors.internal", "failed"),
    ],
)
async def test_a_failing_recognizer_gets_a_spoken_error_and_changes_nothing(
    bot: Bot, error: BaseException, code: str, reply: str, status: str
) -> None:
    bot.recognizer.fail = error
    result = await bot.voice(SELLER, "上架蜂蜜四十五块五瓶")
    assert result.reply_text == say("zh", reply) and result.status == status
    assert result.error is not None and result.error.startswith(f"{code}: ") and str(error) in result.error
    assert bot.speaker.texts() == [result.reply_text]
    (voice,) = bot.outbox(result.message_id)
    assert voice["kind"] == "voice" and voice["payload"]["text"] == result.reply_text
    logged = bot.message(result.message_id)
    assert logged["status"] == status and logged["reply_text"] == result.reply_text
    with bot.shop() as shop:
        assert shop.list_products() == []
    # The next note is heard as usual.
    again = await bot.voice(SELLER, "上架蜂蜜四十五块五瓶")
    assert again.status == "replied" and again.reply_text == "好的，蜂蜜，四十五块，五瓶。"


async def test_silence_is_answered_without_asking_the_recognizer(bot: Bot) -> None:
    result = await bot.send(BUYER, "voice", media=wav_bytes(1.0))
    assert result.reply_text == say("zh", "errors.audio_silent") and result.error.startswith("decode.silent: ")
    assert bot.recognizer.calls == [] and bot.speaker.texts() == [result.reply_text]


async def test_nothing_heard_gets_a_spoken_ask_again(bot: Bot) -> None:
    result = await bot.voice(BUYER, "")
    assert result.reply_text == say("zh", "errors.unheard") and result.status == "replied"
    assert bot.message(result.message_id)["transcript"] == ""


async def test_when_the_speaker_fails_the_reply_goes_as_text_and_the_change_stays(bot: Bot) -> None:
    bot.speaker.fail = RuntimeError("espeak-ng is gone")
    result = await bot.voice(SELLER, "上架蜂蜜四十五块五瓶")
    assert result.reply_text == "好的，蜂蜜，四十五块，五瓶。"
    assert result.status == "failed" and result.error == "tts.failed: RuntimeError: espeak-ng is gone"
    assert result.reply_audio_path is None
    (text,) = bot.outbox(result.message_id)
    assert text["kind"] == "text" and text["payload"]["text"] == result.reply_text
    with bot.shop() as shop:
        assert shop.product("蜂蜜")["stock"] == 5


async def test_text_messages_never_reach_the_recognizer(bot: Bot) -> None:
    result = await bot.send(BUYER, "text", text="你好")
    assert result.status == "replied" and result.reply_text in bot.speaker.texts()
    assert bot.recognizer.calls == [] and bot.recognizer.vocabulary_calls == 0


# -- the real stages implement the protocols ----------------------------------------------------


def _members(protocol: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(getattr(protocol, name)) for name in protocol.__dict__
            if not name.startswith("_") and callable(getattr(protocol, name))}


@pytest.mark.parametrize(
    ("protocol", "implementation"),
    [(Recognizer, AsrPool), (Recognizer, WhisperPool), (Recognizer, Recognizers), (Speaker, TtsService),
     (Recognizer, ScriptedRecognizer), (Speaker, WavSpeaker)],
)
def test_the_stages_implement_the_protocols(protocol: type, implementation: type) -> None:
    members = _members(protocol)
    assert members, protocol
    for name, wanted in members.items():
        method = getattr(implementation, name, None)
        assert method is not None, f"{implementation.__name__} has no {name}"
        assert inspect.iscoroutinefunction(method) == inspect.iscoroutinefunction(getattr(protocol, name)), name
        got = inspect.signature(method).parameters
        for param in wanted.parameters.values():  # every argument the pipeline passes is accepted
            assert param.name in got, f"{implementation.__name__}.{name} lacks {param.name}"
        extra = [p for p in list(got.values())[len(wanted.parameters):] if p.default is inspect.Parameter.empty]
        assert not extra, f"{implementation.__name__}.{name} needs more than the pipeline gives: {extra}"


async def test_the_real_pools_say_how_they_are_steered(tmp_path: Path) -> None:
    config = load_config(overrides={"server": {"data_dir": str(tmp_path)},
                                    "asr": {"engine_by_language": {"en": "whisper"}}}, environ={})
    recognizers = Recognizers(config, ["zh", "en"])  # never started: no worker process
    assert (recognizers.biasing("zh"), recognizers.biasing("en")) == ("grammar", "prompt")
    assert await recognizers.vocabulary("en") is None  # Whisper writes any word
    assert await recognizers.vocabulary("zh") is None  # no zh model installed here
