"""Which shops a console account sees: a station admin every shop (and the buyers who are in none yet), a
helper only the shops she was given.

Every console list filters by ``Access.params()``; every single row (message, reply, media, product,
order) is looked up together with its shop and treated as missing when the account does not see that shop,
so a helper cannot even learn that another shop's id exists (404, never 403).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

ADMIN, HELPER = "admin", "helper"
ROLES = (ADMIN, HELPER)


@dataclass(frozen=True)
class Access:
    """One account's view: its role, the shops it sees (``{id: name}``, ordered), and, when it picked one,
    the single shop its lists are narrowed to."""

    user_id: int
    name: str
    role: str
    shops: dict[int, str] = field(default_factory=dict)
    picked: int | None = None
    closed: frozenset[int] = frozenset()  # removed shops an admin still sees the history of

    @property
    def admin(self) -> bool:
        return self.role == ADMIN

    @property
    def shop_ids(self) -> list[int]:
        return [self.picked] if self.picked is not None else list(self.shops)

    def sees(self, shop_id: int | None) -> bool:
        """May this account see a row of ``shop_id`` (None: a buyer in no shop yet, admins only)?"""
        if shop_id is None:
            return self.admin
        return shop_id in self.shops

    def can_change(self, shop_id: int | None) -> bool:
        """May this account act in ``shop_id`` (a shop it sees, still open)?"""
        return shop_id is not None and self.sees(shop_id) and shop_id not in self.closed

    def pick(self, shop_id: int | None) -> Access:
        """The same account looking at one of its shops (None or a shop it does not see: all of them)."""
        return replace(self, picked=shop_id if shop_id in self.shops else None)

    def params(self) -> list[Any]:
        """The parameters of the view's condition, written out in each statement (so every SQL literal on a
        shop table names ``shop_id``) as ``(x.shop_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) OR (? AND x.shop_id
        IS NULL))``: the shops in view, and whether rows of no shop are in it (an admin's unnarrowed view)."""
        return [json.dumps(self.shop_ids), bool(self.admin and self.picked is None)]

    def default_shop(self) -> int | None:
        """The shop a one-shop page shows: the picked one, else the account's first open one."""
        if self.picked is not None and self.picked not in self.closed:
            return self.picked
        return next((s for s in self.shops if s not in self.closed), None)
