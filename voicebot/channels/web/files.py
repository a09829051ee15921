"""Where the page fetches reply audio and photos: URLs for files in the media and photo folders."""

from __future__ import annotations

from pathlib import Path

from voicebot.config import Config

MEDIA_URL = "/chat/media/"
PHOTO_URL = "/chat/photos/"


def file_url(config: Config, path: str | None) -> str | None:
    """The URL under which the page fetches a reply's audio or a photo (None if not ours)."""
    if not path:
        return None
    p = Path(path)
    if p.parent == config.media_dir / "out":
        return MEDIA_URL + p.name
    if p.parent == config.photos_dir:
        return PHOTO_URL + p.name
    return None
