"""The short spoken notice a user gets when an operator corrects what the bot heard."""

from __future__ import annotations

import asyncio

from aiohttp import web

from voicebot.app_keys import CONFIG, DB, PIPELINE, SENDER, TTS
from voicebot.console import corrections
from voicebot.console.corrections import Outcome
from voicebot.dialogue.replies import say
from voicebot.fileio import write_media
from voicebot.logs import log_event, timed


async def send_notice(app: web.Application, outcome: Outcome) -> int | None:
    """Speak "I misheard you; fixed: <reply>" and queue it for the user; returns the outbox id (None:
    the user's channel cannot be sent to, e.g. the command line)."""
    channel = app[PIPELINE].channels.get(outcome.channel)
    if channel is None or outcome.correction_id is None:
        return None
    text = say(outcome.lang, "operator_corrected", reply=outcome.reply)
    timings: dict[str, float] = {}
    with timed("console.notice_tts", timings, message_id=outcome.message_id):
        audio = await app[TTS].speak(text, outcome.lang, channel.reply_format)
        path = await asyncio.to_thread(write_media, app[CONFIG].media_dir / "out", audio, channel.reply_format)
    outbox_id = await app[DB].run(lambda shop: shop.other(outcome.shop_id).outbox.enqueue(
        outcome.channel, outcome.user, "voice", message_id=outcome.message_id, media_path=str(path),
        payload={"text": text, "correction": outcome.correction_id},
        dedup_key=f"correction:{outcome.correction_id}"))
    await app[DB].run(
        lambda shop: corrections.set_notice(shop.village, outcome.shop_id, outcome.correction_id, outbox_id))
    app[SENDER].wake()
    log_event("console.notice_queued", message_id=outcome.message_id, outbox_id=outbox_id, **timings)
    return outbox_id
