"""What a channel hands to the pipeline, and the seam a channel implements to send replies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from voicebot.store.outbox import Outbox

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
    scene: str | None = None  # a QR scan event's scene (a shop's code; "" for a code we never made)


def event_text(event: str, scene: str | None) -> str:
    """How an event is kept in the conversation log: ``subscribe``, or ``scan:CODE`` for a QR scan."""
    return event if scene is None else f"{event}:{scene}"


def parse_event_text(text: str) -> tuple[str, str | None]:
    """``(event, scene)`` back from :func:`event_text` (scene None: not a QR scan)."""
    event, sep, scene = (text or "").partition(":")
    event = event.lower()
    if sep and event in ("subscribe", "scan"):
        return event, scene
    return (text or "").lower(), None


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


@dataclass(frozen=True)
class Limits:
    """What one message of a channel may hold; the pipeline splits longer voice replies."""

    max_voice_s: float  # one voice message at most this long (encoder padding included)
    max_voice_bytes: int  # and at most this large


class DeliveryPolicy(Protocol):
    """A channel's rules for sending replies, as the pipeline and the outbox sender ask them."""

    text_copy: bool  # each reply also goes as text, after its voice
    resend_ambiguous: int  # resends of a reply whose send got no answer, before an operator decides
    max_age_s: float  # failing sends are retried until a reply is this old

    @property
    def passive_only(self) -> bool:
        """Replies ride on the user's next delivery: the sender leaves them to the channel."""
        ...

    def hold_reason(self, outbox: Outbox, channel: str, user: str, now: datetime) -> str | None:
        """Why a reply to ``user`` must wait for their next message now (None: it may go)."""
        ...


class Channel(Protocol):
    """A channel as the pipeline, the outbox sender and the app see it."""

    name: str
    reply_format: str  # audio format of voice replies: "amr", "mp3" or "ogg"
    limits: Limits
    policy: DeliveryPolicy
    on_accept: list[Callable[[], None]]  # called after a new message (or a user's return): the sender's wake

    async def fetch_media(self, ref: str, max_bytes: int) -> bytes:
        """The media's bytes; raise MediaError (transient failures are retried inside)."""
        ...

    async def send(self, item: dict[str, Any]) -> None:
        """Send one outbox row (``kind`` voice/text/image, ``media_path``, ``payload``); raise SendError."""
        ...
