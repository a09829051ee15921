"""What a buyer hears on opening a chat page: the shop's name and what it sells, said in a breath."""

from __future__ import annotations

from voicebot.dialogue.replies import count, join, say
from voicebot.shop.facade import Shop

NAMED = 4  # goods named aloud; the rest are counted ("蜂蜜，核桃，腊肉，米酒等六样" / "... and two more")


def greeting_text(shop: Shop, lang: str, shop_name: str) -> str:
    """The spoken welcome: in-stock goods first (what she can buy now), in catalog order."""
    products = shop.list_products()
    if not products:
        return say(lang, "web.greeting_empty", shop=shop_name)
    names = [p["name"] for p in sorted(products, key=lambda p: p["stock"] <= 0)]
    goods = join(lang, names[:NAMED])
    if len(names) > NAMED:
        goods = say(lang, "web.goods_more", goods=goods, n=count(lang, len(names) - NAMED),
                    total=count(lang, len(names)))
    return say(lang, "web.greeting", shop=shop_name, goods=goods)
