"""Why a turn asked instead of acting, and what the recogniser doubted: kept with the turn's result (the
``dialogue_turns`` record of its message) for the operator console.

A :class:`Doubt` is one reason a shop change was read back: the reading was unsure (``low_confidence``,
``sound_match``, a ``rival`` hearing that would change the shop otherwise, an ``approximate`` number, a
``customer_sound`` name, a product ``from_context``, a reading from the ``beam`` when the transcript said
nothing understood), or the change itself asks (``always``: hard to undo;
``far_amount``: far from what the shop holds; ``odd_price``: digits that are no round figure).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any, NamedTuple

RIVALS_KEPT = 3  # the rivals kept with a turn: what an operator can read at a glance
RIVAL_CHARS = 60  # a rival longer than this is cut (outsider text: the record stays small)
REASONS = ("low_confidence", "sound_match", "rival", "approximate", "customer_sound", "from_context", "unsure",
           "always", "far_amount", "odd_price", "beam")


class Doubt(NamedTuple):
    """One reason to read a change back; ``detail``: the rival heard, the customer's name, the confidence."""

    reason: str
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "detail": self.detail}


def _plain(text: str) -> str:
    """The words without punctuation, spaces and width differences: how two hearings are told apart."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if not unicodedata.category(c).startswith(("P", "Z", "C"))).lower()


def _short(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= RIVAL_CHARS else text[: RIVAL_CHARS - 1] + "…"


def rivals(text: str, alternatives: Sequence[str], first: str | None = None) -> list[str]:
    """What else the recogniser could have heard, as an operator reads it: the alternatives that differ from
    ``text`` in more than punctuation, ``first`` (the rival that made the turn ask) first, a few, short."""
    seen, out = {_plain(text)}, []
    for other in ([first] if first else []) + list(alternatives):
        key = _plain(other)
        if key and key not in seen:
            seen.add(key)
            out.append(_short(other))
    return out[:RIVALS_KEPT]


def heard_record(text: str, confidence: float | None, alternatives: Sequence[str],
                 asked: Sequence[Doubt]) -> dict[str, Any] | None:
    """What a turn keeps of its hearing: the utterance confidence, the rivals, and why it asked (None for
    typed text that asked nothing: nothing was heard, nothing doubted)."""
    if confidence is None and not asked:
        return None
    rival = next((d.detail for d in asked if d.reason == "rival"), None)
    return {
        "confidence": None if confidence is None else round(float(confidence), 3),
        "rivals": rivals(text, alternatives, rival),
        "asked": [Doubt(d.reason, _short(d.detail) if d.detail else None).to_dict() for d in asked],
    }


__all__ = ["REASONS", "Doubt", "heard_record", "rivals"]
