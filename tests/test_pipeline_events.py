"""A run's typed event stream, and every error a user can cause heard with its own reply.

The pipeline is real (SQLite file, audio decoding, NLU, dialogue, shop); speech comes from the
in-test stages of test_pipeline_stages (a scripted recogniser, a WAV speaker).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from test_pipeline_stages import BUYER, SELLER, Bot, ScriptedRecognizer, WavSpeaker, make_config

from voicebot.asr.pool import WorkerCrashed
from voicebot.dialogue.replies import say
from voicebot.pipeline.events import (
    Counters,
    Heard,
    RunEnd,
    RunError,
    RunEvent,
    RunInfo,
    RunStart,
    StageEnd,
    StageStart,
    Understood,
)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    config = make_config(tmp_path)
    b = Bot(config, ScriptedRecognizer(config), WavSpeaker())
    await b.start()
    yield b
    await b.close()


async def test_a_voice_turn_tells_each_stage_once_in_order_with_its_time(bot: Bot, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="voicebot"):
        result = await bot.voice(SELLER, "上架蜂蜜四十五块五瓶")
    events = bot.events_of(result.message_id)
    assert [e.type for e in events] == [
        "run-start", "decode-start", "decode-end", "stt-start", "stt-end", "intent-start", "intent-end",
        "tts-start", "tts-end", "outbox-start", "outbox-end", "run-end"]
    start, end = events[0], events[-1]
    assert isinstance(start, RunStart) and (start.role, start.lang) == ("seller", "zh")
    assert start.run == RunInfo(result.message_id, "chat", start.run.channel_msg_id, SELLER, "voice", 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        start.lang = "en"  # type: ignore[misc]

    ends = {e.stage: e for e in events if isinstance(e, StageEnd)}
    assert all(e.ok for e in ends.values())
    assert ends["asr"].outcome == Heard("上架蜂蜜四十五块五瓶", 0.95, True)
    assert ends["dialogue"].outcome == Understood("add_product", True, bot.message(result.message_id)["action_id"])

    # the conversation log keeps the times the events told, and the run's end says what was logged
    assert isinstance(end, RunEnd) and (end.status, end.error) == ("replied", None)
    assert dict(end.timings) == {stage: e.ms for stage, e in ends.items()} == result.timings
    assert json.loads(bot.message(result.message_id)["timings_json"]) == result.timings

    # one structured log line per stage, with its time
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.getMessage().startswith("{")]
    staged = {line["event"]: line for line in lines if line.get("message_id") == result.message_id}
    for stage, e in ends.items():
        assert (staged[stage]["ms"], staged[stage]["ok"]) == (e.ms, True)
    assert staged["asr"]["text"] == "上架蜂蜜四十五块五瓶" and staged["dialogue"]["intent"] == "add_product"
    assert staged["pipeline.done"]["timings"] == result.timings


async def test_a_text_turn_has_no_speech_recognition_stages(bot: Bot) -> None:
    result = await bot.send(BUYER, "text", text="你好")
    assert [e.type for e in bot.events_of(result.message_id)] == [
        "run-start", "intent-start", "intent-end", "tts-start", "tts-end", "outbox-start", "outbox-end", "run-end"]


def _hold_the_store_during_the_dialogue(bot: Bot) -> Callable[[RunEvent], None]:
    """A listener that takes the database's write lock (as another process would) when the dialogue
    starts, and lets it go once the run has told its error."""
    locker = sqlite3.connect(str(bot.config.db_path), isolation_level=None, check_same_thread=False)

    def listener(event: RunEvent) -> None:
        if isinstance(event, StageStart) and event.stage == "dialogue":
            locker.execute("BEGIN IMMEDIATE")
        elif isinstance(event, RunError | RunEnd) and locker.in_transaction:
            locker.execute("ROLLBACK")
        if isinstance(event, RunEnd):
            locker.close()

    return listener


ADD_HONEY = {"zh": "上架蜂蜜四十五块五瓶", "en": "new item honey thirty dollars five in stock"}


async def _corrupt(bot: Bot) -> bytes:
    return b"#!AMR\n\x3c\x01\x02"  # a 12.2k frame cut after 2 of its 31 bytes


async def _too_big(bot: Bot) -> bytes:
    return b"#!AMR\n" + b"\x3c" + bytes(31) * (bot.config.audio.max_file_bytes // 31 + 1)


async def _recogniser_down(bot: Bot) -> bytes:
    bot.recognizer.fail = WorkerCrashed("a speech recognition worker crashed")
    return bot.recognizer.clip("蜂蜜多少钱")


async def _speaker_down(bot: Bot) -> bytes:
    bot.speaker.fail = RuntimeError("espeak-ng is gone")
    return bot.recognizer.clip(ADD_HONEY[bot.config.shop.language])


async def _store_busy(bot: Bot) -> bytes:
    await bot.db.run(lambda shop: shop.village.execute("PRAGMA busy_timeout = 50"))  # not 5 s per try
    bot.pipeline.on_event.add(_hold_the_store_during_the_dialogue(bot))
    return bot.recognizer.clip(ADD_HONEY[bot.config.shop.language])


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(
    ("cause", "code", "reply"),
    [
        (_corrupt, "decode.corrupt", "errors.audio_corrupt"),
        (_too_big, "decode.too_large", "errors.audio_too_large"),
        (_recogniser_down, "asr.failed", "errors.asr"),
        (_speaker_down, "tts.failed", None),  # no voice: the answer itself goes as text
        (_store_busy, "store.busy", "errors.busy"),
    ],
)
async def test_each_error_a_user_can_cause_is_heard_with_its_own_reply(
    tmp_path: Path, lang: str, cause: Callable, code: str, reply: str | None
) -> None:
    config = make_config(tmp_path, lang)
    bot = Bot(config, ScriptedRecognizer(config), WavSpeaker())
    await bot.start()
    try:
        result = await bot.send(SELLER, "voice", media=await cause(bot))
    finally:
        await bot.close()
    events = bot.events_of(result.message_id)
    (error,) = [e for e in events if isinstance(e, RunError)]
    assert f"{error.stage}.{error.code}" == code
    assert isinstance(events[-1], RunEnd) and events[-1].error == result.error
    assert result.error is not None and result.error.startswith(f"{code}: ")
    logged = bot.message(result.message_id)
    assert (logged["error"], logged["reply_text"]) == (result.error, result.reply_text)
    (sent,) = bot.outbox(result.message_id)
    if reply is None:  # the speaker is down: the answer is not lost, it goes as text
        assert (sent["kind"], result.status) == ("text", "failed")
        assert sent["payload"]["text"] == result.reply_text != ""
        with bot.shop() as shop:
            assert shop.list_products() != []  # and the change she asked for stays
    else:
        assert result.reply_text == say(lang, reply) and result.status == "replied"
        assert (sent["kind"], sent["payload"]["text"]) == ("voice", result.reply_text)
        with bot.shop() as shop:
            assert shop.list_products() == []  # nothing was changed on a failure


async def test_the_next_note_after_a_busy_store_is_heard_as_usual(bot: Bot) -> None:
    media = await _store_busy(bot)
    busy = await bot.send(SELLER, "voice", media=media)
    assert busy.reply_text == say("zh", "errors.busy")
    again = await bot.voice(SELLER, "上架蜂蜜四十五块五瓶")
    assert again.status == "replied" and again.reply_text == "好的，蜂蜜，四十五块，五瓶。"


async def test_a_failing_listener_never_fails_the_run(bot: Bot) -> None:
    def broken(event: RunEvent) -> None:
        raise RuntimeError("a consumer bug")

    after: list[RunEvent] = []
    bot.pipeline.on_event.add(broken)
    bot.pipeline.on_event.add(after.append)
    result = await bot.voice(SELLER, "上架蜂蜜四十五块五瓶")
    assert result.status == "replied" and result.error is None
    assert isinstance(bot.events[-1], RunEnd)  # listeners before and after the broken one get every event
    assert after == bot.events_of(result.message_id)


async def test_the_counters_count_runs_by_status_and_errors_by_code(bot: Bot) -> None:
    await bot.voice(SELLER, "上架蜂蜜四十五块五瓶")
    await bot.send(BUYER, "voice", media=await _corrupt(bot))
    bot.recognizer.fail = RuntimeError("a bug")
    await bot.voice(BUYER, "蜂蜜多少钱")
    assert bot.pipeline.counters.snapshot() == {
        "ended": {"replied": 2, "failed": 1}, "errors": {"decode.corrupt": 1, "run.internal": 1}}
    assert Counters().snapshot() == {"ended": {}, "errors": {}}


async def test_a_dialogue_that_fails_inside_is_told_apart_and_counted(bot: Bot) -> None:
    """The dialogue catches its own failures and says nothing changed; the run still ends failed."""
    await bot.db.run(lambda shop: shop.village.execute(
        "CREATE TRIGGER no_state BEFORE INSERT ON dialogue_state BEGIN SELECT RAISE(ABORT, 'disk says no'); END"))
    result = await bot.voice(SELLER, "上架蜂蜜四十五块五瓶")
    assert result.reply_text == say("zh", "error") and result.status == "failed"
    assert result.error is not None and result.error.startswith("dialogue.internal: ")
    (error,) = [e for e in bot.events_of(result.message_id) if isinstance(e, RunError)]
    assert (error.stage, error.code, error.failed) == ("dialogue", "internal", True)
    assert bot.pipeline.counters.snapshot() == {"ended": {"failed": 1}, "errors": {"dialogue.internal": 1}}
    with bot.shop() as shop:
        assert shop.list_products() == []  # and indeed nothing changed
    (sent,) = bot.outbox(result.message_id)
    assert (sent["kind"], sent["payload"]["text"]) == ("voice", result.reply_text)
