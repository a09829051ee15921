"""Photos: content-addressed storage, upright thumbnails, clear rejection of bad input."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from voicebot.config import load_config
from voicebot.shop import PhotoError, ProductNotFound, Shop


@pytest.fixture
def shop(tmp_path):
    config = load_config(
        overrides={"server": {"data_dir": str(tmp_path)}, "storage": {"max_photo_bytes": 200_000}}
    )
    s = Shop.open(config)
    s.add_product("手链", 200, 5)
    yield s
    s.close()


def sideways_jpeg() -> bytes:
    """200x100 pixels stored, red on the left; EXIF orientation 6 says: show it rotated 90° clockwise."""
    image = Image.new("RGB", (200, 100), "blue")
    image.paste((255, 0, 0), (0, 0, 100, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=95)
    return out.getvalue()


def test_exif_rotated_photo_gets_an_upright_thumbnail(shop):
    data = sideways_jpeg()
    photo = shop.add_photo("手链", data)
    assert photo["sha256"] == hashlib.sha256(data).hexdigest()
    assert photo["path"].endswith(f"{photo['sha256']}.jpg") and photo["format"] == "JPEG"
    assert (photo["width"], photo["height"], photo["bytes"]) == (100, 200, len(data))
    with open(photo["path"], "rb") as f:
        assert f.read() == data  # the original is kept byte for byte
    thumb = Image.open(photo["thumb_path"])
    assert thumb.format == "JPEG" and thumb.height > thumb.width  # portrait, as the phone showed it
    red, green, blue = thumb.convert("RGB").getpixel((thumb.width // 2, thumb.height // 4))
    assert red > 200 and blue < 60  # the red half is now on top


def test_same_bytes_stored_once_and_first_photo_is_cover(shop, tmp_path):
    first = shop.add_photo("手链", sideways_jpeg())
    png = io.BytesIO()
    Image.new("RGBA", (30, 30), (0, 0, 0, 0)).save(png, "PNG")
    second = shop.add_photo("手链", png.getvalue())
    again = shop.store_photo(sideways_jpeg())
    assert again["id"] == first["id"]
    assert (first["position"], second["position"]) == (0, 1)
    assert [p["id"] for p in shop.product_photos("手链")] == [first["id"], second["id"]]
    assert shop.list_products()[0]["cover_photo_id"] == first["id"]
    assert len(list((tmp_path / "photos").iterdir())) == 4  # two originals, two thumbnails
    assert shop.db.conn.execute("SELECT count(*) FROM photos").fetchone()[0] == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"this is a text file, not a photo\n", "not a photo"),
        (b"", "empty"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "not a photo|damaged"),
    ],
)
def test_non_images_are_rejected(shop, data, message):
    with pytest.raises(PhotoError, match=message):
        shop.add_photo("手链", data)
    assert shop.product_photos("手链") == []


def test_oversized_photo_is_rejected_before_decoding(shop, tmp_path):
    noisy = Image.effect_noise((400, 400), 100).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "PNG")
    assert len(out.getvalue()) > 200_000
    with pytest.raises(PhotoError, match="too big"):
        shop.add_photo("手链", out.getvalue())
    assert not (tmp_path / "photos").exists() or not list((tmp_path / "photos").iterdir())


def test_photo_for_unknown_product_writes_nothing(shop, tmp_path):
    with pytest.raises(ProductNotFound):
        shop.add_photo("项链", sideways_jpeg())
    assert shop.db.conn.execute("SELECT count(*) FROM photos").fetchone()[0] == 0
