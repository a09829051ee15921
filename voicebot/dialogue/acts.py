"""What the catalog intents do to the shop (and undo), and the spoken answer that repeats the facts; the
orders' intents are order_acts.py's, relative stock and price changes stock_acts.py's."""

from __future__ import annotations

from typing import Any

from voicebot.dialogue import ports, replies
from voicebot.dialogue.awaiting import Awaiting
from voicebot.dialogue.order_acts import OrderActs
from voicebot.dialogue.questions import Questions, load_end
from voicebot.dialogue.readback import ReadBack
from voicebot.dialogue.turn import Turn, TurnResult
from voicebot.intents import Intent
from voicebot.logs import log_event


class Acts:
    """``do_<intent>`` for the catalog, stock and sales a seller says and the questions a buyer asks, plus undo."""

    def __init__(self, turn: Turn, ask: Questions, orders: OrderActs, readback: ReadBack) -> None:
        self.t, self.ask, self.orders, self.readback = turn, ask, orders, readback

    # --- undo ----------------------------------------------------------------------------------

    def undo(self, it: Intent) -> TurnResult:
        try:
            done = self.t.shop.undo(self.t.actor)
        except ports.NothingToUndo:
            return self.t.result(self.t.say("nothing_to_undo"), it, error_code="nothing_to_undo")
        except ports.ShopError as e:
            log_event("dialogue_undo_failed", level=30, error=f"{type(e).__name__}: {e}")
            return self.t.result(self.t.say("error"), it, error_code=getattr(e, "code", "undo_conflict"))
        what = self.undo_what(done.kind, done.data)
        notify = self.orders.buyer_undo_notice(done.kind, done.data)
        reply = self.t.say("undone", what=what)
        return self.t.result(reply, it, action_id=done.action_id, committed=True, notify=notify)

    def ask_undo(self, it: Intent) -> TurnResult:
        """撤销 heard unsure: name what would be undone and wait for a yes."""
        last = ports.last_action(self.t.db, self.t.actor)
        if last is None:
            return self.t.result(self.t.say("nothing_to_undo"), it, error_code="nothing_to_undo")
        done = self.t.state.get("last_done") or {}
        what = done.get("summary") if done.get("action_id") == last["id"] else None
        question = self.t.say("confirm_undo", what=what or self.t.say("undo_what.other"))
        return self.ask.wait(it, Awaiting.CONFIRM, question)

    def undo_what(self, kind: str, data: dict[str, Any]) -> str:
        name = data.get("name") or ""
        stock = ports.stock_of(self.t.db, data.get("product_id"))
        unit = self.t.unit(product=name)
        if kind == "set_price":
            return self.t.say(
                "undo_what.set_price", product=name, price=self.t.price(data["before"]["price_fen"] / 100)
            )
        if kind == "adjust_stock":
            return self.t.say("undo_what.adjust_stock", product=name, stock=self.t.qty(stock, unit))
        if kind in ("add_product", "remove_product", "attach_photo"):
            return self.t.say(f"undo_what.{kind}", product=name)
        if kind == "create_order":
            items = data.get("items") or [{}]
            first = items[0]
            name = first.get("name", "")
            unit = self.t.unit(product=name)
            after = ports.stock_of(self.t.db, first.get("product_id"))
            key = "undo_what.record_sale" if self.t.role == "seller" else "undo_what.place_order"
            return self.t.say(
                key, product=name, quantity=self.t.qty(first.get("quantity"), unit), stock=self.t.qty(after, unit)
            )
        if kind == "set_status":
            status = (data.get("after") or {}).get("status")
            order = self.t.shop.get_order(data["order_id"]) or {"number": ports.action_order_number(data)}
            if status == "cancelled":
                return self.t.say("undo_what.cancel_order", order=self.orders.order_ref(order))
            if status == "shipped":
                return self.t.say("undo_what.mark_shipped", order=self.orders.order_ref(order))
        return self.t.say("undo_what.other")

    # --- seller actions ------------------------------------------------------------------------

    def do_add_product(self, it: Intent) -> TurnResult:
        unit = it.unit or replies.default_unit(self.t.lang)
        self.t.shop.add_product(it.product, ports.money(it.price), ports.amount(it.quantity), unit, self.t.actor)
        reply = self.t.say(
            "done.add_product",
            product=it.product,
            price=self.t.price(it.price),
            quantity=self.t.qty(it.quantity, unit),
        )
        return self.t.committed(reply, it)

    def do_set_price(self, it: Intent) -> TurnResult:
        self.t.shop.set_price(it.product, ports.money(it.price), self.t.actor)
        reply = self.t.say("done.set_price", product=it.product, price=self.t.price(it.price))
        return self.t.committed(reply, it)

    def do_add_stock(self, it: Intent) -> TurnResult:
        row = self.t.shop.adjust_stock(it.product, ports.amount(it.quantity), self.t.actor)
        unit = self.t.unit(it)
        reply = self.t.say(
            "done.add_stock",
            product=it.product,
            quantity=self.t.qty(it.quantity, unit),
            stock=self.t.qty(row["stock"], unit),
        )
        return self.t.committed(reply, it)

    def do_check_stock(self, it: Intent) -> TurnResult:
        if it.product:
            row = self.t.catalog[it.product]
            if row["stock"] <= 0:
                return self.t.result(self.t.say("sold_out", product=it.product), it)
            reply = self.t.say(
                "stock_is", product=it.product, quantity=self.t.qty(row["stock"], self.t.unit(it))
            )
            return self.t.result(reply, it)
        if not self.t.catalog:
            return self.t.result(self.t.say("no_products"), it)
        rows = sorted(self.t.catalog.values(), key=lambda r: r["stock"])  # the lowest first: what to restock
        items = [
            self.t.say(
                "item_stock",
                product=r["name"],
                quantity=self.t.qty(r["stock"], self.t.unit(product=r["name"]))
                if r["stock"] > 0
                else self.t.say("none_left"),
            )
            for r in rows
        ]
        return self.ask.chunked(it, "shop_stock", items)

    def do_record_sale(self, it: Intent) -> TurnResult:
        customer_id = self.t.shop.customer_for_name(it.customer)["id"] if it.customer else None
        unit = self.t.unit(it)
        try:
            price = self.readback.sale_unit_price(it)
            total = ports.money(it.price) if it.total and it.price is not None else None  # 一共一百块 is ¥100
            order = self.t.shop.record_sale(
                it.product, ports.amount(it.quantity), customer_id, price, self.t.actor, total=total
            )
        except ports.OutOfStock as e:
            return self.t.out_of_stock(it, e)
        stock = ports.stock_of(self.t.db, self.t.catalog[it.product]["id"])
        fields = (
            {"to_customer": self.t.say("summary.to_customer", customer=it.customer)}
            if it.customer
            else {}
        )
        reply = self.t.say(
            "done.record_sale",
            product=it.product,
            quantity=self.t.qty(it.quantity, unit),
            total=self.t.price(order["total_fen"] / 100),
            left=self.t.left(stock, unit),
            **fields,
        )
        return self.t.committed(reply, it)

    def do_attach_photo(self, it: Intent) -> TurnResult:
        self.t.shop.attach_photo(it.product, self.t.state["photo_id"], self.t.actor)
        self.t.state["photo_id"] = None
        return self.t.committed(
            self.t.say("done.attach_photo", product=it.product), it, photo_product=it.product
        )

    def do_remove_product(self, it: Intent) -> TurnResult:
        self.t.shop.remove_product(it.product, self.t.actor)
        return self.t.committed(self.t.say("done.remove_product", product=it.product), it)

    # --- buyer actions -------------------------------------------------------------------------

    def do_list_products(self, it: Intent) -> TurnResult:
        if not self.t.catalog:
            return self.t.result(self.t.say("no_products"), it)
        rows = [r for r in self.t.catalog.values() if r["stock"] > 0] or list(self.t.catalog.values())
        items = [
            self.t.say("item_price", product=r["name"], price=self.t.price(r["price_fen"] / 100)) for r in rows
        ]
        return self.ask.chunked(it, "list_products", items, names=[r["name"] for r in rows])

    def do_ask_price(self, it: Intent) -> TurnResult:
        row = self.t.catalog[it.product]
        reply = self.t.say(
            "price_is", product=it.product, price=self.t.price(row["price_fen"] / 100), unit=self.t.unit(it)
        )
        return self.t.result(reply, it, photo_product=self.t.photo_of(it.product))

    def do_ask_stock(self, it: Intent) -> TurnResult:
        row = self.t.catalog[it.product]
        if row["stock"] <= 0:
            return self.t.result(self.t.say("sold_out", product=it.product), it)
        reply = self.t.say(
            "buyer_stock_is", product=it.product, quantity=self.t.qty(row["stock"], self.t.unit(it))
        )
        return self.t.result(reply, it, photo_product=self.t.photo_of(it.product))

    def answer_many(self, it: Intent, names: list[str]) -> TurnResult:
        """The price (or stock) of each of several products the words could mean: cheaper than asking."""
        if it.name == "ask_price":
            parts = [
                self.t.say("item_price", product=n, price=self.t.price(self.t.catalog[n]["price_fen"] / 100))
                for n in names
            ]
        else:
            parts = [
                self.t.say(
                    "item_stock", product=n, quantity=self.t.qty(self.t.catalog[n]["stock"], self.t.unit(product=n))
                )
                for n in names
            ]
        return self.t.result(replies.join(self.t.lang, parts) + load_end(self.t.lang), it)
