"""What a buyer hears of a shop: on opening its chat page, and tapping it on the market page."""

from __future__ import annotations

from voicebot.dialogue.replies import count, join, say
from voicebot.shop.facade import Shop

NAMED = 4  # goods named aloud; the rest are counted ("蜂蜜，核桃，腊肉，米酒等六样" / "... and two more")


def goods_said(shop: Shop, lang: str) -> str:
    """The shop's goods as said aloud ("" when it has none): in-stock first (what she can buy now),
    in catalog order, the first few named and the rest counted."""
    products = shop.list_products()
    names = [p["name"] for p in sorted(products, key=lambda p: p["stock"] <= 0)]
    goods = join(lang, names[:NAMED])
    if len(names) > NAMED:
        goods = say(lang, "web.goods_more", goods=goods, n=count(lang, len(names) - NAMED),
                    total=count(lang, len(names)))
    return goods


def greeting_text(shop: Shop, lang: str, shop_name: str) -> str:
    """The spoken welcome on opening a shop's chat page."""
    goods = goods_said(shop, lang)
    if not goods:
        return say(lang, "web.greeting_empty", shop=shop_name)
    return say(lang, "web.greeting", shop=shop_name, goods=goods)


def shop_said(shop: Shop, lang: str, shop_name: str) -> str:
    """A shop on the market page, said when its speaker is tapped: its name and what it sells."""
    goods = goods_said(shop, lang)
    return say(lang, "web.shop_said", shop=shop_name, goods=goods) if goods else shop_name
