"""CLI twins of the shop: ``voicebot shop …``, ``voicebot orders …``, ``voicebot report``, ``voicebot export``.

Every command takes ``--config`` and ``--db`` (the database file; overrides the config). ``--json``
output is one object on one line; its shape is documented in the README. Changes made here
are recorded as actions of the ``cli``/``operator`` seller, so ``voicebot shop undo`` reverses them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from voicebot.cli.options import config_option, load_or_exit, print_json
from voicebot.config import SELLERS_CHANNEL
from voicebot.shop import OrderNotFound, Shop, ShopError, format_yuan, quantity, shops, yuan_number
from voicebot.shop.customers import list_customers
from voicebot.shop.orders import STATUSES, line_total
from voicebot.shop.reports import PERIODS, SALE_STATUSES
from voicebot.store import StoreBusy
from voicebot.store.errors import DatabaseError
from voicebot.store.migrations import SchemaTooNew

CLI_CHANNEL, CLI_USER = "cli", "operator"

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default=None,
    envvar="VOICEBOT_DB",
    help="SQLite database file (default: storage.db_path from the configuration); photos and media"
    " then live beside it unless the configuration names their folders.",
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object on one line (shapes: README, 'The shop')."
)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except ShopError as e:
        raise click.ClickException(str(e)) from None
    except (SchemaTooNew, StoreBusy, *DatabaseError) as e:
        raise click.ClickException(f"database: {e}") from None


shop_option = click.option(
    "--shop", "shop_name", default=None, envvar="VOICEBOT_SHOP", metavar="NAME",
    help="The shop (its name or code; default: the only shop). See 'voicebot shops list'.",
)


def open_shop(config_path: str | None, db_path: str | None, shop_name: str | None = None) -> Shop:
    """The configured database, open, serving the shop named (or the only one)."""
    config = load_or_exit(config_path)
    if db_path:
        db_file = Path(db_path).resolve()
        config.storage.db_path = str(db_file)
        config.storage.url = ""  # an explicit SQLite file wins over [storage] url
        config.storage.photos_dir = config.storage.photos_dir or str(db_file.parent / "photos")
        config.storage.media_dir = config.storage.media_dir or str(db_file.parent / "media")
    shop = Shop.open(config)
    try:
        return shop.other(shops.pick_shop(shop.village, shop_name)["id"])
    except BaseException:
        shop.close()
        raise


def with_shop(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--config``/``--db``/``--shop``; pass an open ``shop`` (closed afterwards); shop errors exit 1."""

    @config_option
    @db_option
    @shop_option
    @functools.wraps(func)
    def wrapper(*args: Any, config_path: str | None, db_path: str | None, shop_name: str | None,
                **kwargs: Any) -> Any:
        with _errors(), open_shop(config_path, db_path, shop_name) as shop:
            return func(*args, shop=shop, **kwargs)

    return wrapper


def with_village(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--config``/``--db``; pass the open database as shop 1's ``shop`` (``shop.village`` is what
    village-wide commands use); shop errors exit 1."""

    @config_option
    @db_option
    @functools.wraps(func)
    def wrapper(*args: Any, config_path: str | None, db_path: str | None, **kwargs: Any) -> Any:
        with _errors(), open_shop(config_path, db_path, shops.DEFAULT_SHOP) as shop:  # type: ignore[arg-type]
            return func(*args, shop=shop, **kwargs)

    return wrapper


def _operator(shop: Shop) -> int:
    """The customer id CLI changes are recorded under (a seller, so undo works from the CLI)."""
    return shop.add_seller(CLI_USER, CLI_CHANNEL)["id"]


def product_json(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": p["id"],
        "name": p["name"],
        "unit": p["unit"],
        "price": yuan_number(p["price_fen"]),
        "price_fen": p["price_fen"],
        "stock": p["stock"],
        "active": bool(p["active"]),
        "photo_count": p.get("photo_count", 0),
        "cover_photo_id": p.get("cover_photo_id"),
        "created_at": p["created_at"],
        "updated_at": p["updated_at"],
    }


def order_json(o: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": o["id"],
        "number": o["number"],  # the shop's order number, what people say and what ship/cancel take
        "status": o["status"],
        "created_by": o["created_by"],
        "customer_id": o["customer_id"],
        "customer_name": o["customer_name"],
        "total": yuan_number(o["total_fen"]),
        "total_fen": o["total_fen"],
        "created_at": o["created_at"],
        "updated_at": o["updated_at"],
        "items": [
            {
                "product_id": i["product_id"],
                "name": i["name"],
                "unit": i["unit"],
                "quantity": i["quantity"],
                "unit_price": yuan_number(i["unit_price_fen"]),
                "unit_price_fen": i["unit_price_fen"],
                "line_total": yuan_number(line_total(i)),
                "line_total_fen": line_total(i),
            }
            for i in o["items"]
        ],
    }


def _product_line(p: dict[str, Any]) -> str:
    state = "" if p["active"] else "  (removed)"
    return f"{p['id']:>4}  {p['name']}  ¥{format_yuan(p['price_fen'])}  stock {p['stock']}{p['unit']}{state}"


def _order_line(o: dict[str, Any]) -> str:
    items = ", ".join(f"{i['name']} x{i['quantity']}" for i in o["items"])
    who = o["customer_name"] or "-"
    return f"#{o['number']}  {o['created_at'][:16]}Z  {o['status']:<9}  {who}  ¥{format_yuan(o['total_fen'])}  {items}"


def _emit(as_json: bool, obj: dict[str, Any], text: str) -> None:
    if as_json:
        print_json(obj)
    else:
        click.echo(text)


@click.group()
def shop() -> None:
    """The catalog and sellers: add, list, price, stock, photos, undo.

    \b
    Example:
      voicebot shop add 绿松石手链 --price 200 --stock 10 --unit 条
      voicebot shop list --json
    """


@shop.command("add")
@click.argument("name")
@click.option("--price", required=True, help="Price in yuan, e.g. 200 or 1.5.")
@click.option("--stock", default="0", show_default=True, help="Units in stock (1.5 for goods sold by weight).")
@click.option("--unit", default="", help="Unit word: 条, 个, 瓶, 斤, piece, jar …")
@json_option
@with_shop
def add_cmd(shop: Shop, name: str, price: str, stock: str, unit: str, as_json: bool) -> None:
    """Add a product.

    \b
    Example:
      voicebot shop add 绿松石手链 --price 200 --stock 10 --unit 条
    """
    amount = _quantity(stock, "--stock")
    try:
        p = shop.add_product(name, price, amount, unit, actor=_operator(shop))
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--price") from None
    _emit(as_json, {"product": product_json(p)}, f"added {_product_line(p)}")


@shop.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Include removed products.")
@json_option
@with_shop
def list_cmd(shop: Shop, include_removed: bool, as_json: bool) -> None:
    """List products.

    \b
    Example:
      voicebot shop list --json
    """
    products = shop.list_products(active_only=not include_removed)
    text = "\n".join(_product_line(p) for p in products) or "no products"
    _emit(as_json, {"products": [product_json(p) for p in products]}, text)


@shop.command("set-price")
@click.argument("name")
@click.argument("price")
@json_option
@with_shop
def set_price_cmd(shop: Shop, name: str, price: str, as_json: bool) -> None:
    """Change a product's price (in yuan).

    \b
    Example:
      voicebot shop set-price 绿松石手链 180
    """
    try:
        p = shop.set_price(name, price, actor=_operator(shop))
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="PRICE") from None
    _emit(as_json, {"product": product_json(p)}, _product_line(p))


def _quantity(value: str, hint: str) -> int | float:
    """A count (5, +5, -2) or, for goods sold by weight, a decimal (1.5, -0.5) to the thousandth."""
    try:
        return quantity.clean(value.strip())
    except ShopError:
        raise click.BadParameter(
            f"{value!r} is not a number like +5, -2 or 1.5 (at most three decimals)", param_hint=hint
        ) from None


@shop.command("stock", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("change")
@json_option
@with_shop
def stock_cmd(shop: Shop, name: str, change: str, as_json: bool) -> None:
    """Add (+5) or take away (-2) stock.

    \b
    Example:
      voicebot shop stock 绿松石手链 +5
      voicebot shop stock 绿松石手链 -2
      voicebot shop stock 核桃 -0.5
    """
    p = shop.adjust_stock(name, _quantity(change, "CHANGE"), actor=_operator(shop))
    _emit(as_json, {"product": product_json(p)}, _product_line(p))


@shop.command("remove")
@click.argument("name")
@json_option
@with_shop
def remove_cmd(shop: Shop, name: str, as_json: bool) -> None:
    """Stop selling a product (it stays in past orders).

    \b
    Example:
      voicebot shop remove 蜂蜜
    """
    p = shop.remove_product(name, actor=_operator(shop))
    _emit(as_json, {"product": product_json(p)}, f"removed {p['name']}")


@shop.command("photo")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@json_option
@with_shop
def photo_cmd(shop: Shop, name: str, file: str, as_json: bool) -> None:
    """Attach a photo to a product (the first photo is its cover).

    \b
    Example:
      voicebot shop photo 绿松石手链 bracelet.jpg
    """
    photo = shop.add_photo(name, Path(file).read_bytes(), actor=_operator(shop))
    obj = {
        "photo": {
            "id": photo["id"],
            "sha256": photo["sha256"],
            "path": photo["path"],
            "thumb_path": photo["thumb_path"],
            "width": photo["width"],
            "height": photo["height"],
            "bytes": photo["bytes"],
            "position": photo["position"],
        }
    }
    _emit(as_json, obj, f"photo {photo['id']} is #{photo['position'] + 1} of {name}: {photo['path']}")


@shop.command("undo")
@json_option
@with_shop
def undo_cmd(shop: Shop, as_json: bool) -> None:
    """Reverse the last change made from the command line.

    \b
    Example:
      voicebot shop undo
    """
    result = shop.undo(_operator(shop))
    _emit(
        as_json,
        {"undone": {"action_id": result.action_id, "kind": result.kind, "description": result.description}},
        f"undone: {result.description}",
    )


@shop.group("seller")
def seller() -> None:
    """Who counts as a seller (sellers can change the shop by voice).

    \b
    Example:
      voicebot shop seller add oGuo1234567890abcdefghijklm
    """


@seller.command("add")
@click.argument("channel_user_id")
@click.option("--channel", default=SELLERS_CHANNEL, show_default=True, help="Channel of the id (wechat, web …).")
@json_option
@with_shop
def seller_add_cmd(shop: Shop, channel_user_id: str, channel: str, as_json: bool) -> None:
    """Make a channel user (e.g. a WeChat OpenID) a seller.

    \b
    Example:
      voicebot shop seller add oAbC123_openid
    """
    c = shop.add_seller(channel_user_id, channel)
    obj = {
        "seller": {"customer_id": c["id"], "channel": c["channel"], "channel_user_id": c["channel_user_id"]}
    }
    _emit(as_json, obj, f"{channel}:{channel_user_id} is a seller")


@seller.command("list")
@json_option
@with_shop
def seller_list_cmd(shop: Shop, as_json: bool) -> None:
    """List sellers.

    \b
    Example:
      voicebot shop seller list
    """
    rows = list_customers(shop.db, role="seller")
    obj = {
        "sellers": [
            {"customer_id": c["id"], "channel": c["channel"], "channel_user_id": c["channel_user_id"]}
            for c in rows
        ]
    }
    _emit(as_json, obj, "\n".join(f"{c['channel']}:{c['channel_user_id']}" for c in rows) or "no sellers")


@click.group()
def orders() -> None:
    """Orders: list, ship, cancel.

    \b
    Example:
      voicebot orders list --today
      voicebot orders ship 12
    """


@orders.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only orders with this status.")
@click.option("--today", is_flag=True, help="Only orders from today (shop time zone).")
@click.option("--limit", type=int, default=None, help="At most this many (newest first).")
@json_option
@with_shop
def orders_list_cmd(shop: Shop, status: str | None, today: bool, limit: int | None, as_json: bool) -> None:
    """List orders, newest first.

    \b
    Example:
      voicebot orders list --status pending --today --json
    """
    rows = shop.list_orders(status=status, today=today, limit=limit)
    _emit(
        as_json, {"orders": [order_json(o) for o in rows]}, "\n".join(map(_order_line, rows)) or "no orders"
    )


def _order_numbered(shop: Shop, number: int) -> dict[str, Any]:
    """The shop's order with this number (the ``#N`` of ``orders list``), or a clear error."""
    order = shop.order_by_number(number)
    if order is None:
        raise OrderNotFound(f"no order {number} in this shop")
    return order


@orders.command("ship")
@click.argument("number", type=int)
@json_option
@with_shop
def orders_ship_cmd(shop: Shop, number: int, as_json: bool) -> None:
    """Mark an order as shipped. NUMBER is the shop's order number (the #N of ``orders list``).

    \b
    Example:
      voicebot orders ship 12
    """
    o = shop.ship_order(_order_numbered(shop, number)["id"], actor=_operator(shop))
    _emit(as_json, {"order": order_json(o)}, _order_line(o))


@orders.command("cancel")
@click.argument("number", type=int)
@json_option
@with_shop
def orders_cancel_cmd(shop: Shop, number: int, as_json: bool) -> None:
    """Cancel an unshipped order; its stock goes back. NUMBER is the shop's order number.

    \b
    Example:
      voicebot orders cancel 12
    """
    o = shop.cancel_order(_order_numbered(shop, number)["id"], actor=_operator(shop))
    _emit(as_json, {"order": order_json(o)}, _order_line(o))


@click.command("report")
@click.option("--period", type=click.Choice(PERIODS), default="today", show_default=True)
@json_option
@with_shop
def report(shop: Shop, period: str, as_json: bool) -> None:
    """Sales for today / this week / this month (shop time zone) and low stock.

    \b
    Example:
      voicebot report --period week --json
    """
    r = shop.report(period)
    low = shop.low_stock()
    obj = {
        "period": r["period"],
        "timezone": r["timezone"],
        "start": r["start"],
        "end": r["end"],
        "orders": r["orders"],
        "quantity": r["quantity"],
        "revenue": yuan_number(r["revenue_fen"]),
        "revenue_fen": r["revenue_fen"],
        "sales_statuses": list(SALE_STATUSES),
        "pending_orders": r["pending_orders"],
        "pending": yuan_number(r["pending_fen"]),
        "pending_fen": r["pending_fen"],
        "products": [
            {
                "product_id": p["product_id"],
                "name": p["name"],
                "unit": p["unit"],
                "quantity": p["quantity"],
                "revenue": yuan_number(p["revenue_fen"]),
                "revenue_fen": p["revenue_fen"],
            }
            for p in r["products"]
        ],
        "low_stock_threshold": shop.config.shop.low_stock_threshold,
        "low_stock": [
            {"id": p["id"], "name": p["name"], "unit": p["unit"], "stock": p["stock"]} for p in low
        ],
    }
    lines = [
        f"{period} ({r['start'][:10]}, {r['timezone']}): {r['orders']} orders, {r['quantity']} items, "
        f"¥{format_yuan(r['revenue_fen'])} (confirmed, shipped, done)"
    ]
    if r["pending_orders"]:
        lines.append(f"  pending (not sales yet): {r['pending_orders']} orders, ¥{format_yuan(r['pending_fen'])}")
    lines += [
        f"  {p['name']}: {p['quantity']}{p['unit']}  ¥{format_yuan(p['revenue_fen'])}" for p in r["products"]
    ]
    if low:
        lines.append("low stock: " + ", ".join(f"{p['name']} {p['stock']}{p['unit']}" for p in low))
    _emit(as_json, obj, "\n".join(lines))


@click.group("export", invoke_without_command=True)
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False), help="Directory for the CSVs.")
@json_option
@config_option
@db_option
@shop_option
@click.pass_context
def export(ctx: click.Context, out_dir: str | None, as_json: bool, config_path: str | None,
           db_path: str | None, shop_name: str | None) -> None:
    """Write products.csv, orders.csv (one line per item) and messages.csv; or, with a subcommand,
    other data (``corrections``: operators' corrections as NLU test cases).

    \b
    Example:
      voicebot export --out ./export
      voicebot export corrections --out corrections.jsonl
    """
    if ctx.invoked_subcommand is not None:
        return
    if not out_dir:
        raise click.UsageError("Missing option '--out' (or a subcommand, e.g. 'corrections').")
    _export_csv(out_dir=out_dir, as_json=as_json, config_path=config_path, db_path=db_path, shop_name=shop_name)


@with_shop
def _export_csv(shop: Shop, out_dir: str, as_json: bool) -> None:
    files = shop.export_csv(out_dir)
    _emit(as_json, {"files": files}, "\n".join(f"{f['path']}  ({f['rows']} rows)" for f in files.values()))


COMMANDS: list[click.Command] = [shop, orders, report, export]
