"""The pipeline: one run per inbound message, stage by stage, each stage timed and logged.

A run tells what happens through one stream of typed events (``pipeline/events.py``): the stage
log lines, the web chat's ``heard``, the outbox sender and the /healthz counters listen to
``Pipeline.on_event``; what a failure says comes from one table (``pipeline/failures.py``).

``accept`` commits the message to the inbox (the conversation log, unique per channel message id)
before a channel answers its HTTP request; ``schedule`` starts at most one run per message; a run
claims the message, so a redelivery or a second process never acts twice; ``resume`` restarts
runs that a killed process left unfinished. Errors become short spoken replies, never silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from voicebot.asr.recognizer import Recognizer, Transcript
from voicebot.audio.decode import decode
from voicebot.audio.sniff import sniff
from voicebot.config import Config
from voicebot.dialogue import engine as dialogue
from voicebot.dialogue.ports import display_name, sellers
from voicebot.dialogue.replies import say
from voicebot.fileio import write_media
from voicebot.intents import Intent
from voicebot.logs import log_event, log_limited
from voicebot.pipeline.dbthread import DbThread
from voicebot.pipeline.events import (
    Counters,
    Decoded,
    Heard,
    Listeners,
    Placed,
    RunEnd,
    RunError,
    RunInfo,
    RunStart,
    Spoken,
    Trace,
    Understood,
    log_stage,
)
from voicebot.pipeline.failures import DIALOGUE_FAILED, StageFailure, failure_of, reply_failure
from voicebot.pipeline.inbound import Channel, Inbound, Limits, event_text, parse_event_text
from voicebot.pipeline.runqueue import RunQueue
from voicebot.pipeline.steering import GrammarBuilder, Steering, shop_words
from voicebot.pipeline.voice_parts import speak_in_parts
from voicebot.shop import photos, shops
from voicebot.shop.errors import PhotoError
from voicebot.shop.facade import Shop
from voicebot.store.claims import claim_backlog
from voicebot.store.outbox import Outbox
from voicebot.tts.speaker import Speaker
from voicebot.village import routing

MEDIA_REF_PREFIX = "ref:"
PHOTO_DECODE_TIMEOUT_S = 20.0
NO_CHANNEL_LIMITS = Limits(max_voice_s=55.0, max_voice_bytes=2 * 1024 * 1024)  # a run no channel will send


@dataclass
class RunResult:
    """What one run produced (also stored in the conversation log)."""

    message_id: int
    reply_text: str = ""
    reply_audio_path: str | None = None
    intent: dict[str, Any] | None = None
    transcript: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    status: str = "replied"
    error: str | None = None


def _extension(data: bytes) -> str:
    """A file extension operators' players understand, from the bytes themselves."""
    kind = sniff(data)
    if kind == "unknown":
        with contextlib.suppress(Exception), warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # only the header is read here
            with Image.open(io.BytesIO(data)) as image:
                return (image.format or "img").lower()
        return "bin"
    return {"amr-nb": "amr", "amr-wb": "awb"}.get(kind, kind)


def _record(shop: Shop, msg: Inbound, fields: dict[str, Any]) -> tuple[int, bool, int]:
    """The ack path's one database call: commit to the inbox (in the sender's shop as far as it is known
    before she is heard), release replies held for the user."""
    fields["shop_id"] = routing.place_of(shop.village, msg.channel, msg.user).shop_id
    mid, is_new = shop.record_inbound(msg.channel, msg.channel_msg_id, msg.user, msg.kind, **fields)
    released = shop.outbox.release(msg.channel, msg.user) if is_new else 0
    return mid, is_new, released


@dataclass
class _Where:
    """The shop a run's message belongs to: ``shop_id`` None is a buyer in no shop while the account has
    several; a scan or her words may move her during the run (then the reply goes with the new shop)."""

    place: routing.Place
    shop_id: int | None


def _in(shop: Shop, shop_id: int | None) -> Shop:
    """The run's shop (the village's first for a buyer in none: only its language and outbox-free calls)."""
    return shop.other(shop_id) if shop_id is not None else shop


def _outbox(shop: Shop, shop_id: int | None) -> Outbox:
    return shop.other(shop_id).outbox if shop_id is not None else Outbox(shop.village, None)


@dataclass
class _Run:
    """One run as its stages see it: the message, who sent it and in which language, where it belongs,
    its event stream, and what it produced."""

    row: dict[str, Any]
    customer: dict[str, Any]
    role: str
    lang: str
    where: _Where
    trace: Trace
    result: RunResult


def _who(shop: Shop, channel: str, user: str, shop_id: int | None = None) -> tuple[dict[str, Any], str, str]:
    """The sender's customer row in the run's shop, role and language (a buyer in no shop has no row)."""
    if shop_id is None and routing.place_of(shop.village, channel, user).several:
        return {}, "buyer", shop.config.shop.language
    shop = _in(shop, shop_id)
    customer = shop.customer(channel, user)
    role = "seller" if shop.is_seller(channel, user) else "buyer"
    lang = customer.get("language") or shop.config.shop.language
    return customer, role, lang


class Pipeline:
    """Runs messages through the stages; one instance per process, shared by all channels.

    Speech goes through two small interfaces only: ``asr`` (a :class:`Recognizer`) and ``tts``
    (a :class:`Speaker`).
    """

    def __init__(self, config: Config, db: DbThread, asr: Recognizer, tts: Speaker) -> None:
        self.config = config
        self.db = db
        self.asr = asr
        self.tts = tts
        self.grammar = GrammarBuilder(asr)
        self.steering = Steering(self.grammar)  # per shop, rebuilt when that shop changes
        self.channels: dict[str, Channel] = {}
        self.runs: RunQueue[RunResult | None] = RunQueue(
            lambda mid: self.process(mid), self._backlog, config.server.concurrent_runs, config.server.queued_runs
        )
        self.counters = Counters()
        self.on_event = Listeners(log_stage, self.counters)  # every run's events (pipeline/events.py)
        self._photo_gate: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def add_channel(self, channel: Channel) -> None:
        self.channels[channel.name] = channel

    # -- inbox ------------------------------------------------------------------------------
    async def accept(self, msg: Inbound) -> tuple[int, bool]:
        """Commit the message to the inbox; ``(message_id, is_new)``. Media bytes are saved first."""
        media_path = None
        if msg.media is not None:
            media_path = str(await self._save_media(msg.media, _extension(msg.media), "in"))
        elif msg.media_ref:
            media_path = f"{MEDIA_REF_PREFIX}{msg.media_ref}"
        fields: dict[str, Any] = {"media_path": media_path}
        if msg.kind == "text":
            fields["transcript"] = msg.text
        elif msg.kind == "event":
            fields["transcript"] = event_text(msg.event, msg.scene)
        mid, is_new, released = await self.db.run_first(_record, msg, fields)
        if is_new:
            log_event("inbox.accepted", message_id=mid, channel=msg.channel, kind=msg.kind, released=released)
        else:
            log_limited("inbox.duplicate", f"{msg.channel}:{msg.channel_msg_id}", logging.INFO,
                        message_id=mid, channel=msg.channel, channel_msg_id=msg.channel_msg_id)
        return mid, is_new

    def schedule(self, message_id: int) -> asyncio.Future[RunResult | None] | None:
        """Queue the run of ``message_id`` unless it is queued or running; its result's future.

        None when the memory queue is full: the message waits in the inbox and runs in its turn.
        """
        self.runs.start()
        return self.runs.submit(message_id)

    @property
    def idle(self) -> bool:
        """Nothing queued, running, or waiting in the inbox after an overflow."""
        return not self.runs.busy

    async def _backlog(self, limit: int) -> list[int]:
        return await self.db.run(lambda shop: claim_backlog(shop.village, limit))

    async def resume(self) -> list[int]:
        """Schedule every message a dead process (or this one, earlier) accepted but did not finish; those
        of live processes on the same store are theirs."""
        ids = await self._backlog(self.config.server.queued_runs)
        for mid in ids:
            self.schedule(mid)
        if ids:
            log_event("pipeline.resumed", count=len(ids), message_ids=ids)
        return ids

    async def drain(self) -> None:
        """Wait until every accepted message has run (used at shutdown and in tests)."""
        await self.runs.wait_idle()

    async def close(self, drain_s: float = 30.0, grace_s: float = 30.0) -> None:
        """Finish the backlog for up to ``drain_s`` (0: start no queued run), give runs in flight up to
        ``grace_s`` more, then cancel them; what is left resumes at the next start."""
        if drain_s > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.drain(), drain_s)
        await self.runs.close(grace_s)
        await self.grammar.close()  # a vocabulary may still be being read in a child process

    # -- one run ----------------------------------------------------------------------------
    async def process(self, message_id: int) -> RunResult | None:
        """Run one message: understand it, answer it, log it; None when another run has or had it."""
        row = await self.db.run(lambda shop: shop.log.claim(message_id))
        if row is None:
            return None
        run = await self._open(row)
        turn = await self._turn(run)
        if run.result.reply_text:
            await self._answer(run, turn)
        await self._close(run, turn)
        return run.result

    async def _open(self, row: dict[str, Any]) -> _Run:
        """Who sent the message and which shop it belongs to; its ``run-start``."""
        channel, user = row["channel"], row["user"]
        place = await self.db.run(lambda shop: routing.place_of(shop.village, channel, user))
        customer, role, lang = await self.db.run(_who, channel, user, place.shop_id)
        trace = Trace(RunInfo(row["id"], channel, row["channel_msg_id"], user, row["kind"], place.shop_id),
                      self.on_event)
        await trace.emit(RunStart(run=trace.run, role=role, lang=lang))
        return _Run(row, customer, role, lang, _Where(place, place.shop_id), trace, RunResult(row["id"]))

    async def _turn(self, run: _Run) -> dialogue.TurnResult | None:
        """The dialogue's answer; on a failure, what its ``{stage}.{code}`` says (failures.SPOKEN)."""
        try:
            turn = await self._understand(run)
        except Exception as e:  # every failure ends in a spoken reply, never silence
            failure = failure_of(e)
            await self._failed(run, failure)
            run.result.reply_text = say(run.lang, failure.reply_key)
            return None
        if turn is not None:
            run.result.reply_text, run.result.intent = turn.reply, turn.intent.to_public()
        return turn

    async def _answer(self, run: _Run, turn: dialogue.TurnResult | None) -> None:
        """Speak and queue the reply; without a voice, the words still reach the user as text."""
        try:
            await self._reply(run, turn)
        except Exception as e:
            await self._failed(run, reply_failure(e, run.trace.current))
            channel, user, mid, text = run.row["channel"], run.row["user"], run.row["id"], run.result.reply_text
            await self.db.run(lambda shop: _outbox(shop, run.where.shop_id).enqueue(
                channel, user, "text", message_id=mid, payload={"text": text}, dedup_key=f"{mid}:text"))

    async def _close(self, run: _Run, turn: dialogue.TurnResult | None) -> None:
        """Keep what the run did in the conversation log; its ``run-end``."""
        result, where, channel, user = run.result, run.where, run.row["channel"], run.row["user"]
        customer = run.customer
        if where.shop_id != where.place.shop_id:  # she was placed in a shop: the message is that shop's now
            customer, _, _ = await self.db.run(_who, channel, user, where.shop_id)
        result.timings = dict(run.trace.timings)
        await self.db.run(
            lambda shop: shop.update_message(
                result.message_id,
                shop_id=where.shop_id,
                customer_id=customer.get("id"),
                language=run.lang,
                intent=result.intent,
                action_id=turn.action_id if turn else None,
                reply_text=result.reply_text or None,
                reply_audio_path=result.reply_audio_path,
                timings=result.timings,
                status=result.status,
                error=result.error,
            )
        )
        await run.trace.emit(RunEnd(run=run.trace.run, status=result.status, timings=result.timings,
                                    error=result.error))

    @staticmethod
    async def _failed(run: _Run, failure: StageFailure) -> None:
        run.result.error = failure.logged
        if failure.failed:
            run.result.status = "failed"
        await run.trace.emit(RunError(run=run.trace.run, stage=failure.stage, code=failure.code,
                                      detail=failure.detail, failed=failure.failed))

    # -- understanding ----------------------------------------------------------------------
    async def _understand(self, run: _Run) -> dialogue.TurnResult | None:
        """What the message says, and the answer to it (None: nothing to answer)."""
        kind = run.row["kind"]
        if kind == "event":
            return await self._event(run)
        if kind == "image":
            return await self._photo(run)
        text, confidence, heard = run.row["transcript"] or "", None, None
        if kind == "voice":
            heard = transcript = await self._hear(run)
            text, confidence = transcript.text, transcript.confidence
            if not text.strip():
                return dialogue.TurnResult(reply=say(run.lang, "errors.unheard"), intent=Intent("unknown"))
        if run.where.place.several and run.role == "buyer":  # which shop she means, or her shop's dialogue
            answer = await self._which_shop(run, text)
            if answer is not None or run.where.shop_id is None:
                return await self._village_answer(run, answer or routing.Answer("", None))
        return await self._dialogue(run, text, confidence, heard)

    async def _hear(self, run: _Run) -> Transcript:
        """A voice note's words: fetched, decoded and recognised (steered by its shop), kept in the log."""
        data = await self._media(run)
        async with run.trace.stage("decode") as stage:
            pcm = await decode(data, self.config.audio)
            stage.outcome = Decoded(round(pcm.duration, 2))
        grammar = await self._grammar(run.lang, run.where.shop_id)
        async with run.trace.stage("asr") as stage:
            transcript = await self.asr.transcribe(pcm.data, run.lang, grammar=grammar)
            stage.outcome = Heard(transcript.text, transcript.confidence, transcript.grammar)
        text, words = transcript.text, [w.__dict__ for w in transcript.words]
        run.result.transcript = text
        await self.db.run(lambda shop: shop.update_message(run.row["id"], transcript=text, words=words))
        return transcript

    async def _which_shop(self, run: _Run, text: str) -> routing.Answer | None:
        """A buyer's words about shops in a village (None: they are for her shop's dialogue)."""
        channel, user, lang, place = run.row["channel"], run.row["user"], run.lang, run.where.place
        async with run.trace.stage("village") as stage:
            answer = await self.db.run(lambda shop: routing.on_words(shop.village, channel, user, text, lang, place))
            stage.outcome = Placed(bool(answer and answer.moved))
        return answer

    async def _dialogue(self, run: _Run, text: str, confidence: float | None,
                        heard: Transcript | None = None) -> dialogue.TurnResult:
        """The shop's dialogue: understand the words (``heard``: what else the recogniser heard of a voice
        note), act on them, say what was done."""
        alternatives, hypotheses = (heard.alternatives, heard.hypotheses) if heard else ((), ())
        row, sid = run.row, run.where.shop_id
        async with run.trace.stage("dialogue") as stage:
            turn = await self.db.run(
                lambda shop: dialogue.handle_turn(_in(shop, sid).db, _in(shop, sid).config, channel=row["channel"],
                                                  user_id=row["user"], role=run.role, lang=run.lang, text=text,
                                                  confidence=confidence, alternatives=alternatives,
                                                  hypotheses=hypotheses,
                                                  turn_id=str(row["id"]))
            )
            stage.outcome = Understood(turn.intent.name, turn.committed, turn.action_id)
        if turn.error_code == "internal_error":  # it said so and changed nothing, but the run failed
            await self._failed(run, DIALOGUE_FAILED)
        return turn

    async def _photo(self, run: _Run) -> dialogue.TurnResult:
        """A photo: stored in her shop, and the dialogue's answer (a buyer's goes to the sellers too)."""
        if run.where.shop_id is None:  # a photo before she chose a shop: nobody to show it to yet
            return await self._village_answer(run, routing.Answer("", None))
        row, sid, role, lang = run.row, run.where.shop_id, run.role, run.lang
        channel, user = row["channel"], row["user"]
        data = await self._media(run)
        async with run.trace.stage("photo"):
            inspected = await self._inspect_photo(data)
            photo = await self.db.run(lambda shop: _in(shop, sid).store_photo(data, inspected))
        turn = await self.db.run(
            lambda shop: dialogue.note_photo(_in(shop, sid).db, channel, user, photo["id"],
                                             config=_in(shop, sid).config, role=role, lang=lang,
                                             turn_id=str(row["id"]))
        )
        if role == "buyer":  # the seller sees what the buyer showed, and hears who sent it
            turn.notify += await self.db.run(
                lambda shop: self._forward_photo(_in(shop, sid), channel, user, photo, row["id"]))
        return turn

    async def _village_answer(self, run: _Run, answer: routing.Answer) -> dialogue.TurnResult:
        """A reply about shops instead of a shop's dialogue; an empty one asks which shop."""
        if answer.moved:
            run.where.shop_id = answer.shop_id
            log_event("village.placed", shop_id=answer.shop_id, source="voice")
        reply = answer.reply or await self.db.run(lambda shop: routing.which(shop.village, run.lang))
        return dialogue.TurnResult(reply=reply, intent=Intent("help"))

    async def _event(self, run: _Run) -> dialogue.TurnResult | None:
        """A follow, a QR scan, an unfollow, or a message kind we cannot read."""
        event, scene = parse_event_text(run.row["transcript"] or "")
        channel, user, role, lang, where = run.row["channel"], run.row["user"], run.role, run.lang, run.where
        if scene is not None and role == "buyer":  # a scan of a shop's code: she is in that shop now
            answer = await self.db.run(lambda shop: routing.after_scan(shop.village, channel, user, scene, lang))
            if answer.moved:
                where.shop_id = answer.shop_id
                log_event("village.placed", shop_id=answer.shop_id, source="scan")
            return dialogue.TurnResult(reply=answer.reply, intent=Intent("help"))
        if event in ("subscribe", "scan"):
            if where.shop_id is None:  # followed without a shop's code: welcome, and which shop?
                return await self._village_answer(run, routing.Answer("", None))
            name = await self.db.run(lambda shop: _in(shop, where.shop_id).config.shop.name)
            return dialogue.TurnResult(
                reply=say(lang, "welcome", shop=name, examples=say(lang, f"help.{role}")),
                intent=Intent("help"),
            )
        if event == "unsubscribe" and where.shop_id is not None:
            await self.db.run(lambda shop: _in(shop, where.shop_id).set_unsubscribed(channel, user))
        if event == "unsupported":
            return dialogue.TurnResult(reply=say(lang, "errors.unsupported"), intent=Intent("unknown"))
        return None

    def _forward_photo(
        self, shop: Shop, channel: str, user: str, photo: dict[str, Any], mid: int
    ) -> list[tuple[str, str, str]]:
        """Queue a buyer's photo for every seller; returns the spoken notes that go with it."""
        buyer_name = display_name(shop.db, shop.customer(channel, user)["id"])
        notes = []
        for n, (s_channel, seller, s_lang) in enumerate(sellers(shop.db, shop.config, channel)):
            shop.outbox.enqueue(s_channel, seller, "image", message_id=mid, media_path=photo["path"],
                                payload={"from": user}, dedup_key=f"{mid}:photo:{n}")
            name = buyer_name or say(s_lang, "someone")
            notes.append((s_channel, seller, say(s_lang, "seller_buyer_photo", customer=name)))
        return notes

    async def _media(self, run: _Run) -> bytes:
        """The message's media bytes: from the channel the first time (then kept), else from disk."""
        row = run.row
        path = row["media_path"] or ""
        if path.startswith(MEDIA_REF_PREFIX):
            channel = self.channels[row["channel"]]
            limits = self.config.storage.max_photo_bytes, self.config.audio.max_file_bytes
            limit = limits[0] if row["kind"] == "image" else limits[1]
            async with run.trace.stage("fetch"):
                data = await channel.fetch_media(path[len(MEDIA_REF_PREFIX):], limit)
            saved = str(await self._save_media(data, _extension(data), "in"))
            await self.db.run(lambda shop: shop.update_message(row["id"], media_path=saved))
            row["media_path"] = saved
            return data
        return await asyncio.to_thread(Path(path).read_bytes)

    async def _inspect_photo(self, data: bytes) -> photos.Inspected:
        """Decode a photo in a thread, one at a time and within a time limit: never on the event loop or
        the database thread (a huge image would stall every other message)."""
        loop = asyncio.get_running_loop()
        if self._photo_gate is None or self._photo_gate[0] is not loop:
            self._photo_gate = (loop, asyncio.Semaphore(1))
        async with self._photo_gate[1]:
            try:
                return await asyncio.wait_for(
                    asyncio.to_thread(photos.inspect_photo, data, self.config.storage.max_photo_bytes),
                    PHOTO_DECODE_TIMEOUT_S)
            except TimeoutError:
                raise PhotoError(f"decoding took longer than {PHOTO_DECODE_TIMEOUT_S:g} s",
                                 reason="too_large") from None

    async def _grammar(self, lang: str, shop_id: int | None = None) -> list[str] | None:
        """The phrases that steer recognition, as the recogniser asks: a grammar of the pack's words and
        the shop's catalog (in its vocabulary), or a prompt of its product and customers' names; None when
        off (and for a buyer in no shop yet, who may name any shop or goods). A shop's steering is cached
        until that shop changes (``steering``)."""
        kind = self.asr.biasing(lang)
        if shop_id is None and await self.db.run(lambda shop: routing.list_several(shop.village)):
            if kind == "prompt":  # she is answering "which shop?": the shops and sellers read out
                return await self.db.run(lambda shop: routing.spoken_shops(shop.village))
            return None
        if kind is None:
            return None
        sid = shop_id or shops.DEFAULT_SHOP
        revision = await self.db.run(lambda shop: shops.revision(shop.village, sid))
        return await self.steering.phrases(
            sid, lang, kind, revision, lambda: self.db.run(lambda shop: shop_words(_in(shop, sid))))

    # -- reply ------------------------------------------------------------------------------
    async def _reply(self, run: _Run, turn: dialogue.TurnResult | None) -> None:
        """Speak the reply (in parts when it is long) and queue it, with the sellers' notices."""
        channel = self.channels.get(run.row["channel"])
        fmt = channel.reply_format if channel else "mp3"
        text = run.result.reply_text
        async with run.trace.stage("tts") as stage:
            parts = await speak_in_parts(self.tts, text, run.lang, fmt, channel.limits if channel else NO_CHANNEL_LIMITS)
            voice = [(part, str(await self._save_media(audio, fmt, "out"))) for part, audio in parts]
            stage.outcome = Spoken(len(text), len(parts))
        run.result.reply_audio_path = voice[0][1]
        async with run.trace.stage("outbox"):
            text_copy = channel.policy.text_copy if channel else False
            await self.db.run(self._enqueue, run.where.shop_id, run.row["channel"], run.row["user"], run.row["id"],
                              run.result, turn, text_copy, voice)
            await self._notify(run, turn.notify if turn else [])

    async def _notify(self, run: _Run, notes: list[tuple[str, str, str]]) -> None:
        """Speak each seller's notice (an order, a buyer's photo) in her language and channel, and queue it."""
        mid, shop_id = run.row["id"], run.where.shop_id
        for n, (channel, seller, text) in enumerate(notes):
            if channel not in self.channels:  # e.g. the CLI operator: nobody to send it to
                continue
            _, _, lang = await self.db.run(_who, channel, seller, shop_id)
            fmt = self.channels[channel].reply_format  # the seller's channel, not the buyer's
            path = await self._save_media(await self.tts.speak(text, lang, fmt), fmt, "out")
            await self.db.run(
                lambda shop, n=n, c=channel, s=seller, p=path, tx=text: _outbox(shop, shop_id).enqueue(
                    c, s, "voice", message_id=mid, media_path=str(p),
                    payload={"text": tx, "notification": True}, dedup_key=f"{mid}:notify:{n}",
                )
            )

    def _enqueue(
        self, shop: Shop, shop_id: int | None, channel: str, user: str, mid: int, result: RunResult,
        turn: dialogue.TurnResult | None, text_copy: bool, voice: list[tuple[str, str]]
    ) -> None:
        """The reply's outbox rows, in one database call: its voice parts, a text copy if the channel
        wants one, and the photo of the product it is about."""
        outbox = _outbox(shop, shop_id)
        shop = _in(shop, shop_id)
        for n, (text, path) in enumerate(voice):
            outbox.enqueue(channel, user, "voice", message_id=mid, media_path=path,
                           payload={"text": text}, dedup_key=f"{mid}:voice" + (f":{n}" if n else ""))
        if text_copy:
            outbox.enqueue(channel, user, "text", message_id=mid, payload={"text": result.reply_text},
                           dedup_key=f"{mid}:text")
        if turn and turn.photo_product:
            photos = shop.product_photos(turn.photo_product)
            if photos:
                outbox.enqueue(channel, user, "image", message_id=mid, media_path=photos[0]["path"],
                               payload={"product": turn.photo_product}, dedup_key=f"{mid}:image")

    async def _save_media(self, data: bytes, ext: str, direction: str) -> Path:
        return await asyncio.to_thread(self._write_media, data, ext, direction)

    def _write_media(self, data: bytes, ext: str, direction: str) -> Path:
        return write_media(self.config.media_dir / direction, data, ext)

