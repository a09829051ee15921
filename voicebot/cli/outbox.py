"""``voicebot outbox``: the replies being sent, and an operator's retry of stopped ones."""

from __future__ import annotations

from typing import Any

import click

from voicebot.cli.shop import _emit, json_option, with_shop
from voicebot.shop.facade import Shop

STATUSES = ("pending", "sent", "gave_up", "ambiguous")


def _line(r: dict[str, Any]) -> str:
    text = (r["payload"].get("text") or "")[:40]
    return (f"#{r['id']} {r['created_at'][:19]} {r['channel']}:{r['user']} {r['kind']:<5} {r['status']:<9}"
            f" attempts={r['attempts']} {text} {r['last_error'] or ''}").rstrip()


@click.group("outbox")
def outbox_group() -> None:
    """Replies on their way to users: list them, send stopped ones again.

    \b
    Example:
      voicebot outbox list --status ambiguous
      voicebot outbox retry --id 12
    """


@outbox_group.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only rows with this status.")
@click.option("--limit", type=int, default=50, show_default=True, help="At most this many, newest first.")
@json_option
@with_shop
def outbox_list(shop: Shop, status: str | None, limit: int, as_json: bool) -> None:
    """Outbox rows newest first: status (pending, sent, gave_up, ambiguous), attempts, last error.

    \b
    Example:
      voicebot outbox list --status gave_up --json
    """
    rows = shop.outbox.list_rows(status, limit)
    _emit(as_json, {"replies": rows}, "\n".join(map(_line, rows)) or "no replies")


@outbox_group.command("retry")
@click.option("--id", "ids", type=int, multiple=True, help="The outbox row to send again (repeatable).")
@click.option("--all", "all_", is_flag=True, help="Every given-up, ambiguous or backing-off row.")
@json_option
@with_shop
def outbox_retry(shop: Shop, ids: tuple[int, ...], all_: bool, as_json: bool) -> None:
    """Send stopped replies again now (a running service picks them up within a second).

    An ``ambiguous`` reply may already have reached the user: retry it only if they did not get it.
    Replies held for a user's next message (48-hour window) stay held.

    \b
    Example:
      voicebot outbox retry --id 12
      voicebot outbox retry --all
    """
    if bool(ids) == all_:
        raise click.UsageError("give --id N (repeatable) or --all")
    count = shop.outbox.retry(None if all_ else list(ids))
    _emit(as_json, {"retried": count}, f"{count} repl{'y' if count == 1 else 'ies'} will be sent again")


COMMANDS = [outbox_group]
