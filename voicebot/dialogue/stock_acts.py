"""Stock and price changes said relative to what the shop holds (issue 18): "现在有一百五十斤" sets the
stock, "坏了两斤" lowers it, "便宜五块钱" / "贵五块" move the price by an amount. Each is one journaled
action, so "撤销" puts the old value back."""

from __future__ import annotations

from decimal import Decimal

from voicebot.dialogue import ports
from voicebot.dialogue.readback import ReadBack
from voicebot.dialogue.turn import Turn, TurnResult
from voicebot.intents import Intent


class StockActs:
    """``do_<intent>`` for set_stock, reduce_stock, price_down, price_up and update_product."""

    def __init__(self, turn: Turn, readback: ReadBack) -> None:
        self.t, self.readback = turn, readback

    def do_set_stock(self, it: Intent) -> TurnResult:
        t = self.t
        unit, old = t.unit(it), t.catalog[it.product]["stock"]
        new = ports.amount(it.quantity)
        if new == old:
            return t.result(t.say("stock_same", product=it.product, stock=t.qty(new, unit)), it)
        t.shop.adjust_stock(it.product, new - old, t.actor)
        reply = t.say("done.set_stock", product=it.product, stock=t.qty(new, unit), old=t.qty(old, unit))
        return t.committed(reply, it)

    def do_reduce_stock(self, it: Intent) -> TurnResult:
        t = self.t
        unit, old = t.unit(it), t.catalog[it.product]["stock"]
        n = ports.amount(it.quantity)
        if n > old:  # never below zero, and never a guess at what she meant
            reply = t.say("reduce_too_many", product=it.product, stock=t.qty(old, unit) if old else "0")
            return t.result(reply, it, error_code="negative_stock")
        row = t.shop.adjust_stock(it.product, -n, t.actor)
        reply = t.say("done.reduce_stock", product=it.product, quantity=t.qty(n, unit), left=t.left(row["stock"], unit))
        return t.committed(reply, it)

    def do_price_down(self, it: Intent) -> TurnResult:
        return self.moved_price(it)

    def do_price_up(self, it: Intent) -> TurnResult:
        return self.moved_price(it)

    def moved_price(self, it: Intent) -> TurnResult:
        t = self.t
        old = Decimal(t.catalog[it.product]["price_fen"]) / 100
        new = self.readback.relative_price(it)
        if new <= 0:
            reply = t.say("price_too_low", product=it.product, old_price=t.price(old))
            return t.result(reply, it, error_code="invalid_price")
        t.shop.set_price(it.product, ports.money(new), t.actor)
        reply = t.say(f"done.{it.name}", product=it.product, step=t.price(it.price), price=t.price(new),
                      unit=t.unit(it))  # fmt: skip
        return t.committed(reply, it)

    def do_update_product(self, it: Intent) -> TurnResult:
        """Her yes to "核桃已经有了…要改成三十五块、再进二十斤吗？": the price, then the stock (undo takes back
        the stock first, then the price)."""
        t = self.t
        unit = t.unit(it)
        if it.price is not None:
            t.shop.set_price(it.product, ports.money(it.price), t.actor)
        row = t.shop.adjust_stock(it.product, ports.amount(it.quantity), t.actor) if it.quantity else None
        row = row or t.shop.product(it.product)
        reply = t.say("done.update_product", product=it.product, price=t.price(row["price_fen"] / 100), unit=unit,
                      stock=t.qty(row["stock"], unit))  # fmt: skip
        return t.committed(reply, it)
