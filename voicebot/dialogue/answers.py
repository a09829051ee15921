"""Answers to a waiting question: one small answer per kind of question (Awaiting), and one filler per
slot; a sentence that is a command of its own is left for the planner (None)."""

from __future__ import annotations

import re
from collections.abc import Callable

from voicebot import intents
from voicebot.dialogue import ports, replies
from voicebot.dialogue.acts import Acts
from voicebot.dialogue.awaiting import Awaiting, Pending
from voicebot.dialogue.order_acts import OrderActs
from voicebot.dialogue.plan import ORDER_BY_NUMBER, Plan
from voicebot.dialogue.questions import Questions
from voicebot.dialogue.readback import MONEY_STOCK
from voicebot.dialogue.repair import Repair
from voicebot.dialogue.turn import Turn, TurnResult
from voicebot.intents import Intent
from voicebot.lang import language
from voicebot.lang.packs import load_pack
from voicebot.logs import log_event
from voicebot.nlu.heard import Heard

NEEDS_PRODUCT = frozenset(s.name for s in intents.SPECS if s.needs_product)


class Answers:
    """What this turn's words answer to the question that waits."""

    def __init__(self, turn: Turn, ask: Questions, acts: Acts, orders: OrderActs, repair: Repair, plan: Plan) -> None:
        self.t, self.ask, self.acts, self.orders, self.repair, self.plan = turn, ask, acts, orders, repair, plan

    def is_new_command(self, pending: Pending, it: Intent) -> bool:
        """A complete command of its own, not a bare answer to the waiting question."""
        kind = it.name
        if kind in ("unknown", "confirm", "deny") or kind == pending["intent"].name:
            return False
        if (kind in NEEDS_PRODUCT or it.spec.new_product) and not (it.product or it.candidates):
            # "三十块一斤" alone answers "多少钱？"; "进货五瓶" is an action of its own
            return self.t.heard.says_command(self.t.role, kind)
        return True

    def resume(self, pending: Pending, it: Intent, heard: Heard) -> TurnResult | None:
        """Answer a pending question, or None when the utterance is something new."""
        answer = _ANSWERS.get(pending["awaiting"], Answers.answer_slot)
        return answer(self, pending, it, heard)

    def answer_undo_offer(self, pending: Pending, it: Intent, heard: Heard) -> TurnResult | None:
        """ "刚才记了…，要撤销吗？" answered: yes undoes, no keeps; anything else is new."""
        self.ask.clear()
        if it.name == "confirm":
            return self.acts.undo(it)
        if it.name == "deny":
            return self.t.result(self.t.say("kept"), it)
        return None

    def answer_read_back(self, pending: Pending, it: Intent, heard: Heard) -> TurnResult | None:
        """ "卖了三瓶蜂蜜，对吗？" answered: yes commits, no (with a correction) corrects or drops it."""
        kind = it.name
        if kind == "confirm" and self.t.unsure and self.is_weak_yes(heard.text):
            return self.ask.plainly(pending)  # 嗯嗯 heard unsure is not a yes to a shop change
        if kind == "confirm":
            self.ask.clear()
            return self.plan.proceed(pending["intent"].copy(confirmed=True))
        if kind == "deny":
            self.ask.clear()
            fix = self.repair.correction(heard, pending["intent"])
            if fix is not None:
                return self.repair.apply_correction(pending, fix)
            return self.t.result(self.t.say("denied"), pending["intent"])
        return self.ask.again(pending) if kind == "unknown" else None

    def answer_more(self, pending: Pending, it: Intent, heard: Heard) -> TurnResult | None:
        """ "还有三样，要听吗？" answered."""
        if it.name == "confirm" or (it.name == "unknown" and self.is_more_yes(heard.text)):
            return self.ask.next_chunk(pending)
        if it.name == "deny":
            self.ask.clear()
            return self.t.result(self.t.say("no_more"), it)
        return None

    def answer_slot(self, pending: Pending, it: Intent, heard: Heard) -> TurnResult | None:
        """A missing slot's question ("几瓶？", "哪个？") answered, corrected, asked aside, or left for a new
        command."""
        kind, base = it.name, pending["intent"]
        if kind == "deny":
            self.ask.clear()
            fix = self.repair.correction(heard, base, pending["awaiting"])
            if fix is not None:
                return self.repair.apply_correction(pending, fix)
            return self.ask.cancel(pending, it)
        aside = self.answer_aside(pending, it)
        if aside is not None:
            return aside
        if kind == "set_price" and not it.product and it.price is not None and base.price and base.name in (
            "add_product", "record_sale"
        ):  # "改成四十块": the price she gave, changed
            self.ask.clear()
            return self.plan.proceed(base.copy(price=it.price))
        if self.is_new_command(pending, it):
            return None
        filled = self.fill(pending, it, heard)
        if filled is not None:
            self.ask.clear()
            return self.plan.proceed(filled)
        return self.ask.again(pending) if kind in ("unknown", "confirm") else None

    def answer_aside(self, pending: Pending, it: Intent) -> TurnResult | None:
        """我想买点核桃 -> 几斤？ -> 多少钱一斤啊: the price (or stock) of 核桃, and the question still waits."""
        base, kind = pending["intent"], it.name
        if not (
            kind in ("ask_price", "ask_stock")
            and it.product in (None, base.product)  # none said, or the one of the last turn
            and not it.candidates
            and base.product in self.t.catalog
            and pending["awaiting"] is Awaiting.QUANTITY
        ):
            return None
        answer = getattr(self.acts, f"do_{kind}")(it.copy(product=base.product))
        pending["expires"] = self.t.now + self.t.config.dialogue.pending_timeout_s
        reply = replies.sentences(self.t.lang, answer.reply, pending["question"])
        return self.t.result(reply, base, awaiting=pending["awaiting"])

    def new_or_old(self, pending: Pending, it: Intent, heard: Heard) -> TurnResult | None:
        """ "A new turquoise necklace, or the turquoise bracelet you have?" answered."""
        kind, base = it.name, pending["intent"]
        if kind not in ("add_product", "attach_photo") and self.is_new_command(pending, it):
            return None  # 今天卖了多少 / 有新订单吗 while this waits: that sentence, handled as itself
        if kind == "deny" and not self.says_new(heard.text):
            return self.ask.cancel(pending, it)
        if self.says_new(heard.text) or heard.product([base.product or ""]) == base.product:
            self.ask.clear()
            return self.plan.proceed(base.copy(new_ok=True))
        existing = heard.product(pending["candidates"]) or heard.candidate(pending["candidates"])
        if existing is not None:
            self.ask.clear()
            return self.plan.existing_product(base.copy(product=existing, new_ok=True))
        return self.ask.again(pending)

    def says_new(self, text: str) -> bool:
        words = replies.load_replies(self.t.lang).get("new_words") or []
        said, speech = text.lower(), language(self.t.lang)
        return any(speech.mentions(said, w) for w in words)

    def is_weak_yes(self, text: str) -> bool:
        """A murmur (嗯嗯, mhm) that may be a yes or just a sound."""
        words = replies.load_replies(self.t.lang).get("weak_yes") or []
        said = re.sub(r"[\s,.!?，。！？~]+", " ", text).strip().lower()
        return said in words or said.replace(" ", "") in words

    def is_more_yes(self, text: str) -> bool:
        words = replies.load_replies(self.t.lang).get("more_yes") or []
        said = re.sub(r"[\s,.!?，。！？]+", " ", text).strip().lower()
        return said in words or said.replace(" ", "") in words

    def quantity_only(self, base: Intent, heard: Heard) -> Intent | None:
        """``base`` with a bare count ("三条") when its intent still needs a quantity, else None."""
        if "quantity" not in base.spec.required or base.quantity is not None:
            return None
        parsed = heard.number()
        if parsed is None or leftover(heard, base.name) or parsed.value <= 0:
            return None
        return base.copy(quantity=ports.amount(parsed.value))

    def fill(self, pending: Pending, it: Intent, heard: Heard) -> Intent | None:
        """The pending intent with the awaited slot taken from this answer, or None."""
        awaiting, base = pending["awaiting"], pending["intent"]
        if self.t.unsure and base.name in MONEY_STOCK:
            base = base.copy(unsure=True)
        slot = awaiting.slot
        if it.name == base.name and slot:  # the user said the whole thing again, maybe with the slot
            merged = base.merged(it).copy(unsure=base.unsure or it.unsure)
            if getattr(merged, slot) is not None and (awaiting is not Awaiting.WHICH or merged.product in self.t.catalog):
                return merged
        filler = _FILLERS.get(awaiting)
        return filler(self, pending, base, it, heard) if filler is not None else None

    def fill_amount(self, pending: Pending, base: Intent, it: Intent, heard: Heard) -> Intent | None:
        """ "多少钱？" / "几条？" answered: "两百块", "五十斤" (the unit a new product is counted in), "十来个"."""
        awaiting = pending["awaiting"]
        value = getattr(it, awaiting.value) if it.name not in ("unknown", "confirm") else None
        approximate = it.approximate
        if value is None:
            parsed = heard.number(money=awaiting is Awaiting.PRICE)
            if parsed is None:
                return None
            value, approximate = parsed
        if awaiting is Awaiting.QUANTITY and value <= 0:
            return None
        base = base.copy(**{awaiting.value: ports.amount(value) if awaiting is Awaiting.QUANTITY else value})
        unit = it.unit or heard.unit()
        if base.name == "add_product" and unit and not base.unit:
            base = base.copy(unit=unit)  # 上架核桃 -> 有几个？ -> 五十斤: the shop counts walnuts in 斤
        if approximate:
            base = base.copy(unsure=True, approximate=True)
        return base

    def fill_which(self, pending: Pending, base: Intent, it: Intent, heard: Heard) -> Intent | None:
        """ "绿松石手链还是绿松石耳环？" answered by name, by position or by a word only one has."""
        candidates = pending.get("candidates") or []
        name = heard.product(candidates) or heard.candidate(candidates)
        if name is None and it.product in candidates:
            name = it.product
        return base.copy(product=name, candidates=()) if name is not None else None

    def fill_product(self, pending: Pending, base: Intent, it: Intent, heard: Heard) -> Intent | None:
        """ "哪个商品？" answered: a new product's name, or one of the catalog (or the name of one it lacks)."""
        kind = it.name
        if base.name == "add_product":
            name = it.product if kind == "add_product" else None
            if name is None and kind == "unknown":
                name = ports.spoken_name(heard.text, self.t.lang)
            return base.copy(product=name) if name else None
        name = it.product if it.product in self.t.catalog else None
        if name is None and not it.candidates:
            name = heard.product(list(self.t.catalog))
        counted = self.quantity_only(base, heard) if name is None and kind == "unknown" else None
        if counted is not None:
            return counted  # "三条" answered "哪个商品？": keep the number, ask for the product again
        if name is None and kind == "unknown":  # a product we do not have: say so
            spoken = ports.spoken_name(heard.text, self.t.lang)
            return base.copy(spoken=spoken) if spoken else None
        if name is None and it.candidates:
            return base.copy(candidates=it.candidates, product=it.product)
        return base.copy(product=name) if name else None

    def fill_customer(self, pending: Pending, base: Intent, it: Intent, heard: Heard) -> Intent | None:
        """ "哪一单？" / "卖给谁？" answered: an order's number ("三号") or a name ("张三的")."""
        if base.name in ORDER_BY_NUMBER and self.orders.spoken_order_number(heard.text) is not None:
            return base.copy(customer=None, utterance=heard.text)  # "三号" / "order two"
        name = it.customer or (ports.spoken_name(heard.text, self.t.lang) if it.name == "unknown" else None)
        tail = load_pack(self.t.lang).answer_name_tail
        if name and tail is not None:
            name = tail.sub("", name) or name  # "张三的" answers "哪一单？"
        return base.copy(customer=name) if name else None



def leftover(heard: Heard, kind: str) -> str | None:
    """The name of a product the catalog lacks, left over in the words (never fatal to the turn)."""
    try:
        return heard.leftover_name(kind)
    except Exception as e:  # a heuristic over the NLU's pack: never let it break the turn
        log_event("dialogue_leftover_failed", level=30, error=f"{type(e).__name__}: {e}")
        return None


# What answers each kind of waiting question (a missing slot's: answer_slot), and what fills each slot.
_ANSWERS: dict[Awaiting, Callable[[Answers, Pending, Intent, Heard], TurnResult | None]] = {
    Awaiting.UNDO_OFFER: Answers.answer_undo_offer,
    Awaiting.CONFIRM: Answers.answer_read_back,
    Awaiting.NEW_OR_OLD: Answers.new_or_old,
    Awaiting.MORE: Answers.answer_more,
}
_FILLERS: dict[Awaiting, Callable[[Answers, Pending, Intent, Intent, Heard], Intent | None]] = {
    Awaiting.PRICE: Answers.fill_amount,
    Awaiting.QUANTITY: Answers.fill_amount,
    Awaiting.WHICH: Answers.fill_which,
    Awaiting.PRODUCT: Answers.fill_product,
    Awaiting.CUSTOMER: Answers.fill_customer,
}
