"""Orders by ear: each order has a short spoken number ("三号订单") and the buyer's name; sellers hear
every change a buyer makes (a new order, a cancel, an undo); shipping finds the order by number,
customer or product; the sales summary counts only confirmed sales."""

from __future__ import annotations

from typing import Any

from voicebot.dialogue import ports, replies
from voicebot.dialogue.awaiting import Awaiting
from voicebot.dialogue.questions import Questions
from voicebot.dialogue.readback import ReadBack
from voicebot.dialogue.replies import say
from voicebot.dialogue.turn import Turn, TurnResult
from voicebot.intents import Intent
from voicebot.lang import language
from voicebot.lang.packs import load_pack


class OrderActs:
    """``do_<intent>`` for the order intents, and the seller notifications."""

    def __init__(self, turn: Turn, ask: Questions, readback: ReadBack) -> None:
        self.t, self.ask, self.readback = turn, ask, readback

    # --- spoken order facts ---------------------------------------------------------------------

    def order_number(self, number: int, lang: str | None = None) -> str:
        """The shop's order ``number`` (``orders.number``, never the village-wide id) as said: "三"."""
        return replies.ordinal(lang or self.t.lang, number)

    def order_ref(self, order: dict[str, Any], lang: str | None = None) -> str:
        """ "张三那单" when the buyer has a name, else "三号订单"."""
        lang = lang or self.t.lang
        name = order.get("customer_name") or ports.display_name(self.t.db, order.get("customer_id"))
        if name:
            return say(lang, "order_ref_named", customer=name)
        return say(lang, "order_ref", number=self.order_number(order["number"], lang))

    def lines_text(self, lang: str, items: list[dict[str, Any]]) -> str:
        """Order lines in ``lang`` ("两瓶蜂蜜")."""
        parts = []
        for line in items:
            unit = line.get("unit") or (self.t.catalog.get(line.get("name") or "") or {}).get("unit") or ""
            quantity = replies.quantity(lang, line.get("quantity"), unit or replies.default_unit(lang))
            parts.append(say(lang, "order_line", product=line.get("name") or "", quantity=quantity))
        return replies.join(lang, parts)

    def notify_sellers(self, key: str, number: int, items: list[dict[str, Any]], **fields: Any) -> list:
        """One voice message per seller, each in the seller's language, about the shop's order ``number``."""
        buyer = ports.display_name(self.t.db, self.t.actor)
        out = []
        for channel, seller_id, seller_lang in ports.sellers(self.t.db, self.t.config, self.t.channel):
            extra = {
                k: (v(seller_lang) if callable(v) else v) for k, v in fields.items()
            }  # per-language fields (prices, quantities)
            text = say(
                seller_lang,
                key,
                customer=buyer or say(seller_lang, "someone"),
                number=self.order_number(number, seller_lang),
                items=self.lines_text(seller_lang, items),
                **extra,
            )
            out.append((channel, seller_id, replies.capitalized(seller_lang, text)))
        return out

    def order_item(self, order: dict[str, Any]) -> str:
        """ "三号，张三，蜂蜜两瓶"; without a name just "三号，蜂蜜两瓶" (never 「一位顾客」 once per order)."""
        name = order.get("customer_name") or ports.display_name(self.t.db, order.get("customer_id"))
        number, items = self.order_number(order["number"]), self.t.items_text(order)
        if not name:
            return self.t.say("order_item_anon", number=number, items=items)
        return self.t.say("order_item", number=number, customer=name, items=items)

    # --- seller --------------------------------------------------------------------------------

    def do_list_orders(self, it: Intent) -> TurnResult:
        orders = ports.orders_today(self.t.shop)
        if not orders:
            return self.t.result(self.t.say("no_orders"), it)
        items = [self.order_item(o) for o in reversed(orders)]  # oldest first, the way the day went
        return self.ask.chunked(it, "list_orders", items, sep="order_sep", n=self.count_of(len(orders), "order"))

    def count_of(self, n: int, noun: str) -> str:
        """ "两单" / "two orders"."""
        return replies.counted(self.t.lang, n, noun)

    def do_sales_summary(self, it: Intent) -> TurnResult:
        period = it.period or "today"
        s = ports.sales(self.t.shop, period)
        spoken_period = replies.load_replies(self.t.lang)["periods"].get(period, period)
        if not s["count"]:
            reply = self.t.say("no_sales", period=spoken_period)
        else:
            reply = self.t.say(
                "sales_summary",
                period=spoken_period,
                count=self.count_of(s["count"], "order"),
                revenue=self.t.price(s["revenue_fen"] / 100),
            )
        if s["waiting"]:  # buyers' orders she has not confirmed are not sales yet
            waiting = self.t.say(
                "orders_waiting", count=self.count_of(s["waiting"], "order"),
                number=self.order_number(s["first_waiting"]),
            )  # fmt: skip
            reply = replies.sentences(self.t.lang, reply, waiting)
        return self.t.result(reply, it)

    def do_mark_shipped(self, it: Intent) -> TurnResult:
        found = self.find_order(it)
        return found if isinstance(found, TurnResult) else self.act_on_order(it, found)

    def do_confirm_order(self, it: Intent) -> TurnResult:
        found = self.find_order(it, statuses=("pending",))
        return found if isinstance(found, TurnResult) else self.act_on_order(it, found)

    def do_seller_cancel_order(self, it: Intent) -> TurnResult:
        found = self.find_order(it)
        return found if isinstance(found, TurnResult) else self.act_on_order(it, found)

    def find_order(
        self, it: Intent, statuses: tuple[str, ...] = ports.OPEN_STATUSES
    ) -> dict[str, Any] | TurnResult:
        """The order a seller's command is about: by the number she said (三号订单), the buyer's name,
        a product only one such order has, or the only one there is; else a question or a short error."""
        if it.order_id is not None:  # found before the read-back: still in a state to act on?
            order = self.t.shop.get_order(it.order_id)
            if order is not None and order["status"] in statuses:
                return order
            if order is None:  # gone meanwhile (undone): never act on another order without asking
                return self.t.result(self.t.say("no_open_orders"), it, error_code="no_order")
            return self.order_not_open(it, order["number"], order)
        number = self.spoken_order_number(it.customer or it.utterance)
        if number is not None:  # the number she heard is her shop's, never another shop's order
            order = self.t.shop.order_by_number(number)
            if order is None or order["status"] not in statuses:
                return self.order_not_open(it, number, order)
            return order
        if it.customer:
            order = ports.open_order_for_name(self.t.shop, it.customer, statuses)
            if order is None:
                reply = self.t.say("no_customer_order", customer=it.customer)
                return self.t.result(reply, it, error_code="no_order")
            return order
        candidates = [o for o in ports.open_orders(self.t.db) if o["status"] in statuses]
        text = it.utterance
        product = self.t.reading(text).product(list(self.t.catalog)) if text else None
        if product is not None:
            having = [o for o in candidates if any(i["name"] == product for i in o["items"])]
            if not having:
                return self.t.result(self.t.say("no_product_order", product=product), it, error_code="no_order")
            candidates = having
        elif it.name == "mark_shipped":
            return self.ask.slot(it, Awaiting.CUSTOMER)
        elif not candidates:
            return self.t.result(self.t.say("no_open_orders"), it, error_code="no_order")
        if len(candidates) == 1:
            return candidates[0]
        options = replies.join(self.t.lang, [self.order_item(o) for o in candidates[:3]], "order_sep")
        return self.ask.wait(it, Awaiting.CUSTOMER, self.t.say("ask.which_order", options=options))

    def order_not_open(self, it: Intent, number: int, order: dict[str, Any] | None) -> TurnResult:
        """三号订单 is not one this command can act on: say what it is instead."""
        spoken = self.order_number(number)
        if order is None:
            reply = self.t.say("no_such_order_number", number=spoken)
        elif it.name == "mark_shipped" and order["status"] in ("cancelled", "done"):
            reply = self.t.say("no_such_order", number=spoken)
        else:
            status = replies.load_replies(self.t.lang)["status"]
            reply = self.t.say("order_is", number=spoken, status=status.get(order["status"], order["status"]))
        return self.t.result(reply, it, error_code="no_order")

    def act_on_order(self, it: Intent, order: dict[str, Any]) -> TurnResult:
        """Ship, confirm or cancel the order found; read back first when asked to (unsure, or a cancel)."""
        it = it.copy(order_id=order["id"], order=self.order_ref(order), items=self.t.items_text(order))
        if not it.confirmed and self.readback.needs_confirm(it):
            question = self.t.say("confirm_question", summary=self.readback.summary(it))
            return self.ask.wait(it, Awaiting.CONFIRM, question)
        if it.name == "mark_shipped":
            return self.shipped(it, self.t.shop.ship_order(order["id"], self.t.actor))
        if it.name == "confirm_order":
            done = self.t.shop.set_order_status(order["id"], "confirmed", self.t.actor)
            reply = self.t.say("done.confirm_order", order=it.order, items=it.items)
            return self.t.committed(reply, it, notify=self.notify_buyer(done, "buyer_order_confirmed"))
        done = self.t.shop.cancel_order(order["id"], self.t.actor)
        reply = self.t.say("done.seller_cancel_order", order=it.order, items=it.items)
        return self.t.committed(reply, it, notify=self.notify_buyer(done, "buyer_order_cancelled"))

    def notify_buyer(self, order: dict[str, Any], key: str) -> list:
        """The buyer of ``order`` hears what the seller did with it (nobody for a sale she recorded)."""
        to = ports.buyer_address(self.t.db, order.get("customer_id"))
        if to is None or order.get("created_by") != "buyer":
            return []
        channel, user_id, lang = to
        lang = lang or self.t.lang
        text = say(lang, key, number=self.order_number(order["number"], lang), items=self.lines_text(lang, order["items"]))
        return [(channel, user_id, replies.capitalized(lang, text))]

    def spoken_order_number(self, text: str) -> int | None:
        """三号 / 3号订单 / order three / number three: the spoken order number, or None."""
        pack = load_pack(self.t.lang)
        said = language(self.t.lang).unspaced(text)
        m = pack.order_number.search(said) if pack.order_number else None
        if m is None:
            return None
        parsed = ports.parse_number(m.group(1), self.t.lang, "quantity")
        return int(parsed[0]) if parsed and parsed[0] == int(parsed[0]) and parsed[0] > 0 else None

    def shipped(self, it: Intent, order: dict[str, Any]) -> TurnResult:
        it = it.copy(order=self.order_ref(order))  # for "刚才记了：张三那单发货了"
        reply = self.t.say("done.mark_shipped", order=self.order_ref(order), items=self.t.items_text(order))
        return self.t.committed(reply, it, notify=self.notify_buyer(order, "buyer_order_shipped"))

    # --- buyer ---------------------------------------------------------------------------------

    def do_place_order(self, it: Intent) -> TurnResult:
        unit = self.t.unit(it)
        try:
            order = self.t.shop.place_order(it.product, ports.amount(it.quantity), self.t.actor)
        except ports.OutOfStock as e:
            return self.t.out_of_stock(it, e)
        except ports.TooManyPending as e:
            return self.t.result(self.t.say("too_many_pending", count=replies.count(self.t.lang, e.orders)), it,
                               error_code="too_many_pending")
        total = order["total_fen"] / 100
        reply = self.t.say(
            "done.place_order",
            product=it.product,
            quantity=self.t.qty(it.quantity, unit),
            total=self.t.price(total),
            number=self.order_number(order["number"]),
        )
        replaced = self.t.replacing_order  # a buyer's "不对，是一瓶": the same order, changed
        notify = self.notify_sellers(
            "seller_order_changed" if replaced else "seller_new_order",
            order["number"],
            order["items"],
            total=lambda lang: replies.price(lang, total, self.t.config.shop.currency),
        )
        return self.t.committed(reply, it, notify=notify, photo_product=self.t.photo_of(it.product))

    def do_order_status(self, it: Intent) -> TurnResult:
        orders = ports.recent_orders(self.t.db, self.t.actor)
        if not orders:
            return self.t.result(self.t.say("no_order"), it)
        status = replies.load_replies(self.t.lang)["status"]
        if len(orders) == 1:
            order = orders[0]
            reply = self.t.say(
                "order_status",
                items=self.t.items_text(order),
                status=status.get(order["status"], order["status"]),
            )
            return self.t.result(reply, it)
        items = [
            self.t.say(
                "order_status_item",
                number=self.order_number(o["number"]),
                items=self.t.items_text(o),
                status=status.get(o["status"], o["status"]),
            )
            for o in orders
        ]
        return self.ask.chunked(it, "my_orders", items, sep="order_sep", n=self.count_of(len(orders), "order"))

    def do_cancel_order(self, it: Intent) -> TurnResult:
        order = self.t.shop.cancel_order(it.order_id, self.t.actor)
        reply = self.t.say("done.cancel_order", items=it.items or "")
        notify = self.notify_sellers("seller_order_cancelled", order["number"], order["items"])
        return self.t.committed(reply, it, notify=notify)

    def cancel_too_late(self, it: Intent) -> TurnResult:
        """A buyer cancels an order that has no open order left: say where it is; tell the seller of a
        request about an order already on its way."""
        order = ports.latest_order(self.t.db, self.t.actor)
        if order is None or order["status"] not in ("shipped", "done"):
            return self.t.result(self.t.say("no_order"), it, error_code="no_order")
        reply = self.t.say("cancel_too_late", number=self.order_number(order["number"]), items=self.t.items_text(order))
        notify = self.notify_sellers("seller_cancel_request", order["number"], order["items"])
        return self.t.result(reply, it, error_code="order_shipped", notify=notify)

    def buyer_undo_notice(self, kind: str, data: dict[str, Any]) -> list:
        """A buyer's undo changes an order: the sellers hear it."""
        if self.t.role == "seller":
            return []
        if kind == "create_order":  # the order is gone; its number is in the action
            return self.notify_sellers("seller_order_withdrawn", ports.action_order_number(data),
                                       data.get("items") or [])
        if kind == "set_status" and (data.get("after") or {}).get("status") == "cancelled":
            order = self.t.shop.get_order(data["order_id"]) or {"items": [], "number": ports.action_order_number(data)}
            return self.notify_sellers("seller_order_restored", order["number"], order["items"])
        return []
