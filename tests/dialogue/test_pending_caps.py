"""A buyer cannot reserve the shop's stock: pending orders and the units in them are capped per buyer."""

from __future__ import annotations

from test_dialogue_flows import Talk

from voicebot.shop.facade import Shop


def test_one_buyer_holds_at_most_the_pending_cap_and_others_still_buy(db, config):
    s = Shop(db, config)
    s.add_product("honey", 30, 99)
    units = config.dialogue.max_pending_units
    cap = config.dialogue.max_pending_orders
    assert units == 20 and cap == 5
    hoarder = Talk(db, config, user="b1", role="buyer", lang="en")
    assert hoarder("i want fifteen jars of honey").committed and s.product("honey")["stock"] == 84
    r = hoarder("i want ten jars of honey")  # 25 units would be more than one buyer may hold
    assert not r.committed and "waiting for the seller" in r.reply
    assert s.product("honey")["stock"] == 84  # the shop is unchanged
    for _ in range(cap - 1):
        assert hoarder("i want one jar of honey").committed
    r = hoarder("i want one jar of honey")  # one pending order more than the cap
    assert not r.committed and "five orders waiting" in r.reply
    assert s.product("honey")["stock"] == 84 - (cap - 1)
    other = Talk(db, config, user="b2", role="buyer", lang="en")
    assert other("i want two jars of honey").committed and s.product("honey")["stock"] == 78
    # once the seller has handled an order, the buyer may order again
    pending = [o for o in s.list_orders(status="pending") if o["customer_id"] == s.customer("wechat", "b1")["id"]]
    s.set_order_status(pending[0]["id"], "confirmed")
    assert hoarder("i want one jar of honey").committed
