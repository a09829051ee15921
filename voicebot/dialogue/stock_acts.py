"""Stock and price changes said relative to what the shop holds (issue 18): "现在有一百五十斤" sets the
stock, "坏了两斤" lowers it, "便宜五块钱" / "贵五块" move the price by an amount. Each is one journaled
action, so "撤销" puts the old value back."""

from __future__ import annotations

from decimal import Decimal

from voicebot.dialogue import ports
from voicebot.dialogue.order_acts import OrderActs
from voicebot.dialogue.turn import TurnResult
from voicebot.intents import Intent


class StockActs(OrderActs):
    """``do_<intent>`` for set_stock, reduce_stock, price_down and price_up."""

    def do_set_stock(self, it: Intent) -> TurnResult:
        unit, old = self.unit(it), self.catalog[it.product]["stock"]
        new = ports.amount(it.quantity)
        if new == old:
            return self.result(self.say("stock_same", product=it.product, stock=self.qty(new, unit)), it)
        self.shop.adjust_stock(it.product, new - old, self.actor)
        reply = self.say(
            "done.set_stock", product=it.product, stock=self.qty(new, unit), old=self.qty(old, unit)
        )
        return self.committed(reply, it)

    def do_reduce_stock(self, it: Intent) -> TurnResult:
        unit, old = self.unit(it), self.catalog[it.product]["stock"]
        n = ports.amount(it.quantity)
        if n > old:  # never below zero, and never a guess at what she meant
            reply = self.say("reduce_too_many", product=it.product, stock=self.qty(old, unit) if old else "0")
            return self.result(reply, it, error_code="negative_stock")
        row = self.shop.adjust_stock(it.product, -n, self.actor)
        reply = self.say(
            "done.reduce_stock",
            product=it.product,
            quantity=self.qty(n, unit),
            left=self.left(row["stock"], unit),  # type: ignore[attr-defined]
        )
        return self.committed(reply, it)

    def relative_price(self, it: Intent) -> Decimal:
        """The new price of ``price_down`` / ``price_up``: the old one moved by the amount said."""
        old = Decimal(self.catalog[it.product or ""]["price_fen"]) / 100
        step = Decimal(str(it.price or 0))
        return old - step if it.name == "price_down" else old + step

    def do_price_down(self, it: Intent) -> TurnResult:
        return self.moved_price(it)

    def do_price_up(self, it: Intent) -> TurnResult:
        return self.moved_price(it)

    def moved_price(self, it: Intent) -> TurnResult:
        old = Decimal(self.catalog[it.product]["price_fen"]) / 100
        new = self.relative_price(it)
        if new <= 0:
            reply = self.say("price_too_low", product=it.product, old_price=self.price(old))
            return self.result(reply, it, error_code="invalid_price")
        self.shop.set_price(it.product, ports.money(new), self.actor)
        reply = self.say(
            f"done.{it.name}", product=it.product, step=self.price(it.price), price=self.price(new),
            unit=self.unit(it),
        )  # fmt: skip
        return self.committed(reply, it)

    def do_update_product(self, it: Intent) -> TurnResult:
        """Her yes to "核桃已经有了…要改成三十五块、再进二十斤吗？": the price, then the stock (undo takes back
        the stock first, then the price)."""
        unit = self.unit(it)
        if it.price is not None:
            self.shop.set_price(it.product, ports.money(it.price), self.actor)
        row = self.shop.adjust_stock(it.product, ports.amount(it.quantity), self.actor) if it.quantity else None
        row = row or self.shop.product(it.product)
        reply = self.say(
            "done.update_product", product=it.product, price=self.price(row["price_fen"] / 100), unit=unit,
            stock=self.qty(row["stock"], unit),
        )  # fmt: skip
        return self.committed(reply, it)
