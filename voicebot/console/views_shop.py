"""The shop: products (thumbnail, price, stock: editable, as the seller's undoable actions), orders with
status changes, and today's sales."""

from __future__ import annotations

from typing import Any

import sqlite_utils
from aiohttp import web

from voicebot.app_keys import CONFIG
from voicebot.config import SELLERS_CHANNEL, Config
from voicebot.console.web import SESSION, db_call, db_read, render
from voicebot.logs import log_event
from voicebot.shop import customers, quantity
from voicebot.shop.errors import InvalidValue, ShopError
from voicebot.shop.facade import Shop
from voicebot.shop.money import fen_to_yuan, format_yuan, to_fen
from voicebot.shop.orders import STATUSES


def seller_actor(db: sqlite_utils.Database, config: Config) -> int | None:
    """The customer id console edits are recorded under: the shop's seller, so her "undo" sees them."""
    for user_id in config.shop.sellers:
        return Shop(db, config).customer(SELLERS_CHANNEL, user_id)["id"]
    for row in customers.list_customers(db, role="seller"):
        if row["channel"] not in (customers.SPOKEN_CHANNEL, "cli"):
            return row["id"]
    return None


def _data(db: sqlite_utils.Database, config: Config) -> dict[str, Any]:
    shop = Shop(db, config)
    return {"products": shop.list_products(), "orders": shop.list_orders(limit=50), "today": shop.report("today"),
            "statuses": STATUSES}


async def shop_page(request: web.Request, flash: str = "", problem: str = "", status: int = 200) -> web.Response:
    config = request.app[CONFIG]
    data = await db_read(request, _data, config)
    return render(request, "shop.html", {**data, "tz": config.shop.timezone, "flash": flash, "problem": problem},
                  status=status)


def _edit(db: sqlite_utils.Database, config: Config, product_id: int, price_fen: int | None,
          stock: int | float | None) -> str:  # fmt: skip
    shop, actor = Shop(db, config), seller_actor(db, config)
    product = shop.product(product_id)
    done = []
    if price_fen is not None and price_fen != product["price_fen"]:
        shop.set_price(product_id, fen_to_yuan(price_fen), actor)
        done.append(f"price {format_yuan(price_fen)}")
    if stock is not None and stock != product["stock"]:
        shop.adjust_stock(product_id, quantity.tidy(quantity.exact(stock) - quantity.exact(product["stock"])), actor)
        done.append(f"stock {stock}")
    return f"{product['name']}: " + (", ".join(done) or "nothing changed")


async def edit_product(request: web.Request) -> web.Response:
    form = await request.post()
    price, stock = str(form.get("price", "")).strip(), str(form.get("stock", "")).strip()
    try:  # the shop's one money parser: exact, at most 2 decimals, within a sane bound
        price_fen = to_fen(price) if price else None
        count = quantity.clean(stock, "stock") if stock else None  # 1.5 (斤) too, to the thousandth
        if count is not None and count < 0:
            raise InvalidValue("stock cannot be negative")
    except InvalidValue as e:  # MoneyError too
        return await shop_page(request, problem=f"Nothing changed: {e}.", status=400)
    try:
        text = await db_call(request, _edit, request.app[CONFIG], int(request.match_info["product_id"]),
                             price_fen, count)
    except ShopError as e:
        return await shop_page(request, problem=str(e), status=409)
    log_event("console.product_edited", operator=request[SESSION]["name"], change=text)
    return await shop_page(request, flash=text)


async def order_status(request: web.Request) -> web.Response:
    form = await request.post()
    order_id, status = int(request.match_info["order_id"]), str(form.get("status", ""))
    config = request.app[CONFIG]
    try:
        await db_call(request, lambda db: Shop(db, config).set_order_status(order_id, status,
                                                                           seller_actor(db, config)))
    except (ShopError, ValueError) as e:
        return await shop_page(request, problem=str(e), status=409)
    log_event("console.order_status", operator=request[SESSION]["name"], order_id=order_id, status=status)
    return await shop_page(request, flash=f"Order #{order_id} is now {status}.")
