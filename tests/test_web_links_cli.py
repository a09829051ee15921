"""``voicebot shop seller link/unlink/revoke/links``: a URL, a terminal QR code, a PNG, a hashed token."""

from __future__ import annotations

import json

from click.testing import CliRunner
from PIL import Image

from voicebot.channels.web import links
from voicebot.cli import main
from voicebot.shop import Shop
from voicebot.store import open_db
from voicebot.store.scoped import ShopDb


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_seller_link_prints_url_and_qr_writes_png_stores_only_a_hash_and_revokes(tmp_path, monkeypatch):
    db = tmp_path / "shop.db"
    monkeypatch.chdir(tmp_path)
    code, out = run("shop", "seller", "link", "Guo Mei", "--db", str(db), "--png", str(tmp_path / "guo.png"))
    assert code == 0
    url = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("seller link for Guo Mei"))
    token = url.rsplit("/chat/", 1)[1]
    assert url.startswith("http://127.0.0.1:8080/chat/") and len(token) >= 43
    assert "▀" in out or "▄" in out  # the QR code, drawn in the terminal
    with Image.open(tmp_path / "guo.png") as png:
        assert png.format == "PNG" and png.width > 100
    assert token.encode() not in db.read_bytes()  # only its sha256 is stored
    shop_db = ShopDb(open_db(db), 1)
    assert links.seller_for_token(shop_db, token) == "seller:Guo Mei"
    with _shop(db) as shop:
        assert shop.is_seller("web", "seller:Guo Mei")

    code, out = run("shop", "seller", "links", "--db", str(db), "--json")
    listed = json.loads(out)
    assert [r["name"] for r in listed["links"]] == ["Guo Mei"] and "/chat/" in listed["buyer_url"]
    assert token not in out

    assert run("shop", "seller", "revoke", "Guo Mei", "--db", str(db))[0] == 0
    assert links.seller_for_token(ShopDb(open_db(db), 1), token) is None
    assert run("shop", "seller", "unlink", "Guo Mei", "--db", str(db))[0] == 1  # nothing left to revoke


def _shop(db_path):
    from voicebot.config import load_config

    return Shop.open(load_config(overrides={"storage": {"db_path": str(db_path)}}, environ={}))
