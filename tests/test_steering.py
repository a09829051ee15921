"""Speech steering per shop: built from that shop's catalog and customers, cached, rebuilt only when that
shop changes (its revision), and bounded."""

from __future__ import annotations

from pathlib import Path

from test_pipeline_stages import BUYER, SELLER, Bot, ScriptedRecognizer, WavSpeaker, make_config

from voicebot.nlu.grammar import grammar_phrases
from voicebot.pipeline.steering import GrammarBuilder, ShopWords, Steering, shop_words
from voicebot.shop import shops
from voicebot.shop.facade import Shop


class Village:
    """Two zh shops (A is shop 1, B a second one) in one database, and a steering cache over them."""

    def __init__(self, tmp_path: Path, kind: str = "grammar", max_entries: int = 16) -> None:
        self.config = make_config(tmp_path)
        self.a = Shop.open(self.config)
        self.b = self.a.other(shops.add_shop(self.a.village, "李姐山货")["id"])
        self.kind = kind
        self.steering = Steering(GrammarBuilder(ScriptedRecognizer(self.config, biasing=kind)), max_entries)

    async def ask(self, shop: Shop) -> list[str]:
        async def read() -> ShopWords:
            return shop_words(shop)

        got = await self.steering.phrases(shop.shop_id, "zh", self.kind,  # type: ignore[arg-type]
                                          shops.revision(shop.village, shop.shop_id), read)
        return got or []

    def builds(self) -> tuple[int, int]:
        return self.steering.builds.get(self.a.shop_id, 0), self.steering.builds.get(self.b.shop_id, 0)

    def close(self) -> None:
        self.a.close()


async def test_each_shop_is_steered_by_its_own_catalog_and_a_change_rebuilds_only_that_shop(tmp_path: Path) -> None:
    v = Village(tmp_path)
    try:
        v.a.add_product("绿松石手链", "120", 10, unit="条")
        v.b.add_product("土蜂蜜", "45", 5, unit="瓶")
        v.b.add_product("香菇", "30", 20, unit="斤")
        a, b = await v.ask(v.a), await v.ask(v.b)
        assert a == grammar_phrases("zh", ["绿松石手链"]) and b == grammar_phrases("zh", ["土蜂蜜", "香菇"])
        assert "绿松石手链" in a and "土蜂蜜" not in a and "土蜂蜜" in b and "绿松石手链" not in b
        assert v.builds() == (1, 1)

        assert await v.ask(v.a) == a and await v.ask(v.b) == b  # unchanged shops: from the cache
        assert v.builds() == (1, 1)

        v.a.add_product("银手镯", "200", 3, unit="个")  # A changes: only A is rebuilt, with the new name
        a2, b2 = await v.ask(v.a), await v.ask(v.b)
        assert "银手镯" in a2 and "银手镯" not in b2 and b2 == b
        assert v.builds() == (2, 1)

        for change in (lambda: v.a.set_price("银手镯", "210"), lambda: v.a.adjust_stock("银手镯", 2),
                       lambda: v.a.remove_product("银手镯")):
            change()
            await v.ask(v.a)
            await v.ask(v.b)
        assert "银手镯" not in await v.ask(v.a)
        assert v.builds() == (5, 1)
    finally:
        v.close()


async def test_an_undone_change_rebuilds_the_shop_it_was_undone_in(tmp_path: Path) -> None:
    v = Village(tmp_path)
    try:
        seller = v.b.add_seller("li", "wechat")
        v.b.add_product("土蜂蜜", "45", 5, unit="瓶", actor=seller["id"])
        await v.ask(v.a)
        assert "土蜂蜜" in await v.ask(v.b)
        v.b.undo(seller["id"])
        assert "土蜂蜜" not in await v.ask(v.b)
        await v.ask(v.a)
        assert v.builds() == (1, 2)
    finally:
        v.close()


async def test_customers_names_steer_only_their_shops_prompt(tmp_path: Path) -> None:
    v = Village(tmp_path, kind="prompt")
    try:
        v.a.add_product("绿松石手链", "120", 10, unit="条")
        v.b.add_product("土蜂蜜", "45", 5, unit="瓶")
        assert await v.ask(v.a) == ["绿松石手链"] and await v.ask(v.b) == ["土蜂蜜"]
        v.b.customer("wechat", "a-new-buyer")  # first contact carries no name: nothing to steer by
        await v.ask(v.b)
        assert v.builds() == (1, 1)

        v.b.record_sale("土蜂蜜", 1, customer="张三")  # a sale to a named person: the name steers B's prompt
        assert await v.ask(v.b) == ["土蜂蜜", "张三"] and await v.ask(v.a) == ["绿松石手链"]
        assert v.builds() == (1, 2)
    finally:
        v.close()


async def test_the_cache_is_bounded_and_a_shop_pushed_out_is_rebuilt(tmp_path: Path) -> None:
    v = Village(tmp_path, max_entries=2)
    try:
        c = v.a.other(shops.add_shop(v.a.village, "王哥茶叶")["id"])
        c.add_product("茶叶", "80", 10, unit="斤")
        await v.ask(v.a)
        await v.ask(v.b)
        assert "茶叶" in await v.ask(c)  # A, least recently used, makes room
        assert len(v.steering) == 2
        await v.ask(v.b)
        await v.ask(v.a)
        assert v.builds() == (2, 1) and v.steering.builds[c.shop_id] == 1
    finally:
        v.close()


async def test_the_pipeline_steers_each_voice_note_from_the_cache_until_the_shop_changes(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    bot = Bot(config, ScriptedRecognizer(config), WavSpeaker())
    await bot.start()
    try:
        await bot.voice(SELLER, "上架蜂蜜四十五块五瓶")
        await bot.voice(BUYER, "蜂蜜多少钱")
        await bot.voice(BUYER, "蜂蜜多少钱")
    finally:
        await bot.close()
    assert bot.pipeline.steering.builds == {shops.DEFAULT_SHOP: 2}  # before and after the new product
    grammars = [g for _, g in bot.recognizer.calls]
    assert "蜂蜜" not in grammars[0] and grammars[1] == grammars[2] == grammar_phrases("zh", ["蜂蜜"])
