"""Repairs a seller makes by ear: "no" after a committed action, corrections ("不对，十二瓶"), and
greetings (dropping a waiting question is the questions' part: questions.py).

Nothing here says "nothing changed" unless it is true: a deny right after a committed action says what
was done and offers to undo it; a correction undoes the action and redoes it with the new number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from voicebot.dialogue import ports, replies
from voicebot.dialogue.awaiting import Awaiting, Pending
from voicebot.dialogue.order_acts import OrderActs
from voicebot.dialogue.questions import Questions
from voicebot.dialogue.readback import ReadBack
from voicebot.dialogue.turn import Turn, TurnResult
from voicebot.intents import Intent, spec
from voicebot.lang import language
from voicebot.lang.packs import load_pack
from voicebot.nlu.heard import Heard

RECENT_S = 300.0
CLOSE = 0.1  # a bare number this near (relative) to one slot's value, and to no other, corrects that slot


def close_slot(base: Intent, value: float, slots: tuple[str, ...]) -> str | None:
    """The one slot whose value a bare corrected number is close to: "不对，一百二" after "一百二十二块，
    十斤" corrects the price, not the count."""
    near = [s for s in slots if (v := getattr(base, s)) and value > 0 and abs(math.log(value / float(v))) < CLOSE]
    return near[0] if len(near) == 1 else None


class Repair:
    """Deny and corrections, and greetings. ``proceed`` plans a corrected intent (the turn's planner)."""

    def __init__(self, turn: Turn, ask: Questions, readback: ReadBack, orders: OrderActs,
                 proceed: Callable[[Intent], TurnResult]) -> None:
        self.t, self.ask, self.readback, self.orders, self.proceed = turn, ask, readback, orders, proceed

    # --- "no" ----------------------------------------------------------------------------------

    def correction(self, heard: Heard, base: Intent, awaiting: Awaiting | None = None) -> dict[str, Any] | None:
        """The slots a deny corrects ("不对，十二瓶", "no, twelve", "不对，是银手链", "不对，是李四"), or None."""

        slots = spec(base.name).correctable
        if not slots:
            return None
        name = self.corrected_name(heard)
        if name is not None:  # 不对，是李四: the customer, and 李四's 四 is not a number
            return {"customer": name} if base.name == "record_sale" else None
        fix: dict[str, Any] = {}
        product = heard.product(list(self.t.catalog), outside_numbers=True)
        if product is not None and product != base.product:  # 不对，是银手链
            fix["product"], fix["candidates"] = product, ()
        n = heard.numbers[-1] if heard.numbers else None
        slot = None
        if n is not None and n.kind == "money" and "price" in slots:
            slot = "price"
        elif n is not None and n.kind == "count" and "quantity" in slots:
            slot = "quantity"
        elif n is not None and n.kind is None:
            slot = awaiting.slot if awaiting is not None and awaiting.slot in slots else None
            slot = slot or close_slot(base, n.value, slots) or slots[0]
        if n is not None and slot == "quantity" and n.value == int(n.value) and n.value > 0:
            fix["quantity"] = int(n.value)
        elif n is not None and slot == "price":
            fix["price"] = n.value
        return fix or None

    @staticmethod
    def corrected(base: Intent, fix: dict[str, Any]) -> Intent:
        """``base`` with the corrected slots, and what they make stale dropped."""
        stale: dict[str, Any] = {"total": False} if "price" in fix else {}
        if "quantity" in fix or "price" in fix:
            stale.update(approximate=False, unsure=False)
        return base.copy(**fix, **stale)

    def corrected_name(self, heard: Heard) -> str | None:
        """The person's name a correction gives ("不对，是李四", "no, to mary"), or None."""
        pack = load_pack(self.t.lang)
        rest = heard.norm
        rest = (pack.deny_head.sub("", rest) if pack.deny_head else rest).strip(" ,.!?，。！？")
        m = pack.corrected_name.fullmatch(rest) if pack.corrected_name else None  # the name is group 1
        return m.group(1) if m is not None and language(self.t.lang).is_name(m.group(1), rest) else None

    def deny_now(self, it: Intent, heard: Heard) -> TurnResult:
        """A deny with nothing waiting: about the action just committed, if there is one."""
        last = self.t.state.get("last_done") or {}
        recent = last and last.get("at", 0) + RECENT_S > self.t.now
        if not recent or ports.last_action_id(self.t.db, self.t.actor) != last.get("action_id"):
            return self.t.result(self.t.say("denied_nothing"), it)
        fix = self.correction(heard, last["intent"])
        if fix is not None:
            return self.correct_committed(last, fix, it)
        question = self.t.say("offer_undo", what=last["summary"])
        return self.ask.wait(it, Awaiting.UNDO_OFFER, question)

    def correct_committed(self, last: dict[str, Any], fix: dict[str, Any], it: Intent) -> TurnResult:
        """Undo the action just committed and do it again with the correction."""
        try:
            undone = self.t.shop.undo(self.t.actor)
        except ports.ShopError:
            return self.t.result(self.t.say("error"), it, error_code="undo_conflict")
        if undone.kind == "create_order" and self.t.role != "seller":
            self.t.replacing_order = undone.data["order_id"]  # the seller hears "changed", not a second order
        self.t.catalog = ports.catalog_rows(self.t.db)
        res = self.proceed(self.corrected(last["intent"], fix).copy(confirmed=True))
        if self.t.replacing_order and not res.committed:  # the old order is gone: say so
            res.notify = self.orders.buyer_undo_notice(undone.kind, undone.data) + res.notify
        note = self.t.say("corrected" if res.committed else "corrected_undone", what=last["summary"])
        res.reply = replies.sentences(self.t.lang, note, res.reply)
        return res

    def apply_correction(self, pending: Pending, fix: dict[str, Any]) -> TurnResult:
        """A deny carrying a correction while a question waits: put it in and go on."""
        base = self.corrected(pending["intent"], fix)
        if pending["awaiting"] is Awaiting.CONFIRM:  # read the corrected facts back before committing
            return self.ask.wait(base, Awaiting.CONFIRM, self.t.say("confirm_question", summary=self.readback.summary(base)))
        return self.proceed(base)

    # --- greetings -----------------------------------------------------------------------------

    def is_greeting(self, text: str) -> bool:
        words = replies.load_replies(self.t.lang).get("greetings") or []
        said = re.sub(r"[\s,.!?，。！？~]+", " ", text).strip().lower()
        return said in words or said.replace(" ", "") in words

    def greet(self, it: Intent) -> TurnResult:
        return self.t.result(self.t.say(f"greeting.{'seller' if self.t.role == 'seller' else 'buyer'}"), it)
