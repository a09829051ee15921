"""Every intent the bot knows, once: who may say it, its slots, what the dialogue must have before
acting, whether it changes the shop, and which dialogue method carries it out (INTENTS.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["seller", "buyer", "both"]
Confirm = Literal["never", "unsure", "always"]

CONTRACT_KEYS = ("intent", "product", "quantity", "price", "customer")
SLOT_NAMES = CONTRACT_KEYS[1:]


class UnknownIntent(ValueError):
    """A name that is not in the registry (a typo in a pack, a stored intent from another version)."""


@dataclass(frozen=True, slots=True)
class IntentSpec:
    """One intent of the contract."""

    name: str
    role: Role
    slots: tuple[str, ...] = ()  # what the NLU fills, in contract order; anything else is dropped
    required: tuple[str, ...] = ()  # what the dialogue asks for, in this order, before acting
    changes_shop: bool = False
    confirm: Confirm = "never"  # "unsure": read back when heard unsure or approximately; "always": ask
    handler: str | None = None  # the dialogue's method; None: the turn itself answers (yes, no, undo ...)
    new_product: bool = False  # the product is a new name, not one from the catalog
    follow_up: bool = False  # a buyer's next sentence may leave this product out ("我要两条")
    for_seller: str | None = None  # a seller who says this buyer's intent means that one
    correctable: tuple[str, ...] = ()  # numbers a spoken "no, twelve" can change, the default first

    @property
    def needs_product(self) -> bool:
        """The dialogue must resolve the product to a catalog name before acting."""
        return "product" in self.required and not self.new_product

    def to_dict(self) -> dict[str, object]:
        return {
            "intent": self.name, "role": self.role, "slots": list(self.slots), "required": list(self.required),
            "changes_shop": self.changes_shop, "confirm": self.confirm, "handler": self.handler,
            "new_product": self.new_product, "follow_up": self.follow_up, "for_seller": self.for_seller,
            "correctable": list(self.correctable),
        }  # fmt: skip


def _act(name: str, role: Role, slots: tuple[str, ...] = (), **kw: object) -> IntentSpec:
    """An intent the dialogue carries out with ``do_<name>``."""
    return IntentSpec(name, role, slots, handler=f"do_{name}", **kw)  # type: ignore[arg-type]


_P, _Q, _M, _C = "product", "quantity", "price", "customer"
SPECS: tuple[IntentSpec, ...] = (
    # seller
    _act("add_product", "seller", (_P, _M, _Q), required=(_P, _M, _Q), changes_shop=True, confirm="unsure",
         new_product=True, correctable=(_Q, _M)),
    _act("set_price", "seller", (_P, _M), required=(_P, _M), changes_shop=True, confirm="unsure",
         correctable=(_M,)),
    _act("add_stock", "seller", (_P, _Q), required=(_P, _Q), changes_shop=True, confirm="unsure",
         correctable=(_Q,)),
    _act("set_stock", "seller", (_P, _Q), required=(_P, _Q), changes_shop=True, confirm="unsure",
         correctable=(_Q,)),
    _act("reduce_stock", "seller", (_P, _Q), required=(_P, _Q), changes_shop=True, confirm="unsure",
         correctable=(_Q,)),
    _act("price_down", "seller", (_P, _M), required=(_P, _M), changes_shop=True, confirm="unsure",
         correctable=(_M,)),
    _act("price_up", "seller", (_P, _M), required=(_P, _M), changes_shop=True, confirm="unsure",
         correctable=(_M,)),
    # "上架核桃…" for a product she has, after her yes: the price and/or stock she said (never from the NLU)
    _act("update_product", "seller", (_P, _M, _Q), required=(_P,), changes_shop=True, correctable=(_Q, _M)),
    _act("check_stock", "seller", (_P,)),
    _act("record_sale", "seller", (_P, _Q, _C, _M), required=(_P, _Q), changes_shop=True, confirm="unsure",
         correctable=(_Q, _M)),
    _act("list_orders", "seller"),
    _act("sales_summary", "seller"),
    _act("mark_shipped", "seller", (_C,), changes_shop=True, confirm="unsure"),
    _act("confirm_order", "seller", (_C,), changes_shop=True, confirm="unsure"),
    _act("seller_cancel_order", "seller", (_C,), changes_shop=True, confirm="always"),
    _act("attach_photo", "seller", (_P,), required=(_P,), changes_shop=True),
    _act("remove_product", "seller", (_P,), required=(_P,), changes_shop=True, confirm="always"),
    # buyer
    _act("list_products", "buyer", for_seller="check_stock"),
    _act("ask_price", "buyer", (_P,), required=(_P,), follow_up=True),
    _act("ask_stock", "buyer", (_P,), required=(_P,), follow_up=True, for_seller="check_stock"),
    _act("place_order", "buyer", (_P, _Q), required=(_P, _Q), changes_shop=True, confirm="unsure",
         follow_up=True, for_seller="record_sale", correctable=(_Q,)),
    _act("order_status", "buyer", for_seller="list_orders"),
    _act("cancel_order", "buyer", changes_shop=True, confirm="always", for_seller="seller_cancel_order"),
    # both roles: the conversation itself
    IntentSpec("confirm", "both"),
    IntentSpec("deny", "both"),
    IntentSpec("undo", "both", changes_shop=True),
    IntentSpec("repeat", "both"),
    IntentSpec("help", "both"),
    IntentSpec("unknown", "both"),
)  # fmt: skip
REGISTRY: dict[str, IntentSpec] = {s.name: s for s in SPECS}


def spec(name: str) -> IntentSpec:
    """The registered intent ``name``; :class:`UnknownIntent` for anything else."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownIntent(f"unknown intent {name!r} (known: {', '.join(REGISTRY)})") from None


def names(*, role: Role | None = None, confirm: Confirm | None = None) -> frozenset[str]:
    """Names of the intents with this role and/or this confirmation rule."""
    return frozenset(
        s.name for s in SPECS if (role is None or s.role == role) and (confirm is None or s.confirm == confirm)
    )


def slots_of(name: str) -> frozenset[str]:
    return frozenset(spec(name).slots)
