"""The one intent a sentence carries, as the NLU returns it and the dialogue works on it.

Three JSON forms, all keyed as before this class existed, so corpora, logs and stored state stay the same:
``to_contract()`` (the five keys of ``voicebot nlu`` and the corpora), ``to_public()`` (plus the extras
the conversation log shows) and ``to_state()`` (plus the dialogue's notes, for a question that waits).
``from_contract()`` reads any of them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from voicebot.intents.registry import CONTRACT_KEYS, IntentSpec, spec

# Extras shown in the conversation log, in the order they are written.
_PUBLIC = ("approximate", "period", "unit", "candidates", "order_id", "items")
# The dialogue's own notes and the keys they are stored under (kept from the dict era, so a question
# that waits in the database across an upgrade still loads).
_STATE = {"utterance": "_text", "total": "_total", "unsure": "_unsure", "spoken": "_spoken",
          "confirmed": "_confirmed", "new_ok": "_new_ok", "order": "_order", "from_context": "_context"}  # fmt: skip
# What the NLU knew about how it found the product (``voicebot nlu --full``).
_NLU = ("product_spoken", "product_known", "score", "text")


@dataclass(frozen=True, slots=True)
class Intent:
    """An intent and its slots, plus what the NLU heard around them and what the dialogue noted."""

    name: str
    product: str | None = None
    quantity: int | None = None
    price: int | float | None = None
    customer: str | None = None
    # heard by the NLU
    approximate: bool = False  # a number was approximate (十来个, about twenty): read it back
    candidates: tuple[str, ...] | None = None  # catalog products an ambiguous product could be; () once chosen
    period: str | None = None  # today | yesterday | week | month (sales_summary, list_orders)
    unit: str | None = None  # the counter spoken with the quantity (条, 瓶, jars)
    total: bool = False  # the price was said for all of them (一共一百块, ninety in total)
    product_spoken: str | None = None  # the words that named the product
    product_known: bool = False  # ``product`` is a catalog name
    score: float | None = None  # product match score, 0-100
    text: str = ""  # the normalised transcript the NLU read
    # noted by the dialogue
    utterance: str = ""  # the sentence as heard
    unsure: bool = False  # heard with low confidence: read a shop change back first
    spoken: str | None = None  # the words naming a product the catalog does not have
    confirmed: bool = False  # the user said yes to the read-back
    new_ok: bool = False  # the user said the product is new, not one she has
    from_context: bool = False  # the product was not said: it came from the last turn (a buyer's follow-up)
    # the order an order command is about, once the dialogue found it: the internal ``orders.id`` (for the
    # action and its undo), never said; what people hear and say is the shop's ``orders.number``
    order_id: int | None = None
    items: str | None = None  # that order's lines, spoken
    order: str | None = None  # the order mark_shipped shipped, spoken ("张三那单")

    def __post_init__(self) -> None:
        spec(self.name)  # unknown names are an error, never a silent "unknown"
        if self.candidates is not None:
            object.__setattr__(self, "candidates", tuple(self.candidates))

    @property
    def spec(self) -> IntentSpec:
        return spec(self.name)

    def copy(self, **changes: Any) -> Intent:
        """A copy with ``changes``; the original is left as it is."""
        return dataclasses.replace(self, **changes)

    def merged(self, other: Intent) -> Intent:
        """This intent with every slot and note ``other`` has (non-empty) laid over it."""
        given = {f.name: getattr(other, f.name) for f in dataclasses.fields(other)}
        return self.copy(**{k: v for k, v in given.items() if v not in (None, (), False, "")})

    def public(self) -> Intent:
        """A copy with only what :meth:`to_public` shows (what a turn reports and records)."""
        return Intent.from_contract(self.to_public())

    # --- JSON forms ------------------------------------------------------------------------------

    def to_contract(self) -> dict[str, Any]:
        """The five contract keys, ``None`` where not spoken (``voicebot nlu``, the corpora)."""
        return {"intent": self.name, "product": self.product, "quantity": self.quantity, "price": self.price,
                "customer": self.customer}  # fmt: skip

    def to_public(self) -> dict[str, Any]:
        """The contract keys, then the extras that were heard or decided (the conversation log)."""
        out = self.to_contract()
        for key in _PUBLIC:
            value = getattr(self, key)
            if key == "candidates" and value is not None:  # [] too: the log shows a choice was made
                out[key] = list(value)
            elif value not in (None, False):
                out[key] = value
        return out

    def to_state(self) -> dict[str, Any]:
        """The public form plus the dialogue's notes: a question waiting in the database."""
        out = self.to_public()
        for attr, key in _STATE.items():
            value = getattr(self, attr)
            if value not in (None, "", False):
                out[key] = value
        return out

    def to_dict(self) -> dict[str, Any]:
        """The contract keys, then everything the NLU heard (``voicebot nlu --full``)."""
        out = self.to_contract()
        out.update({k: getattr(self, k) for k in ("approximate", "period", "unit", "total", *_NLU)})
        out["ambiguous"] = list(self.candidates or ())
        out["unsure"] = self.unsure  # heard by its sound only (a customer's name, a product): read back first
        return out

    @classmethod
    def from_contract(cls, data: dict[str, Any]) -> Intent:
        """An intent from any of its JSON forms; :class:`~voicebot.intents.UnknownIntent` for a name
        the registry does not know."""
        fields = {k: data[k] for k in CONTRACT_KEYS[1:] if data.get(k) is not None}
        fields.update({k: data[k] for k in (*_PUBLIC, *_NLU) if data.get(k) is not None})
        if data.get("ambiguous") and not fields.get("candidates"):
            fields["candidates"] = data["ambiguous"]
        fields.update({attr: data[key] for attr, key in _STATE.items() if data.get(key) is not None})
        fields.update({k: data[k] for k in ("total",) if data.get(k) is not None})
        return cls(str(data.get("intent")), **fields)
