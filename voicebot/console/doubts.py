"""What the recogniser doubted and why the bot asked instead of acting, for an operator: read from the turn's
record (``dialogue_turns``, kept by the dialogue: voicebot/dialogue/doubts.py) and said in plain words.

Everything here is data for the templates, which escape it: a rival is what a stranger's voice note made
the recogniser write, so it is outsider text.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

# a reason code in plain words; ``{detail}`` is the rival heard, the customer's name, the confidence...
REASONS = {
    "low_confidence": "the recogniser was unsure of the whole note (confidence {detail})",
    "sound_match": "a word was matched by its sound, not by its characters (车销 read as 撤销)",
    "rival": "it could as well have heard “{detail}”, which would change the shop differently",
    "approximate": "the number was approximate (十来个, about twenty)",
    "customer_sound": "the customer's name only sounded like {detail}, a known customer",
    "from_context": "the product ({detail}) was not said: it came from the message before",
    "unsure": "an earlier note of this exchange was heard unsure",
    "always": "this change is always read back (hard to take back)",
    "far_amount": "the amount is far from what the shop holds",
    "odd_price": "the price was heard as digits that are no round figure (122 for 一百二?)",
    "beam": "the note as written said nothing understood; this is the recogniser's next hearing, “{detail}”",
}


def in_words(reason: str, detail: str | None) -> str:
    """One reason to ask, as an operator reads it (an unknown code: the code itself)."""
    text = REASONS.get(reason)
    if text is None:
        return reason + (f": {detail}" if detail else "")
    return text.format(detail=detail or "?")


def heard(db: sqlite_utils.Database, message_id: int, shop_id: int | None) -> dict[str, Any] | None:
    """The message's hearing as its turn kept it: ``confidence``, ``rivals`` and ``asked`` (each reason with
    its ``text``); None when its turn kept none (typed text, a turn from before, a message with no turn).
    Only the turn of the message's own shop is read (the caller has checked the message is visible)."""
    if shop_id is None:
        return None
    row = db.execute("SELECT result_json FROM dialogue_turns WHERE turn_id = ? AND shop_id = ?",
                     (str(message_id), shop_id)).fetchone()
    try:
        kept = json.loads(row[0]).get("heard") if row else None
    except (ValueError, AttributeError):
        return None
    if not isinstance(kept, dict):
        return None
    confidence = kept.get("confidence")
    asked = [a for a in kept.get("asked") or () if isinstance(a, dict) and isinstance(a.get("reason"), str)]
    return {
        "confidence": confidence if isinstance(confidence, (int, float)) else None,
        "rivals": [str(r) for r in kept.get("rivals") or ()],
        "asked": [{**a, "text": in_words(a["reason"], a.get("detail"))} for a in asked],
    }


__all__ = ["REASONS", "heard", "in_words"]
