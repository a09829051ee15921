"""A turn re-run after a crash replays its stored result: no shop effect happens twice, however
many messages of one user were in flight and in whatever order they resume."""

from __future__ import annotations

import itertools

import pytest

from voicebot.dialogue import handle_turn


def turn(db, config, text: str, turn_id: str, user: str = "oBuyer", role: str = "buyer"):
    return handle_turn(db, config, channel="wechat", user_id=user, role=role, lang="zh",
                       text=text, confidence=None, turn_id=turn_id)


def orders_and_stock(shop) -> tuple[int, int]:
    return len(shop.list_orders()), shop.product("蜂蜜")["stock"]


@pytest.mark.parametrize("order", list(itertools.permutations(["m1", "m2", "m3"])))
def test_every_in_flight_order_is_committed_once_whatever_the_resume_order(shop, db, config, order):
    texts = {"m1": "我要两瓶蜂蜜", "m2": "我要三瓶蜂蜜", "m3": "我要一瓶蜂蜜"}
    first = {mid: turn(db, config, texts[mid], mid) for mid in ("m1", "m2", "m3")}
    assert all(r.committed for r in first.values())
    assert orders_and_stock(shop) == (3, 20 - 6)
    for mid in order:  # the service died before logging them: every run resumes
        again = turn(db, config, texts[mid], mid)
        assert (again.reply, again.action_id, again.notify) == (
            first[mid].reply, first[mid].action_id, first[mid].notify)
    assert orders_and_stock(shop) == (3, 20 - 6)


def test_a_new_message_with_the_same_words_is_a_new_order(shop, db, config):
    turn(db, config, "我要两瓶蜂蜜", "m1")
    turn(db, config, "我要两瓶蜂蜜", "m2")
    assert orders_and_stock(shop) == (2, 16)


def test_the_replayed_turn_leaves_the_dialogue_state_alone(shop, db, config):
    """A question asked by a later message is still waiting after an older message is replayed."""
    turn(db, config, "我要两瓶蜂蜜", "m1")
    asked = turn(db, config, "我要手链", "m2")
    assert asked.awaiting
    turn(db, config, "我要两瓶蜂蜜", "m1")
    answered = turn(db, config, "两条", "m3")
    assert answered.committed and orders_and_stock(shop)[0] == 2


def test_a_replayed_photo_is_attached_once(shop, db, config):
    from voicebot.dialogue import note_photo

    photo = shop.store_photo(_png())
    asked = [note_photo(db, "wechat", "boss", photo["id"], config=config, role="seller", lang="zh", turn_id="m1")
             for _ in range(2)]
    assert asked[0].awaiting and asked[1] == asked[0]
    for _ in range(2):
        turn(db, config, "蜂蜜", "m2", user="boss", role="seller")
    assert len(shop.product_photos("蜂蜜")) == 1


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 128, 255)).save(out, "PNG")
    return out.getvalue()
