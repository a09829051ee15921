"""What is read back is bounded: a "name" longer than any product name is never echoed."""

from __future__ import annotations

import pytest
from test_dialogue import say

from voicebot.shop.facade import Shop

LONG_ZH = "绿" * 2000
LONG_EN = " ".join(["very"] * 400) + " nice honey"


@pytest.mark.parametrize(
    ("text", "role", "lang"),
    [
        (f"{LONG_ZH}多少钱", "buyer", "zh"),
        (f"我要两个{LONG_ZH}", "buyer", "zh"),
        (f"{LONG_ZH}进货五条", "seller", "zh"),
        (f"上架{LONG_ZH}两百块十条", "seller", "zh"),
        (f"how much is the {LONG_EN}", "buyer", "en"),
        (f"add {LONG_EN} price two hundred stock ten", "seller", "en"),
    ],
)
def test_an_over_long_name_is_not_read_back(db, config, text, role, lang):
    result = say(db, config, text, role=role, lang=lang)
    assert len(result.reply) < 80
    assert result.reply in ("没听清名字，请再说一遍商品的名字。",
                            "I didn't catch the name. Please say the product's name again.")
    assert Shop(db, config).list_products() == []  # nothing was added under such a name


def test_a_plausible_unknown_name_is_still_read_back(db, config):
    assert "紫色独角兽" in say(db, config, "紫色独角兽多少钱", role="buyer").reply
    assert "purple unicorn" in say(db, config, "how much is the purple unicorn", role="buyer", lang="en").reply


def test_each_read_back_keeps_why_it_asked(db, config, shop):
    """A seller's voice notes that are read back: the turn keeps the reason the console shows, one per cause,
    and nothing changes until she says yes (a turn made at once keeps no reason)."""
    def asked(text: str, at: float, **kw) -> list[tuple[str, str | None]]:
        r = say(db, config, text, confidence=kw.pop("confidence", 0.95), now=at, **kw)
        assert r.heard is not None and not r.committed
        say(db, config, "不对", now=at + 1)  # nothing waits for the next case
        return [(a["reason"], a["detail"]) for a in r.heard["asked"]]

    made = say(db, config, "卖了两条绿松石手链给张三", confidence=0.95)
    assert made.committed and made.heard == {"confidence": 0.95, "rivals": [], "asked": []}
    assert asked("车销", 10) == [("sound_match", None)]  # 撤销 by its sound: the undo is offered
    assert asked("卖了十来条绿松石手链", 20) == [("approximate", None)]
    assert asked("绿松石手链价格改成122", 30) == [("odd_price", None)]  # 一百二 written as digits?
    assert asked("卖了一条绿松石手链给张山", 40) == [("customer_sound", "张三")]
    assert asked("蜂蜜进货五瓶", 50, confidence=0.52) == [("low_confidence", "0.52")]
    assert shop.product("绿松石手链")["stock"] == 8 and shop.product("绿松石手链")["price_fen"] == 20000
    assert shop.product("蜂蜜")["stock"] == 20 and len(shop.list_orders()) == 1
