"""What a channel hands to the pipeline, and the seam a channel implements to send replies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

Kind = Literal["voice", "text", "image", "event"]


@dataclass
class Inbound:
    """One user message, independent of the channel it came from.

    Media comes either as bytes (``media``) or as a reference the channel can fetch later
    (``media_ref``, e.g. a WeChat MediaId), so accepting a message never waits on a download.
    """

    channel: str
    channel_msg_id: str
    user: str
    kind: Kind
    text: str = ""
    media: bytes | None = None
    media_ref: str = ""
    media_format: str = ""
    event: str = ""


class SendError(Exception):
    """A channel could not send; ``retryable`` errors are tried again with backoff."""

    def __init__(self, message: str, *, retryable: bool, hold: bool = False, ambiguous: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.hold = hold  # keep the reply for the user's next message (window/quota/permission)
        self.ambiguous = ambiguous  # the request went out but no answer came: it may have been delivered


class MediaError(Exception):
    """A user's media could not be fetched; ``reason`` picks the spoken answer:
    ``expired`` (the id is gone for good), ``too_large``, or ``unavailable`` (still failing after retries)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class Channel(Protocol):
    """A channel as the pipeline sees it."""

    name: str
    reply_format: str  # audio format of voice replies: "amr", "mp3" or "ogg"
    reply_window: bool  # replies are limited to a window/quota after the user's last message

    async def fetch_media(self, ref: str, max_bytes: int) -> bytes:
        """The media's bytes; raise MediaError (transient failures are retried inside)."""
        ...

    async def send(self, item: dict[str, Any]) -> None:
        """Send one outbox row (``kind`` voice/text/image, ``media_path``, ``payload``); raise SendError."""
        ...
