"""``Shop``: one object the pipeline, the dialogue and the CLI call for everything shop-related.

Prices at this boundary are in yuan as spoken (``1.5``, ``"99.99"``, ``Decimal``, ``1200``) and
become integer fen inside. Every mutating method takes ``actor`` (the customer id of the person
on whose behalf it runs) so ``undo(actor)`` can reverse it.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlite_utils

from voicebot.config import SELLERS_CHANNEL, Config, ShopConfig
from voicebot.shop import actions, addresses, catalog, customers, export, orders, photos, reports, shops
from voicebot.shop.errors import TooManyPending
from voicebot.shop.money import to_fen
from voicebot.shop.orders import OrderLine
from voicebot.store.clock import to_iso
from voicebot.store.db import open_db
from voicebot.store.messages import ConversationLog
from voicebot.store.outbox import Outbox
from voicebot.store.scoped import ShopDb, raw_db

Price = str | int | float | Decimal
Row = dict[str, Any]


class Shop:
    """One shop over one open database connection (use one ``Shop`` per thread/process).

    ``shop.db`` is the database as this shop sees it (:class:`ShopDb`); ``shop.village`` is the raw,
    village-wide one. ``shop.config`` is the service's configuration with ``[shop]`` replaced by this
    shop's own settings (name, language, timezone, currency, low-stock threshold, sellers), so code
    that reads ``config.shop`` serves whichever shop it was handed.
    """

    def __init__(self, db: sqlite_utils.Database | ShopDb, config: Config, shop_id: int | None = None) -> None:
        if shop_id is None:
            shop_id = db.shop_id if isinstance(db, ShopDb) else shops.DEFAULT_SHOP
        self.village = raw_db(db)
        self.db = ShopDb(self.village, shop_id)
        self.shop_id = shop_id
        self.service_config = config
        self.config = config if shop_id == shops.DEFAULT_SHOP else _config_for(self.village, config, shop_id)
        self.log = ConversationLog(self.village, shop_id)
        self.outbox = Outbox(self.village, shop_id)

    @classmethod
    def open(cls, config: Config, db_path: Path | str | None = None, shop_id: int = shops.DEFAULT_SHOP) -> Shop:
        """Open ``config.database`` (or the SQLite file ``db_path``), migrate it, make shop 1 what ``[shop]`` says and
        register its configured sellers; the result serves ``shop_id``."""
        db = open_db(db_path or config.database)
        sync_default_shop(db, config)
        return cls(db, config, shop_id)

    def other(self, shop_id: int) -> Shop:
        """The same connection serving another shop."""
        return self if shop_id == self.shop_id else Shop(self.village, self.service_config, shop_id)

    @property
    def settings(self) -> Row:
        """This shop's row in the registry (name, code, language, timezone, currency, threshold)."""
        return shops.require_shop(self.village, self.shop_id)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Shop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # customers
    def customer(
        self, channel: str, channel_user_id: str, display_name: str | None = None, language: str | None = None
    ) -> Row:
        """The customer for a channel user (created on first contact; configured sellers are sellers)."""
        role = "seller" if channel_user_id in self.config.shop.sellers else None
        return customers.get_or_create_customer(
            self.db, channel, channel_user_id, display_name, language, role
        )

    def is_seller(self, channel: str, channel_user_id: str) -> bool:
        return channel_user_id in self.config.shop.sellers or customers.is_seller(
            self.db, channel, channel_user_id
        )

    def add_seller(self, channel_user_id: str, channel: str = SELLERS_CHANNEL) -> Row:
        return customers.add_seller(self.db, channel_user_id, channel)

    def customer_for_name(self, spoken: str) -> Row:
        return customers.customer_for_name(self.db, spoken)

    def add_alias(self, customer_id: int, alias: str) -> None:
        customers.add_alias(self.db, customer_id, alias)

    def set_unsubscribed(self, channel: str, channel_user_id: str, unsubscribed: bool = True) -> None:
        customers.set_unsubscribed(self.db, channel, channel_user_id, unsubscribed)

    # catalog
    def add_product(
        self, name: str, price: Price, stock: int = 0, unit: str = "", actor: int | None = None
    ) -> Row:
        return catalog.add_product(self.db, name, to_fen(price), stock, unit, actor)

    def set_price(self, product: catalog.ProductRef, price: Price, actor: int | None = None) -> Row:
        return catalog.set_price(self.db, product, to_fen(price), actor)

    def adjust_stock(self, product: catalog.ProductRef, delta: int, actor: int | None = None) -> Row:
        return catalog.adjust_stock(self.db, product, delta, actor)

    def remove_product(self, product: catalog.ProductRef, actor: int | None = None) -> Row:
        return catalog.remove_product(self.db, product, actor)

    def product(self, product: catalog.ProductRef) -> Row:
        """An active product by id or exact name (``ProductNotFound`` otherwise)."""
        return catalog.require_product(self.db, product)

    def find_product(self, name: str) -> Row | None:
        return catalog.find_product(self.db, name)

    def list_products(self, active_only: bool = True) -> list[Row]:
        return catalog.list_products(self.db, active_only)

    def product_names(self) -> list[str]:
        return catalog.product_names(self.db)

    def spoken_names(self, limit: int = 30) -> list[str]:
        return customers.spoken_names(self.db, limit)

    # photos
    def store_photo(self, data: bytes, inspected: photos.Inspected | None = None) -> Row:
        return photos.store_photo(self.db, self.config.photos_dir, data, self.config.storage.max_photo_bytes,
                                  inspected)

    def attach_photo(self, product: catalog.ProductRef, photo_id: int, actor: int | None = None) -> int:
        return photos.attach_photo(self.db, product, photo_id, actor)

    def add_photo(self, product: catalog.ProductRef, data: bytes, actor: int | None = None) -> Row:
        """Store an image and attach it to a product; returns the photo row with its ``position``."""
        catalog.require_product(self.db, product)  # fail before writing files for a wrong name
        photo = self.store_photo(data)
        return {**photo, "position": self.attach_photo(product, photo["id"], actor)}

    def product_photos(self, product: catalog.ProductRef) -> list[Row]:
        return photos.product_photos(self.db, product)

    # orders
    def create_order(
        self,
        items: list[OrderLine | tuple],
        customer_id: int | None = None,
        created_by: str = "buyer",
        actor: int | None = None,
    ) -> Row:
        return orders.create_order(self.db, items, customer_id, created_by, actor)

    def record_sale(
        self,
        product: catalog.ProductRef,
        quantity: int,
        customer: str | int | None = None,
        price: Price | None = None,
        actor: int | None = None,
        total: Price | None = None,
    ) -> Row:
        """A sale the seller reports ("卖了两条手链给张三"); ``customer`` is an id or a spoken name.
        ``total`` (卖了三斤一共一百块) is recorded exactly as said; the unit price is then ``total / quantity``
        rounded to the fen (the line keeps the total)."""
        customer_id = self.customer_for_name(customer)["id"] if isinstance(customer, str) else customer
        unit_price = None if price is None else to_fen(price)
        line_total = None if total is None else to_fen(total)
        if line_total is not None and unit_price is None:
            unit_price = round(line_total / quantity)
        return orders.create_order(
            self.db, [OrderLine(product, quantity, unit_price, line_total)], customer_id, "seller", actor
        )

    def place_order(self, product: catalog.ProductRef, quantity: int, buyer_id: int) -> Row:
        """A buyer's own order (pending until the seller ships it). One buyer holds at most
        ``dialogue.max_pending_orders`` pending orders and ``dialogue.max_pending_units`` units in them
        (``TooManyPending``): anyone can be a buyer, and a pending order reserves stock. All buyers last
        seen at one browser address together hold at most ``web.max_pending_orders_per_address`` orders and
        ``web.max_pending_units_per_address`` units (made-up identities do not multiply the cap)."""
        limits = self.config.dialogue
        held_orders, held_units = orders.pending_held(self.db, buyer_id)
        if ((limits.max_pending_orders and held_orders >= limits.max_pending_orders)
                or (limits.max_pending_units and held_units + quantity > limits.max_pending_units)):
            raise TooManyPending(held_orders, held_units)
        web = self.config.web
        if web.max_pending_orders_per_address or web.max_pending_units_per_address:
            shared = addresses.pending_held_by_address(self.db, buyer_id)
            if shared is not None and (
                    (web.max_pending_orders_per_address and shared[0] >= web.max_pending_orders_per_address)
                    or (web.max_pending_units_per_address
                        and shared[1] + quantity > web.max_pending_units_per_address)):
                raise TooManyPending(*shared)
        return orders.create_order(self.db, [OrderLine(product, quantity)], buyer_id, "buyer", buyer_id)

    def get_order(self, order_id: int) -> Row | None:
        return orders.get_order(self.db, order_id)

    def order_by_number(self, number: int) -> Row | None:
        """The order this shop's people call ``number`` (三号订单), or None."""
        return orders.get_order_by_number(self.db, number)

    def list_orders(
        self,
        status: str | None = None,
        today: bool = False,
        customer_id: int | None = None,
        limit: int | None = None,
    ) -> list[Row]:
        since = until = None
        if today:
            start, end = reports.period_bounds("today", self.config.shop.timezone)
            since, until = to_iso(start), to_iso(end)
        return orders.list_orders(self.db, status, since, until, customer_id, limit)

    def set_order_status(self, order_id: int, status: str, actor: int | None = None) -> Row:
        return orders.set_status(self.db, order_id, status, actor)

    def ship_order(self, order_id: int, actor: int | None = None) -> Row:
        return orders.ship_order(self.db, order_id, actor)

    def ship_latest(self, customer: str | int, actor: int | None = None) -> Row:
        """Ship the newest unshipped order of a customer given by id or spoken name."""
        if isinstance(customer, str):
            found = customers.find_by_alias(self.db, customer)
            if not found:
                raise orders.OrderNotFound(f"nobody called {customer!r} has an order")
            for c in found:  # the first namesake that actually has an open order
                if orders.latest_open_order(self.db, c["id"]) is not None:
                    return orders.ship_latest(self.db, c["id"], actor)
            raise orders.OrderNotFound(f"{customer} has no unshipped order")
        return orders.ship_latest(self.db, customer, actor)

    def cancel_order(self, order_id: int, actor: int | None = None) -> Row:
        return orders.cancel_order(self.db, order_id, actor)

    def latest_open_order(self, customer_id: int) -> Row | None:
        return orders.latest_open_order(self.db, customer_id)

    # undo
    def undo(self, actor: int | None) -> actions.UndoResult:
        return actions.undo(self.db, actor)

    # reports
    def report(self, period: str = "today", now: datetime | None = None) -> Row:
        return reports.sales_report(self.db, period, self.config.shop.timezone, now)

    def low_stock(self) -> list[Row]:
        return reports.low_stock(self.db, self.config.shop.low_stock_threshold)

    # conversation log
    def record_inbound(
        self, channel: str, channel_msg_id: str, user: str, kind: str, **fields: Any
    ) -> tuple[int, bool]:
        return self.log.record_inbound(channel, channel_msg_id, user, kind, **fields)

    def record_outbound(self, channel: str, user: str, kind: str, **fields: Any) -> int:
        return self.log.record_outbound(channel, user, kind, **fields)

    def update_message(self, message_id: int, **fields: Any) -> None:
        self.log.update(message_id, **fields)

    def get_message(self, message_id: int) -> Row | None:
        return self.log.get(message_id)

    def list_messages(self, **filters: Any) -> list[Row]:
        return self.log.list(**filters)

    # export
    def export_csv(self, out_dir: Path | str) -> dict[str, dict[str, Any]]:
        return export.export_csv(self.db, out_dir)


def sync_default_shop(db: sqlite_utils.Database, config: Config) -> None:
    """Shop 1 is what ``[shop]`` describes: its settings and sellers follow the configuration."""
    s = config.shop
    shops.update_shop(db, shops.DEFAULT_SHOP, name=s.name or None, language=s.language, timezone=s.timezone,
                      currency=s.currency, low_stock_threshold=s.low_stock_threshold)
    scoped = ShopDb(db, shops.DEFAULT_SHOP)
    for user_id in s.sellers:
        if not customers.is_seller(scoped, SELLERS_CHANNEL, user_id):
            customers.add_seller(scoped, user_id, SELLERS_CHANNEL)


def _config_for(db: sqlite_utils.Database, config: Config, shop_id: int) -> Config:
    """The service configuration with ``[shop]`` describing shop ``shop_id``."""
    row = shops.require_shop(db, shop_id)
    sellers = [c["channel_user_id"] for c in shops.sellers_of(db, shop_id) if c["channel"] == SELLERS_CHANNEL]
    shop = ShopConfig(name=row["name"], language=row["language"], timezone=row["timezone"],
                      currency=row["currency"], sellers=sellers, low_stock_threshold=row["low_stock_threshold"])
    return dataclasses.replace(config, shop=shop)
