"""What a waiting question waits for, and the question itself as the state keeps it."""

from __future__ import annotations

from enum import StrEnum
from typing import TypedDict

from voicebot.intents import Intent


class Awaiting(StrEnum):
    """The answer a pending question waits for. A ``str``: stored state and ``TurnResult.awaiting`` keep the
    same words as before the type (``"confirm"``, ``"quantity"`` …), so rows written then still load."""

    PRODUCT = "product"  # a slot of the intent: "哪个商品？"
    PRICE = "price"  # "多少钱？"
    QUANTITY = "quantity"  # "几条？"
    CUSTOMER = "customer"  # "哪一单？" / "卖给谁？"
    WHICH = "which"  # one of the candidates the name could be: "绿松石手链还是绿松石耳环？"
    CONFIRM = "confirm"  # yes or no to a read-back
    NEW_OR_OLD = "new_or_old"  # a new product, or the one she has with a similar name
    MORE = "more"  # "还有三样，要听吗？"
    UNDO_OFFER = "undo_offer"  # "刚才记了…，要撤销吗？"

    @property
    def slot(self) -> str | None:
        """The intent slot the answer fills (``WHICH`` fills the product), or None."""
        if self is Awaiting.WHICH:
            return "product"
        return self.value if self in _SLOTS else None

    @property
    def is_change(self) -> bool:
        """The question is about a shop change: dropping it or letting it expire is said aloud (a list's
        "要听吗？" and an offer to undo are not; nothing waits on them)."""
        return self not in (Awaiting.MORE, Awaiting.UNDO_OFFER)

    @classmethod
    def for_slot(cls, slot: str) -> Awaiting:
        """The question for a missing slot of an intent (``product``, ``price``, ``quantity``, ``customer``)."""
        return cls(slot)


_SLOTS = frozenset({Awaiting.PRODUCT, Awaiting.PRICE, Awaiting.QUANTITY, Awaiting.CUSTOMER})


class Pending(TypedDict, total=False):
    """A question waiting in the state (``state["pending"]``) for the user's next turn."""

    intent: Intent  # what is being built or read back
    awaiting: Awaiting
    question: str  # as asked, for "again" and "help"
    expires: float  # epoch seconds
    candidates: list[str]  # WHICH / NEW_OR_OLD: the names to choose from
    items: list[str]  # MORE: the rest of the list, its product names and its separator
    names: list[str]
    sep: str

