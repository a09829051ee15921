"""Product photos: content-addressed files (``<sha256>.<ext>``) plus a small JPEG thumbnail.

The original bytes are kept untouched; the thumbnail has the EXIF orientation applied, so it is
upright the way the phone showed it. ``width``/``height`` are the upright dimensions.

Decoding (:func:`inspect_photo`) is CPU and memory work kept apart from indexing (:func:`store_photo`),
so the service runs it off the event loop and the database thread; images over :data:`MAX_PIXELS`
(decompression bombs: a 160 KB PNG of 7000x7000) are refused from their header, before decoding.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from voicebot.fileio import write_atomic
from voicebot.shop.actions import record_action
from voicebot.shop.catalog import ProductRef, require_product
from voicebot.shop.errors import PhotoError
from voicebot.store.clock import utc_now
from voicebot.store.db import write_tx
from voicebot.store.scoped import ShopDb

Row = dict[str, Any]

THUMB_SIZE = (320, 320)
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp"}
MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own bomb check, for any other Image.open in the process


@dataclass(frozen=True)
class Inspected:
    """A decoded, checked photo, ready to be stored."""

    sha256: str
    format: str
    width: int
    height: int
    thumbnail: bytes


def _inspect(data: bytes) -> tuple[str, Image.Image]:
    """Decode the image fully (so truncated files fail here), upright; returns (format, image)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            fmt = image.format or ""
            if fmt not in EXTENSIONS:
                raise PhotoError(f"unsupported image format {fmt or 'unknown'}; send a JPEG or PNG photo",
                                 reason="unsupported")
            if image.width * image.height > MAX_PIXELS:
                raise PhotoError(f"image is too large ({image.width}x{image.height} pixels)",
                                 reason="too_large")
            image.load()
            return fmt, ImageOps.exif_transpose(image)
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError("image is too large (a decompression bomb)", reason="too_large") from None
    except UnidentifiedImageError:
        raise PhotoError("this file is not a photo we can read", reason="unsupported") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise PhotoError(f"this photo is damaged: {e}", reason="damaged") from None


def _thumbnail(image: Image.Image) -> bytes:
    thumb = image.copy()
    thumb.thumbnail(THUMB_SIZE)
    if thumb.mode not in ("RGB", "L"):
        background = Image.new("RGB", thumb.size, "white")
        rgba = thumb.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        thumb = background
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def get_photo(db: ShopDb, photo_id: int) -> Row | None:
    rows = list(db.query("SELECT * FROM photos WHERE id = ? AND shop_id = ?", (photo_id, db.shop_id)))
    return rows[0] if rows else None


def inspect_photo(data: bytes, max_bytes: int) -> Inspected:
    """Check and decode an image and make its thumbnail (CPU work, no I/O: run it off the loop).

    Raises ``PhotoError`` (``reason``: empty, too_large, unsupported, damaged).
    """
    if not data:
        raise PhotoError("the photo is empty", reason="empty")
    if len(data) > max_bytes:
        raise PhotoError(f"the photo is too big ({len(data)} bytes; the limit is {max_bytes})",
                         reason="too_large")
    fmt, image = _inspect(data)
    return Inspected(hashlib.sha256(data).hexdigest(), fmt, image.width, image.height, _thumbnail(image))


def store_photo(
    db: ShopDb, photos_dir: Path | str, data: bytes, max_bytes: int,
    inspected: Inspected | None = None,
) -> Row:
    """Check, store (once per content) and index an image; returns its ``photos`` row.

    ``inspected`` is :func:`inspect_photo`'s result when the caller decoded it already (elsewhere).
    Raises ``PhotoError`` for empty, oversized, unreadable or non-image data.
    """
    info = inspected or inspect_photo(data, max_bytes)
    sha = info.sha256
    directory = Path(photos_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{sha}.{EXTENSIONS[info.format]}"
    thumb_path = directory / f"{sha}.thumb.jpg"
    if not path.exists():
        write_atomic(path, data)
    if not thumb_path.exists():
        write_atomic(thumb_path, info.thumbnail)
    with write_tx(db):
        # Same bytes stored before: keep the one row (and the one file).
        db.execute(
            "INSERT INTO photos (shop_id, sha256, path, thumb_path, format, width, height, bytes,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, sha256) DO NOTHING",
            (db.shop_id, sha, str(path), str(thumb_path), info.format, info.width, info.height, len(data),
             utc_now()),
        )
        return next(db.query("SELECT * FROM photos WHERE shop_id = ? AND sha256 = ?", (db.shop_id, sha)))


def attach_photo(
    db: ShopDb, product: ProductRef, photo_id: int, actor: int | None = None
) -> int:
    """Add a stored photo to a product (appended; the first one is the cover). Returns its position."""
    with write_tx(db):
        row = require_product(db, product)
        if get_photo(db, photo_id) is None:
            raise PhotoError(f"no photo {photo_id}", reason="missing")
        existing = db.execute(
            "SELECT position FROM product_photos WHERE shop_id = ? AND product_id = ? AND photo_id = ?",
            (db.shop_id, row["id"], photo_id),
        ).fetchone()
        if existing:
            return existing[0]
        position = db.execute(
            "SELECT coalesce(max(position) + 1, 0) FROM product_photos WHERE shop_id = ? AND product_id = ?",
            (db.shop_id, row["id"]),
        ).fetchone()[0]
        db.execute(
            "INSERT INTO product_photos (shop_id, product_id, photo_id, position, created_at) VALUES (?, ?, ?, ?, ?)",
            (db.shop_id, row["id"], photo_id, position, utc_now()),
        )
        record_action(
            db,
            actor,
            "attach_photo",
            {"product_id": row["id"], "name": row["name"], "photo_id": photo_id, "position": position},
        )
        return position


def product_photos(db: ShopDb, product: ProductRef) -> list[Row]:
    """A product's photos, cover first."""
    row = require_product(db, product)
    return list(
        db.query(
            "SELECT ph.*, pp.position FROM product_photos pp JOIN photos ph ON ph.id = pp.photo_id"
            " WHERE pp.shop_id = ? AND pp.product_id = ? ORDER BY pp.position",
            (db.shop_id, row["id"]),
        )
    )
