"""What voicebot adds to standard Wyoming messages, in one place for its client and its server.

Everything extra travels under the key ``voicebot`` in a message's ``context`` (or in ``info``), which
other Wyoming programs ignore:

- ``transcribe.context.voicebot = {"phrases": [...], "biasing": "grammar" | "prompt"}``: the catalog
  steering. The same phrases also go in the standard ``transcript_names`` field.
- ``transcript.context.voicebot = {"words": [{word, conf, start, end}], "grammar", "fallback", "model",
  "duration", "confidence", "alternatives", "hypotheses"}``: what the pipeline needs beyond the text (the
  utterance's confidence, or its words', and the recogniser's rivals decide read-backs; the whole beam is
  read when the best hypothesis says nothing understood).
- ``info.voicebot = {"asr": {lang: {"engine", "biasing", "installed"}}, "tts": {lang: {"engine", "voice"}}}``.
- ``synthesize.context.voicebot = {"language": lang}`` (a ``voice`` with a name carries no language).
"""

from __future__ import annotations

from typing import Any

KEY = "voicebot"
RATE, WIDTH, CHANNELS = 16000, 2, 1  # what voicebot's recognisers take: 16 kHz mono s16le
CHUNK_BYTES = RATE * WIDTH  # 1 s of audio per audio-chunk (the whole note is sent before decoding starts)


def ours(data: dict[str, Any] | None) -> dict[str, Any]:
    """The ``voicebot`` part of a message's context (or info), {} when a foreign program sent it."""
    part = (data or {}).get(KEY)
    return part if isinstance(part, dict) else {}


def asr_languages(info: dict[str, Any]) -> set[str] | None:
    """The languages a server's ``info`` says it recognises (installed models only); None when it lists none."""
    langs: set[str] = set()
    for program in info.get("asr") or []:
        for model in program.get("models") or []:
            if model.get("installed", True):
                langs.update(model.get("languages") or [])
    return langs or None


def tts_languages(info: dict[str, Any]) -> set[str] | None:
    """The languages a server's ``info`` says it speaks; None when it lists none."""
    langs: set[str] = set()
    for program in info.get("tts") or []:
        for voice in program.get("voices") or []:
            if voice.get("installed", True):
                langs.update(voice.get("languages") or [])
    return langs or None
