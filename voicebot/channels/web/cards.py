"""Product cards for the chat page: name, spoken price, stock and the cover photo's thumbnail."""

from __future__ import annotations

from typing import Any

from voicebot.channels.web.files import file_url
from voicebot.config import Config
from voicebot.dialogue.replies import price
from voicebot.shop.facade import Shop
from voicebot.shop.photos import get_photo


def catalog(shop: Shop, config: Config) -> list[dict[str, Any]]:
    """The shop's active products as cards, in catalog order, prices said in the shop's language."""
    settings = shop.settings
    lang, currency = settings["language"], settings["currency"]
    cards = []
    for p in shop.list_products():
        photo = get_photo(shop.db, p["cover_photo_id"]) if p["cover_photo_id"] else None
        cards.append({
            "id": p["id"], "name": p["name"], "unit": p["unit"], "price_fen": p["price_fen"], "stock": p["stock"],
            "price_text": price(lang, p["price_fen"] / 100, currency),
            "photo_url": file_url(config, photo["thumb_path"]) if photo else None,
        })
    return cards
