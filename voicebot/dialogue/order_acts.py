"""Orders by ear: each order has a short spoken number ("三号订单") and the buyer's name; sellers hear
every change a buyer makes (a new order, a cancel, an undo); shipping finds the order by number,
customer or product; the sales summary counts only confirmed sales."""

from __future__ import annotations

from typing import Any

from voicebot.dialogue import ports, replies
from voicebot.dialogue.replies import say
from voicebot.dialogue.turn import TurnBase, TurnResult
from voicebot.intents import Intent
from voicebot.nlu.packs import load_pack


class OrderActs(TurnBase):
    """``do_<intent>`` for the order intents, and the seller notifications."""

    # --- spoken order facts ---------------------------------------------------------------------

    def order_number(self, order_id: int, lang: str | None = None) -> str:
        return replies.ordinal(lang or self.lang, order_id)

    def order_ref(self, order: dict[str, Any], lang: str | None = None) -> str:
        """ "张三那单" when the buyer has a name, else "三号订单"."""
        lang = lang or self.lang
        name = order.get("customer_name") or ports.display_name(self.db, order.get("customer_id"))
        if name:
            return say(lang, "order_ref_named", customer=name)
        return say(lang, "order_ref", number=self.order_number(order["id"], lang))

    def lines_text(self, lang: str, items: list[dict[str, Any]]) -> str:
        """Order lines in ``lang`` ("两瓶蜂蜜")."""
        parts = []
        for line in items:
            unit = line.get("unit") or (self.catalog.get(line.get("name") or "") or {}).get("unit") or ""
            quantity = replies.quantity(lang, line.get("quantity"), unit or replies.default_unit(lang))
            parts.append(say(lang, "order_line", product=line.get("name") or "", quantity=quantity))
        return replies.join(lang, parts)

    def notify_sellers(self, key: str, order_id: int, items: list[dict[str, Any]], **fields: Any) -> list:
        """One voice message per seller, each in the seller's language."""
        buyer = ports.display_name(self.db, self.actor)
        out = []
        for channel, seller_id, seller_lang in ports.sellers(self.db, self.config, self.channel):
            extra = {
                k: (v(seller_lang) if callable(v) else v) for k, v in fields.items()
            }  # per-language fields (prices, quantities)
            text = say(
                seller_lang,
                key,
                customer=buyer or say(seller_lang, "someone"),
                number=self.order_number(order_id, seller_lang),
                items=self.lines_text(seller_lang, items),
                **extra,
            )
            out.append((channel, seller_id, replies.capitalized(seller_lang, text)))
        return out

    def order_item(self, order: dict[str, Any]) -> str:
        return self.say(
            "order_item",
            number=self.order_number(order["id"]),
            customer=order.get("customer_name")
            or ports.display_name(self.db, order.get("customer_id"))
            or self.say("someone"),
            items=self.items_text(order),
        )

    # --- seller --------------------------------------------------------------------------------

    def do_list_orders(self, it: Intent) -> TurnResult:
        orders = ports.orders_today(self.shop)
        if not orders:
            return self.result(self.say("no_orders"), it)
        items = [self.order_item(o) for o in reversed(orders)]  # oldest first, the way the day went
        return self.chunked(it, "list_orders", items, sep="order_sep", n=self.count_of(len(orders), "order"))

    def count_of(self, n: int, noun: str) -> str:
        """ "两单" / "two orders"."""
        return replies.counted(self.lang, n, noun)

    def do_sales_summary(self, it: Intent) -> TurnResult:
        period = it.period or "today"
        s = ports.sales(self.shop, period)
        spoken_period = replies.load_replies(self.lang)["periods"].get(period, period)
        if not s["count"]:
            reply = self.say("no_sales", period=spoken_period)
        else:
            reply = self.say(
                "sales_summary",
                period=spoken_period,
                count=self.count_of(s["count"], "order"),
                revenue=self.price(s["revenue_fen"] / 100),
            )
        if s["waiting"]:  # buyers' orders she has not confirmed are not sales yet
            waiting = self.say("orders_waiting", count=self.count_of(s["waiting"], "order"))
            reply = replies.sentences(self.lang, reply, waiting)
        return self.result(reply, it)

    def do_mark_shipped(self, it: Intent) -> TurnResult:
        text = it.utterance
        number = self.spoken_order_number(it.customer or text)
        if number is not None:
            order = ports.open_order(self.db, number)
            if order is None:
                reply = self.say("no_such_order", number=self.order_number(number))
                return self.result(reply, it, error_code="no_order")
            return self.ship(it, order)
        if it.customer:
            order = ports.ship_latest_for_name(self.shop, it.customer, self.actor)
            if order is None:
                reply = self.say("no_customer_order", customer=it.customer)
                return self.result(reply, it, error_code="no_order")
            return self.shipped(it, order)
        product = ports.match_product(text, self.lang, list(self.catalog)) if text else None
        if product is None:
            return self.ask_slot(it, "customer")
        having = [o for o in ports.open_orders(self.db) if any(i["name"] == product for i in o["items"])]
        if len(having) == 1:
            return self.ship(it, having[0])
        if not having:
            return self.result(self.say("no_product_order", product=product), it, error_code="no_order")
        options = replies.join(self.lang, [self.order_item(o) for o in having[:3]], "order_sep")
        return self.wait(it, "customer", self.say("ask.which_order", options=options))

    def spoken_order_number(self, text: str) -> int | None:
        """三号 / 3号订单 / order three / number three: the spoken order number, or None."""
        pack = load_pack(self.lang)
        said = text.lower().replace(" ", "") if pack.script == "cjk" else text.lower()
        m = pack.order_number.search(said) if pack.order_number else None
        if m is None:
            return None
        parsed = ports.parse_number(m.group(1), self.lang, "quantity")
        return int(parsed[0]) if parsed and parsed[0] == int(parsed[0]) and parsed[0] > 0 else None

    def ship(self, it: Intent, order: dict[str, Any]) -> TurnResult:
        return self.shipped(it, self.shop.ship_order(order["id"], self.actor))

    def shipped(self, it: Intent, order: dict[str, Any]) -> TurnResult:
        it = it.copy(order=self.order_ref(order))  # for "刚才记了：张三那单发货了"
        reply = self.say("done.mark_shipped", order=self.order_ref(order), items=self.items_text(order))
        return self.committed(reply, it)

    # --- buyer ---------------------------------------------------------------------------------

    def do_place_order(self, it: Intent) -> TurnResult:
        unit = self.unit(it)
        try:
            order = self.shop.place_order(it.product, ports.whole(it.quantity), self.actor)
        except ports.OutOfStock as e:
            return self.out_of_stock(it, e)  # type: ignore[attr-defined]
        total = order["total_fen"] / 100
        reply = self.say(
            "done.place_order",
            product=it.product,
            quantity=self.qty(it.quantity, unit),
            total=self.price(total),
            number=self.order_number(order["id"]),
        )
        notify = self.notify_sellers(
            "seller_new_order",
            order["id"],
            order["items"],
            total=lambda lang: replies.price(lang, total, self.config.shop.currency),
        )
        return self.committed(reply, it, notify=notify, photo_product=self.photo_of(it.product))

    def do_order_status(self, it: Intent) -> TurnResult:
        orders = ports.recent_orders(self.db, self.actor)
        if not orders:
            return self.result(self.say("no_order"), it)
        status = replies.load_replies(self.lang)["status"]
        if len(orders) == 1:
            order = orders[0]
            reply = self.say(
                "order_status",
                items=self.items_text(order),
                status=status.get(order["status"], order["status"]),
            )
            return self.result(reply, it)
        items = [
            self.say(
                "order_status_item",
                number=self.order_number(o["id"]),
                items=self.items_text(o),
                status=status.get(o["status"], o["status"]),
            )
            for o in orders
        ]
        return self.chunked(it, "my_orders", items, sep="order_sep", n=self.count_of(len(orders), "order"))

    def do_cancel_order(self, it: Intent) -> TurnResult:
        order = self.shop.cancel_order(it.order_id, self.actor)
        reply = self.say("done.cancel_order", items=it.items or "")
        notify = self.notify_sellers("seller_order_cancelled", order["id"], order["items"])
        return self.committed(reply, it, notify=notify)

    def buyer_undo_notice(self, kind: str, data: dict[str, Any]) -> list:
        """A buyer's undo changes an order: the sellers hear it."""
        if self.role == "seller":
            return []
        if kind == "create_order":
            return self.notify_sellers("seller_order_withdrawn", data["order_id"], data.get("items") or [])
        if kind == "set_status" and (data.get("after") or {}).get("status") == "cancelled":
            order = self.shop.get_order(data["order_id"]) or {"items": []}
            return self.notify_sellers("seller_order_restored", data["order_id"], order["items"])
        return []
