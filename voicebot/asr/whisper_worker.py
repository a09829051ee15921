"""Code that runs inside a Whisper worker process (or in-process for the CLI and benchmarks).

faster-whisper (CTranslate2, int8 on CPU) is imported here only, so services that use Vosk
alone never load it. Each process keeps its loaded models in ``_MODELS`` (one per folder).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voicebot.asr import worker as vosk_worker

SAMPLE_RATE = 16000
_MODELS: dict[str, Any] = {}
_THREADS = 0


def init(model_paths: list[str], barrier: Any = None, cpu_threads: int = 0) -> None:
    """Process initializer: join the pool's start-up barrier, load every model this pool serves."""
    global _THREADS
    _THREADS = cpu_threads
    vosk_worker.init([], barrier)  # the shared warm-up barrier lives in the Vosk worker module
    for path in model_paths:
        model(path)


def model(path: str) -> Any:
    """The process's loaded Whisper model for ``path`` (loaded on first use)."""
    loaded = _MODELS.get(path)
    if loaded is None:
        from faster_whisper import WhisperModel

        loaded = _MODELS[path] = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=_THREADS)
    return loaded


def recognize(
    pcm: bytes, lang: str, model_path: str, prompt: str | None = None, beam_size: int = 5
) -> dict[str, Any]:
    """Decode 16 kHz mono s16le ``pcm`` in ``lang``; ``prompt`` biases it toward the shop's words.

    Returns the Vosk worker's shape: ``{"text", "words": [{"word", "conf", "start", "end"}],
    "duration", "language", "grammar", "fallback"}``; ``conf`` is Whisper's word probability.
    """
    audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
    segments, _info = model(model_path).transcribe(
        audio,
        language=lang,
        beam_size=beam_size,
        word_timestamps=True,
        initial_prompt=prompt,
        condition_on_previous_text=False,  # no repetition loops across 30 s windows
        vad_filter=False,
    )
    words: list[dict[str, Any]] = []
    texts: list[str] = []
    for seg in segments:
        texts.append(seg.text.strip())
        for w in seg.words or []:
            if w.word.strip():
                words.append({"word": w.word.strip(), "conf": round(float(w.probability), 3),
                              "start": round(float(w.start), 2), "end": round(float(w.end), 2)})
    sep = " " if lang not in ("zh", "ja") else ""
    text = sep.join(t for t in texts if t)
    return {"text": text, "words": words, "duration": len(pcm) / 2 / SAMPLE_RATE, "language": lang,
            "grammar": prompt is not None, "fallback": False}
