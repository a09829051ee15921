"""A turn's context and its spoken building blocks: the result type, who speaks about which shop, and the
replies in the user's language that every collaborator of the turn builds its answer from."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields
from typing import Any

from voicebot.config import Config
from voicebot.dialogue import ports, replies
from voicebot.dialogue.awaiting import Awaiting
from voicebot.dialogue.doubts import Doubt
from voicebot.dialogue.replies import say
from voicebot.dialogue.state import State
from voicebot.intents import Intent
from voicebot.nlu.heard import Heard
from voicebot.shop.facade import Shop
from voicebot.store.scoped import ShopDb


@dataclass
class TurnResult:
    """What the dialogue decided for one utterance."""

    reply: str
    intent: Intent
    action_id: int | None = None
    committed: bool = False
    awaiting: Awaiting | None = None
    notify: list[tuple[str, str, str]] = field(default_factory=list)
    photo_product: str | None = None
    error_code: str | None = None
    # a voice turn's hearing (doubts.heard_record): its confidence, the recogniser's rivals, and why the
    # turn read a change back instead of acting; kept with the turn for the operator console
    heard: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """As JSON (``voicebot chat --json``, the record of a turn): the intent in its public form."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["intent"], out["notify"] = self.intent.to_public(), [list(n) for n in self.notify]
        if self.heard is None:
            del out["heard"]  # typed text: the record as it always was
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TurnResult:
        awaiting = Awaiting(data["awaiting"]) if data.get("awaiting") else None
        return cls(**{**data, "intent": Intent.from_contract(data["intent"]), "awaiting": awaiting,
                      "notify": [tuple(n) for n in data.get("notify") or []]})  # fmt: skip


class Turn:
    """One utterance of one user: who speaks, the catalog, the state (saved by the caller), the words as
    read once, and the spoken building blocks of a reply. Shared by the turn's collaborators."""

    def __init__(
        self,
        db: ShopDb,
        config: Config,
        channel: str,
        user_id: str,
        role: str,
        lang: str,
        now: float,
        state: State,
        confidence: float | None,
    ) -> None:
        self.db, self.config, self.channel, self.user_id = db, config, channel, user_id
        self.role, self.lang, self.now, self.state = role, lang, now, state
        self.voice = confidence is not None  # heard by a recogniser (typed text carries no confidence)
        self.confidence = confidence
        self.unsure = confidence is not None and confidence < config.dialogue.confirm_below_confidence
        self.catalog = ports.catalog_rows(db)
        self.shop = Shop(db, config)
        self.actor = ports.actor_id(db, channel, user_id, role, lang)
        self.done_intent: Intent | None = None  # the intent of the change this turn committed
        self.replacing_order: int | None = None  # a buyer's correction replaces this order (one notice)
        self.heard = Heard("", lang, "")  # this turn's words, read once (set when the turn runs)
        self.alternatives: tuple[str, ...] = ()  # what else the recogniser heard, nearly as likely (its rivals)
        self.hypotheses: tuple[str, ...] = ()  # its whole beam, best first
        self.doubts: list[Doubt] = []  # why this turn's reading is unsure (set as it is understood)
        self.asked: list[Doubt] = []  # why this turn read a change back instead of making it

    @functools.cached_property
    def customers(self) -> list[str] | None:
        """The shop's known customers' names, for a seller's voice (a sale to 江山 is heard as her 张三, read
        back); None for typed text, which keeps its own words, and for a buyer."""
        return ports.known_customers(self.db) if self.role == "seller" and self.voice else None

    def reading(self, text: str) -> Heard:
        """``text`` read: this turn's own reading, or (the words of an earlier turn) a new one."""
        return self.heard if text == self.heard.text else Heard.read(text, self.lang)

    # --- spoken building blocks ----------------------------------------------------------------

    def say(self, key: str, **fields: Any) -> str:
        return say(self.lang, key, **fields)

    def capital(self, text: str) -> str:
        return replies.capitalized(self.lang, text)

    def price(self, value: float | None) -> str:
        return replies.price(self.lang, value, self.config.shop.currency)

    def unit(self, it: Intent | None = None, product: str | None = None) -> str:
        row = self.catalog.get(product or (it.product if it else None) or "")
        unit = (row or {}).get("unit") or (it.unit if it else None) or ""
        return unit or replies.default_unit(self.lang)

    def qty(self, n: int | None, unit: str) -> str:
        return replies.quantity(self.lang, n, unit)

    def left(self, stock: int | None, unit: str) -> str:
        """ "还剩十条" / "卖完了": never "零条"."""
        if not stock:
            return self.say("none_left")
        return self.say("left", quantity=self.qty(stock, unit))

    def photo_of(self, name: str | None) -> str | None:
        row = self.catalog.get(name or "")
        return name if row and row.get("cover_photo_id") else None

    def items_text(self, order: dict[str, Any]) -> str:
        """An order's lines, spoken: "绿松石手链两条，蜂蜜一瓶"."""
        parts = []
        for line in order["items"]:
            unit = line.get("unit") or self.unit(product=line["name"])
            parts.append(
                self.say("order_line", product=line["name"], quantity=self.qty(line["quantity"], unit))
            )
        return replies.join(self.lang, parts)

    # --- results -------------------------------------------------------------------------------

    def result(self, reply: str, it: Intent, **kw: Any) -> TurnResult:
        reply = replies.capitalized(self.lang, reply)
        return TurnResult(reply=reply, intent=it.public(), **kw)

    def committed(self, reply: str, it: Intent, **kw: Any) -> TurnResult:
        """A reply for a shop change that went through (with the action to undo it)."""
        self.done_intent = it
        return self.result(
            reply, it, action_id=ports.last_action_id(self.db, self.actor), committed=True, **kw
        )

    def out_of_stock(self, it: Intent, e: Exception) -> TurnResult:
        available = getattr(e, "available", 0)
        key = "out_of_stock" if available > 0 else "sold_out_order"
        reply = self.say(
            key, product=it.product, available=replies.count(self.lang, available), unit=self.unit(it)
        )
        return self.result(reply, it, error_code="out_of_stock")
