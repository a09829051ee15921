"""``voicebot log``: the conversation log and the replies still waiting, for operators."""

from __future__ import annotations

from typing import Any

import click

from voicebot.cli.shop import _emit, json_option, with_shop
from voicebot.console.doubts import heard as heard_record
from voicebot.shop.facade import Shop

FIELDS = ("id", "created_at", "channel", "user", "direction", "kind", "status", "language", "transcript",
          "intent", "reply_text", "media_path", "reply_audio_path", "timings", "error")


def message_json(row: dict[str, Any], heard: dict[str, Any] | None = None) -> dict[str, Any]:
    """A message for ``--json``; ``heard``: the note's confidence, rivals and why the bot asked (console)."""
    out = {k: row.get(k) for k in FIELDS}
    out["words"] = row.get("words")
    out["heard"] = heard
    return out


def _doubt(heard: dict[str, Any] | None) -> str:
    """The recogniser's doubt on one line: its confidence, why the bot asked, what else it heard."""
    if not heard:
        return ""
    out = f"  conf {heard['confidence']:.2f}" if heard.get("confidence") is not None else ""
    if heard.get("asked"):
        out += "  asked: " + "; ".join(a["text"] for a in heard["asked"])
    if heard.get("rivals"):
        out += "  also heard: " + " | ".join(heard["rivals"])
    return out


def _line(row: dict[str, Any], heard: dict[str, Any] | None = None) -> str:
    intent = (row.get("intent") or {}).get("intent") or "-"
    total = round(sum((row.get("timings") or {}).values()))
    words = row.get("transcript") or ""
    said = row.get("reply_text") or ""
    error = f"  ERROR {row['error']}" if row.get("error") else ""
    return (f"#{row['id']} {row['created_at'][:19]} {row['user']} {row['kind']:<5} {row['status']:<10} "
            f"{intent:<14} {total:>5} ms  heard: {words}  said: {said}{error}{_doubt(heard)}")


@click.group("log")
def log_group() -> None:
    """The conversation log: what users said, what the bot understood and answered.

    \b
    Example:
      voicebot log list --status failed
      voicebot log pending --json
    """


@log_group.command("list")
@click.option("--user", default=None, help="Only this channel user id (e.g. a WeChat OpenID).")
@click.option("--status", type=click.Choice(["received", "processing", "replied", "failed"]), default=None)
@click.option("--limit", type=int, default=20, show_default=True, help="At most this many, newest first.")
@json_option
@with_shop
def log_list(shop: Shop, user: str | None, status: str | None, limit: int, as_json: bool) -> None:
    """Inbound messages newest first: transcript, intent, reply, timings and errors, and for a voice note
    the recogniser's confidence, what else it heard and why the bot asked instead of acting.

    \b
    Example:
      voicebot log list --limit 5
      voicebot log list --user oGuo1234 --json
    """
    rows = shop.list_messages(user=user, status=status, direction="in", limit=limit)
    heard = [heard_record(shop.db.raw, r["id"], shop.db.shop_id) for r in rows]
    _emit(as_json, {"messages": [message_json(r, h) for r, h in zip(rows, heard, strict=True)]},
          "\n".join(_line(r, h) for r, h in zip(rows, heard, strict=True)) or "no messages")


@log_group.command("pending")
@json_option
@with_shop
def log_pending(shop: Shop, as_json: bool) -> None:
    """Replies not delivered yet or given up on (waiting for a user's next message, failing, refused).

    \b
    Example:
      voicebot log pending
    """
    rows = shop.outbox.undelivered()
    lines = [f"#{r['id']} {r['channel']}:{r['user']} {r['kind']} {r['status']} attempts={r['attempts']}"
             f" {r['last_error'] or ''}" for r in rows]
    _emit(as_json, {"replies": rows}, "\n".join(lines) or "every reply was delivered")


COMMANDS = [log_group]
