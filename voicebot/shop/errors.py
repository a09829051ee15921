"""Shop errors. Each has a stable ``code`` (for reply templates) and a plain-English message."""

from __future__ import annotations


class ShopError(Exception):
    code = "shop_error"


class NotFound(ShopError):
    code = "not_found"


class ProductNotFound(NotFound):
    code = "product_not_found"

    def __init__(self, product: str | int) -> None:
        super().__init__(f"no product {product!r}")
        self.product = product


class OrderNotFound(NotFound):
    code = "order_not_found"


class DuplicateProduct(ShopError):
    code = "duplicate_product"

    def __init__(self, name: str) -> None:
        super().__init__(f"a product named {name!r} already exists")
        self.name = name


class InvalidValue(ShopError):
    code = "invalid_value"


class NegativeStock(ShopError):
    """A stock adjustment would leave fewer than zero."""

    code = "negative_stock"

    def __init__(self, product: str, available: int, change: int) -> None:
        super().__init__(f"only {available} left, cannot take away {-change}")
        self.product, self.available, self.change = product, available, change


class OutOfStock(ShopError):
    """An order asks for more than there is; the message is "only N left"."""

    code = "out_of_stock"

    def __init__(self, product: str, available: int, requested: int = 0) -> None:
        super().__init__(f"only {available} left")
        self.product, self.available, self.requested = product, available, requested


class TooManyPending(ShopError):
    """A buyer already holds as many pending orders (or units in them) as one buyer may."""

    code = "too_many_pending"

    def __init__(self, orders: int, units: int) -> None:
        super().__init__(f"{orders} pending orders holding {units} units already")
        self.orders, self.units = orders, units


class IllegalTransition(ShopError):
    code = "illegal_transition"

    def __init__(self, order_id: int, current: str, wanted: str, number: int | None = None) -> None:
        """``order_id`` is the internal id; the message names the shop's order ``number`` when given."""
        super().__init__(f"order {order_id if number is None else number} is {current}; it cannot become {wanted}")
        self.order_id, self.current, self.wanted, self.number = order_id, current, wanted, number


class PhotoError(ShopError):
    """``reason`` says which spoken answer fits: empty, too_large, unsupported, damaged."""

    code = "bad_photo"

    def __init__(self, message: str, reason: str = "damaged") -> None:
        super().__init__(message)
        self.reason = reason


class NothingToUndo(ShopError):
    code = "nothing_to_undo"


class UndoConflict(ShopError):
    """Later changes (often by someone else) make the action impossible to reverse exactly."""

    code = "undo_conflict"
