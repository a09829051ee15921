"""The browser chat's WebSocket protocol: parsing what a page sends, and the events sent back.

Client -> server (JSON text frames unless noted)::

    {"type": "clip", "id": "c-1a2b", "mime": "audio/webm", "data": "<base64>"}   a voice clip
    binary frame: b'{"type": "clip", "id": "c-1a2b", "mime": "audio/webm"}' + b"\\n" + <audio bytes>
    {"type": "text", "id": "t-9", "text": "사과 얼마예요"}                          typed words (optional)
    {"type": "order", "id": "o-3", "product_id": 2}                              the order button
    {"type": "hello", "after": 12, "greet": true}   on (re)connect: replies sent after outbox id 12 are
                                     sent again; ``greet`` (a page's first socket, until it got its greeting)
                                     asks for the spoken welcome
    {"type": "ping"}

``id`` (1-64 of ``A-Z a-z 0-9 _ -``) is chosen by the page and unique per user: the same id sent
again (a reconnect during an upload, a retry) is the same message and is acted on once. Replies
carry ``outbox_id``; a page that saw one may get it again after a reconnect and ignores it.

Server -> client::

    {"type": "welcome", "role": "buyer"|"seller", "shop": "...", "language": "ko", "products": [...]}
    {"type": "greeting", "text": "...", "audio_url": "/chat/<link>/say/greeting"}   a buyer's hello with greet
    {"type": "received", "id": "c-1a2b", "message_id": 7, "duplicate": false}
    {"type": "heard", "id": "c-1a2b", "message_id": 7, "text": "사과 얼마 예요"}
    {"type": "reply", "id": "c-1a2b", "message_id": 7, "outbox_id": 12, "kind": "voice"|"text"|"image",
     "text": "...", "audio_url": "/chat/media/<sha>.mp3?u=..&e=..&s=..", "image_url": null, "heard": "...",
     "notification": false}
    {"type": "error", "code": "bad_json"|"unknown_type"|"bad_id"|"bad_clip"|"too_large"|"bad_product"
     |"revoked", "id": "...", "message": "..."}
    {"type": "products", "products": [...]}   the catalog changed (same cards as in welcome)
    {"type": "pong"}
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_ROW_ID = 2**63 - 1  # every number in the protocol is a row id: SQLite's largest integer
MAX_TEXT_CHARS = 500
TYPES = ("clip", "text", "order", "hello", "ping")


class ProtocolError(ValueError):
    """A frame the server refuses; ``code`` and the message go back in an ``error`` event."""

    def __init__(self, code: str, message: str, msg_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.msg_id = msg_id

    def event(self) -> dict[str, Any]:
        return {"type": "error", "code": self.code, "id": self.msg_id, "message": str(self)}


@dataclass
class ClientMessage:
    type: str
    id: str = ""
    data: bytes = b""
    mime: str = ""
    text: str = ""
    product_id: int = 0
    after: int = 0
    greet: bool = False


def _check_id(value: Any) -> str:
    if not isinstance(value, str) or not ID_RE.fullmatch(value):
        raise ProtocolError("bad_id", "every message needs an id of 1-64 letters, digits, '_' or '-'")
    return value


def _row_id(value: Any, lowest: int, what: str, msg_id: str | None = None, code: str = "bad_json") -> int:
    """A whole number SQLite can hold (no bool, float, string or 2**63), or :class:`ProtocolError`."""
    if not isinstance(value, int) or isinstance(value, bool) or not lowest <= value <= MAX_ROW_ID:
        raise ProtocolError(code, f"{what} must be a whole number from {lowest} to {MAX_ROW_ID}", msg_id)
    return value


def _from_obj(obj: Any, data: bytes | None, max_clip_bytes: int) -> ClientMessage:
    if not isinstance(obj, dict):
        raise ProtocolError("bad_json", "a message must be a JSON object")
    kind = obj.get("type")
    if kind not in TYPES:
        raise ProtocolError("unknown_type", f"unknown message type {str(kind)[:40]!r} (known: {', '.join(TYPES)})")
    if kind == "ping":
        return ClientMessage("ping")
    if kind == "hello":
        return ClientMessage("hello", after=_row_id(obj.get("after", 0), 0, "'after' (an outbox id)"),
                             greet=obj.get("greet") is True)
    msg_id = _check_id(obj.get("id"))
    if kind == "clip":
        if data is None:
            raw = obj.get("data")
            if not isinstance(raw, str):
                raise ProtocolError("bad_clip", "a clip needs base64 'data' (or send it as a binary frame)", msg_id)
            if len(raw) > (max_clip_bytes + 2) // 3 * 4 + 4:
                raise ProtocolError("too_large", f"voice clips are limited to {max_clip_bytes} bytes", msg_id)
            try:
                data = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise ProtocolError("bad_clip", "clip data is not valid base64", msg_id) from None
        if len(data) > max_clip_bytes:
            raise ProtocolError("too_large", f"voice clips are limited to {max_clip_bytes} bytes", msg_id)
        mime = obj.get("mime") if isinstance(obj.get("mime"), str) else ""
        return ClientMessage("clip", msg_id, data=data, mime=mime[:100])
    if kind == "text":
        text = obj.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ProtocolError("bad_text", "a text message needs non-empty 'text'", msg_id)
        return ClientMessage("text", msg_id, text=text.strip()[:MAX_TEXT_CHARS])
    product_id = _row_id(obj.get("product_id"), 1, "an order's 'product_id'", msg_id, "bad_product")
    return ClientMessage("order", msg_id, product_id=product_id)


def parse_text(frame: str, max_clip_bytes: int) -> ClientMessage:
    try:
        obj = json.loads(frame)
    except (ValueError, RecursionError):  # ValueError: also an integer of more than 4300 digits
        raise ProtocolError("bad_json", "not valid JSON") from None
    return _from_obj(obj, None, max_clip_bytes)


def parse_binary(frame: bytes, max_clip_bytes: int) -> ClientMessage:
    """A binary frame: a JSON header line, a newline, then the clip's bytes."""
    head, sep, data = frame.partition(b"\n")
    if not sep or len(head) > 1024:
        raise ProtocolError("bad_clip", "a binary frame starts with a JSON header line ending in a newline")
    try:
        obj = json.loads(head.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ProtocolError("bad_json", "the binary frame's header is not valid JSON") from None
    if not isinstance(obj, dict) or obj.get("type") != "clip":
        raise ProtocolError("unknown_type", "binary frames carry clips only")
    return _from_obj(obj, data, max_clip_bytes)
