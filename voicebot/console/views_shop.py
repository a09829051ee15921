"""One shop: products (thumbnail, price, stock), orders with status changes, and today's sales; and the
operator acting *for* the seller (edit, list a product, attach a photo, take an order by phone).

Every change is recorded as an action of that shop by its seller (``seller_actor``), so the seller's
spoken "撤销" takes it back like her own."""

from __future__ import annotations

from typing import Any

import sqlite_utils
from aiohttp import web

from voicebot.app_keys import CONFIG
from voicebot.config import SELLERS_CHANNEL, Config
from voicebot.console.access import Access
from voicebot.console.web import SESSION, access, db_call, db_read, not_found, posted, render, view
from voicebot.logs import log_event
from voicebot.shop import customers, quantity, shops
from voicebot.shop.errors import InvalidValue, ShopError
from voicebot.shop.facade import Shop
from voicebot.shop.money import fen_to_yuan, format_yuan, to_fen
from voicebot.shop.orders import STATUSES

# the shop a row belongs to (each literal names its table, so the scope check can read it)
_OWNER = {
    "product": "SELECT shop_id FROM products WHERE id = ? AND active = 1",
    "order": "SELECT shop_id FROM orders WHERE id = ?",
}


class NotVisible(LookupError):
    """The row does not exist, or is in a shop the account does not see (the same to the operator)."""


def owner(db: sqlite_utils.Database, seen: Access, kind: str, row_id: int) -> int:
    """The shop of product/order ``row_id``, if the account sees it and it is open (else ``NotVisible``)."""
    row = db.execute(_OWNER[kind], (row_id,)).fetchone()
    if row is None or not seen.can_change(row[0]):
        raise NotVisible(kind)
    return int(row[0])


def seller_actor(shop: Shop) -> int | None:
    """The customer id console edits in ``shop`` are recorded under: that shop's seller, so her "undo"
    sees them (None when the shop has no seller yet: the change then cannot be undone by voice)."""
    for user_id in shop.config.shop.sellers:  # this shop's configured sellers (shop 1: ``[shop]``)
        return int(shop.customer(SELLERS_CHANNEL, user_id)["id"])
    for row in shops.sellers_of(shop.village, shop.shop_id):
        if row["channel"] not in (customers.SPOKEN_CHANNEL, "cli"):  # not the CLI or a spoken name
            return int(row["id"])
    return None


def _data(db: sqlite_utils.Database, config: Config, shop_id: int) -> dict[str, Any]:
    shop = Shop(db, config, shop_id)
    return {"products": shop.list_products(), "orders": shop.list_orders(limit=50), "today": shop.report("today"),
            "statuses": STATUSES, "shop_id": shop_id, "shop_name": shop.settings["name"],
            "sellers": len(shops.sellers_of(db, shop_id)), "tz": shop.settings["timezone"]}


async def _render(request: web.Request, shop_id: int | None, flash: str = "", problem: str = "",
                  status: int = 200) -> web.Response:
    config = request.app[CONFIG]
    if shop_id is None:  # a helper given no shop yet
        return render(request, "shop.html", {"shop_id": None, "flash": flash, "problem": problem}, status=status)
    data = await db_read(request, _data, config, shop_id)
    return render(request, "shop.html", {**data, "flash": flash, "problem": problem}, status=status)


async def shop_page(request: web.Request) -> web.Response:
    asked = request.query.get("shop")
    if asked is not None and not (asked.isdigit() and access(request).can_change(int(asked))):
        raise not_found("shop")
    return await _render(request, view(request).default_shop())


def _shop_id(request: web.Request) -> int:
    shop_id = int(request.match_info["shop_id"])
    if not access(request).can_change(shop_id):
        raise not_found("shop")
    return shop_id


async def _act(request: web.Request, shop_id: int | None, fn: Any, *args: Any) -> tuple[int, Any]:
    """Run ``fn(shop, actor, *args)`` on the database thread in the row's shop; 404 for another shop's row."""
    config = request.app[CONFIG]
    seen = access(request)

    def run(db: sqlite_utils.Database) -> tuple[int, Any]:
        sid = shop_id if shop_id is not None else owner(db, seen, *args[:2])
        shop = Shop(db, config, sid)
        return sid, fn(shop, seller_actor(shop), *args)

    try:
        return await db_call(request, run)
    except NotVisible as e:
        raise not_found(str(e)) from None


def _edit(shop: Shop, actor: int | None, _kind: str, product_id: int, price_fen: int | None,
          stock: int | float | None) -> str:  # fmt: skip
    product = shop.product(product_id)
    done = []
    if price_fen is not None and price_fen != product["price_fen"]:
        shop.set_price(product_id, fen_to_yuan(price_fen), actor)
        done.append(f"price {format_yuan(price_fen)}")
    if stock is not None and stock != product["stock"]:
        shop.adjust_stock(product_id, quantity.tidy(quantity.exact(stock) - quantity.exact(product["stock"])), actor)
        done.append(f"stock {stock}")
    return f"{product['name']}: " + (", ".join(done) or "nothing changed")


def _price_and_stock(form: Any) -> tuple[int | None, int | float | None]:
    """The shop's one money parser (exact, at most 2 decimals, within a sane bound) and stock (1.5 斤 too)."""
    price, stock = str(form.get("price", "")).strip(), str(form.get("stock", "")).strip()
    price_fen = to_fen(price) if price else None
    count = quantity.clean(stock, "stock") if stock else None
    if count is not None and count < 0:
        raise InvalidValue("stock cannot be negative")
    return price_fen, count


async def edit_product(request: web.Request) -> web.Response:
    product_id = int(request.match_info["product_id"])
    form = await request.post()
    try:
        price_fen, count = _price_and_stock(form)
    except InvalidValue as e:  # MoneyError too
        sid = await db_read(request, _visible_owner, access(request), "product", product_id)
        return await _render(request, sid, problem=f"Nothing changed: {e}.", status=400)
    try:
        sid, text = await _act(request, None, _edit, "product", product_id, price_fen, count)
    except ShopError as e:
        sid = await db_read(request, _visible_owner, access(request), "product", product_id)
        return await _render(request, sid, problem=str(e), status=409)
    log_event("console.product_edited", operator=request[SESSION]["name"], shop_id=sid, change=text)
    return await _render(request, sid, flash=text)


def _visible_owner(db: sqlite_utils.Database, seen: Access, kind: str, row_id: int) -> int:
    try:
        return owner(db, seen, kind, row_id)
    except NotVisible:
        raise not_found(kind) from None


def _status(shop: Shop, actor: int | None, _kind: str, order_id: int, status: str) -> int:
    return int(shop.set_order_status(order_id, status, actor)["number"])


async def order_status(request: web.Request) -> web.Response:
    form = await request.post()
    order_id, status = int(request.match_info["order_id"]), str(form.get("status", ""))
    try:
        sid, number = await _act(request, None, _status, "order", order_id, status)
    except (ShopError, ValueError) as e:
        sid = await db_read(request, _visible_owner, access(request), "order", order_id)
        return await _render(request, sid, problem=str(e), status=409)
    log_event("console.order_status", operator=request[SESSION]["name"], shop_id=sid, order_id=order_id,
              status=status)
    return await _render(request, sid, flash=f"Order #{number} is now {status}.")


def _add(shop: Shop, actor: int | None, name: str, price_fen: int, stock: int | float, unit: str) -> str:
    product = shop.add_product(name, fen_to_yuan(price_fen), stock, unit, actor)
    return f"Listed {product['name']}: {format_yuan(price_fen)} yuan, stock {product['stock']}{unit}."


async def add_product(request: web.Request) -> web.Response:
    """List a new product for the seller."""
    shop_id = _shop_id(request)
    form = await request.post()
    name, unit = " ".join(str(form.get("name", "")).split())[:60], " ".join(str(form.get("unit", "")).split())[:8]
    try:
        price_fen, count = _price_and_stock(form)
        if not name or price_fen is None:
            raise InvalidValue("a new product needs a name and a price")
        _, text = await _act(request, shop_id, _add, name, price_fen, count or 0, unit)
    except ShopError as e:  # InvalidValue, MoneyError, a name the shop already sells
        return await _render(request, shop_id, problem=f"Nothing changed: {e}", status=400)
    log_event("console.product_listed", operator=request[SESSION]["name"], shop_id=shop_id, name=name)
    return await _render(request, shop_id, flash=text)


def _photo(shop: Shop, actor: int | None, _kind: str, product_id: int, data: bytes) -> str:
    product = shop.product(product_id)
    photo = shop.add_photo(product_id, data, actor)
    return f"Photo {photo['position']} of {product['name']} attached."


async def add_photo(request: web.Request) -> web.Response:
    """Attach a photo the operator took (uploaded from her phone or computer) to a product."""
    product_id = int(request.match_info["product_id"])
    sid = await db_read(request, _visible_owner, access(request), "product", product_id)
    upload = (await posted(request)).get("photo")
    data = upload if isinstance(upload, bytes) else b""
    if not data:
        return await _render(request, sid, problem="Choose a photo to attach.", status=400)
    try:
        _, text = await _act(request, None, _photo, "product", product_id, data)
    except ShopError as e:  # PhotoError: too large, damaged, not an image
        return await _render(request, sid, problem=f"Nothing changed: {e}", status=400)
    log_event("console.photo_attached", operator=request[SESSION]["name"], shop_id=sid, product_id=product_id)
    return await _render(request, sid, flash=text)


def _phone_order(shop: Shop, actor: int | None, product_id: int, count: int | float, customer: str) -> str:
    order = shop.record_sale(product_id, count, customer or None, actor=actor)
    items = ", ".join(f"{i['name']} ×{i['quantity']}" for i in order["items"])
    return f"Order #{order['number']}: {items}" + (f" for {customer}" if customer else "") + "."


async def phone_order(request: web.Request) -> web.Response:
    """An order a buyer gave by phone, recorded as the seller's sale."""
    shop_id = _shop_id(request)
    form = await request.post()
    product, customer = str(form.get("product", "")), " ".join(str(form.get("customer", "")).split())[:40]
    try:
        count = quantity.clean(str(form.get("quantity", "")).strip(), "quantity")
        if not product.isdigit() or len(product) > 18 or not count or count <= 0:
            raise InvalidValue("choose a product and how many")
        _, text = await _act(request, shop_id, _phone_order, int(product), count, customer)
    except ShopError as e:  # another shop's product id is "not found" here too
        return await _render(request, shop_id, problem=f"Nothing changed: {e}", status=400)
    log_event("console.phone_order", operator=request[SESSION]["name"], shop_id=shop_id, change=text)
    return await _render(request, shop_id, flash=text)
