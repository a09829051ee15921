"""``voicebot shops …``: the village's shops on one service (add, list, rename, remove)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from voicebot.channels.wechat.api import WechatApiError
from voicebot.channels.wechat.qrcode import describe_error, shop_qr_png
from voicebot.cli.shop import _emit, json_option, with_village
from voicebot.config import SELLERS_CHANNEL
from voicebot.shop import Shop, shops
from voicebot.shop.customers import add_seller
from voicebot.store.scoped import ShopDb


@click.group("shops")
def shops_group() -> None:
    """The shops this service serves: one WeChat account, one web address, many shops.

    \b
    Example:
      voicebot shops add 郭姐绿松石 --seller oGuo1234 --lang zh
      voicebot shops list
    """


def shop_json(village: Any, row: dict[str, Any]) -> dict[str, Any]:
    """A shop as ``shops list --json`` prints it: settings, sellers and counts."""
    counts = village.execute(
        "SELECT (SELECT count(*) FROM products WHERE shop_id = ? AND active = 1),"
        " (SELECT count(*) FROM orders WHERE shop_id = ?),"
        " (SELECT count(*) FROM customers WHERE shop_id = ? AND role = 'buyer')",
        (row["id"], row["id"], row["id"]),
    ).fetchone()
    sellers = [f"{c['channel']}:{c['channel_user_id']}" for c in shops.sellers_of(village, row["id"])
               if c["channel"] != "cli"]
    return {
        "id": row["id"], "name": row["name"], "code": row["code"], "language": row["language"],
        "timezone": row["timezone"], "currency": row["currency"], "low_stock_threshold": row["low_stock_threshold"],
        "sellers": sellers, "products": counts[0], "orders": counts[1], "buyers": counts[2],
    }


@shops_group.command("add")
@click.argument("name")
@click.option("--seller", "sellers", multiple=True, metavar="OPENID", help="A seller's WeChat OpenID (repeatable).")
@click.option("--lang", "language", default="zh", show_default=True, type=click.Choice(shops.LANGUAGES))
@click.option("--code", default=None, help="Short unique code (QR scene, web links); default: made up.")
@click.option("--timezone", default="Asia/Shanghai", show_default=True)
@click.option("--currency", default="CNY", show_default=True)
@click.option("--low-stock", "low_stock", type=int, default=3, show_default=True,
              help="Stock at or below this is low.")
@json_option
@with_village
def shops_add(shop: Shop, name: str, sellers: tuple[str, ...], language: str, code: str | None, timezone: str,
              currency: str, low_stock: int, as_json: bool) -> None:
    """Open shop NAME with its sellers.

    \b
    Example:
      voicebot shops add 郭姐绿松石 --seller oGuo1234 --lang zh --code guo
    """
    row = shops.add_shop(shop.village, name, code=code, language=language, timezone=timezone, currency=currency,
                         low_stock_threshold=low_stock)
    for openid in sellers:
        add_seller(ShopDb(shop.village, row["id"]), openid, SELLERS_CHANNEL)
    out = shop_json(shop.village, row)
    _emit(as_json, {"shop": out}, f"shop {out['name']} [{out['code']}] opened, sellers: {', '.join(sellers) or 'none'}")


@shops_group.command("list")
@json_option
@with_village
def shops_list(shop: Shop, as_json: bool) -> None:
    """Every open shop: name, code, language, sellers and counts.

    \b
    Example:
      voicebot shops list --json
    """
    rows = [shop_json(shop.village, r) for r in shops.list_shops(shop.village)]
    lines = [f"{r['code']:<8} {r['name']}  ({r['language']}; {r['products']} products, {r['orders']} orders;"
             f" sellers: {', '.join(r['sellers']) or 'none'})" for r in rows]
    _emit(as_json, {"shops": rows}, "\n".join(lines))


@shops_group.command("rename")
@click.argument("shop_name", metavar="SHOP")
@click.argument("new_name")
@json_option
@with_village
def shops_rename(shop: Shop, shop_name: str, new_name: str, as_json: bool) -> None:
    """Give SHOP (its name or code) a new name; its code, links and QR stay.

    \b
    Example:
      voicebot shops rename guo 郭姐的绿松石
    """
    row = shops.rename_shop(shop.village, shops.pick_shop(shop.village, shop_name)["id"], new_name)
    _emit(as_json, {"shop": shop_json(shop.village, row)}, f"shop [{row['code']}] is now {row['name']}")


@shops_group.command("remove")
@click.argument("shop_name", metavar="SHOP")
@json_option
@with_village
def shops_remove(shop: Shop, shop_name: str, as_json: bool) -> None:
    """Close SHOP: it leaves the market; its records stay in the database.

    \b
    Example:
      voicebot shops remove guo
    """
    row = shops.remove_shop(shop.village, shops.pick_shop(shop.village, shop_name)["id"])
    _emit(as_json, {"shop": {"id": row["id"], "name": row["name"], "code": row["code"]}},
          f"shop {row['name']} [{row['code']}] closed")


@shops_group.command("qr")
@click.argument("shop_name", metavar="SHOP")
@click.option("--png", "png", type=click.Path(dir_okay=False), default=None,
              help="Where to draw the code (default: CODE.png here).")
@click.option("--fresh", is_flag=True, help="Ask WeChat for the code again instead of reusing the one made before.")
@json_option
@with_village
def shops_qr(shop: Shop, shop_name: str, png: str | None, fresh: bool, as_json: bool) -> None:
    """Make SHOP's permanent WeChat QR code (scene = the shop's code) and draw it as a PNG.

    A buyer who scans it follows the account and lands in this shop. Needs a verified service account
    (``wechat.app_id`` and ``wechat.app_secret``); the code is made once and reused.

    \b
    Example:
      voicebot shops qr 郭姐绿松石 --png guo.png
    """
    row = shops.pick_shop(shop.village, shop_name)
    path = Path(png or f"{row['code']}.png")
    try:
        qr = asyncio.run(shop_qr_png(shop.config.wechat, row["code"], path, shop.village, fresh=fresh))
    except WechatApiError as e:
        raise click.ClickException(describe_error(e)) from None
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    out = {"shop": row["name"], "code": row["code"], "png": str(path), "url": qr.url, "image_url": qr.image_url}
    _emit(as_json, {"qr": out}, f"QR code of {row['name']} [{row['code']}]: {path}")


COMMANDS: list[click.Command] = [shops_group]
