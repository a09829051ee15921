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
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from voicebot import intents
from voicebot.config import Config, load_config
from voicebot.dialogue import plausible, ports, replies
from voicebot.dialogue.awaiting import Awaiting, Pending
from voicebot.dialogue.expiry import expire_orders
from voicebot.dialogue.repair import Repair
from voicebot.dialogue.replies import say
from voicebot.dialogue.state import State, epoch, load_state, record_turn, recorded_turn, save_state
from voicebot.dialogue.turn import TurnResult
from voicebot.intents import Intent
from voicebot.lang import language
from voicebot.lang.packs import load_pack
from voicebot.logs import log_event
from voicebot.nlu.heard import Heard
from voicebot.store.db import StoreBusy, write_tx
from voicebot.store.scoped import ShopDb

MONEY_STOCK = intents.names(confirm="unsure")  # read back when heard unsure or approximately
ALWAYS_CONFIRM = intents.names(confirm="always")
ASK_WHEN_UNSURE = MONEY_STOCK | {"undo"}  # undo changes the shop too: heard unsure, it asks first
NEEDS_PRODUCT = frozenset(s.name for s in intents.SPECS if s.needs_product)
BUYER_CONTEXT = frozenset(s.name for s in intents.SPECS if s.follow_up)  # a buyer's follow-up keeps the product
ORDER_BY_NUMBER = frozenset({"mark_shipped", "confirm_order", "seller_cancel_order"})  # read back once found
PHOTO_TTL_S = 3600.0  # a photo waits this long for its product name
CURRENT_PRODUCT_S = 300.0  # a photo sent this soon after talking about a product belongs to it


class _Turn(Repair):
    """The state machine for one utterance: answer a pending question, or plan a fresh intent."""

    used_context = False  # this turn's product came from the last turn (a buyer's follow-up)

    # --- the turn ------------------------------------------------------------------------------

    def run(self, text: str) -> TurnResult:
        self.heard = Heard.read(text, self.lang)
        result = self.turn(self.heard)
        kind = result.intent.name
        if result.committed and self.done_intent is not None and kind != "undo":
            done = self.done_intent.copy(utterance="")
            self.state["last_done"] = {
                "at": self.now,
                "action_id": result.action_id,
                "summary": self.summary(done),
                "intent": done,
            }
        elif result.committed or kind == "undo":
            self.state["last_done"] = None
        product = result.intent.product
        about = self.role == "buyer" and product in self.catalog and kind in BUYER_CONTEXT
        about = about and not self.used_context  # one follow-up only
        self.state["context"] = {"product": product, "at": self.now} if about else None
        return result

    def from_context(self, it: Intent) -> Intent:
        """ "我要两条" right after asking about 手链: the product of the last turn, for one follow-up."""
        context = self.state.get("context") or {}
        if (
            self.role == "buyer"
            and it.name in BUYER_CONTEXT
            and not it.product
            and not it.candidates
            and not it.spoken
            and context.get("product") in self.catalog
            and context.get("at", 0) + CURRENT_PRODUCT_S > self.now
            and it.unit in (None, self.catalog[context["product"]].get("unit") or it.unit)
        ):
            self.used_context = True
            return it.copy(product=context["product"])
        return it

    def turn(self, heard: Heard) -> TurnResult:
        said = ports.understand(heard, self.role, list(self.catalog))
        unsure = ((self.unsure or said.unsure) and said.name in ASK_WHEN_UNSURE) or said.approximate  # said.unsure: read by sound
        it = said.copy(utterance=heard.text, unsure=unsure)
        kind, pending = it.name, self.pending()
        if kind in NEEDS_PRODUCT and not it.product and not it.candidates:
            it = self.from_context(it.copy(spoken=self.leftover(heard, kind)))
        if kind == "unknown" and self.is_greeting(heard.text):
            return self.greet(it)
        if kind == "repeat":
            last = self.state.get("last_reply") or self.say("nothing_to_repeat")
            return self.result(last, it, awaiting=pending and pending["awaiting"])
        if kind == "help":
            reply = self.say(f"help.{'seller' if self.role == 'seller' else 'buyer'}")
            if pending and pending["awaiting"] is not Awaiting.MORE:  # "还有三样，要听吗？" is no question to remind of
                reply = replies.sentences(
                    self.lang, reply, self.say("help_pending", question=pending["question"])
                )
            return self.result(reply, it, awaiting=pending and pending["awaiting"])
        if kind == "undo":
            if pending and pending["awaiting"].is_change:
                return self.cancel_pending(pending, it)  # the waiting thing, never an older action
            self.clear()
            last = self.state.get("last_done") or {}
            if said.unsure and last.get("summary"):  # 车销 read as 撤销 by its sound: ask first
                return self.wait(it, Awaiting.UNDO_OFFER, self.say("offer_undo", what=last["summary"]))
            if it.unsure:  # heard unsure: say what would be undone, and wait for a yes
                return self.ask_undo(it)
            return self.undo(it)
        if pending:
            resumed = self.resume(pending, it, heard)
            if resumed is not None:
                return resumed
            self.clear()  # the user moved on: treat this utterance fresh
            asked = pending["intent"]
            same = it.name == asked.name and it.product == asked.product
            return self.proceed(it) if same else self.dropped(pending, self.proceed(it))
        return self.proceed(it)

    def is_new_command(self, pending: Pending, it: Intent) -> bool:
        """A complete command of its own, not a bare answer to the waiting question."""
        kind = it.name
        if kind in ("unknown", "confirm", "deny") or kind == pending["intent"].name:
            return False
        if (kind in NEEDS_PRODUCT or it.spec.new_product) and not (it.product or it.candidates):
            # "三十块一斤" alone answers "多少钱？"; "进货五瓶" is an action of its own
            return self.heard.says_command(self.role, kind)
        return True

    def resume(self, pending: Pending, it: Intent, heard: Heard) -> TurnResult | None:
        """Answer a pending question, or None when the utterance is something new."""
        answer = _ANSWERS.get(pending["awaiting"], _Turn.answer_slot)
        return answer(self, pending, it, heard)

    def answer_undo_offer(self, pending: Pending, it: Intent, heard: Heard) -> TurnResult | None:
        """ "刚才记了…，要撤销吗？" answered: yes undoes, no keeps; anything else is new."""
        self.clear()
        if it.name == "confirm":
            return self.undo(it)
        if it.name == "deny":
            return self.result(self.say("kept"), it)
        return None

    def answer_read_back(self, pending: Pending, it: Intent, heard: Heard) -> TurnResult | None:
        """ "卖了三瓶蜂蜜，对吗？" answered: yes commits, no (with a correction) corrects or drops it."""
        kind = it.name
        if kind == "confirm" and self.unsure and self.is_weak_yes(heard.text):
            return self.ask_plainly(pending)  # 嗯嗯 heard unsure is not a yes to a shop change
        if kind == "confirm":
            self.clear()
            return self.proceed(pending["intent"].copy(confirmed=True))
        if kind == "deny":
            self.clear()
            fix = self.correction(heard, pending["intent"])
            if fix is not None:
                return self.apply_correction(pending, fix)
            return self.result(self.say("denied"), pending["intent"])
        return self.ask_again(pending) if kind == "unknown" else None

    def answer_more(self, pending: Pending, it: Intent, heard: Heard) -> TurnResult | None:
        """ "还有三样，要听吗？" answered."""
        if it.name == "confirm" or (it.name == "unknown" and self.is_more_yes(heard.text)):
            return self.next_chunk(pending)
        if it.name == "deny":
            self.clear()
            return self.result(self.say("no_more"), it)
        return None

    def answer_slot(self, pending: Pending, it: Intent, heard: Heard) -> TurnResult | None:
        """A missing slot's question ("几瓶？", "哪个？") answered, corrected, asked aside, or left for a new
        command."""
        kind, base = it.name, pending["intent"]
        if kind == "deny":
            self.clear()
            fix = self.correction(heard, base, pending["awaiting"])
            if fix is not None:
                return self.apply_correction(pending, fix)
            return self.cancel_pending(pending, it)
        aside = self.answer_aside(pending, it)
        if aside is not None:
            return aside
        if kind == "set_price" and not it.product and it.price is not None and base.price and base.name in (
            "add_product", "record_sale"
        ):  # "改成四十块": the price she gave, changed
            self.clear()
            return self.proceed(base.copy(price=it.price))
        if self.is_new_command(pending, it):
            return None
        filled = self.fill(pending, it, heard)
        if filled is not None:
            self.clear()
            return self.proceed(filled)
        return self.ask_again(pending) if kind in ("unknown", "confirm") else None

    def answer_aside(self, pending: Pending, it: Intent) -> TurnResult | None:
        """我想买点核桃 -> 几斤？ -> 多少钱一斤啊: the price (or stock) of 核桃, and the question still waits."""
        base, kind = pending["intent"], it.name
        if not (
            kind in ("ask_price", "ask_stock")
            and it.product in (None, base.product)  # none said, or the one of the last turn
            and not it.candidates
            and base.product in self.catalog
            and pending["awaiting"] is Awaiting.QUANTITY
        ):
            return None
        answer = getattr(self, f"do_{kind}")(it.copy(product=base.product))
        pending["expires"] = self.now + self.config.dialogue.pending_timeout_s
        reply = replies.sentences(self.lang, answer.reply, pending["question"])
        return self.result(reply, base, awaiting=pending["awaiting"])

    def new_or_old(self, pending: Pending, it: Intent, heard: Heard) -> TurnResult | None:
        """ "A new turquoise necklace, or the turquoise bracelet you have?" answered."""
        kind, base = it.name, pending["intent"]
        if kind not in ("add_product", "attach_photo") and self.is_new_command(pending, it):
            return None  # 今天卖了多少 / 有新订单吗 while this waits: that sentence, handled as itself
        if kind == "deny" and not self.says_new(heard.text):
            return self.cancel_pending(pending, it)
        if self.says_new(heard.text) or heard.product([base.product or ""]) == base.product:
            self.clear()
            return self.proceed(base.copy(new_ok=True))
        existing = heard.product(pending["candidates"]) or heard.candidate(pending["candidates"])
        if existing is not None:
            self.clear()
            return self.existing_product(base.copy(product=existing, new_ok=True))
        return self.ask_again(pending)

    def says_new(self, text: str) -> bool:
        words = replies.load_replies(self.lang).get("new_words") or []
        said, speech = text.lower(), language(self.lang)
        return any(speech.mentions(said, w) for w in words)

    def is_weak_yes(self, text: str) -> bool:
        """A murmur (嗯嗯, mhm) that may be a yes or just a sound."""
        words = replies.load_replies(self.lang).get("weak_yes") or []
        said = re.sub(r"[\s,.!?，。！？~]+", " ", text).strip().lower()
        return said in words or said.replace(" ", "") in words

    def ask_plainly(self, pending: Pending) -> TurnResult:
        pending["expires"] = self.now + self.config.dialogue.pending_timeout_s
        reply = self.say("ask.plainly", question=pending["question"])
        return self.result(reply, pending["intent"], awaiting=pending["awaiting"])

    def is_more_yes(self, text: str) -> bool:
        words = replies.load_replies(self.lang).get("more_yes") or []
        said = re.sub(r"[\s,.!?，。！？]+", " ", text).strip().lower()
        return said in words or said.replace(" ", "") in words

    def quantity_only(self, base: Intent, heard: Heard) -> Intent | None:
        """``base`` with a bare count ("三条") when its intent still needs a quantity, else None."""
        if "quantity" not in base.spec.required or base.quantity is not None:
            return None
        parsed = heard.number()
        if parsed is None or self.leftover(heard, base.name) or parsed.value <= 0:
            return None
        return base.copy(quantity=ports.amount(parsed.value))

    def leftover(self, heard: Heard, kind: str) -> str | None:
        try:
            return heard.leftover_name(kind)
        except Exception as e:  # a heuristic over the NLU's pack: never let it break the turn
            log_event("dialogue_leftover_failed", level=30, error=f"{type(e).__name__}: {e}")
            return None

    def ask_again(self, pending: Pending) -> TurnResult:
        pending["expires"] = self.now + self.config.dialogue.pending_timeout_s
        reply = self.say("ask.again", question=pending["question"])
        return self.result(reply, pending["intent"], awaiting=pending["awaiting"])

    def fill(self, pending: Pending, it: Intent, heard: Heard) -> Intent | None:
        """The pending intent with the awaited slot taken from this answer, or None."""
        awaiting, base = pending["awaiting"], pending["intent"]
        if self.unsure and base.name in MONEY_STOCK:
            base = base.copy(unsure=True)
        slot = awaiting.slot
        if it.name == base.name and slot:  # the user said the whole thing again, maybe with the slot
            merged = base.merged(it).copy(unsure=base.unsure or it.unsure)
            if getattr(merged, slot) is not None and (awaiting is not Awaiting.WHICH or merged.product in self.catalog):
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
                name = ports.spoken_name(heard.text, self.lang)
            return base.copy(product=name) if name else None
        name = it.product if it.product in self.catalog else None
        if name is None and not it.candidates:
            name = heard.product(list(self.catalog))
        counted = self.quantity_only(base, heard) if name is None and kind == "unknown" else None
        if counted is not None:
            return counted  # "三条" answered "哪个商品？": keep the number, ask for the product again
        if name is None and kind == "unknown":  # a product we do not have: say so
            spoken = ports.spoken_name(heard.text, self.lang)
            return base.copy(spoken=spoken) if spoken else None
        if name is None and it.candidates:
            return base.copy(candidates=it.candidates, product=it.product)
        return base.copy(product=name) if name else None

    def fill_customer(self, pending: Pending, base: Intent, it: Intent, heard: Heard) -> Intent | None:
        """ "哪一单？" / "卖给谁？" answered: an order's number ("三号") or a name ("张三的")."""
        if base.name in ORDER_BY_NUMBER and self.spoken_order_number(heard.text) is not None:
            return base.copy(customer=None, utterance=heard.text)  # "三号" / "order two"
        name = it.customer or (ports.spoken_name(heard.text, self.lang) if it.name == "unknown" else None)
        tail = load_pack(self.lang).answer_name_tail
        if name and tail is not None:
            name = tail.sub("", name) or name  # "张三的" answers "哪一单？"
        return base.copy(customer=name) if name else None

    def proceed(self, it: Intent) -> TurnResult:
        """Plan for a complete-or-not intent: refuse, ask, read back, or commit."""
        at_once = self.answer_at_once(it)
        if at_once is not None:
            return at_once
        completed = self.complete(it)
        return completed if isinstance(completed, TurnResult) else self.carry_out(completed)

    def answer_at_once(self, it: Intent) -> TurnResult | None:
        """What needs no plan: a buyer's seller command, a yes or no with nothing waiting, undo, what the
        dialogue cannot do, a photo that never came, a "name" too long to be one."""
        kind, spec = it.name, it.spec
        if spec.role == "seller" and self.role != "seller":
            return self.result(self.say("not_allowed"), it, error_code="not_allowed")
        if kind == "confirm":
            return self.result(self.say("nothing_to_confirm"), it)
        if kind == "deny":
            return self.deny_now(it, self.reading(it.utterance))
        if kind == "undo":  # the yes to "撤销…，对吗？"
            return self.undo(it)
        if spec.handler is None:
            return self.result(self.say("unknown"), it, error_code="unknown_intent")
        if kind == "attach_photo" and not self.state.get("photo_id"):
            return self.result(self.say("no_photo"), it, error_code="no_photo")
        name = it.product or it.spoken
        if name not in self.catalog and ports.name_too_long(name, self.lang):
            return self.result(self.say("name_unclear"), it, error_code="name_too_long")
        return None

    def complete(self, it: Intent) -> Intent | TurnResult:
        """``it`` with a catalog product and every slot it needs, or the question for what is missing."""
        kind, spec = it.name, it.spec
        if spec.needs_product or (kind == "check_stock" and it.product):
            resolved = self.resolve_product(it)
            if isinstance(resolved, TurnResult):
                return resolved
            it = resolved
        if spec.new_product:
            if not it.product:
                return self.wait(it, Awaiting.PRODUCT, self.say(f"ask.product_{kind}"))
            if it.product in self.catalog:
                return self.existing_product(it)
        for slot in spec.required:
            if slot != "product" and getattr(it, slot) is None:
                return self.ask_slot(it, Awaiting.for_slot(slot))
        if it.quantity is not None and not ports.is_whole(it.quantity) and not self.by_weight(it):
            # 半条手链: goods counted in pieces are never rounded into the shop; ask again
            return self.wait(it.copy(quantity=None), Awaiting.QUANTITY, self.say("whole_only", product=it.product or "",
                                                                          unit=self.unit(it)))  # fmt: skip
        if spec.new_product and not it.new_ok:
            similar = ports.similar_products(it.product or "", self.lang, list(self.catalog))
            if similar:  # never a silent switch to the product she already has: ask
                options = replies.load_replies(self.lang)[load_pack(self.lang).choice_sep].join(
                    similar
                )
                question = self.say("ask.new_or_old", existing=options, product=it.product)
                return self.wait(it, Awaiting.NEW_OR_OLD, question, candidates=similar)
        if kind == "cancel_order" and it.order_id is None:
            order = self.shop.latest_open_order(self.actor)
            if order is None:
                return self.cancel_too_late(it)
            it = it.copy(order_id=order["id"], items=self.items_text(order))
        return it

    def carry_out(self, it: Intent) -> TurnResult:
        """A complete intent: refused for a price the shop would refuse, read back when it must be, else done."""
        kind = it.name
        if it.price is not None:  # the shop's one money parser, before a read-back of a price it would refuse
            try:
                ports.to_fen(ports.money(it.price))
            except ports.MoneyError as e:
                log_event("dialogue_bad_price", level=30, intent=kind, error=str(e))
                return self.result(self.say("bad_price"), it, error_code=e.code)
        if not it.confirmed and kind not in ORDER_BY_NUMBER and self.needs_confirm(it):
            question = self.say("confirm_question", summary=self.summary(it))
            return self.wait(it, Awaiting.CONFIRM, question)
        try:
            return getattr(self, it.spec.handler or "")(it)
        except ports.ShopError as e:
            log_event("dialogue_shop_error", level=30, intent=kind, error=f"{type(e).__name__}: {e}")
            return self.result(self.say("error"), it, error_code=getattr(e, "code", "shop_error"))

    def resolve_product(self, it: Intent) -> Intent | TurnResult:
        """``it`` with its product a catalog name, or the turn that asks which one / says it is unknown."""
        if it.product in self.catalog:
            return it
        candidates = [c for c in it.candidates or () if c in self.catalog]
        if len(candidates) > 1:
            if it.name in ("ask_price", "ask_stock"):  # cheaper to answer for each than to ask
                return self.answer_many(it, candidates)
            options = replies.load_replies(self.lang)["or"].join(candidates)
            return self.wait(it, Awaiting.WHICH, self.say("ask.which", options=options), candidates=candidates)
        if len(candidates) == 1:
            return it.copy(product=candidates[0])
        if not it.product and not it.spoken:
            return self.ask_slot(it, Awaiting.PRODUCT)
        key = "unknown_product_seller" if self.role == "seller" else "unknown_product"
        in_stock = [n for n, r in self.catalog.items() if r["stock"] > 0][:4]
        reply = self.say(
            key,
            spoken=it.product or it.spoken,
            unit=self.unit(it),
            names=replies.join(self.lang, in_stock) or self.say("nothing_yet"),
        )
        return self.result(reply, it, error_code="unknown_product")

    def ask_slot(self, it: Intent, slot: Awaiting) -> TurnResult:
        key = f"ask.{slot}_{it.name}"
        if not replies.has(self.lang, key):
            key = f"ask.{slot}"
        return self.wait(it, slot, self.say(key, unit=self.unit(it)))

    def existing_product(self, it: Intent) -> TurnResult:
        """ "上架核桃，三十五块，二十斤" for a product she has: say what the shop holds and ask whether to
        change the price / add the stock she said (her numbers, none invented); nothing to ask: just say it."""
        row, unit = self.catalog[it.product or ""], self.unit(it)
        facts = self.say("already_exists", product=it.product, old_price=self.price(row["price_fen"] / 100),
                         unit=unit, stock=self.qty(row["stock"], unit) if row["stock"] else self.say("none_left"))
        new_price = it.price is not None and ports.money(it.price) != ports.money(Decimal(row["price_fen"]) / 100)
        changes = []
        if new_price:
            changes.append(self.say("update_price", price=self.price(it.price)))
        if it.quantity:
            changes.append(self.say("update_stock", quantity=self.qty(it.quantity, unit)))
        if not changes:
            return self.result(facts, it, error_code="duplicate_product")
        update = it.copy(name="update_product", price=it.price if new_price else None)
        question = self.say("ask.update_product", changes=replies.join(self.lang, changes))
        self.state["pending"] = Pending(intent=update, awaiting=Awaiting.CONFIRM, question=question,
                                        expires=self.now + self.config.dialogue.pending_timeout_s)  # fmt: skip
        return self.result(replies.sentences(self.lang, facts, question), it, awaiting=Awaiting.CONFIRM)

    def by_weight(self, it: Intent) -> bool:
        """The product is sold by weight (斤, kg): its quantities may be fractions."""
        return self.unit(it) in (load_pack(self.lang).raw.get("weight_units") or ())

    def needs_confirm(self, it: Intent) -> bool:
        kind = it.name
        if kind in ALWAYS_CONFIRM or (kind in MONEY_STOCK and it.unsure):
            return True
        return kind in MONEY_STOCK and self.implausible(it)

    def implausible(self, it: Intent) -> bool:
        """An amount far from what the shop holds (plausible.py): read back even when heard clearly."""
        kind, row, cfg = it.name, self.catalog.get(it.product or ""), self.config.dialogue
        old_price = row["price_fen"] / 100 if row else None
        if kind in plausible.PRICE_KINDS and it.price is not None:
            new = self.relative_price(it) if kind in ("price_up", "price_down") and row else it.price
            if new > 0 and plausible.far_price(Decimal(str(new)), old_price, cfg):  # <= 0: refused aloud
                return True
        if kind in plausible.QUANTITY_KINDS and it.quantity is not None:
            return plausible.far_quantity(it.quantity, row["stock"] if row else 0, cfg)
        return False

    def summary(self, it: Intent) -> str:
        """The facts of an intent, for a read-back."""
        kind, unit = it.name, self.unit(it)
        fields: dict[str, Any] = {
            "product": it.product or "",
            "price": self.price(it.price),
            "quantity": self.qty(it.quantity, unit),
            "customer": it.customer or "",
            "items": it.items or "",
            "order": it.order or "",
        }
        if it.customer:
            fields["to_customer"] = self.say("summary.to_customer", customer=it.customer)
        if kind == "place_order" and it.product in self.catalog:
            fields["total"] = self.price(ports.line_fen(it.quantity or 0, self.catalog[it.product]["price_fen"]) / 100)
        if kind == "set_price":
            old = self.catalog[it.product or ""]["price_fen"] / 100
            if plausible.far_price(Decimal(str(it.price or 0)), old, self.config.dialogue):
                return self.say("summary.set_price_far", old_price=self.price(old), **fields)
        if kind in ("price_down", "price_up") and it.product in self.catalog and it.price is not None:
            fields["new_price"] = self.price(self.relative_price(it))
        if kind == "set_stock" and it.product in self.catalog:
            fields["old"] = self.qty(self.catalog[it.product]["stock"], unit)
        if kind == "record_sale" and it.total and it.price is not None and it.quantity:
            each = Decimal(self.sale_unit_price(it) or 0)
            fields["price"] = self.price(each)
            fields["total"] = self.price(Decimal(str(it.price)))  # the total she said, exactly
            return self.say("summary.record_sale_total", unit=unit, **fields)
        return self.say(f"summary.{kind}", **fields)



# What answers each kind of waiting question (a missing slot's: answer_slot), and what fills each slot.
_ANSWERS: dict[Awaiting, Callable[[_Turn, Pending, Intent, Heard], TurnResult | None]] = {
    Awaiting.UNDO_OFFER: _Turn.answer_undo_offer,
    Awaiting.CONFIRM: _Turn.answer_read_back,
    Awaiting.NEW_OR_OLD: _Turn.new_or_old,
    Awaiting.MORE: _Turn.answer_more,
}
_FILLERS: dict[Awaiting, Callable[[_Turn, Pending, Intent, Intent, Heard], Intent | None]] = {
    Awaiting.PRICE: _Turn.fill_amount,
    Awaiting.QUANTITY: _Turn.fill_amount,
    Awaiting.WHICH: _Turn.fill_which,
    Awaiting.PRODUCT: _Turn.fill_product,
    Awaiting.CUSTOMER: _Turn.fill_customer,
}


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
    now: Any = None,
    turn_id: str | None = None,
) -> TurnResult:
    """One user utterance in, one decision out; the user's state is loaded and saved around it.

    Synchronous (SQLite and the NLU are blocking): the caller runs it in a thread. ``now`` (a
    datetime or epoch seconds) is for tests; ``confidence`` None means typed text (trusted).
    The state change and any shop change commit in ONE transaction, so a crash leaves neither or
    both; with ``turn_id`` (e.g. the inbound message id) a re-run of the same turn after a crash
    returns the stored result instead of acting twice.
    """
    t = epoch(now)
    try:
        def run() -> TurnResult:
            state = load_state(db, channel, user_id)
            expired_orders = expire_orders(db, config)
            result = _run_turn(db, config, state, channel, user_id, role, lang, text, confidence, t)
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
) -> TurnResult:
    pending, expired = state.get("pending"), None
    if pending and pending.get("expires", 0) <= t:
        state["pending"], expired = None, pending
    if state.get("photo_id") and state.get("photo_at", 0) + PHOTO_TTL_S <= t:
        state["photo_id"] = None
    turn = _Turn(db, config, channel, user_id, role, lang, t, state, confidence)
    result = turn.run(text)
    if expired and expired["awaiting"].is_change:
        # her answer came too late: tell her the change she was asked about was not made
        note = turn.capital(turn.say("expired", what=turn.what(expired["intent"])))
        result.reply = replies.sentences(lang, note, result.reply)
    if result.intent.spec.changes_shop or result.intent.name == "place_order":
        # 我要两斤腊肉，再要一瓶米酒: one command a turn; the second is said back, never dropped without a word
        rest = ports.second_command(text, lang, role, list(turn.catalog))
        if rest:
            result.reply = replies.sentences(lang, result.reply, turn.say("say_again", what=rest))
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
        if turn.shop.find_product(current) is not None:  # the product she was just talking about
            done = turn.do_attach_photo(it.copy(product=current))
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
