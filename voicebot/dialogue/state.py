"""Per-user dialogue state, persisted in the ``dialogue_state`` table so it survives restarts.

The state is one JSON object per (channel, user):
``{"pending": {...} | None, "last_reply": str, "photo_id": int | None, "photo_at": float}``.
In memory the intents of ``pending`` and ``last_done`` are :class:`~voicebot.intents.Intent` objects and
``pending["awaiting"]`` an :class:`~voicebot.dialogue.awaiting.Awaiting`; in the database they are in the
intent's state form (``Intent.to_state()``) and the awaited thing's word (``"confirm"``).
A pending question carries its own ``expires`` (epoch seconds); the row's ``expires_at`` column
mirrors it so operators (and a future cleanup job) can see when it goes stale.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from voicebot.dialogue.awaiting import Awaiting
from voicebot.intents import Intent, UnknownIntent
from voicebot.logs import log_event
from voicebot.store.clock import to_iso, utc_now
from voicebot.store.db import write_tx
from voicebot.store.scoped import ShopDb

TABLE = "dialogue_state"
TURNS = "dialogue_turns"
State = dict[str, Any]
_WITH_INTENT = ("pending", "last_done")  # the parts of the state that carry an intent


def epoch(now: datetime | float | int | None) -> float:
    """``now`` as epoch seconds (a datetime, a number, or None for the current time)."""
    if now is None:
        return datetime.now(UTC).timestamp()
    if isinstance(now, datetime):
        return (now if now.tzinfo else now.replace(tzinfo=UTC)).timestamp()
    return float(now)


def load_state(db: ShopDb, channel: str, user_id: str) -> State:
    """The stored state, or an empty one."""
    rows = list(db.query(f"SELECT state_json FROM {TABLE} WHERE shop_id = ? AND channel = ? AND user = ?",
                         (db.shop_id, channel, user_id)))
    if not rows:
        return {}
    try:
        state = json.loads(rows[0]["state_json"])
    except (TypeError, ValueError):
        return {}
    if not isinstance(state, dict):
        return {}
    for key in _WITH_INTENT:
        if state.get(key):
            try:
                state[key] = {**state[key], "intent": Intent.from_contract(state[key]["intent"])}
                if key == "pending":  # the words stored before it was typed ("confirm") are its values
                    state[key]["awaiting"] = Awaiting(state[key]["awaiting"])
            except (KeyError, TypeError, ValueError, UnknownIntent) as e:  # from another version: forget it, never fail
                log_event("dialogue_state_dropped", level=30, key=key, error=f"{type(e).__name__}: {e}")
                state[key] = None
    return state


def _stored(state: State) -> State:
    """The state as JSON can hold it: intents in their state form."""
    out = dict(state)
    for key in _WITH_INTENT:
        if out.get(key) and isinstance(out[key].get("intent"), Intent):
            out[key] = {**out[key], "intent": out[key]["intent"].to_state()}
    return out


def save_state(db: ShopDb, channel: str, user_id: str, state: State) -> None:
    """Write the whole state in one transaction (last writer wins: one user speaks at a time)."""
    pending = state.get("pending")
    expires_at = None
    if pending and pending.get("expires"):
        expires_at = to_iso(datetime.fromtimestamp(pending["expires"], UTC))
    with write_tx(db):
        db.execute(
            f"INSERT INTO {TABLE} (shop_id, channel, user, state_json, expires_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, channel, user) DO UPDATE SET"
            " state_json = excluded.state_json, expires_at = excluded.expires_at, updated_at = excluded.updated_at",
            (db.shop_id, channel, user_id, json.dumps(_stored(state), ensure_ascii=False), expires_at, utc_now()),
        )


def recorded_turn(db: ShopDb, turn_id: str) -> dict[str, Any] | None:
    """The result stored for ``turn_id`` (a message id) when that turn already ran, else None."""
    row = db.execute(f"SELECT result_json FROM {TURNS} WHERE shop_id = ? AND turn_id = ?",
                     (db.shop_id, turn_id)).fetchone()
    return json.loads(row[0]) if row else None


def record_turn(db: ShopDb, turn_id: str, channel: str, user_id: str, result: dict[str, Any]) -> None:
    """Keep a turn's result; call it inside the transaction that commits the turn's shop change."""
    db.execute(
        f"INSERT INTO {TURNS} (shop_id, turn_id, channel, user, result_json, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (db.shop_id, turn_id, channel, user_id, json.dumps(result, ensure_ascii=False), utc_now()),
    )
