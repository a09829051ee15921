"""What a failed run says: every failure is a ``{stage}.{code}``, and one table gives its spoken reply.

The code is also what the conversation log keeps (``messages.error`` is ``{stage}.{code}: detail``),
so an operator and a test can tell a corrupt voice note from a silent one without reading the exception.
A failure while speaking the reply (``tts``/``outbox``) has no spoken reply: the answer goes as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from voicebot.asr.recognizer import AsrError, ModelMissing
from voicebot.audio.errors import AudioError
from voicebot.pipeline.inbound import MediaError
from voicebot.shop.errors import PhotoError
from voicebot.store import StoreBusy

AUDIO_CODES = (AudioError.code, *(c.code for c in AudioError.__subclasses__()))
MEDIA_REASONS = ("expired", "too_large", "unavailable")
PHOTO_REASONS = ("too_large", "damaged", "unsupported", "empty")

SPOKEN: dict[str, str] = {  # {stage}.{code} -> the reply template the user hears
    **{f"decode.{code}": f"errors.audio_{code}" for code in AUDIO_CODES},
    **{f"fetch.{reason}": f"errors.media_{reason}" for reason in MEDIA_REASONS},
    **{f"photo.{reason}": f"errors.photo_{reason}" for reason in PHOTO_REASONS},
    "asr.no_model": "errors.no_model",
    "asr.failed": "errors.asr",
    "store.busy": "errors.busy",
    "dialogue.internal": "error",  # the dialogue caught its own failure: nothing was changed
    "run.internal": "errors.internal",
}
FALLBACK = {  # a code the table does not know yet still gets its stage's general answer
    "decode": "errors.audio_audio_error",
    "fetch": "errors.media_unavailable",
    "photo": "errors.photo_damaged",
    "asr": "errors.asr",
    "store": "errors.busy",
    "dialogue": "error",
    "run": "errors.internal",
}
UNSPOKEN = ("tts", "outbox")  # failures while replying: the reply itself goes as text
_LOGGED = re.compile(r"([a-z_]+\.[a-z_]+): ")


@dataclass(frozen=True)
class StageFailure:
    stage: str  # fetch, decode, photo, asr, store, dialogue, run (a bug); tts or outbox while replying
    code: str
    detail: str

    @property
    def reply_key(self) -> str:
        """The template of what the user hears instead of an answer."""
        return SPOKEN.get(f"{self.stage}.{self.code}") or FALLBACK[self.stage]

    @property
    def logged(self) -> str:
        """What the conversation log keeps in ``error``."""
        return f"{self.stage}.{self.code}: {self.detail}"

    @property
    def failed(self) -> bool:
        """A bug or a broken part of ours (the message is marked failed), not the user's input or a
        passing condition."""
        return self.code == "internal" or self.stage in UNSPOKEN


DIALOGUE_FAILED = StageFailure("dialogue", "internal", "the turn failed (see dialogue_failed in the log)")


def failure_of(e: Exception) -> StageFailure:
    """The stage and code of an exception a run raised; anything unexpected is ``run.internal``."""
    if isinstance(e, AudioError):
        return StageFailure("decode", e.code, str(e))
    if isinstance(e, MediaError):
        return StageFailure("fetch", e.reason, str(e))
    if isinstance(e, PhotoError):
        return StageFailure("photo", e.reason, str(e))
    if isinstance(e, ModelMissing):
        return StageFailure("asr", "no_model", str(e))
    if isinstance(e, AsrError):
        return StageFailure("asr", "failed", str(e))
    if isinstance(e, StoreBusy):
        return StageFailure("store", "busy", str(e))
    return StageFailure("run", "internal", f"{type(e).__name__}: {e}")


def code_of(error: str) -> str:
    """The ``{stage}.{code}`` a conversation log's ``error`` starts with (``other`` for older rows)."""
    found = _LOGGED.match(error)
    return found.group(1) if found else "other"


def reply_failure(e: Exception, stage: str | None) -> StageFailure:
    """A failure while the reply was being spoken or queued (``stage``: where it happened)."""
    return StageFailure(stage if stage in UNSPOKEN else "tts", "failed", f"{type(e).__name__}: {e}")
