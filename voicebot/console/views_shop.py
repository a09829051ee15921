"""The shop: products (thumbnail, price, stock: editable, as the seller's undoable actions), orders with
status changes, and today's sales."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
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


def _edit(db: sqlite_utils.Database, config: Config, product_id: int, price: Decimal | None,
          stock: int | float | None) -> str:  # fmt: skip
    shop, actor = Shop(db, config), seller_actor(db, config)
    product = shop.product(product_id)
    done = []
    if price is not None and int(price * 100) != product["price_fen"]:
        shop.set_price(product_id, price, actor)
        done.append(f"price {price}")
    if stock is not None and stock != product["stock"]:
        shop.adjust_stock(product_id, quantity.tidy(quantity.exact(stock) - quantity.exact(product["stock"])), actor)
        done.append(f"stock {stock}")
    return f"{product['name']}: " + (", ".join(done) or "nothing changed")


async def edit_product(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        price = Decimal(str(form["price"]).strip()) if str(form.get("price", "")).strip() else None
        stock = quantity.clean(str(form["stock"]).strip(), "stock") if str(form.get("stock", "")).strip() else None
        if (price is not None and (price < 0 or not price.is_finite())) or (stock is not None and stock < 0):
            raise ValueError
    except (ValueError, InvalidOperation, InvalidValue):  # stock may be 1.5 (斤), to the thousandth
        return await shop_page(request, problem="Price and stock must be numbers of 0 or more.", status=400)
    try:
        text = await db_call(request, _edit, request.app[CONFIG], int(request.match_info["product_id"]), price, stock)
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
