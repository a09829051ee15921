"""Questions that wait in the state for the user's next turn: asking, asking again, dropping one, and
lists read a few items at a time ("还有三样，要听吗？")."""

from __future__ import annotations

from typing import Any

from voicebot.dialogue import replies
from voicebot.dialogue.awaiting import Awaiting, Pending
from voicebot.dialogue.turn import Turn, TurnResult
from voicebot.intents import Intent


class Questions:
    """The turn's waiting question (``state["pending"]``): store one, ask it again, drop it."""

    def __init__(self, turn: Turn) -> None:
        self.t = turn

    def pending(self) -> Pending | None:
        return self.t.state.get("pending")

    def clear(self) -> None:
        self.t.state["pending"] = None

    def wait(self, it: Intent, awaiting: Awaiting, question: str, **extra: Any) -> TurnResult:
        """Store a question and ask it."""
        t = self.t
        t.state["pending"] = Pending(intent=it, awaiting=awaiting, question=question,
                                     expires=t.now + t.config.dialogue.pending_timeout_s, **extra)  # fmt: skip
        return t.result(question, it, awaiting=awaiting)

    def slot(self, it: Intent, slot: Awaiting) -> TurnResult:
        """Ask for a missing slot ("几条？"; "卖了几瓶？" where the intent has its own words)."""
        key = f"ask.{slot}_{it.name}"
        if not replies.has(self.t.lang, key):
            key = f"ask.{slot}"
        return self.wait(it, slot, self.t.say(key, unit=self.t.unit(it)))

    def again(self, pending: Pending) -> TurnResult:
        """ "没听清。" and the question again (it waits longer)."""
        return self._repeat(pending, "ask.again")

    def plainly(self, pending: Pending) -> TurnResult:
        """A murmur heard unsure is not a yes: the question again, asking for a plain yes or no."""
        return self._repeat(pending, "ask.plainly")

    def _repeat(self, pending: Pending, key: str) -> TurnResult:
        t = self.t
        pending["expires"] = t.now + t.config.dialogue.pending_timeout_s
        return t.result(t.say(key, question=pending["question"]), pending["intent"], awaiting=pending["awaiting"])

    # --- dropping a question -------------------------------------------------------------------

    def what(self, it: Intent) -> str:
        """A few words naming an intent that waits ("卖蜂蜜", "the sale of honey")."""
        t, kind = self.t, it.name
        key = f"pending_what.{kind}" if replies.has(t.lang, f"pending_what.{kind}") else "pending_what.other"
        product = it.product or it.spoken or ""
        if not product and "{product}" in str(replies.load_replies(t.lang)["pending_what"].get(kind, "")):
            key = "pending_what.other"  # "买没有记" names nothing: say "the last question" instead
        return t.say(key, product=product)

    def dropped(self, pending: Pending, result: TurnResult) -> TurnResult:
        """Say, before the new command's reply, that the waiting question was dropped."""
        if not pending["awaiting"].is_change:
            return result
        note = self.t.say("dropped", what=self.what(pending["intent"]))
        result.reply = replies.sentences(self.t.lang, self.t.capital(note), result.reply)
        return result

    def cancel(self, pending: Pending, it: Intent) -> TurnResult:
        """算了 / undo / never mind while a question waits: drop it, and say that nothing changed."""
        self.clear()
        return self.t.result(self.t.say("cancelled_pending", what=self.what(pending["intent"])), it)

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
        t = self.t
        size = list_chunk(items, t.config.dialogue.max_list_items)
        head, rest = items[:size], items[size:]
        reply = t.say(key, items=replies.join(t.lang, head, sep), **fields)
        photo = next((n for n in (names or [])[:size] if t.photo_of(n)), None)
        if not rest:
            return t.result(reply, it, photo_product=photo)
        more = t.capital(t.say("more", n=replies.count(t.lang, len(rest))))
        res = self.wait(it, Awaiting.MORE, more, items=rest, names=(names or [])[size:], sep=sep)
        res.reply, res.photo_product = replies.sentences(t.lang, reply, more), photo
        return res

    def next_chunk(self, pending: Pending) -> TurnResult:
        t = self.t
        items, names, sep = pending["items"], pending.get("names") or [], pending.get("sep") or "list_sep"
        size = list_chunk(items, t.config.dialogue.max_list_items)
        head, rest = items[:size], items[size:]
        reply = replies.join(t.lang, head, sep) + load_end(t.lang)
        photo = next((n for n in names[:size] if t.photo_of(n)), None)
        if not rest:
            self.clear()
            return t.result(reply, pending["intent"], photo_product=photo)
        more = t.capital(t.say("more", n=replies.count(t.lang, len(rest))))
        res = self.wait(pending["intent"], Awaiting.MORE, more, items=rest, names=names[size:], sep=sep)
        res.reply, res.photo_product = replies.sentences(t.lang, reply, more), photo
        return res


def list_chunk(items: list[str], max_items: int) -> int:
    """How many items to read now: ``max_items``, or all of them when only one would be left over (saying
    the last one is shorter than asking "还有一样，要听吗？")."""
    size = max(1, max_items)
    return len(items) if len(items) == size + 1 else size


def load_end(lang: str) -> str:
    """Sentence end for a bare list ("。" / ".")."""
    return replies.full_stop(lang)
