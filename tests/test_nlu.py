"""Intents beyond the corpus: other phrasings real speakers use, role rules, noise, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicebot.cli import main
from voicebot.config import load_config
from voicebot.nlu import understand
from voicebot.shop.facade import Shop

ZH = ["绿松石手链", "绿松石耳环", "绿松石项链", "茶叶", "蜂蜜", "香菇"]
EN = ["turquoise bracelet", "turquoise earrings", "turquoise necklace", "green tea", "honey", "mushrooms"]

# (role, text, intent, product, quantity, price, customer)
ZH_CASES = [
    ("seller", "上架 核桃 三十 块 一 斤 五十 斤", "add_product", "核桃", 50, 30, None),
    ("seller", "新品 红枣 两块五 一 包 库存 一百 包", "add_product", "红枣", 100, 2.5, None),
    ("seller", "蜂蜜 改成 五十 块", "set_price", "蜂蜜", None, 50, None),
    ("seller", "茶叶 降价 到 八十", "set_price", "茶叶", None, 80, None),
    ("seller", "耳环 一 对 一百八", "set_price", "绿松石耳环", None, 180, None),
    ("seller", "又 进 了 二十 瓶 蜂蜜", "add_stock", "蜂蜜", 20, None, None),
    ("seller", "香菇 补货 十来 斤", "add_stock", "香菇", 10, None, None),
    ("seller", "蜂蜜 还 剩 几 瓶", "check_stock", "蜂蜜", None, None, None),
    ("seller", "王小明 买 了 两 瓶 蜂蜜", "record_sale", "蜂蜜", 2, None, "王小明"),
    ("seller", "卖给李四三斤香菇", "record_sale", "香菇", 3, None, "李四"),
    ("seller", "项链 卖 了 一 条 两百 块", "record_sale", "绿松石项链", 1, 200, None),
    ("seller", "这 个 月 卖 了 多少", "sales_summary", None, None, None, None),
    ("seller", "给 张三 发货 了", "mark_shipped", None, None, None, "张三"),
    ("seller", "蜂蜜 不 卖 了", "remove_product", "蜂蜜", None, None, None),
    ("seller", "看看 订单", "list_orders", None, None, None, None),
    ("seller", "撤回 刚才 的", "undo", None, None, None, None),
    ("seller", "没 听 清 再 说 一 遍", "repeat", None, None, None, None),
    ("seller", "对 对 对", "confirm", None, None, None, None),
    ("seller", "不 是 的", "deny", None, None, None, None),
    ("seller", "放 首 歌 听听", "unknown", None, None, None, None),
    ("seller", "嗯 啊 那个", "unknown", None, None, None, None),
    ("buyer", "手链 怎么 卖", "ask_price", "绿松石手链", None, None, None),
    ("buyer", "茶叶 一 斤 多少 钱", "ask_price", "茶叶", None, None, None),
    ("buyer", "有 没有 蜂蜜", "ask_stock", "蜂蜜", None, None, None),
    ("buyer", "来 两 斤 香菇", "place_order", "香菇", 2, None, None),
    ("buyer", "我 要 一 条 项链", "place_order", "绿松石项链", 1, None, None),
    ("buyer", "我 买 的 东西 什么 时候 发货", "order_status", None, None, None, None),
    ("buyer", "订单 不 要 了", "cancel_order", None, None, None, None),
    ("buyer", "都 有 些 什么", "list_products", None, None, None, None),
    ("buyer", "你 能 做 什么", "help", None, None, None, None),
    ("buyer", "今天 天气 不错", "unknown", None, None, None, None),
]
EN_CASES = [
    ("seller", "add a new product walnuts price twelve dollars stock forty", "add_product", "walnuts", 40, 12, None),
    ("seller", "new item dried dates two dollars fifty", "add_product", "dried dates", None, 2.5, None),
    ("seller", "set the price of green tea to fifteen", "set_price", "green tea", None, 15, None),
    ("seller", "honey now costs twenty five dollars", "set_price", "honey", None, 25, None),
    ("seller", "we got a dozen more jars of honey", "add_stock", "honey", 12, None, None),
    ("seller", "restocked mushrooms twenty bags", "add_stock", "mushrooms", 20, None, None),
    ("seller", "how much honey is left", "check_stock", "honey", None, None, None),
    ("seller", "sold a couple of necklaces to anna", "record_sale", "turquoise necklace", 2, None, "anna"),
    ("seller", "peter bought one bracelet", "record_sale", "turquoise bracelet", 1, None, "peter"),
    ("seller", "how much money did we make this week", "sales_summary", None, None, None, None),
    ("seller", "show me the new orders", "list_orders", None, None, None, None),
    ("seller", "i sent mary's package", "mark_shipped", None, None, None, "mary"),
    ("seller", "remove the mushrooms", "remove_product", "mushrooms", None, None, None),
    ("seller", "that's the green tea", "attach_photo", "green tea", None, None, None),
    ("seller", "scratch that", "undo", None, None, None, None),
    ("seller", "yeah", "confirm", None, None, None, None),
    ("seller", "nope", "deny", None, None, None, None),
    ("seller", "what's the weather like", "unknown", None, None, None, None),
    ("buyer", "what have you got", "list_products", None, None, None, None),
    ("buyer", "what does the green tea cost", "ask_price", "green tea", None, None, None),
    ("buyer", "is there any honey left", "ask_stock", "honey", None, None, None),
    ("buyer", "can i get two bracelets", "place_order", "turquoise bracelet", 2, None, None),
    ("buyer", "has my order shipped", "order_status", None, None, None, None),
    ("buyer", "i changed my mind cancel it", "cancel_order", None, None, None, None),
    ("buyer", "say that again", "repeat", None, None, None, None),
    ("buyer", "tell me a joke", "unknown", None, None, None, None),
]


def _check(lang: str, catalog: list[str], case: tuple) -> None:
    role, text, intent, product, quantity, price, customer = case
    got = understand(text, lang, role, catalog).to_contract()
    assert got == {"intent": intent, "product": product, "quantity": quantity, "price": price, "customer": customer}


@pytest.mark.parametrize("case", ZH_CASES, ids=[c[1] for c in ZH_CASES])
def test_zh_phrasings(case: tuple) -> None:
    _check("zh", ZH, case)


@pytest.mark.parametrize("case", EN_CASES, ids=[c[1] for c in EN_CASES])
def test_en_phrasings(case: tuple) -> None:
    _check("en", EN, case)


@pytest.mark.parametrize(
    ("text", "lang", "catalog"),
    [("卖了两条手链给张三", "zh", ZH), ("下架蜂蜜", "zh", ZH), ("上架核桃三十块", "zh", ZH), ("蜂蜜价格改成五十", "zh", ZH),
     ("sold two bracelets to john", "en", EN), ("stop selling honey", "en", EN), ("change the price of honey to five", "en", EN)],
)  # fmt: skip
def test_a_buyer_never_gets_a_seller_intent(text: str, lang: str, catalog: list[str]) -> None:
    from voicebot.intents import spec

    assert spec(understand(text, lang, "buyer", catalog).name).role != "seller"


def test_same_words_by_role() -> None:
    assert understand("我要两条手链", "zh", "buyer", ZH).name == "place_order"
    assert understand("我要两条手链", "zh", "seller", ZH).name == "record_sale"
    assert understand("耳环还有货吗", "zh", "seller", ZH).name == "check_stock"


def test_extras_for_the_dialogue() -> None:
    r = understand("绿松石 多少 钱", "zh", "buyer", ZH)
    assert r.product == "绿松石" and sorted(r.candidates) == sorted(ZH[:3]) and not r.product_known
    r = understand("进了十来斤香菇", "zh", "seller", ZH)
    assert (r.name, r.quantity, r.approximate, r.unit) == ("add_stock", 10, True, "斤")
    assert understand("今天卖了多少钱", "zh", "seller", ZH).period == "today"
    assert understand("how much did i sell this month", "en", "seller", EN).period == "month"
    assert understand("红枣两块五一包", "zh", "seller", ["红枣"]).to_contract()["price"] == 2.5
    assert isinstance(understand("蜂蜜价格改成五十", "zh", "seller", ZH).to_contract()["price"], int)


def test_cli_one_line_with_all_five_keys() -> None:
    result = CliRunner().invoke(
        main, ["nlu", "--lang", "zh", "--role", "seller", "--products", "绿松石手链,绿松石耳环,蜂蜜", "卖了两条手链给张三"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1
    assert json.loads(result.output) == {
        "intent": "record_sale", "product": "绿松石手链", "quantity": 2, "price": None, "customer": "张三"
    }  # fmt: skip


def test_cli_reads_the_catalog_from_the_configured_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = tmp_path / "voicebot.toml"
    config.write_text(f'[server]\ndata_dir = "{data}"\n', encoding="utf-8")
    with Shop.open(load_config(config, environ={})) as shop:
        shop.add_product("蜂蜜", 45, 10, "瓶")
        shop.add_product("香菇", 20, 10, "斤")
        shop.remove_product("香菇")
    runner = CliRunner()
    out = runner.invoke(main, ["nlu", "--config", str(config), "--role", "buyer", "风蜜多少钱"])
    assert json.loads(out.output)["product"] == "蜂蜜"
    out = runner.invoke(main, ["nlu", "--config", str(config), "--role", "buyer", "香菇多少钱"])
    assert json.loads(out.output) == {"intent": "ask_price", "product": None, "quantity": None, "price": None,
                                      "customer": None}  # fmt: skip


def test_cli_hears_the_configured_shops_customers_by_sound(tmp_path: Path) -> None:
    config = tmp_path / "voicebot.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    with Shop.open(load_config(config, environ={})) as shop:
        shop.add_product("绿松石手链", 200, 10, "条")
        shop.customer_for_name("张三")
    runner = CliRunner()
    out = runner.invoke(main, ["nlu", "--config", str(config), "--full", "卖了两条手链给江山"])
    assert (json.loads(out.output)["customer"], json.loads(out.output)["unsure"]) == ("张三", True)
    out = runner.invoke(main, ["nlu", "--config", str(config), "--customers", "李四", "卖了两条手链给江山"])
    assert json.loads(out.output)["customer"] == "江山"  # 江山 sounds like no 李四: a new customer
    line = {"text": "卖了三瓶蜂蜜给理事", "products": "蜂蜜", "customers": ["李四"]}
    out = runner.invoke(main, ["nlu", "--config", str(config), "--batch"], input=json.dumps(line, ensure_ascii=False))
    assert json.loads(out.output)["customer"] == "李四"


def test_help_texts_have_examples() -> None:
    for command in ("nlu", "grammar"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output


def test_numerals_inside_product_names_are_not_numbers() -> None:
    spices = ["三七粉", "八角", "五香粉", "千层底布鞋"]
    got = understand("五香粉 卖 了 三 包", "zh", "seller", spices)
    assert (got.product, got.quantity, got.price) == ("五香粉", 3, None)
    got = understand("八角多少钱一斤", "zh", "buyer", spices)
    assert (got.name, got.product) == ("ask_price", "八角")
    got = understand("八角两斤卖了", "zh", "seller", spices)
    assert (got.product, got.quantity) == ("八角", 2)
    got = understand("上架 十三香 八 块 一 包 库存 五十 包", "zh", "seller", spices)
    assert (got.product, got.price, got.quantity) == ("十三香", 8, 50)
    got = understand("add product seven grain cookies price five stock thirty", "en", "seller", ["honey"])
    assert (got.product, got.price, got.quantity) == ("seven grain cookies", 5, 30)


def test_one_character_shared_by_several_products_is_ambiguous() -> None:
    oils = ["菜籽油", "花生油", "香油"]
    for text in ("油 还有 吗", "油多少钱一桶"):
        got = understand(text, "zh", "buyer", oils)
        assert got.product == "油" and sorted(got.candidates) == sorted(oils)


def test_a_key_written_twice_in_a_pack_is_an_error() -> None:
    import yaml

    from voicebot.lang.packs import PackError, _UniqueKeyLoader

    with pytest.raises(PackError, match="duplicate key 'corrected' at line 3"):
        yaml.load("replies:\n  corrected: a\n  corrected: b\n", Loader=_UniqueKeyLoader)  # noqa: S506
    assert yaml.load("a: {b: 1}\nc: [1, 2]\n", Loader=_UniqueKeyLoader) == {"a": {"b": 1}, "c": [1, 2]}  # noqa: S506
