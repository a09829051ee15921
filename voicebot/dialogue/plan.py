"""Planning a fresh (or completed) intent: refuse what needs no plan, ask for what is missing, read back
what must be, and carry out the rest through the intent's handler."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from voicebot.dialogue import ports, replies
from voicebot.dialogue.acts import Acts
from voicebot.dialogue.awaiting import Awaiting, Pending
from voicebot.dialogue.order_acts import OrderActs
from voicebot.dialogue.questions import Questions
from voicebot.dialogue.readback import ReadBack
from voicebot.dialogue.turn import Turn, TurnResult
from voicebot.intents import Intent
from voicebot.lang.packs import load_pack
from voicebot.logs import log_event
from voicebot.nlu.heard import Heard

ORDER_BY_NUMBER = frozenset({"mark_shipped", "confirm_order", "seller_cancel_order"})  # read back once found
Handler = Callable[[Intent], TurnResult]


class Plan:
    """An intent, complete or not, to a refusal, a question, a read-back or a committed change.

    ``handlers``: the intent handlers by name (``do_record_sale`` …); ``deny``: a no with nothing waiting."""

    def __init__(self, turn: Turn, ask: Questions, readback: ReadBack, acts: Acts, orders: OrderActs,
                 handlers: dict[str, Handler], deny: Callable[[Intent, Heard], TurnResult]) -> None:
        self.t, self.ask, self.readback, self.acts, self.orders = turn, ask, readback, acts, orders
        self.handlers, self.deny = handlers, deny

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
        if spec.role == "seller" and self.t.role != "seller":
            return self.t.result(self.t.say("not_allowed"), it, error_code="not_allowed")
        if kind == "confirm":
            return self.t.result(self.t.say("nothing_to_confirm"), it)
        if kind == "deny":
            return self.deny(it, self.t.reading(it.utterance))
        if kind == "undo":  # the yes to "撤销…，对吗？"
            return self.acts.undo(it)
        if spec.handler is None:
            named = ports.named_alone(it.utterance, self.t.lang, list(self.t.catalog)) if kind == "unknown" else None
            if named is not None:  # a product named alone: its price for a buyer, its stock for the seller
                return self.proceed(it.copy(name="ask_price" if self.t.role == "buyer" else "check_stock",
                                            product=named, product_known=True))
            return self.t.result(self.t.say("unknown"), it, error_code="unknown_intent")
        if kind == "attach_photo" and not self.t.state.get("photo_id"):
            return self.t.result(self.t.say("no_photo"), it, error_code="no_photo")
        name = it.product or it.spoken
        if name not in self.t.catalog and ports.name_too_long(name, self.t.lang):
            return self.t.result(self.t.say("name_unclear"), it, error_code="name_too_long")
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
                return self.ask.wait(it, Awaiting.PRODUCT, self.t.say(f"ask.product_{kind}"))
            if it.product in self.t.catalog:
                return self.existing_product(it)
        for slot in spec.required:
            if slot != "product" and getattr(it, slot) is None:
                return self.ask.slot(it, Awaiting.for_slot(slot))
        if it.quantity is not None and not ports.is_whole(it.quantity) and not self.readback.by_weight(it):
            # 半条手链: goods counted in pieces are never rounded into the shop; ask again
            return self.ask.wait(it.copy(quantity=None), Awaiting.QUANTITY, self.t.say("whole_only", product=it.product or "",
                                                                          unit=self.t.unit(it)))  # fmt: skip
        if spec.new_product and not it.new_ok:
            similar = ports.similar_products(it.product or "", self.t.lang, list(self.t.catalog))
            if not similar and self.t.voice:  # heard, not typed: 上架松蜜 may be 蜂蜜 with a wrong character
                similar = ports.one_character_off(it.product or "", self.t.lang, list(self.t.catalog))
            if similar:  # never a silent switch to the product she already has: ask
                options = replies.load_replies(self.t.lang)[load_pack(self.t.lang).choice_sep].join(
                    similar
                )
                question = self.t.say("ask.new_or_old", existing=options, product=it.product)
                return self.ask.wait(it, Awaiting.NEW_OR_OLD, question, candidates=similar)
        if kind == "cancel_order" and it.order_id is None:
            order = self.t.shop.latest_open_order(self.t.actor)
            if order is None:
                return self.orders.cancel_too_late(it)
            it = it.copy(order_id=order["id"], items=self.t.items_text(order))
        return it

    def carry_out(self, it: Intent) -> TurnResult:
        """A complete intent: refused for a price the shop would refuse, read back when it must be, else done."""
        kind = it.name
        if it.price is not None:  # the shop's one money parser, before a read-back of a price it would refuse
            try:
                ports.to_fen(ports.money(it.price))
            except ports.MoneyError as e:
                log_event("dialogue_bad_price", level=30, intent=kind, error=str(e))
                return self.t.result(self.t.say("bad_price"), it, error_code=e.code)
        if not it.confirmed and kind not in ORDER_BY_NUMBER and self.readback.needs_confirm(it):
            return self.ask.wait(it, Awaiting.CONFIRM, self.read_back(it))
        try:
            return self.handlers[it.spec.handler or ""](it)
        except ports.ShopError as e:
            log_event("dialogue_shop_error", level=30, intent=kind, error=f"{type(e).__name__}: {e}")
            return self.t.result(self.t.say("error"), it, error_code=getattr(e, "code", "shop_error"))

    def read_back(self, it: Intent) -> str:
        """The read-back question: the facts and "对吗？", or for a product only the last turn named, that
        product asked about ("您是要一个梨吗？")."""
        key = f"confirm_from_context.{it.name}"
        if it.from_context and replies.has(self.t.lang, key):
            unit = self.t.unit(it)
            return self.t.say(key, product=it.product or "", quantity=self.t.qty(it.quantity, unit))
        return self.t.say("confirm_question", summary=self.readback.summary(it))

    def resolve_product(self, it: Intent) -> Intent | TurnResult:
        """``it`` with its product a catalog name, or the turn that asks which one / says it is unknown."""
        if it.product in self.t.catalog:
            return it
        candidates = [c for c in it.candidates or () if c in self.t.catalog]
        if len(candidates) > 1:
            if it.name in ("ask_price", "ask_stock"):  # cheaper to answer for each than to ask
                return self.acts.answer_many(it, candidates)
            options = replies.load_replies(self.t.lang)["or"].join(candidates)
            return self.ask.wait(it, Awaiting.WHICH, self.t.say("ask.which", options=options), candidates=candidates)
        if len(candidates) == 1:
            return it.copy(product=candidates[0])
        if not it.product and not it.spoken:
            return self.ask.slot(it, Awaiting.PRODUCT)
        in_stock = [n for n, r in self.t.catalog.items() if r["stock"] > 0][:4]
        if self.t.role == "seller":
            key = "unknown_product_seller"
        else:  # a buyer hears what she can have instead, or that there is nothing yet
            key = "unknown_product" if in_stock else "unknown_product_empty"
        reply = self.t.say(
            key, spoken=it.product or it.spoken, unit=self.t.unit(it), names=replies.join(self.t.lang, in_stock))
        return self.t.result(reply, it, error_code="unknown_product")

    def existing_product(self, it: Intent) -> TurnResult:
        """ "上架核桃，三十五块，二十斤" for a product she has: say what the shop holds and ask whether to
        change the price / add the stock she said (her numbers, none invented); nothing to ask: just say it."""
        row, unit = self.t.catalog[it.product or ""], self.t.unit(it)
        facts = self.t.say("already_exists", product=it.product, old_price=self.t.price(row["price_fen"] / 100),
                         unit=unit, stock=self.t.qty(row["stock"], unit) if row["stock"] else self.t.say("none_left"))
        new_price = it.price is not None and ports.money(it.price) != ports.money(Decimal(row["price_fen"]) / 100)
        changes = []
        if new_price:
            changes.append(self.t.say("update_price", price=self.t.price(it.price)))
        if it.quantity:
            changes.append(self.t.say("update_stock", quantity=self.t.qty(it.quantity, unit)))
        if not changes:
            return self.t.result(facts, it, error_code="duplicate_product")
        update = it.copy(name="update_product", price=it.price if new_price else None)
        question = self.t.say("ask.update_product", changes=replies.join(self.t.lang, changes))
        self.t.state["pending"] = Pending(intent=update, awaiting=Awaiting.CONFIRM, question=question,
                                        expires=self.t.now + self.t.config.dialogue.pending_timeout_s)  # fmt: skip
        return self.t.result(replies.sentences(self.t.lang, facts, question), it, awaiting=Awaiting.CONFIRM)

