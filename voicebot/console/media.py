"""Audio and photos for the console, looked up by database row id only: no path from the request
reaches the filesystem, and a file outside the configured media folders is never served.

Voice formats a browser cannot play (AMR, SILK, Speex) are converted to Ogg/Opus on first use,
in worker subprocesses, and cached under ``<data_dir>/console-audio``.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils
from aiohttp import web

from voicebot.app_keys import CONFIG
from voicebot.audio.decode import decode
from voicebot.audio.encode import encode
from voicebot.audio.sniff import sniff
from voicebot.config import AudioConfig, Config
from voicebot.console.web import access, db_read, not_found
from voicebot.logs import log_event

PLAYABLE = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg", "webm": "audio/webm", "m4a": "audio/mp4"}
IMAGES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"GIF8", "image/gif"))


Found = tuple[str | None, int | None]  # (stored path, its shop)


def _inbound(db: sqlite_utils.Database, message_id: int) -> Found | None:
    row = db.execute("SELECT media_path, shop_id FROM messages WHERE id = ? AND kind IN ('voice', 'image')",
                     (message_id,)).fetchone()
    return (row[0], row[1]) if row else None


def _reply(db: sqlite_utils.Database, message_id: int) -> Found | None:
    row = db.execute("SELECT reply_audio_path, shop_id FROM messages WHERE id = ?", (message_id,)).fetchone()
    return (row[0], row[1]) if row else None


def _outbox(db: sqlite_utils.Database, outbox_id: int) -> Found | None:
    row = db.execute("SELECT media_path, shop_id FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
    return (row[0], row[1]) if row else None


def _photo(db: sqlite_utils.Database, photo_id: int) -> Found | None:
    row = db.execute("SELECT thumb_path, shop_id FROM photos WHERE id = ?", (photo_id,)).fetchone()
    return (row[0], row[1]) if row else None


def allowed(config: Config, path: str | None) -> Path | None:
    """The file, if it lies inside a folder voicebot writes media to (else None)."""
    if not path or path.startswith("ref:"):
        return None
    p = Path(path).resolve()
    roots = (config.media_dir, config.photos_dir, config.tts_cache_dir)
    if not any(p.is_relative_to(root.resolve()) for root in roots) or not p.is_file():
        return None
    return p


def _image_type(data: bytes) -> str | None:
    for magic, ctype in IMAGES:
        if data.startswith(magic):
            return ctype
    return "image/webp" if data[:4] == b"RIFF" and data[8:12] == b"WEBP" else None


async def playable(config: Config, path: Path, data: bytes) -> tuple[Path, str]:
    """A file a browser's ``<audio>`` plays, with its content type (converted and cached if needed)."""
    kind = sniff(data)
    if kind in PLAYABLE and not (kind == "ogg" and b"Speex" in data[:200]):
        return path, PLAYABLE[kind]
    cache = config.data_dir / "console-audio" / f"{hashlib.sha256(data).hexdigest()}.ogg"
    if not cache.is_file():
        pcm = await decode(data, AudioConfig(max_voice_seconds=600.0), check_silence=False)
        ogg = await encode(pcm, "ogg")
        await asyncio.to_thread(_write_atomic, cache, ogg)
        log_event("console.audio_converted", source=kind, bytes=len(ogg))
    return cache, "audio/ogg"


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _handler(lookup: Callable[[sqlite_utils.Database, int], Found | None], key: str) -> Callable[..., Any]:
    async def serve(request: web.Request) -> web.StreamResponse:
        config = request.app[CONFIG]
        found = await db_read(request, lookup, int(request.match_info[key]))
        # another shop's file is as absent as a missing one
        path = allowed(config, found[0]) if found and access(request).sees(found[1]) else None
        if path is None:
            raise not_found("media")
        data = await asyncio.to_thread(path.read_bytes)
        ctype = _image_type(data)
        if ctype is None:
            try:
                path, ctype = await playable(config, path, data)
            except Exception as e:  # a corrupt file: say so rather than serve something unplayable
                log_event("console.audio_failed", error=f"{type(e).__name__}: {e}")
                raise web.HTTPUnprocessableEntity(text="this audio cannot be played") from None
        # FileResponse answers Range requests, which browsers use to find an audio file's duration
        return web.FileResponse(path, headers={"Content-Type": ctype})

    return serve


ROUTES: dict[str, Callable[..., Any]] = {
    "in/{message_id:\\d{1,18}}": _handler(_inbound, "message_id"),
    "reply/{message_id:\\d{1,18}}": _handler(_reply, "message_id"),
    "out/{outbox_id:\\d{1,18}}": _handler(_outbox, "outbox_id"),
    "photo/{photo_id:\\d{1,18}}": _handler(_photo, "photo_id"),
}
