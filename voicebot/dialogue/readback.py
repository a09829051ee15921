"""Read-backs: which changes are read back before they are made (unsure, approximate, hard to undo, or far
from what the shop holds), and the facts a read-back says ("卖了三瓶蜂蜜给张三，对吗？")."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from voicebot import intents
from voicebot.dialogue import plausible, ports
from voicebot.dialogue.doubts import Doubt
from voicebot.dialogue.turn import Turn
from voicebot.intents import Intent
from voicebot.lang.packs import load_pack

MONEY_STOCK = intents.names(confirm="unsure")  # read back when heard unsure or approximately
ALWAYS_CONFIRM = intents.names(confirm="always")


class ReadBack:
    """Whether an intent is read back, and what is said when it is."""

    def __init__(self, turn: Turn) -> None:
        self.t = turn

    def needs_confirm(self, it: Intent) -> bool:
        """Whether ``it`` is read back; the reasons are kept in ``turn.asked`` (the turn's record shows them)."""
        self.t.asked = self.reasons(it)
        return bool(self.t.asked)

    def reasons(self, it: Intent) -> list[Doubt]:
        """Why ``it`` would be read back (none: it is made at once)."""
        kind, t, out = it.name, self.t, []
        if kind in ALWAYS_CONFIRM:
            out.append(Doubt("always"))
        if kind not in MONEY_STOCK:
            return out
        if it.unsure:  # why this note was heard unsure, or an earlier note of the same exchange
            unsure = [Doubt("low_confidence", f"{t.confidence:.2f}")] if t.unsure and t.confidence is not None else []
            out += t.doubts or unsure or [Doubt("unsure")]
        if self.implausible(it):
            out.append(Doubt("far_amount"))
        if self.odd_heard_price(it):
            out.append(Doubt("odd_price"))
        return out

    def implausible(self, it: Intent) -> bool:
        """An amount far from what the shop holds (plausible.py): read back even when heard clearly."""
        kind, row, cfg = it.name, self.t.catalog.get(it.product or ""), self.t.config.dialogue
        old_price = row["price_fen"] / 100 if row else None
        if kind in plausible.PRICE_KINDS and it.price is not None:
            new = self.relative_price(it) if kind in ("price_up", "price_down") and row else it.price
            if new > 0 and plausible.far_price(Decimal(str(new)), old_price, cfg):  # <= 0: refused aloud
                return True
        if kind == "record_sale" and it.price is not None and it.quantity and row:
            # a sale's own price, each: far from hers (卖了两斤核桃八毛五 where 核桃 sells at 30) is misheard or a slip
            each = Decimal(self.sale_unit_price(it) or 0)
            if each > 0 and plausible.far_price(each, old_price, cfg):
                return True
        if kind in plausible.QUANTITY_KINDS and it.quantity is not None:
            return plausible.far_quantity(it.quantity, row["stock"] if row else 0, cfg)
        return False

    def odd_heard_price(self, it: Intent) -> bool:
        """A new price heard by voice as digits that are no round figure ("122" for 一百二): read back."""
        absolute = it.name in plausible.PRICE_KINDS and it.name not in ("price_up", "price_down")
        return absolute and self.t.voice and plausible.odd_written_price(it.price, self.t.heard.text, it.utterance)

    def by_weight(self, it: Intent) -> bool:
        """The product is sold by weight (斤, kg): its quantities may be fractions."""
        return self.t.unit(it) in (load_pack(self.t.lang).raw.get("weight_units") or ())

    def summary(self, it: Intent) -> str:
        """The facts of an intent, for a read-back."""
        t = self.t
        kind, unit, catalog = it.name, t.unit(it), t.catalog
        fields: dict[str, Any] = {
            "product": it.product or "",
            "price": t.price(it.price),
            "quantity": t.qty(it.quantity, unit),
            "customer": it.customer or "",
            "items": it.items or "",
            "order": it.order or "",
        }
        if it.customer:
            fields["to_customer"] = t.say("summary.to_customer", customer=it.customer)
        if kind == "place_order" and it.product in catalog:
            fields["total"] = t.price(ports.line_fen(it.quantity or 0, catalog[it.product]["price_fen"]) / 100)
        if kind == "set_price":
            old = catalog[it.product or ""]["price_fen"] / 100
            if plausible.far_price(Decimal(str(it.price or 0)), old, t.config.dialogue):
                return t.say("summary.set_price_far", old_price=t.price(old), **fields)
        if kind in ("price_down", "price_up") and it.product in catalog and it.price is not None:
            fields["new_price"] = t.price(self.relative_price(it))
        if kind == "set_stock" and it.product in catalog:
            fields["old"] = t.qty(catalog[it.product]["stock"], unit)
        if kind == "record_sale" and it.price is not None and it.quantity and it.product in catalog:
            each = Decimal(self.sale_unit_price(it) or 0)  # a price said for a sale is read back with it
            fields["price"] = t.price(each)
            # the total she said, exactly; or what the sale will record
            fields["total"] = t.price(Decimal(str(it.price)) if it.total else each * ports.exact_amount(it.quantity))
            return t.say("summary.record_sale_total", unit=unit, **fields)
        return t.say(f"summary.{kind}", **fields)

    # --- prices said relative to the shop's ---------------------------------------------------

    def relative_price(self, it: Intent) -> Decimal:
        """The new price of ``price_down`` / ``price_up``: the old one moved by the amount said."""
        old = Decimal(self.t.catalog[it.product or ""]["price_fen"]) / 100
        step = Decimal(str(it.price or 0))
        return old - step if it.name == "price_down" else old + step

    def sale_unit_price(self, it: Intent) -> str | None:
        """The unit price of a sale said with a price: "两条卖了三百六" is a total, "一条一百八" a unit
        price; take whichever reading is closer to the catalog price (the reply reads the total back)."""
        if it.price is None:
            return None
        spoken, quantity = Decimal(str(it.price)), ports.exact_amount(it.quantity)
        if it.total:  # 一共一百块: the price is for all of them
            return str((spoken / quantity).quantize(Decimal("0.01")))
        catalog = Decimal(self.t.catalog[it.product]["price_fen"]) / 100
        per_unit = spoken / quantity
        if quantity != 1 and catalog > 0 and per_unit == per_unit.quantize(Decimal("0.01")):
            distance = lambda p: abs(math.log(float(p / catalog))) if p > 0 else math.inf  # noqa: E731
            if distance(per_unit) < distance(spoken):
                return str(per_unit.quantize(Decimal("0.01")))
        return ports.money(spoken)
