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
