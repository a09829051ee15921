"""The shop: catalog, photos, customers, orders, undo, reports and export over SQLite.

Most callers want :class:`Shop` (``Shop.open(config)``); the modules underneath take a
``sqlite_utils.Database`` and work in integer fen.
"""

from voicebot.shop.actions import UndoResult
from voicebot.shop.errors import (
    DuplicateProduct,
    IllegalTransition,
    InvalidValue,
    NegativeStock,
    NotFound,
    NothingToUndo,
    OrderNotFound,
    OutOfStock,
    PhotoError,
    ProductNotFound,
    ShopError,
    UndoConflict,
)
from voicebot.shop.facade import Shop
from voicebot.shop.money import fen_to_yuan, format_yuan, to_fen, yuan_number
from voicebot.shop.orders import OrderLine

__all__ = [
    "DuplicateProduct",
    "IllegalTransition",
    "InvalidValue",
    "NegativeStock",
    "NotFound",
    "NothingToUndo",
    "OrderLine",
    "OrderNotFound",
    "OutOfStock",
    "PhotoError",
    "ProductNotFound",
    "Shop",
    "ShopError",
    "UndoConflict",
    "UndoResult",
    "fen_to_yuan",
    "format_yuan",
    "to_fen",
    "yuan_number",
]
