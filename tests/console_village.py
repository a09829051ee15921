"""A village for console tests: shop A (the configured shop 1) and shop B, each with a seller, products,
an order, a conversation, a photo and a reply waiting; an admin, a helper of A and a helper of B."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from console_helpers import console_service
from wechat_service import SELLER

from voicebot.console.auth import add_user
from voicebot.shop import shops
from voicebot.shop.facade import Shop

ADMIN, HELPER_A, HELPER_B, PASSWORD = "ana", "helper-a", "helper-b", "turquoise-2026"
SELLER_B = "oSellerLi00000000000000000000"
BUYER_A, BUYER_B, DRIFTER = "oBuyerA", "oBuyerB", "oDrifter"


def jpeg(colour: str = "teal") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(out, "JPEG")
    return out.getvalue()


@dataclass
class Village:
    service: Any
    a: int = 1
    b: int = 0
    ids: dict[str, dict[str, int]] = field(default_factory=dict)  # shop letter -> {message, product, ...}


def route_path(route: Any) -> str:
    info = route.resource.get_info() if route.resource else {}
    return info.get("path") or info.get("formatter") or ""


def console_routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, pattern) of the console but the login form and static files."""
    out = []
    for route in app.router.routes():
        path = route_path(route)
        info = route.resource.get_info() if route.resource else {}
        if not path.startswith("/console") or path == "/console/login" or "prefix" in info or route.method == "HEAD":
            continue
        out.append((route.method, path))
    return out


# which seeded id each route parameter takes
PARAM_IDS = {"message_id": "message", "outbox_id": "outbox", "product_id": "product", "order_id": "order",
             "photo_id": "photo", "shop_id": "shop"}


def fill(path: str, ids: dict[str, int]) -> str | None:
    """The route with every ``{name}`` filled with the id of that kind in ``ids`` (None: a parameter no id
    fills, which a test must then learn about)."""
    def one(m: re.Match[str]) -> str:
        name, _, pattern = m.group(1).partition(":")
        if name == "op":
            return "retry"
        return str(ids[PARAM_IDS[name]])

    try:
        return re.sub(r"\{([^}]*)\}", one, path)
    except KeyError:
        return None


def _seed_shop(db: Any, config: Any, shop_id: int, seller: str, buyer: str, product: str,
               colour: str) -> dict[str, int]:
    shop = Shop(db, config, shop_id)
    actor = shop.customer("wechat", seller)["id"]
    p = shop.add_product(product, 50, 10, "瓶", actor)
    photo = shop.add_photo(p["id"], jpeg(colour), actor)
    order = shop.record_sale(p["id"], 2, "张三", actor=actor)
    # a buyer's photo ("this one?"), answered; every media route of the console has a file to serve
    media = photo["thumb_path"]
    msg_id, _ = shop.record_inbound("wechat", f"m-{shop_id}", buyer, "image", media_path=media)
    shop.update_message(msg_id, transcript=f"{product}多少钱", reply_text="五十块", reply_audio_path=media,
                        status="replied")
    outbox_id = shop.outbox.enqueue("wechat", buyer, "image", message_id=msg_id, media_path=media,
                                    payload={"text": "五十块"}, held=True)  # the sender leaves it be
    return {"message": msg_id, "product": p["id"], "order": order["id"], "photo": photo["id"],
            "outbox": outbox_id, "shop": shop_id}


async def village(aiohttp_server: Any, tmp_path: Any) -> Village:
    service = await console_service(aiohttp_server, tmp_path, products=[])
    config = service.config
    v = Village(service)
    with Shop.open(config) as one:
        db = one.village
        v.b = shops.add_shop(db, "李姐蜂蜜", code="lihoney")["id"]
        Shop(db, config, v.b).add_seller(SELLER_B)
        v.ids["a"] = _seed_shop(db, config, v.a, SELLER, BUYER_A, "土蜂蜜", "teal")
        v.ids["b"] = _seed_shop(db, config, v.b, SELLER_B, BUYER_B, "土蜂蜜", "orange")
        add_user(db, HELPER_A, PASSWORD, role="helper", shop_ids=[v.a])
        add_user(db, HELPER_B, PASSWORD, role="helper", shop_ids=[v.b])
    return v
