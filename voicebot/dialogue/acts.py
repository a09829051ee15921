"""What each intent does to the shop, and the spoken answer that repeats the facts."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from voicebot.dialogue import ports, replies
from voicebot.dialogue.awaiting import Awaiting
from voicebot.dialogue.stock_acts import StockActs
from voicebot.dialogue.turn import TurnResult
from voicebot.intents import Intent
from voicebot.logs import log_event


class Acts(StockActs):
    """``do_<intent>`` for every intent the dialogue can carry out, plus undo."""

    # --- undo ----------------------------------------------------------------------------------

    def undo(self, it: Intent) -> TurnResult:
        try:
            done = self.shop.undo(self.actor)
        except ports.NothingToUndo:
            return self.result(self.say("nothing_to_undo"), it, error_code="nothing_to_undo")
        except ports.ShopError as e:
            log_event("dialogue_undo_failed", level=30, error=f"{type(e).__name__}: {e}")
            return self.result(self.say("error"), it, error_code=getattr(e, "code", "undo_conflict"))
        what = self.undo_what(done.kind, done.data)
        notify = self.buyer_undo_notice(done.kind, done.data)
        reply = self.say("undone", what=what)
        return self.result(reply, it, action_id=done.action_id, committed=True, notify=notify)

    def ask_undo(self, it: Intent) -> TurnResult:
        """撤销 heard unsure: name what would be undone and wait for a yes."""
        last = ports.last_action(self.db, self.actor)
        if last is None:
            return self.result(self.say("nothing_to_undo"), it, error_code="nothing_to_undo")
        done = self.state.get("last_done") or {}
        what = done.get("summary") if done.get("action_id") == last["id"] else None
        question = self.say("confirm_undo", what=what or self.say("undo_what.other"))
        return self.wait(it, Awaiting.CONFIRM, question)

    def undo_what(self, kind: str, data: dict[str, Any]) -> str:
        name = data.get("name") or ""
        stock = ports.stock_of(self.db, data.get("product_id"))
        unit = self.unit(product=name)
        if kind == "set_price":
            return self.say(
                "undo_what.set_price", product=name, price=self.price(data["before"]["price_fen"] / 100)
            )
        if kind == "adjust_stock":
            return self.say("undo_what.adjust_stock", product=name, stock=self.qty(stock, unit))
        if kind in ("add_product", "remove_product", "attach_photo"):
            return self.say(f"undo_what.{kind}", product=name)
        if kind == "create_order":
            items = data.get("items") or [{}]
            first = items[0]
            name = first.get("name", "")
            unit = self.unit(product=name)
            after = ports.stock_of(self.db, first.get("product_id"))
            key = "undo_what.record_sale" if self.role == "seller" else "undo_what.place_order"
            return self.say(
                key, product=name, quantity=self.qty(first.get("quantity"), unit), stock=self.qty(after, unit)
            )
        if kind == "set_status":
            status = (data.get("after") or {}).get("status")
            order = self.shop.get_order(data["order_id"]) or {"number": ports.action_order_number(data)}
            if status == "cancelled":
                return self.say("undo_what.cancel_order", order=self.order_ref(order))
            if status == "shipped":
                return self.say("undo_what.mark_shipped", order=self.order_ref(order))
        return self.say("undo_what.other")

    # --- seller actions ------------------------------------------------------------------------

    def do_add_product(self, it: Intent) -> TurnResult:
        unit = it.unit or replies.default_unit(self.lang)
        self.shop.add_product(it.product, ports.money(it.price), ports.amount(it.quantity), unit, self.actor)
        reply = self.say(
            "done.add_product",
            product=it.product,
            price=self.price(it.price),
            quantity=self.qty(it.quantity, unit),
        )
        return self.committed(reply, it)

    def do_set_price(self, it: Intent) -> TurnResult:
        self.shop.set_price(it.product, ports.money(it.price), self.actor)
        reply = self.say("done.set_price", product=it.product, price=self.price(it.price))
        return self.committed(reply, it)

    def do_add_stock(self, it: Intent) -> TurnResult:
        row = self.shop.adjust_stock(it.product, ports.amount(it.quantity), self.actor)
        unit = self.unit(it)
        reply = self.say(
            "done.add_stock",
            product=it.product,
            quantity=self.qty(it.quantity, unit),
            stock=self.qty(row["stock"], unit),
        )
        return self.committed(reply, it)

    def do_check_stock(self, it: Intent) -> TurnResult:
        if it.product:
            row = self.catalog[it.product]
            if row["stock"] <= 0:
                return self.result(self.say("sold_out", product=it.product), it)
            reply = self.say(
                "stock_is", product=it.product, quantity=self.qty(row["stock"], self.unit(it))
            )
            return self.result(reply, it)
        if not self.catalog:
            return self.result(self.say("no_products"), it)
        rows = sorted(self.catalog.values(), key=lambda r: r["stock"])  # the lowest first: what to restock
        items = [
            self.say(
                "item_stock",
                product=r["name"],
                quantity=self.qty(r["stock"], self.unit(product=r["name"]))
                if r["stock"] > 0
                else self.say("none_left"),
            )
            for r in rows
        ]
        return self.chunked(it, "shop_stock", items)

    def do_record_sale(self, it: Intent) -> TurnResult:
        customer_id = self.shop.customer_for_name(it.customer)["id"] if it.customer else None
        unit = self.unit(it)
        try:
            price = self.sale_unit_price(it)
            total = ports.money(it.price) if it.total and it.price is not None else None  # 一共一百块 is ¥100
            order = self.shop.record_sale(
                it.product, ports.amount(it.quantity), customer_id, price, self.actor, total=total
            )
        except ports.OutOfStock as e:
            return self.out_of_stock(it, e)
        stock = ports.stock_of(self.db, self.catalog[it.product]["id"])
        fields = (
            {"to_customer": self.say("summary.to_customer", customer=it.customer)}
            if it.customer
            else {}
        )
        reply = self.say(
            "done.record_sale",
            product=it.product,
            quantity=self.qty(it.quantity, unit),
            total=self.price(order["total_fen"] / 100),
            left=self.left(stock, unit),
            **fields,
        )
        return self.committed(reply, it)

    def left(self, stock: int | None, unit: str) -> str:
        """ "还剩十条" / "卖完了": never "零条"."""
        if not stock:
            return self.say("none_left")
        return self.say("left", quantity=self.qty(stock, unit))

    def sale_unit_price(self, it: Intent) -> str | None:
        """The unit price of a sale said with a price: "两条卖了三百六" is a total, "一条一百八" a unit
        price; take whichever reading is closer to the catalog price (the reply reads the total back)."""
        if it.price is None:
            return None
        spoken, quantity = Decimal(str(it.price)), ports.exact_amount(it.quantity)
        if it.total:  # 一共一百块: the price is for all of them
            return str((spoken / quantity).quantize(Decimal("0.01")))
        catalog = Decimal(self.catalog[it.product]["price_fen"]) / 100
        per_unit = spoken / quantity
        if quantity != 1 and catalog > 0 and per_unit == per_unit.quantize(Decimal("0.01")):
            distance = lambda p: abs(math.log(float(p / catalog))) if p > 0 else math.inf  # noqa: E731
            if distance(per_unit) < distance(spoken):
                return str(per_unit.quantize(Decimal("0.01")))
        return ports.money(spoken)

    def out_of_stock(self, it: Intent, e: Exception) -> TurnResult:
        available = getattr(e, "available", 0)
        key = "out_of_stock" if available > 0 else "sold_out_order"
        reply = self.say(
            key, product=it.product, available=replies.count(self.lang, available), unit=self.unit(it)
        )
        return self.result(reply, it, error_code="out_of_stock")

    def do_attach_photo(self, it: Intent) -> TurnResult:
        self.shop.attach_photo(it.product, self.state["photo_id"], self.actor)
        self.state["photo_id"] = None
        return self.committed(
            self.say("done.attach_photo", product=it.product), it, photo_product=it.product
        )

    def do_remove_product(self, it: Intent) -> TurnResult:
        self.shop.remove_product(it.product, self.actor)
        return self.committed(self.say("done.remove_product", product=it.product), it)

    # --- buyer actions -------------------------------------------------------------------------

    def do_list_products(self, it: Intent) -> TurnResult:
        if not self.catalog:
            return self.result(self.say("no_products"), it)
        rows = [r for r in self.catalog.values() if r["stock"] > 0] or list(self.catalog.values())
        items = [
            self.say("item_price", product=r["name"], price=self.price(r["price_fen"] / 100)) for r in rows
        ]
        return self.chunked(it, "list_products", items, names=[r["name"] for r in rows])

    def do_ask_price(self, it: Intent) -> TurnResult:
        row = self.catalog[it.product]
        reply = self.say(
            "price_is", product=it.product, price=self.price(row["price_fen"] / 100), unit=self.unit(it)
        )
        return self.result(reply, it, photo_product=self.photo_of(it.product))

    def do_ask_stock(self, it: Intent) -> TurnResult:
        row = self.catalog[it.product]
        if row["stock"] <= 0:
            return self.result(self.say("sold_out", product=it.product), it)
        reply = self.say(
            "buyer_stock_is", product=it.product, quantity=self.qty(row["stock"], self.unit(it))
        )
        return self.result(reply, it, photo_product=self.photo_of(it.product))
