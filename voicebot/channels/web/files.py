"""Where the page fetches reply audio and photos: URLs for files in the media and photo folders.

Product photos are the public catalog. Reply audio is not: its URL is a capability for one user,
signed with the shop's media key and valid for :data:`MEDIA_TTL_DAYS` days, so the same sentence
has a different URL for everyone and a guessed or shared content hash opens nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path
from urllib.parse import quote

import sqlite_utils

from voicebot.channels.web.links import secret_key
from voicebot.config import Config

MEDIA_URL = "/chat/media/"
PHOTO_URL = "/chat/photos/"
MEDIA_KEY = "web.media_key"
MEDIA_TTL_DAYS = 7


def media_key(db: sqlite_utils.Database) -> bytes:
    """The shop's secret for signing media URLs (random, made once, kept in the database)."""
    return secret_key(db, MEDIA_KEY)


def media_signature(key: bytes, user: str, name: str, expires: int) -> str:
    return hmac.new(key, f"{user}\n{name}\n{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def media_allowed(key: bytes, name: str, user: str, expires: str, signature: str, now: float | None = None) -> bool:
    """Whether ``?u=user&e=expires&s=signature`` is a live capability for the file ``name``."""
    if not expires.isdigit() or len(expires) > 12 or int(expires) < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(signature.encode("utf-8", "replace"),
                               media_signature(key, user, name, int(expires)).encode())


def file_url(config: Config, path: str | None, *, user: str | None = None, key: bytes | None = None,
             now: float | None = None) -> str | None:
    """The URL under which the page fetches a reply's audio (for ``user``, signed with ``key``) or a
    photo; None if the file is not ours."""
    if not path:
        return None
    p = Path(path)
    if p.parent == config.media_dir / "out":
        if user is None or key is None:
            return None
        # whole days, so that a reply sent again the same day keeps its URL (and the browser's cache)
        expires = (int((time.time() if now is None else now) // 86400) + MEDIA_TTL_DAYS + 1) * 86400
        sig = media_signature(key, user, p.name, expires)
        return f"{MEDIA_URL}{p.name}?u={quote(user, safe='')}&e={expires}&s={sig}"
    if p.parent == config.photos_dir:
        return PHOTO_URL + p.name
    return None
