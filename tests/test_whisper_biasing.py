"""Catalog biasing for Whisper: the prompt comes from the shop's current products and customers."""

from __future__ import annotations

from pathlib import Path

from voicebot.asr.biasing import MAX_PROMPT_CHARS, bias_phrases, prompt_for
from voicebot.config import load_config
from voicebot.shop.facade import Shop


def test_prompt_follows_the_catalog_and_the_customers(tmp_path: Path) -> None:
    config = load_config(environ={}, overrides={"server": {"data_dir": str(tmp_path)}})
    with Shop.open(config) as shop:
        shop.add_product("绿松石手链", 200, 10, unit="条")
        before = prompt_for("zh", bias_phrases("zh", shop.product_names(), shop.spoken_names()))
        shop.add_product("核桃", 30, 50, unit="斤")
        shop.record_sale("绿松石手链", 1, customer="张三")
        after = prompt_for("zh", bias_phrases("zh", shop.product_names(), shop.spoken_names()))
    assert before == "绿松石手链。"
    assert after is not None and {"绿松石手链", "核桃", "张三"} <= set(after.rstrip("。").split("、"))


def test_prompt_is_bounded_and_absent_without_words() -> None:
    many = [f"商品{i}" for i in range(200)]
    prompt = prompt_for("zh", bias_phrases("zh", many, []))
    assert prompt is not None and len(prompt) <= MAX_PROMPT_CHARS["cjk"] and prompt.startswith("商品0、商品1")
    assert prompt_for("en", bias_phrases("en", ["honey", "tea"], ["Linda"])) == "honey, tea, Linda."
    assert prompt_for("zh", []) is None
