"""Code that runs inside an ASR worker process (or in-process for the CLI).

Each process keeps its loaded Vosk models in ``_MODELS`` (one per model path), so a model
is loaded once per process and reused by every decode.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import vosk

from voicebot.workers import stall_for_tests

SAMPLE_RATE = 16000
CHUNK_BYTES = int(SAMPLE_RATE * 0.4) * 2  # 0.4 s of s16le per AcceptWaveform call
UNK = "[unk]"

_MODELS: dict[str, vosk.Model] = {}
_HAS_UNK: dict[str, bool] = {}
# Recognizers are reused (Reset between utterances): a fresh one on a dynamic graph
# (HCLr + Gr, as in the ko model) re-expands the lazily composed graph and decodes
# several times slower than a reused one.
_RECOGNIZERS: OrderedDict[tuple[str, tuple[str, ...] | None], vosk.KaldiRecognizer] = OrderedDict()
MAX_RECOGNIZERS = 16


def init(model_paths: list[str]) -> None:
    """Process initializer: quiet Vosk, load every model this pool serves."""
    vosk.SetLogLevel(-1)
    for path in model_paths:
        model(path)


def model(path: str) -> vosk.Model:
    """The process's loaded model for ``path`` (loaded on first use)."""
    loaded = _MODELS.get(path)
    if loaded is None:
        vosk.SetLogLevel(-1)
        loaded = _MODELS[path] = vosk.Model(path)
    return loaded


def recognizer(model_path: str, grammar: list[str] | None = None) -> vosk.KaldiRecognizer:
    """A reset recognizer for (model, grammar), reused across calls (LRU of MAX_RECOGNIZERS)."""
    key = (model_path, tuple(grammar) if grammar else None)
    rec = _RECOGNIZERS.get(key)
    if rec is not None:
        _RECOGNIZERS.move_to_end(key)
        rec.Reset()
        return rec
    m = model(model_path)
    if grammar:
        if model_path not in _HAS_UNK:
            _HAS_UNK[model_path] = m.vosk_model_find_word(UNK) >= 0
        # [unk] lets out-of-grammar speech come out as [unk] instead of a forced phrase;
        # models without it in their vocabulary (the ko model) would only warn about it.
        phrases = list(dict.fromkeys([*grammar, UNK] if _HAS_UNK[model_path] else grammar))
        rec = vosk.KaldiRecognizer(m, SAMPLE_RATE, json.dumps(phrases, ensure_ascii=False))
    else:
        rec = vosk.KaldiRecognizer(m, SAMPLE_RATE)
    rec.SetWords(True)
    _RECOGNIZERS[key] = rec
    while len(_RECOGNIZERS) > MAX_RECOGNIZERS:
        _RECOGNIZERS.popitem(last=False)
    return rec


def decode(pcm: bytes, lang: str, model_path: str, grammar: list[str] | None = None) -> dict[str, Any]:
    """Decode 16 kHz mono s16le ``pcm``; ``grammar`` restricts it to those phrases.

    Returns ``{"text", "words": [{"word", "conf", "start", "end"}], "duration", "language"}``.
    """
    rec = recognizer(model_path, grammar)
    segments: list[dict[str, Any]] = []
    for start in range(0, len(pcm), CHUNK_BYTES):
        if rec.AcceptWaveform(pcm[start : start + CHUNK_BYTES]):
            segments.append(json.loads(rec.Result()))
    segments.append(json.loads(rec.FinalResult()))
    words = [
        {"word": w["word"], "conf": float(w["conf"]), "start": float(w["start"]), "end": float(w["end"])}
        for seg in segments
        for w in seg.get("result", [])
    ]
    text = " ".join(t for seg in segments if (t := seg.get("text", "").strip()))
    return {"text": text, "words": words, "duration": len(pcm) / 2 / SAMPLE_RATE, "language": lang}


def needs_fallback(result: dict[str, Any], min_confidence: float, max_unk_ratio: float) -> bool:
    """Is a grammar result too weak to trust (empty, mostly ``[unk]``, or low confidence)?"""
    words = result["words"]
    if not words or not result["text"]:
        return True
    unk = sum(1 for w in words if w["word"] == UNK)
    if unk / len(words) > max_unk_ratio:
        return True
    mean_conf = sum(w["conf"] for w in words) / len(words)
    return mean_conf < min_confidence


def recognize(
    pcm: bytes,
    lang: str,
    model_path: str,
    grammar: list[str] | None = None,
    fallback: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Grammar first, then free decoding when ``fallback=(min_conf, max_unk_ratio)`` says so.

    Done in one worker call so the audio crosses the process boundary once. The result
    says whether the grammar result was kept (``grammar``) and whether it fell back.
    """
    stall_for_tests(pcm)
    if grammar:
        first = decode(pcm, lang, model_path, grammar)
        if fallback is None or not needs_fallback(first, *fallback):
            return {**first, "grammar": True, "fallback": False}
        free = decode(pcm, lang, model_path, None)
        return {**free, "grammar": False, "fallback": True, "grammar_text": first["text"]}
    return {**decode(pcm, lang, model_path, None), "grammar": False, "fallback": False}
