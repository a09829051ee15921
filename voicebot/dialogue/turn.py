"""A turn's context and its spoken building blocks: the result type, replies in the user's
language, questions that wait in the state, and lists read a few items at a time."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from voicebot.config import Config
from voicebot.dialogue import ports, replies
from voicebot.dialogue.awaiting import Awaiting, Pending
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

    def to_dict(self) -> dict[str, Any]:
        """As JSON (``voicebot chat --json``, the record of a turn): the intent in its public form."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["intent"], out["notify"] = self.intent.to_public(), [list(n) for n in self.notify]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TurnResult:
        awaiting = Awaiting(data["awaiting"]) if data.get("awaiting") else None
        return cls(**{**data, "intent": Intent.from_contract(data["intent"]), "awaiting": awaiting,
                      "notify": [tuple(n) for n in data.get("notify") or []]})  # fmt: skip


class TurnBase:
    """One utterance of one user: who speaks, the catalog, and the state (saved by the caller)."""

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
        self.unsure = confidence is not None and confidence < config.dialogue.confirm_below_confidence
        self.catalog = ports.catalog_rows(db)
        self.shop = Shop(db, config)
        self.actor = ports.actor_id(db, channel, user_id, role, lang)
        self.done_intent: Intent | None = None  # the intent of the change this turn committed
        self.replacing_order: int | None = None  # a buyer's correction replaces this order (one notice)
        self.heard = Heard("", lang, "")  # this turn's words, read once (set when the turn runs)

    # --- helpers -------------------------------------------------------------------------------

    def say(self, key: str, **fields: Any) -> str:
        return say(self.lang, key, **fields)

    def price(self, value: float | None) -> str:
        return replies.price(self.lang, value, self.config.shop.currency)

    def unit(self, it: Intent | None = None, product: str | None = None) -> str:
        row = self.catalog.get(product or (it.product if it else None) or "")
        unit = (row or {}).get("unit") or (it.unit if it else None) or ""
        return unit or replies.default_unit(self.lang)

    def qty(self, n: int | None, unit: str) -> str:
        return replies.quantity(self.lang, n, unit)

    def result(self, reply: str, it: Intent, **kw: Any) -> TurnResult:
        reply = replies.capitalized(self.lang, reply)
        return TurnResult(reply=reply, intent=it.public(), **kw)

    def pending(self) -> Pending | None:
        return self.state.get("pending")

    def clear(self) -> None:
        self.state["pending"] = None

    def wait(self, it: Intent, awaiting: Awaiting, question: str, **extra: Any) -> TurnResult:
        """Store a question and ask it."""
        self.state["pending"] = Pending(intent=it, awaiting=awaiting, question=question,
                                        expires=self.now + self.config.dialogue.pending_timeout_s, **extra)
        return self.result(question, it, awaiting=awaiting)

    def reading(self, text: str) -> Heard:
        """``text`` read: this turn's own reading, or (the words of an earlier turn) a new one."""
        return self.heard if text == self.heard.text else Heard.read(text, self.lang)

    def photo_of(self, name: str | None) -> str | None:
        row = self.catalog.get(name or "")
        return name if row and row.get("cover_photo_id") else None

    # --- lists ---------------------------------------------------------------------------------

    def chunked(
        self,
        it: Intent,
        key: str,
        items: list[str],
        names: list[str] | None = None,
        sep: str = "list_sep",
        **fields: Any,
    ) -> TurnResult:
        """Read the first chunk; keep the rest for "要听吗？" → yes."""
        size = list_chunk(items, self.config.dialogue.max_list_items)
        head, rest = items[:size], items[size:]
        reply = self.say(key, items=replies.join(self.lang, head, sep), **fields)
        photo = next((n for n in (names or [])[:size] if self.photo_of(n)), None)
        if not rest:
            return self.result(reply, it, photo_product=photo)
        more = self.say("more", n=replies.count(self.lang, len(rest)))
        more = replies.capitalized(self.lang, more)
        tail = {"items": rest, "names": (names or [])[size:], "sep": sep}
        res = self.wait(it, Awaiting.MORE, more, **tail)
        res.reply, res.photo_product = replies.sentences(self.lang, reply, more), photo
        return res

    def next_chunk(self, pending: Pending) -> TurnResult:
        items, names, sep = pending["items"], pending.get("names") or [], pending.get("sep") or "list_sep"
        size = list_chunk(items, self.config.dialogue.max_list_items)
        head, rest = items[:size], items[size:]
        reply = replies.join(self.lang, head, sep) + load_end(self.lang)
        photo = next((n for n in names[:size] if self.photo_of(n)), None)
        if not rest:
            self.clear()
            return self.result(reply, pending["intent"], photo_product=photo)
        more = self.say("more", n=replies.count(self.lang, len(rest)))
        more = replies.capitalized(self.lang, more)
        res = self.wait(pending["intent"], Awaiting.MORE, more, items=rest, names=names[size:], sep=sep)
        res.reply, res.photo_product = replies.sentences(self.lang, reply, more), photo
        return res

    def items_text(self, order: dict[str, Any]) -> str:
        """An order's lines, spoken: "绿松石手链两条，蜂蜜一瓶"."""
        parts = []
        for line in order["items"]:
            unit = line.get("unit") or self.unit(product=line["name"])
            parts.append(
                self.say("order_line", product=line["name"], quantity=self.qty(line["quantity"], unit))
            )
        return replies.join(self.lang, parts)

    def answer_many(self, it: Intent, names: list[str]) -> TurnResult:
        if it.name == "ask_price":
            parts = [
                self.say("item_price", product=n, price=self.price(self.catalog[n]["price_fen"] / 100))
                for n in names
            ]
        else:
            parts = [
                self.say(
                    "item_stock", product=n, quantity=self.qty(self.catalog[n]["stock"], self.unit(product=n))
                )
                for n in names
            ]
        return self.result(replies.join(self.lang, parts) + load_end(self.lang), it)

    def committed(self, reply: str, it: Intent, **kw: Any) -> TurnResult:
        """A reply for a shop change that went through (with the action to undo it)."""
        self.done_intent = it
        return self.result(
            reply, it, action_id=ports.last_action_id(self.db, self.actor), committed=True, **kw
        )


def list_chunk(items: list[str], max_items: int) -> int:
    """How many items to read now: ``max_items``, or all of them when only one would be left over (saying
    the last one is shorter than asking "还有一样，要听吗？")."""
    size = max(1, max_items)
    return len(items) if len(items) == size + 1 else size


def load_end(lang: str) -> str:
    """Sentence end for a bare list ("。" / ".")."""
    return replies.full_stop(lang)
