"""Who is on the other end of a browser chat: seller links (long random tokens, stored hashed,
revocable), each shop's public buyer link, and anonymous buyer identities from a cookie the server
signed (a made-up cookie is no one). A link says which shop it is: a buyer link is one shop's (shop 1
keeps the link it had before the village), a seller token belongs to one shop's seller. A buyer's
identity is the village's: the same phone is the same buyer in every shop.

Web user ids are ``seller:<name>`` for a seller link (``seller:<shop id>:<name>`` beyond shop 1) and
``buyer:<24 hex>`` for a buyer, where the hex
is derived from the cookie's secret so that knowing a user id never lets anyone impersonate it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from voicebot.shop import customers
from voicebot.shop.shops import DEFAULT_SHOP, buyer_shop, get_shop, place_buyer
from voicebot.store.clock import utc_now
from voicebot.store.db import write_tx
from voicebot.store.kv import kv_get, kv_set
from voicebot.store.scoped import ShopDb, raw_db

CHANNEL = "web"
SHOP_LINK_KEY = "web.shop_link"
COOKIE_KEY = "web.cookie_key"
_COOKIE_RE = re.compile(r"[A-Za-z0-9_-]{32,64}")
_LINK_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _link_key(shop_id: int) -> str:
    return SHOP_LINK_KEY if shop_id == DEFAULT_SHOP else f"{SHOP_LINK_KEY}.{shop_id}"


def shop_link(db: ShopDb) -> str:
    """This shop's public buyer link slug (random, made once, kept in the database)."""
    key = _link_key(db.shop_id)
    item = kv_get(db, key)
    if item is not None:
        return item[0]
    slug = secrets.token_urlsafe(8)
    with write_tx(db):
        item = kv_get(db, key)  # another process may have made it meanwhile
        if item is not None:
            return item[0]
        kv_set(db, key, slug)
    return slug


def shop_links(db: ShopDb | sqlite_utils.Database) -> dict[int, str]:
    """Every shop's buyer link slug made so far, by shop id."""
    rows = db.execute("SELECT key, value FROM kv WHERE key = ? OR key LIKE ?",
                      (SHOP_LINK_KEY, SHOP_LINK_KEY + ".%")).fetchall()
    found = {}
    for key, value in rows:
        suffix = key[len(SHOP_LINK_KEY) + 1:]
        if key == SHOP_LINK_KEY or suffix.isdigit():
            found[int(suffix) if suffix else DEFAULT_SHOP] = value
    return found


def link_shop(db: ShopDb | sqlite_utils.Database, link: str) -> tuple[int, str] | None:
    """``(shop id, "buyer" | "seller")`` for a chat link of an open shop, or None."""
    if not _LINK_RE.fullmatch(link or ""):
        return None
    raw = raw_db(db)
    keys = [k for (k,) in raw.execute("SELECT key FROM kv WHERE (key = ? OR key LIKE ?) AND value = ?",
                                      (SHOP_LINK_KEY, SHOP_LINK_KEY + ".%", link)).fetchall()]
    if keys:
        suffix = keys[0][len(SHOP_LINK_KEY) + 1:]
        shop_id, role = (int(suffix) if suffix.isdigit() else DEFAULT_SHOP), "buyer"
    else:
        row = raw.execute("SELECT shop_id FROM web_links WHERE token_sha256 = ? AND revoked_at IS NULL",
                          (_sha256(link),)).fetchone()
        if row is None:
            return None
        shop_id, role = row[0], "seller"
    shop = get_shop(raw, shop_id)
    return (shop_id, role) if shop is not None and shop["removed_at"] is None else None


def seller_user(name: str, shop_id: int = DEFAULT_SHOP) -> str:
    """A seller link's web user: ``seller:<name>`` in shop 1 (as before the village), ``seller:<shop id>:<name>``
    in another, so that two shops' sellers called alike are two people, each in her own shop."""
    name = " ".join(name.split())
    return f"seller:{name}" if shop_id == DEFAULT_SHOP else f"seller:{shop_id}:{name}"


def create_seller_link(db: ShopDb, name: str) -> tuple[str, dict[str, Any]]:
    """A new seller link for ``name``: ``(token, seller customer)``. Only the token's hash is stored."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("a seller link needs a name")
    token = secrets.token_urlsafe(32)  # 43 characters, 256 bits
    with write_tx(db):
        seller = customers.add_seller(db, seller_user(name, db.shop_id), CHANNEL)
        if not seller.get("display_name"):
            db.execute("UPDATE customers SET display_name = ? WHERE id = ? AND shop_id = ?",
                       (name, seller["id"], db.shop_id))
        db.execute(
            "INSERT INTO web_links (shop_id, customer_id, name, token_sha256, created_at) VALUES (?, ?, ?, ?, ?)",
            (db.shop_id, seller["id"], name, _sha256(token), utc_now()),
        )
    return token, seller


def revoke_seller_links(db: ShopDb, name: str) -> int:
    """Revoke every live link of seller ``name``; returns how many. Open chats are closed by the server."""
    name = " ".join(name.split())
    with write_tx(db):
        n = db.execute(
            "UPDATE web_links SET revoked_at = ? WHERE shop_id = ? AND name = ? AND revoked_at IS NULL",
            (utc_now(), db.shop_id, name),
        ).rowcount
        seller = customers.find_customer(db, CHANNEL, seller_user(name, db.shop_id))
        if n and seller and seller["role"] == "seller":  # no more seller rights or seller notifications
            customers.set_role(db, seller["id"], "buyer")
        return n


def list_seller_links(db: ShopDb) -> list[dict[str, Any]]:
    return list(db.query("SELECT id, name, customer_id, created_at, revoked_at FROM web_links WHERE shop_id = ?"
                         " ORDER BY id", (db.shop_id,)))


def seller_for_token(db: ShopDb, token: str) -> str | None:
    """The web user id of a live seller link, or None (unknown, malformed or revoked)."""
    if not _LINK_RE.fullmatch(token or ""):
        return None
    row = db.execute(
        "SELECT name FROM web_links WHERE shop_id = ? AND token_sha256 = ? AND revoked_at IS NULL",
        (db.shop_id, _sha256(token)),
    ).fetchone()
    return seller_user(row[0], db.shop_id) if row else None


def secret_key(db: ShopDb, name: str) -> bytes:
    """A random 256-bit key kept in the database under ``name`` (made once, shared by processes)."""
    item = kv_get(db, name)
    if item is None:
        with write_tx(db):
            item = kv_get(db, name)  # another process may have made it meanwhile
            if item is None:
                kv_set(db, name, secrets.token_hex(32))
                item = kv_get(db, name)
    assert item is not None
    return bytes.fromhex(item[0])


def _cookie_mac(key: bytes, nonce: str) -> str:
    mac = hmac.new(key, b"voicebot-web-buyer-cookie:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:22]


def new_buyer_cookie(db: ShopDb) -> str:
    """A new buyer identity: 22 random characters and 22 of their MAC under the shop's cookie key, so
    that only this server mints identities (a made-up cookie is no one)."""
    nonce = secrets.token_urlsafe(16)
    return nonce + _cookie_mac(secret_key(db, COOKIE_KEY), nonce)


def _known_cookie(db: ShopDb, cookie: str) -> bool:
    """A cookie this server minted, or one from before cookies were signed that already has a customer."""
    if len(cookie) == 44 and hmac.compare_digest(cookie[22:], _cookie_mac(secret_key(db, COOKIE_KEY), cookie[:22])):
        return True
    user = buyer_user(cookie)
    return user is not None and customers.find_customer(db, CHANNEL, user) is not None


def buyer_user(cookie: str | None) -> str | None:
    """The buyer's web user id for a cookie value, or None when it is missing or malformed."""
    if not cookie or not _COOKIE_RE.fullmatch(cookie):
        return None
    return f"buyer:{_sha256('voicebot-web-buyer:' + cookie)[:24]}"


def resolve(db: ShopDb, link: str, cookie: str | None) -> tuple[str, str | None]:
    """``(role, user)`` for a chat link of ``db``'s shop: ``seller``, ``buyer`` (user None: needs a
    cookie) or ``none`` (also for another shop's link: find that with :func:`link_shop`)."""
    if link == shop_link(db):
        return "buyer", buyer_user(cookie) if cookie and _known_cookie(db, cookie) else None
    seller = seller_for_token(db, link)
    return ("seller", seller) if seller else ("none", None)


@dataclass(frozen=True)
class Opened:
    """A chat link, resolved: its shop (and that shop's name, language, currency), role and user."""

    shop_id: int
    role: str  # "buyer" or "seller"
    user: str | None  # None: a buyer without an identity yet (the page gives her one)
    name: str
    lang: str
    currency: str


def open_link(db: ShopDb | sqlite_utils.Database, link: str, cookie: str | None) -> Opened | None:
    """Which shop's chat ``link`` is and who is on it, or None (unknown, revoked, or its shop removed)."""
    found = link_shop(db, link)
    if found is None:
        return None
    shop_id = found[0]
    role, user = resolve(ShopDb(raw_db(db), shop_id), link, cookie)
    shop = get_shop(raw_db(db), shop_id)
    if role == "none" or shop is None:
        return None
    return Opened(shop_id, role, user, shop["name"] or "", shop["language"], shop["currency"])


def place_link_buyer(db: ShopDb | sqlite_utils.Database, user: str, shop_id: int) -> None:
    """A web buyer is in the shop whose page she has open (written only when that changes)."""
    if buyer_shop(db, CHANNEL, user) != shop_id:
        place_buyer(db, CHANNEL, user, shop_id, "link")
