"""Every reply template of every pack, rendered with realistic slot values (for tests and bench/voice.py).

Slot values are what the dialogue would put there: prices and counts said by the pack's number
speaking (0.5, 99.99, 1200 yuan), products with rare characters, a digit or Latin letters in
their name, and names of people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from voicebot.dialogue import replies

# Templates that are only ever parts of a sentence (inserted into another template).
FRAGMENT_KEYS = re.compile(r"^(summary\.|undo_what\.|status\.|periods\.|currency\.|to_customer|sep$|list_sep$|"
                           r"or$|default_unit$|item_|order_line|order_item|someone|more_yes|order_sep$|"
                           r"pending_what\.|left$|none_left$|order_ref|order_status_item$)")

_PRODUCTS = {
    "zh": ["绿松石手链", "貔貅吊坠", "2号手链", "iPhone壳"],
    "en": ["turquoise bracelet", "honey", "No. 2 bracelet", "jade pendant"],
    "ko": ["사과", "꿀", "2호 팔찌", "USB 충전기"],
}
_CUSTOMERS = {"zh": ["张三", "欧阳娜娜", "A姐"], "en": ["Zhang San", "Mrs. Li", "Anna"], "ko": ["김민수", "이지은", "J씨"]}
_PRICES = [200, 0.5, 99.99, 1200]
_UNITS = {"zh": "条", "en": "", "ko": "개"}
_SHOP = {"zh": "郭姐的绿松石店", "en": "Guo's turquoise shop", "ko": "궈 씨네 가게"}


@dataclass(frozen=True)
class Reply:
    lang: str
    key: str
    text: str
    variant: int = 0

    @property
    def is_help(self) -> bool:
        return self.key.startswith("help")

    @property
    def is_readback(self) -> bool:
        """A read-back of one action (what was just done or is about to be done)."""
        return self.key.startswith(("done.", "confirm_question")) or self.key in ("undone", "denied")


def _leaves(node: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [leaf for k, v in node.items() for leaf in _leaves(v, f"{prefix}{k}.")]
    if isinstance(node, str) and node:
        return [(prefix.rstrip("."), node)]
    return []


def slot_values(lang: str, variant: int) -> dict[str, Any]:
    """Values for every slot a template can name; ``variant`` picks a product/price/name set."""
    product = _PRODUCTS[lang][variant % len(_PRODUCTS[lang])]
    customer = _CUSTOMERS[lang][variant % len(_CUSTOMERS[lang])]
    unit = _UNITS[lang]
    value = _PRICES[variant % len(_PRICES)]
    qty = (2, 10, 1, 1.5)[variant % 4]  # 1.5: goods sold by weight (一斤半)
    items = replies.join(lang, [f"{_PRODUCTS[lang][0]}{replies.price(lang, 200)}",
                                f"{_PRODUCTS[lang][1]}{replies.price(lang, 35.5)}"]) if lang == "zh" else \
        replies.join(lang, [f"{_PRODUCTS[lang][0]} {replies.price(lang, 200)}",
                            f"{_PRODUCTS[lang][1]} {replies.price(lang, 35.5)}"])
    summary = replies.say(lang, "summary.record_sale", quantity=replies.quantity(lang, qty, unit or None),
                          product=product, to_customer=replies.say(lang, "summary.to_customer", customer=customer))
    question = replies.say(lang, "ask.quantity_record_sale", unit=unit or replies.default_unit(lang))
    examples = replies.say(lang, "help.seller")
    return {
        "product": product, "customer": customer, "unit": unit or replies.default_unit(lang),
        "price": replies.price(lang, value), "old_price": replies.price(lang, 180), "total": replies.price(lang, 1200),
        "revenue": replies.price(lang, 3456.5), "quantity": replies.quantity(lang, qty, unit or None),
        "stock": replies.quantity(lang, 8, unit or None), "available": replies.count(lang, 3),
        "count": replies.number(lang, 12), "n": replies.number(lang, 3), "items": items,
        "options": replies.join(lang, _PRODUCTS[lang][:2]), "period": replies.load_replies(lang)["periods"]["today"],
        "status": replies.load_replies(lang)["status"]["shipped"], "spoken": _PRODUCTS[lang][1],
        "summary": summary, "question": question, "shop": _SHOP[lang], "examples": examples,
        "shops": replies.join(lang, [_SHOP[lang], _SHOP[lang]]), "goods": replies.join(lang, _PRODUCTS[lang][:2]),
        "seller": customer,
        "to_customer": replies.say(lang, "summary.to_customer", customer=customer),
        "number": replies.number(lang, 3), "existing": replies.join(lang, _PRODUCTS[lang][:2]),
        "names": replies.join(lang, _PRODUCTS[lang][:3]),
        "order": replies.say(lang, "order_ref_named", customer=customer, number=replies.number(lang, 3)),
        "left": replies.say(lang, "left", quantity=replies.quantity(lang, 8, unit or None)),
        "reply": replies.say(lang, "done.set_price", product=product, price=replies.price(lang, value)),
        "old": replies.quantity(lang, 0.5, unit or None), "new_price": replies.price(lang, 175),
        "step": replies.price(lang, 5), "changes": replies.say(lang, "update_stock", quantity=replies.quantity(lang, qty, unit or None)),
        "what": replies.say(lang, "undo_what.record_sale", quantity=replies.quantity(lang, qty, unit or None),
                            product=product, stock=replies.quantity(lang, 8, unit or None)),
    }


def rendered(lang: str, variants: int = 1, fragments: bool = False) -> list[Reply]:
    """Every template of ``lang``'s pack rendered ``variants`` times (whole sentences only unless ``fragments``)."""
    out = []
    for key, _ in _leaves(replies.load_replies(lang)):
        if not fragments and FRAGMENT_KEYS.match(key):
            continue
        for v in range(variants):
            out.append(Reply(lang, key, replies.say(lang, key, **slot_values(lang, v)), v))
    return out
