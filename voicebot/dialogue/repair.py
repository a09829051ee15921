"""Repairs a seller makes by ear: "no" after a committed action, corrections ("不对，十二瓶"), dropping a
waiting question for a new command or for 算了 / undo, and greetings.

Nothing here says "nothing changed" unless it is true: a deny right after a committed action says what
was done and offers to undo it; a correction undoes the action and redoes it with the new number.
"""

from __future__ import annotations

import re
from typing import Any

from voicebot.dialogue import ports, replies
from voicebot.dialogue.acts import Acts
from voicebot.dialogue.awaiting import Awaiting, Pending
from voicebot.dialogue.turn import TurnResult
from voicebot.intents import Intent, spec
from voicebot.lang import language
from voicebot.lang.packs import load_pack
from voicebot.nlu.heard import Heard

RECENT_S = 300.0


class Repair(Acts):
    """Deny, corrections and dropped questions (mixed into the turn's state machine)."""

    def what(self, it: Intent) -> str:
        """A few words naming an intent that waits ("卖蜂蜜", "the sale of honey")."""
        kind = it.name
        key = (
            f"pending_what.{kind}" if replies.has(self.lang, f"pending_what.{kind}") else "pending_what.other"
        )
        product = it.product or it.spoken or ""
        if not product and "{product}" in str(replies.load_replies(self.lang)["pending_what"].get(kind, "")):
            key = "pending_what.other"  # "买没有记" names nothing: say "the last question" instead
        return self.say(key, product=product)

    def dropped(self, pending: Pending, result: TurnResult) -> TurnResult:
        """Say, before the new command's reply, that the waiting question was dropped."""
        if not pending["awaiting"].is_change:
            return result
        note = self.say("dropped", what=self.what(pending["intent"]))
        result.reply = replies.sentences(self.lang, self.capital(note), result.reply)
        return result

    def capital(self, text: str) -> str:
        return replies.capitalized(self.lang, text)

    def cancel_pending(self, pending: Pending, it: Intent) -> TurnResult:
        """算了 / undo / never mind while a question waits: drop it, and say that nothing changed."""
        self.clear()
        return self.result(self.say("cancelled_pending", what=self.what(pending["intent"])), it)

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
        product = heard.product(list(self.catalog), outside_numbers=True)
        if product is not None and product != base.product:  # 不对，是银手链
            fix["product"], fix["candidates"] = product, ()
        n = heard.numbers[-1] if heard.numbers else None
        slot = None
        if n is not None and n.kind == "money" and "price" in slots:
            slot = "price"
        elif n is not None and n.kind == "count" and "quantity" in slots:
            slot = "quantity"
        elif n is not None and n.kind is None:
            slot = awaiting.slot if awaiting is not None and awaiting.slot in slots else slots[0]
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
        pack = load_pack(self.lang)
        rest = heard.norm
        rest = (pack.deny_head.sub("", rest) if pack.deny_head else rest).strip(" ,.!?，。！？")
        m = pack.corrected_name.fullmatch(rest) if pack.corrected_name else None  # the name is group 1
        return m.group(1) if m is not None and language(self.lang).is_name(m.group(1), rest) else None

    def deny_now(self, it: Intent, heard: Heard) -> TurnResult:
        """A deny with nothing waiting: about the action just committed, if there is one."""
        last = self.state.get("last_done") or {}
        recent = last and last.get("at", 0) + RECENT_S > self.now
        if not recent or ports.last_action_id(self.db, self.actor) != last.get("action_id"):
            return self.result(self.say("denied_nothing"), it)
        fix = self.correction(heard, last["intent"])
        if fix is not None:
            return self.correct_committed(last, fix, it)
        question = self.say("offer_undo", what=last["summary"])
        return self.wait(it, Awaiting.UNDO_OFFER, question)

    def correct_committed(self, last: dict[str, Any], fix: dict[str, Any], it: Intent) -> TurnResult:
        """Undo the action just committed and do it again with the correction."""
        try:
            undone = self.shop.undo(self.actor)
        except ports.ShopError:
            return self.result(self.say("error"), it, error_code="undo_conflict")
        if undone.kind == "create_order" and self.role != "seller":
            self.replacing_order = undone.data["order_id"]  # the seller hears "changed", not a second order
        self.catalog = ports.catalog_rows(self.db)
        res = self.proceed(self.corrected(last["intent"], fix).copy(confirmed=True))
        if self.replacing_order and not res.committed:  # the old order is gone: say so
            res.notify = self.buyer_undo_notice(undone.kind, undone.data) + res.notify
        note = self.say("corrected" if res.committed else "corrected_undone", what=last["summary"])
        res.reply = replies.sentences(self.lang, note, res.reply)
        return res

    def apply_correction(self, pending: Pending, fix: dict[str, Any]) -> TurnResult:
        """A deny carrying a correction while a question waits: put it in and go on."""
        base = self.corrected(pending["intent"], fix)
        if pending["awaiting"] is Awaiting.CONFIRM:  # read the corrected facts back before committing
            return self.wait(base, Awaiting.CONFIRM, self.say("confirm_question", summary=self.summary(base)))
        return self.proceed(base)

    # --- greetings -----------------------------------------------------------------------------

    def is_greeting(self, text: str) -> bool:
        words = replies.load_replies(self.lang).get("greetings") or []
        said = re.sub(r"[\s,.!?，。！？~]+", " ", text).strip().lower()
        return said in words or said.replace(" ", "") in words

    def greet(self, it: Intent) -> TurnResult:
        return self.result(self.say(f"greeting.{'seller' if self.role == 'seller' else 'buyer'}"), it)
