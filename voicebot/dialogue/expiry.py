"""Buyers' orders the seller never shipped expire: cancelled (stock returned), and both the sellers
and the buyer hear it by voice, the way a new order is heard. Checked lazily on every turn, inside
the turn's transaction, so no background job is needed and a crash leaves neither or both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from voicebot.config import Config
from voicebot.dialogue import ports, replies
from voicebot.dialogue.replies import say
from voicebot.logs import log_event
from voicebot.shop import customers, orders
from voicebot.store.clock import to_iso
from voicebot.store.scoped import ShopDb

Notice = tuple[str, str, str]


def expire_orders(db: ShopDb, config: Config, now: datetime | None = None) -> list[Notice]:
    """Cancel pending buyer orders older than ``dialogue.order_expiry_h``; the voice notices to send.

    ``now`` is the wall clock (orders are stamped with it), not a turn's test time."""
    hours = config.dialogue.order_expiry_h
    if hours <= 0:
        return []
    cutoff = to_iso((now or datetime.now(UTC)) - timedelta(hours=hours))
    stale = [
        r[0]
        for r in db.execute(
            "SELECT id FROM orders WHERE shop_id = ? AND status = 'pending' AND created_by = 'buyer'"
            " AND created_at < ?",
            (db.shop_id, cutoff),
        ).fetchall()
    ]
    notices: list[Notice] = []
    for order_id in stale:
        order = orders.cancel_order(db, order_id, actor=None)
        log_event("order_expired", order_id=order_id)
        buyer = customers.get_customer(db, order["customer_id"]) if order["customer_id"] else None
        for channel, seller_id, lang in ports.sellers(db, config, ""):
            who = ports.display_name(db, order["customer_id"]) or say(lang, "someone")
            text = say(lang, "seller_order_expired", customer=who, **_facts(lang, order))
            notices.append((channel, seller_id, replies.capitalized(lang, text)))
        if buyer and buyer["channel"] != customers.SPOKEN_CHANNEL and not buyer.get("unsubscribed"):
            lang = buyer.get("language") or config.shop.language
            notices.append(
                (
                    buyer["channel"],
                    buyer["channel_user_id"],
                    say(lang, "order_expired", **_facts(lang, order)),
                )
            )
    return notices


def _facts(lang: str, order: dict) -> dict[str, str]:
    lines = [
        say(
            lang,
            "order_line",
            product=i["name"],
            quantity=replies.quantity(lang, i["quantity"], i.get("unit")),
        )
        for i in order["items"]
    ]
    return {"number": replies.ordinal(lang, order["number"]), "items": replies.join(lang, lines)}
