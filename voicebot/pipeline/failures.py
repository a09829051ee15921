"""What a failed run says: every failure is a ``{stage}.{code}``, and one table gives its spoken reply.

The code is also what the conversation log keeps (``messages.error`` starts with it), so an operator
and a test can tell a corrupt voice note from a silent one without reading the exception.
"""

from __future__ import annotations

from dataclasses import dataclass

from voicebot.asr.recognizer import AsrError, ModelMissing
from voicebot.audio.errors import AudioError
from voicebot.pipeline.inbound import MediaError
from voicebot.shop.errors import PhotoError

AUDIO_CODES = (AudioError.code, *(c.code for c in AudioError.__subclasses__()))
MEDIA_REASONS = ("expired", "too_large", "unavailable")
PHOTO_REASONS = ("too_large", "damaged", "unsupported", "empty")

SPOKEN: dict[str, str] = {  # {stage}.{code} -> the reply template the user hears
    **{f"decode.{code}": f"errors.audio_{code}" for code in AUDIO_CODES},
    **{f"fetch.{reason}": f"errors.media_{reason}" for reason in MEDIA_REASONS},
    **{f"photo.{reason}": f"errors.photo_{reason}" for reason in PHOTO_REASONS},
    "asr.no_model": "errors.no_model",
    "asr.failed": "errors.asr",
    "run.internal": "errors.internal",
}
FALLBACK = {  # a code the table does not know yet still gets its stage's general answer
    "decode": "errors.audio_audio_error",
    "fetch": "errors.media_unavailable",
    "photo": "errors.photo_damaged",
    "asr": "errors.asr",
    "run": "errors.internal",
}


@dataclass(frozen=True)
class StageFailure:
    stage: str  # fetch, decode, photo, asr, or run (a bug)
    code: str
    detail: str  # what the conversation log keeps in ``error``

    @property
    def reply_key(self) -> str:
        return SPOKEN.get(f"{self.stage}.{self.code}") or FALLBACK[self.stage]


def failure_of(e: Exception) -> StageFailure:
    """The stage and code of an exception a run raised; anything unexpected is ``run.internal``."""
    if isinstance(e, AudioError):
        return StageFailure("decode", e.code, f"{e.code}: {e}")
    if isinstance(e, MediaError):
        return StageFailure("fetch", e.reason, f"media_{e.reason}: {e}")
    if isinstance(e, PhotoError):
        return StageFailure("photo", e.reason, f"photo_{e.reason}: {e}")
    if isinstance(e, ModelMissing):
        return StageFailure("asr", "no_model", str(e))
    if isinstance(e, AsrError):
        return StageFailure("asr", "failed", str(e))
    return StageFailure("run", "internal", repr(e))
