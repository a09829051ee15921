"""Code that runs inside a Whisper worker process (or in-process for the CLI and benchmarks).

faster-whisper (CTranslate2, int8 on CPU) is imported here only, so services that use Vosk
alone never load it. Each process keeps its loaded models in ``_MODELS`` (one per folder).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from voicebot.asr import rescoring
from voicebot.asr.confidence import rivals, utterance_confidence
from voicebot.workers import stall_for_tests

SAMPLE_RATE = 16000
# Voice notes are short: a few tokens per second of audio is plenty, and the cap ends the
# repetition loops Whisper falls into on unclear speech ("问问问问…") early.
TOKENS_PER_SECOND = 6
TOKENS_MIN = 8
# A short answer (是的, yes) decoded with the catalog prompt comes out as the prompt's words.
PROMPT_MIN_SECONDS = 1.5
TRAILING_NO_SPEECH = 0.5  # a later segment this likely to be silence is a hallucination ("作词", "字幕")
# Temperature 0 only: faster-whisper's default falls back to sampling at 0.2, 0.4, ... when a
# decode looks repetitive or unsure, and sampling makes one note give different words on different
# runs and machines. A greedy/beam decode is a function of the audio; an unsure one is caught by
# the confidence (avg_logprob) instead of being rolled again.
TEMPERATURE = 0.0
SEED = 0  # nothing samples at temperature 0; kept so any future sampling is repeatable
SHORT_WINDOW = False  # encode only the note (and a margin) instead of a 30 s window padded with silence
WINDOW_MARGIN_FRAMES = 600  # 6 s of the padding kept after the note (10 ms a frame; 1 s: repeated text)
_MODELS: dict[str, Any] = {}
_THREADS = 0


def init(model_paths: list[str], cpu_threads: int = 0) -> None:
    """Process initializer: load every model this pool serves."""
    global _THREADS
    _THREADS = cpu_threads
    for path in model_paths:
        model(path)


def model(path: str) -> Any:
    """The process's loaded Whisper model for ``path`` (loaded on first use)."""
    loaded = _MODELS.get(path)
    if loaded is None:
        from faster_whisper import WhisperModel  # the optional `whisper` extra, slow: only in a worker

        loaded = _MODELS[path] = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=_THREADS)
        rescoring.listen(loaded)
    return loaded


def encoder_frames(duration: float) -> int:
    """The feature frames encoded for a note of ``duration`` seconds: the note, a margin, even (the
    encoder halves them), at most Whisper's 30 s window."""
    frames = int(duration * 100) + WINDOW_MARGIN_FRAMES
    return min(3000, frames + frames % 2)


def recognize(
    pcm: bytes, lang: str, model_path: str, prompt: str | None = None, beam_size: int = 5,
    shop_words: list[str] | None = None, short_window: bool = SHORT_WINDOW, **options: Any,
) -> dict[str, Any]:
    """Decode 16 kHz mono s16le ``pcm`` in ``lang``; ``prompt`` biases it toward the shop's words.

    Returns the Vosk worker's shape: ``{"text", "words": [{"word", "conf", "start", "end"}],
    "duration", "language", "grammar", "fallback"}`` (``words`` only when ``options`` ask for word
    timestamps: decoding without them takes half the time), with ``avg_logprob``, the mean
    log-probability of the kept text's tokens, the utterance ``confidence`` made of it, ``hypotheses``
    (the beam's, with their scores) and ``alternatives`` (its rivals: :func:`voicebot.asr.confidence.rivals`). ``shop_words`` (the shop's product and customers' names): the beam's other
    hypotheses and their readings by sound as those words are scored by the model itself, and one
    clearly better replaces the free transcript (:mod:`voicebot.asr.rescoring`; ``"rescored"`` says so).
    ``options`` override faster-whisper's ``transcribe`` arguments (benchmarks).
    """
    import ctranslate2  # comes with faster-whisper (the optional `whisper` extra)

    stall_for_tests(pcm)
    ctranslate2.set_random_seed(SEED)
    audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
    duration = len(audio) / SAMPLE_RATE
    if duration < PROMPT_MIN_SECONDS:
        prompt = None
    kwargs: dict[str, Any] = dict(
        language=lang,
        beam_size=beam_size,
        temperature=TEMPERATURE,
        # No timestamps: half the decode time (bench/whisper_table.py: RTF 1.06 -> 0.39 with the prompt,
        # lower CER, the same exact rate). The words then carry no probabilities of their own; the
        # utterance's confidence comes from its tokens and the beam's rivals (voicebot/asr/confidence.py).
        word_timestamps=False,
        without_timestamps=True,
        initial_prompt=prompt,
        condition_on_previous_text=False,  # no repetition loops across 30 s windows
        no_repeat_ngram_size=3,
        max_new_tokens=int(duration * TOKENS_PER_SECOND) + TOKENS_MIN,
        vad_filter=False,
    ) | options
    loaded = model(model_path)
    rescoring.forget(loaded, encoder_frames(duration) if short_window else 0)
    segments, _info = loaded.transcribe(audio, **kwargs)
    words: list[dict[str, Any]] = []
    texts: list[str] = []
    logprob, tokens = 0.0, 0
    for n, seg in enumerate(segments):
        if seg.start >= duration or (n and seg.no_speech_prob > TRAILING_NO_SPEECH):
            continue  # text after the speech: Whisper's hallucinated credits and dots
        texts.append(seg.text.strip())
        count = max(1, len(seg.tokens))
        logprob, tokens = logprob + seg.avg_logprob * count, tokens + count
        for w in seg.words or []:
            if w.word.strip():
                words.append({"word": w.word.strip(), "conf": round(float(w.probability), 3),
                              "start": round(float(w.start), 2), "end": round(float(w.end), 2)})
    beam = rescoring.scored_hypotheses(loaded, lang)
    sep = " " if lang not in ("zh", "ja") else ""
    text = sep.join(t for t in texts if t)
    confidence = utterance_confidence(logprob / tokens if tokens else None, [w["conf"] for w in words])
    out = {"text": text, "words": words, "duration": duration, "language": lang,
           "grammar": prompt is not None, "fallback": False,
           "avg_logprob": round(logprob / tokens, 4) if tokens else None, "confidence": confidence,
           "hypotheses": [[h, round(score, 4)] for h, score in beam], "alternatives": rivals(beam)}
    if shop_words is not None and text and duration <= rescoring.MAX_SECONDS:
        started = time.perf_counter()
        choice = rescoring.rescore(loaded, lang, text, shop_words, duration, prompt)
        out["rescoring"] = choice.report() | {"ms": round((time.perf_counter() - started) * 1000, 1)}
        if choice.text != text:  # another reading the model itself scores clearly higher
            out.update(text=choice.text, rescored=True, confidence=rescoring.capped(confidence))
    return out
