"""The per-user dialogue: one call per utterance turns an intent into a question, a read-back or a
committed shop change, with a short spoken reply.

Rules (issue 4, INTENTS.md, VOICE_UX.md): a missing slot is asked for alone and the rest is kept;
money/stock changes heard with low confidence or with an approximate number are read back and wait
for yes/no; hard-to-fix actions (removing a product, cancelling an order, a price far from the old
one) always ask; ``undo``, ``repeat`` and ``help`` work at any point; every committed reply repeats
the facts (implicit confirmation); lists are read a few items at a time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Sequence
from typing import Any

from voicebot import intents
from voicebot.config import Config, load_config
from voicebot.dialogue import ports, replies
from voicebot.dialogue.acts import Acts
from voicebot.dialogue.answers import NEEDS_PRODUCT, Answers, leftover
from voicebot.dialogue.awaiting import Awaiting, Pending
from voicebot.dialogue.doubts import Doubt, heard_record
from voicebot.dialogue.expiry import expire_orders
from voicebot.dialogue.order_acts import OrderActs
from voicebot.dialogue.plan import Plan
from voicebot.dialogue.questions import Questions
from voicebot.dialogue.readback import MONEY_STOCK, ReadBack
from voicebot.dialogue.repair import Repair
from voicebot.dialogue.replies import say
from voicebot.dialogue.state import State, epoch, load_state, record_turn, recorded_turn, save_state
from voicebot.dialogue.stock_acts import StockActs
from voicebot.dialogue.turn import Turn, TurnResult
from voicebot.intents import Intent
from voicebot.logs import log_event
from voicebot.nlu.heard import Heard
from voicebot.store.db import StoreBusy, write_tx
from voicebot.store.scoped import ShopDb

ACTS = (Acts, StockActs, OrderActs)  # the collaborators whose ``do_<intent>`` carry out the registry's handlers
ASK_WHEN_UNSURE = MONEY_STOCK | {"undo"}  # undo changes the shop too: heard unsure, it asks first
DOUBT_HYPOTHESES = 5  # the recogniser's other hypotheses that must read as the same command (tuned: bench/whisper_table.py)
BUYER_CONTEXT = frozenset(s.name for s in intents.SPECS if s.follow_up)  # a buyer's follow-up keeps the product
PHOTO_TTL_S = 3600.0  # a photo waits this long for its product name
CURRENT_PRODUCT_S = 300.0  # a photo sent this soon after talking about a product belongs to it


class _Turn:
    """One utterance: the turn's context and its collaborators, and the sequence it runs (read the words
    once, understand them, answer what waits or plan what is new, remember what was done)."""

    def __init__(self, db: ShopDb, config: Config, channel: str, user_id: str, role: str, lang: str, now: float,
                 state: State, confidence: float | None) -> None:
        self.t = t = Turn(db, config, channel, user_id, role, lang, now, state, confidence)
        self.ask, self.readback = Questions(t), ReadBack(t)
        self.orders = OrderActs(t, self.ask, self.readback)
        self.stock = StockActs(t, self.readback)
        self.acts = Acts(t, self.ask, self.orders, self.readback)
        handlers = {name: getattr(a, name) for a in (self.acts, self.stock, self.orders) for name in dir(a)
                    if name.startswith("do_")}  # fmt: skip
        self.plan = Plan(t, self.ask, self.readback, self.acts, self.orders, handlers,
                         deny=lambda it, heard: self.repair.deny_now(it, heard))  # fmt: skip
        self.repair = Repair(t, self.ask, self.readback, self.orders, proceed=self.plan.proceed)
        self.answers = Answers(t, self.ask, self.acts, self.orders, self.repair, self.plan)
        self.used_context = False  # this turn's product came from the last turn (a buyer's follow-up)

    def run(self, text: str) -> TurnResult:
        t = self.t
        t.heard = Heard.read(text, t.lang)  # the words, read once
        result = self.turn(t.heard)
        kind = result.intent.name
        if result.committed and t.done_intent is not None and kind != "undo":
            done = t.done_intent.copy(utterance="")
            t.state["last_done"] = {
                "at": t.now,
                "action_id": result.action_id,
                "summary": self.readback.summary(done),
                "intent": done,
            }
        elif result.committed or (kind == "undo" and result.awaiting is None):  # an undo asked about keeps it
            t.state["last_done"] = None
        product = result.intent.product
        about = t.role == "buyer" and product in t.catalog and kind in BUYER_CONTEXT
        about = about and not self.used_context  # one follow-up only
        t.state["context"] = {"product": product, "at": t.now} if about else None
        asked = t.asked if result.awaiting in (Awaiting.CONFIRM, Awaiting.UNDO_OFFER) else []
        result.heard = heard_record(t.heard.text, t.confidence, t.alternatives, asked)
        return result

    def from_context(self, it: Intent) -> Intent:
        """ "我要两条" right after asking about 手链: the product of the last turn, for one follow-up."""
        t = self.t
        context = t.state.get("context") or {}
        if (
            t.role == "buyer"
            and it.name in BUYER_CONTEXT
            and not it.product
            and not it.candidates
            and not it.spoken
            and context.get("product") in t.catalog
            and context.get("at", 0) + CURRENT_PRODUCT_S > t.now
            and it.unit in (None, t.catalog[context["product"]].get("unit") or it.unit)
        ):
            self.used_context = True
            return it.copy(product=context["product"])
        return it

    def turn(self, heard: Heard) -> TurnResult:
        """The words understood, then: a greeting, a command that works at any point (repeat, help, undo), an
        answer to the question that waits, or something new to plan."""
        it, by_sound = self.understood(heard)
        pending = self.ask.pending()
        if it.name == "unknown" and self.repair.is_greeting(heard.text):
            return self.repair.greet(it)
        if not pending and (it.name == "unknown" or not self.says_all(it)):
            it, by_sound = self.from_beam(it, by_sound)
        at_any_point = self.any_time(it, by_sound, pending)
        if at_any_point is not None:
            return at_any_point
        if pending:
            return self.answer(pending, it, heard)
        return self.plan.proceed(it)

    def understood(self, heard: Heard) -> tuple[Intent, bool]:
        """The intent of the words (a product it lacks named by the words left over, or by the last turn for
        a buyer's follow-up), and whether the NLU read it by its sound (车销 as 撤销)."""
        t = self.t
        said = ports.understand(heard, t.role, list(t.catalog), t.customers)
        t.doubts = self.doubts(said) if said.name in ASK_WHEN_UNSURE else []
        if said.approximate:
            t.doubts.append(Doubt("approximate"))
        it = said.copy(utterance=heard.text, unsure=bool(t.doubts))
        if it.name in NEEDS_PRODUCT and not it.product and not it.candidates:
            it = self.from_context(it.copy(spoken=leftover(heard, it.name)))
            if self.used_context and t.voice and it.spec.changes_shop:
                # heard, not typed: "배 얼마예요" misheard as "한 개 주세요" would order the pear of the last
                # turn unasked; a change whose product nobody said is read back first ("您是要一个梨吗？")
                it = it.copy(unsure=True, from_context=True)
                t.doubts.append(Doubt("from_context", it.product))
        return it, said.unsure

    def says_all(self, it: Intent) -> bool:
        return says_all(it, self.t.catalog)

    def from_beam(self, it: Intent, by_sound: bool) -> tuple[Intent, bool]:
        """The transcript said nothing understood, or a command without a slot it needs (or with a product
        the shop lacks): the first of the recogniser's other hypotheses that says it all (绿松石手链多少鲜 beside
        绿松石手链多少钱; 给我来云京茶叶 beside 给我来一斤茶叶: the same command, the slots heard kept), a question
        answered, a change always read back first."""
        t = self.t
        doubts, used_context = t.doubts, self.used_context
        heard = {k: v for k, v in it.to_contract().items() if v is not None}
        for text in dict.fromkeys(t.hypotheses[1:]):
            if text == t.heard.text:
                continue
            other, _ = self.understood(Heard.read(text, t.lang))
            if other.name == "unknown" or self.repair.is_greeting(text):
                continue
            if it.name != "unknown" and not (self.says_all(other) and heard.items() <= other.to_contract().items()):
                continue
            if never_read_back(other):
                break  # a change that is never read back is never taken from a guess
            log_event("dialogue_beam_reading", intent=other.name, rank=t.hypotheses.index(text))
            t.doubts.insert(0, Doubt("beam", text))
            return other.copy(unsure=True), True  # as if by sound: an undo is offered, not done
        t.doubts, self.used_context = doubts, used_context
        return it, by_sound

    def doubts(self, said: Intent) -> list[Doubt]:
        """Why a change heard as ``said`` is not sure: a low confidence, a word matched by its sound, or else
        a rival (:meth:`rival`)."""
        t = self.t
        out = [Doubt("low_confidence", f"{t.confidence:.2f}")] if t.unsure and t.confidence is not None else []
        if said.unsure and said.customer and said.customer not in t.heard.norm:
            out.append(Doubt("customer_sound", said.customer))  # 江山 heard where 张三 buys: her customer
        elif said.unsure:
            out.append(Doubt("sound_match"))
        if not out:  # the rivals are read only when nothing else made the change unsure (NLU passes)
            rival = self.rival(said)
            if rival is not None:
                out.append(Doubt("rival", rival))
        return out

    def rival(self, said: Intent) -> str | None:
        """The first of the recogniser's rivals (hypotheses it rated nearly as high) that reads as another
        change: another command, or another value for a slot both name. Then what was heard is not sure,
        whatever its confidence, and the change is read back. A rival the NLU cannot read, or that lacks a
        slot, offers no other change (一经茶叶 beside 一斤茶叶)."""
        t = self.t
        for text in dict.fromkeys(t.alternatives[:DOUBT_HYPOTHESES]):
            if text == t.heard.text:
                continue  # the transcript itself (usually the beam's best): already read as ``said``
            other = ports.understand(Heard.read(text, t.lang), t.role, list(t.catalog), t.customers)
            if rival_change(said, other):
                return text
        return None

    def any_time(self, it: Intent, by_sound: bool, pending: Pending | None) -> TurnResult | None:
        """``repeat``, ``help`` and ``undo`` work at any point (undo takes back the waiting question first)."""
        t, kind = self.t, it.name
        awaiting = pending["awaiting"] if pending else None
        if kind == "repeat":
            return t.result(t.state.get("last_reply") or t.say("nothing_to_repeat"), it, awaiting=awaiting)
        if kind == "help":
            reply = t.say(f"help.{'seller' if t.role == 'seller' else 'buyer'}")
            if pending and awaiting is not Awaiting.MORE:  # "还有三样，要听吗？" is no question to remind of
                reply = replies.sentences(t.lang, reply, t.say("help_pending", question=pending["question"]))
            return t.result(reply, it, awaiting=awaiting)
        if kind != "undo":
            return None
        if pending and pending["awaiting"].is_change:
            return self.ask.cancel(pending, it)  # the waiting thing, never an older action
        self.ask.clear()
        last = t.state.get("last_done") or {}
        if by_sound and last.get("summary"):  # 车销 read as 撤销 by its sound: ask first
            t.asked = [d for d in t.doubts if d.reason == "beam"] or [Doubt("sound_match")]
            return self.ask.wait(it, Awaiting.UNDO_OFFER, t.say("offer_undo", what=last["summary"]))
        if it.unsure:  # heard unsure: say what would be undone, and wait for a yes
            t.asked = list(t.doubts)
            return self.acts.ask_undo(it)
        return self.acts.undo(it)

    def answer(self, pending: Pending, it: Intent, heard: Heard) -> TurnResult:
        """The words answer the waiting question, or move on (said aloud when a change was waiting)."""
        resumed = self.answers.resume(pending, it, heard)
        if resumed is not None:
            return resumed
        self.ask.clear()  # the user moved on: treat this utterance fresh
        asked = pending["intent"]
        same = it.name == asked.name and it.product == asked.product
        return self.plan.proceed(it) if same else self.ask.dropped(pending, self.plan.proceed(it))

def says_all(it: Intent, catalog: Collection[str]) -> bool:
    """Whether ``it`` has every slot its command needs, and a product of ``catalog`` where it needs one."""
    needs = it.spec.needs_product
    return all(getattr(it, s) is not None for s in it.spec.required) and (not needs or it.product in catalog)


def never_read_back(it: Intent) -> bool:
    """A shop change the dialogue makes without a read-back (an undo is offered when guessed)."""
    return it.spec.changes_shop and it.spec.confirm == "never" and it.name != "undo"


def rival_change(said: Intent, other: Intent) -> bool:
    """Whether ``other`` (a rival hearing of ``said``'s words) would change the shop otherwise."""
    if not other.spec.changes_shop:
        return False
    if other.name != said.name:
        return True
    mine, theirs = said.to_contract(), other.to_contract()
    return any(value is not None and value != mine[key] for key, value in theirs.items())


def handle_turn(
    db: ShopDb,
    config: Config,
    *,
    channel: str,
    user_id: str,
    role: str,
    lang: str,
    text: str,
    confidence: float | None,
    alternatives: Sequence[str] = (),
    hypotheses: Sequence[str] = (),
    now: Any = None,
    turn_id: str | None = None,
) -> TurnResult:
    """One user utterance in, one decision out; the user's state is loaded and saved around it.

    Synchronous (SQLite and the NLU are blocking): the caller runs it in a thread. ``now`` (a
    datetime or epoch seconds) is for tests; ``confidence`` None means typed text (trusted);
    ``alternatives``: what else the recogniser could have heard (a change they read otherwise is unsure);
    ``hypotheses``: its whole beam, best first (read when ``text`` says nothing understood).
    The state change and any shop change commit in ONE transaction, so a crash leaves neither or
    both; with ``turn_id`` (e.g. the inbound message id) a re-run of the same turn after a crash
    returns the stored result instead of acting twice.
    """
    t = epoch(now)
    try:
        def run() -> TurnResult:
            state = load_state(db, channel, user_id)
            expired_orders = expire_orders(db, config)
            result = _run_turn(db, config, state, channel, user_id, role, lang, text, confidence, t, alternatives,
                               hypotheses)
            result.notify = expired_orders + result.notify
            save_state(db, channel, user_id, state)
            return result

        result = _once(db, turn_id, channel, user_id, run)
    except StoreBusy:
        raise  # the caller retries later; nothing was done
    except Exception as e:  # a bug or a broken database: say so, never stay silent
        log_event("dialogue_failed", level=40, channel=channel, error=f"{type(e).__name__}: {e}")
        return TurnResult(reply=say(lang, "error"), intent=Intent("unknown"), error_code="internal_error")
    log_event(
        "dialogue_turn",
        channel=channel,
        role=role,
        lang=lang,
        intent=result.intent.name,
        awaiting=result.awaiting,
        committed=result.committed,
        action_id=result.action_id,
        error_code=result.error_code,
        notify=len(result.notify),
    )
    return result


def _run_turn(
    db: ShopDb,
    config: Config,
    state: State,
    channel: str,
    user_id: str,
    role: str,
    lang: str,
    text: str,
    confidence: float | None,
    t: float,
    alternatives: Sequence[str] = (),
    hypotheses: Sequence[str] = (),
) -> TurnResult:
    pending, expired = state.get("pending"), None
    if pending and pending.get("expires", 0) <= t:
        state["pending"], expired = None, pending
    if state.get("photo_id") and state.get("photo_at", 0) + PHOTO_TTL_S <= t:
        state["photo_id"] = None
    turn = _Turn(db, config, channel, user_id, role, lang, t, state, confidence)
    turn.t.alternatives, turn.t.hypotheses = tuple(alternatives), tuple(hypotheses)
    result = turn.run(text)
    if expired and expired["awaiting"].is_change:
        # her answer came too late: tell her the change she was asked about was not made
        note = turn.t.capital(turn.t.say("expired", what=turn.ask.what(expired["intent"])))
        result.reply = replies.sentences(lang, note, result.reply)
    if result.intent.spec.changes_shop or result.intent.name == "place_order":
        # 我要两斤腊肉，再要一瓶米酒: one command a turn; the second is said back, never dropped without a word
        rest = ports.second_command(text, lang, role, list(turn.t.catalog), turn.t.customers)
        if rest:
            result.reply = replies.sentences(lang, result.reply, turn.t.say("say_again", what=rest))
    if result.intent.name != "repeat":
        state["last_reply"] = result.reply
    if result.committed and result.intent.product:
        state["last_product"], state["last_product_at"] = result.intent.product, t
    return result


def note_photo(
    db: ShopDb,
    channel: str,
    user_id: str,
    photo_id: int,
    *,
    config: Config | None = None,
    role: str = "seller",
    lang: str = "zh",
    now: Any = None,
    turn_id: str | None = None,
) -> TurnResult:
    """A photo arrived from this user: remember it; a seller is asked which product it shows.

    ``turn_id`` makes it idempotent like :func:`handle_turn`."""

    config = config or load_config(environ={})
    t = epoch(now)
    return _once(db, turn_id, channel, user_id,
                 lambda: _note_photo(db, config, channel, user_id, photo_id, role, lang, t))


def _once(
    db: ShopDb, turn_id: str | None, channel: str, user_id: str, run: Callable[[], TurnResult]
) -> TurnResult:
    """``run()`` in one transaction with the record of its result under ``turn_id``; a turn that
    already ran (a run resumed after a crash) returns its recorded result and changes nothing."""
    with write_tx(db):
        done = recorded_turn(db, turn_id) if turn_id is not None else None
        if done is not None:
            return TurnResult.from_dict(done)
        result = run()
        if turn_id is not None:
            record_turn(db, turn_id, channel, user_id, result.to_dict())
        return result


def _note_photo(
    db: ShopDb,
    config: Config,
    channel: str,
    user_id: str,
    photo_id: int,
    role: str,
    lang: str,
    t: float,
) -> TurnResult:
    state = load_state(db, channel, user_id)
    state["photo_id"], state["photo_at"] = photo_id, t
    it = Intent("attach_photo")
    current = state.get("last_product")
    if role == "seller" and current and state.get("last_product_at", 0) + CURRENT_PRODUCT_S > t:
        turn = _Turn(db, config, channel, user_id, role, lang, t, state, None)
        if turn.t.shop.find_product(current) is not None:  # the product she was just talking about
            done = turn.acts.do_attach_photo(it.copy(product=current))
            result = dataclasses.replace(done, reply=say(lang, "photo_attached_current", product=current))
            state["last_reply"] = result.reply
            save_state(db, channel, user_id, state)
            return result
    if role == "seller":
        question = say(lang, "photo_received")
        state["pending"] = Pending(intent=it, awaiting=Awaiting.PRODUCT, question=question,
                                   expires=t + config.dialogue.pending_timeout_s)
        result = TurnResult(reply=question, intent=it.public(), awaiting=Awaiting.PRODUCT)
    else:
        result = TurnResult(reply=say(lang, "photo_received_buyer"), intent=it.public())
    state["last_reply"] = result.reply
    save_state(db, channel, user_id, state)
    return result
