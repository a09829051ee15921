"""Kokoro-82M v1.0 (int8 ONNX) on onnxruntime: Mandarin via misaki's pinyin path, English via espeak-ng IPA.

Runs only inside the TTS worker process. Text becomes phonemes (misaki ``ZHG2P`` v1.0 for zh,
``espeak-ng --ipa`` mapped to Kokoro's symbols for en), phonemes become token ids, and the model
turns them into 24 kHz speech with a voice's style vector. Speed below ~0.85 makes Kokoro
prepend a voiced "uh", so a slower pace is reached with ``sox tempo -s`` afterwards.
"""

from __future__ import annotations

import re
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jieba
import misaki  # noqa: F401  here so a missing misaki shows when Kokoro is prepared, not mid-reply
import numpy as np
import onnxruntime as ort

SAMPLE_RATE = 24_000
MAX_TOKENS = 510
PEAK = 0.89

# Kokoro v1.0 token ids (config.json "vocab"), as (first id, symbols) runs of consecutive ids.
_VOCAB_RUNS = (
    (1, ";:,.!?"), (9, "—…\"()“” \u0303ʣʥʦʨᵝꭧAI"), (31, "O"), (33, "Q"), (35, "ST"), (39, "W"), (41, "Yᵊabcd"),
    (47, "ef"), (50, "hijklmnopqrstuvwxyzɑɐɒæ"), (75, "βɔɕç"), (80, "ɖðʤə"), (85, "ɚɛɜ"), (90, "ɟ"),
    (92, "ɡ"), (99, "ɥ"), (101, "ɨɪʝ"), (110, "ɯɰŋɳɲɴø"), (118, "ɸθœ"), (123, "ɹ"), (125, "ɾɻ"),
    (128, "ʁɽʂʃʈʧ"), (135, "ʊʋ"), (138, "ʌɣɤ"), (142, "χʎ"), (147, "ʒʔ"), (156, "ˈˌː"), (162, "ʰ"),
    (164, "ʲ"), (169, "↓"), (171, "→↗↘"), (177, "ᵻ"),
)
VOCAB: dict[str, int] = {ch: start + i for start, run in _VOCAB_RUNS for i, ch in enumerate(run)}

# espeak-ng IPA (with ^ ties) -> Kokoro's English symbols (the mapping misaki's espeak fallback uses).
_E2M = sorted({
    "a^ɪ": "I", "a^ʊ": "W", "d^ʒ": "ʤ", "e^ɪ": "A", "e": "A", "t^ʃ": "ʧ", "ɔ^ɪ": "Y", "ə^l": "ᵊl",
    "o^ʊ": "O", "ʲ": "", "ɚ": "əɹ", "r": "ɹ", "x": "k", "ç": "k", "ɐ": "ə", "ɬ": "l", "\u0303": "",
    "ɜːɹ": "ɜɹ", "ɜː": "ɜɹ", "ɪə": "iə", "ː": "",
}.items(), key=lambda kv: -len(kv[0]))
_CLAUSE = re.compile(r"([^,.!?;:，。！？；：、]+)([,.!?;:，。！？；：、]*)")
_PUNCT = {"，": ",", "。": ".", "！": "!", "？": "?", "；": ";", "：": ":", "、": ","}


def en_phonemes(text: str) -> str:
    """English text -> Kokoro phonemes, one espeak-ng call per clause (it drops punctuation)."""
    out = []
    for clause, punct in _CLAUSE.findall(text):
        if not clause.strip():
            continue
        ipa = subprocess.run(["espeak-ng", "-q", "--ipa", "--tie=^", "-v", "en-us", clause], check=True,
                             capture_output=True, text=True, timeout=30).stdout
        ps = " ".join(ipa.split())
        for old, new in _E2M:
            ps = ps.replace(old, new)
        ps = ps.replace("^", "").replace("ɾ", "T").replace("ʔ", "t").replace("o", "ɔ")
        out.append(ps + "".join(_PUNCT.get(p, p) for p in punct[:1]))
    return " ".join(out)


_zh_g2p: Any = None


def zh_phonemes(text: str) -> str:
    """Mandarin text -> Kokoro phonemes (misaki v1.0: jieba words, pypinyin tones, IPA)."""
    global _zh_g2p
    if _zh_g2p is None:
        from misaki import zh  # half a second to import: only once Mandarin is spoken

        jieba.setLogLevel(60)
        _zh_g2p = zh.ZHG2P()
    return _zh_g2p(text)[0]


_SENTENCES = re.compile(r"(?<=[。！？；!?;])\s*|(?<=[.])\s+")
_BREAKS = re.compile(r"(?<=[,:;.!?—…])\s*")


def chunks(sentences: list[str], limit: int = MAX_TOKENS) -> list[str]:
    """Whole sentences' phonemes grouped into pieces the model takes at once (at most ``limit`` tokens).

    One model call per whole sentence or group of them sounds natural; a sentence over the limit is
    cut at its clause marks (then anywhere), never silently truncated.
    """
    pieces: list[str] = []
    for sentence in sentences:
        if len(tokens(sentence, limit=None)) <= limit:
            pieces.append(sentence)
            continue
        current = ""
        for clause in _BREAKS.split(sentence):
            while len(tokens(clause, limit=None)) > limit:  # no clause mark for too long: cut it
                head, clause = clause[:limit], clause[limit:]
                pieces += [current, head] if current else [head]
                current = ""
            if len(tokens(current + " " + clause, limit=None)) > limit:
                pieces.append(current)
                current = ""
            current = f"{current} {clause}".strip()
        if current:
            pieces.append(current)
    out: list[str] = []
    for piece in (p for p in pieces if tokens(p, limit=None)):
        if out and len(tokens(out[-1] + " " + piece, limit=None)) <= limit:
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def tokens(phonemes: str, limit: int | None = MAX_TOKENS) -> list[int]:
    """Token ids of the symbols Kokoro knows (others are dropped), at most ``limit``."""
    ids = [VOCAB[p] for p in phonemes if p in VOCAB]
    return ids if limit is None else ids[:limit]


@dataclass(frozen=True)
class KokoroVoice:
    """A voice and its pace: ``speed`` goes to the model, ``tempo`` to sox afterwards (1.0: none)."""

    name: str
    speed: float = 1.0
    tempo: float = 1.0


class Kokoro:
    """One loaded model; style vectors are read from ``voices_dir/<name>.bin`` on first use."""

    def __init__(self, model_path: Path, voices_dir: Path, threads: int = 2) -> None:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._voices_dir = Path(voices_dir)
        self._styles: dict[str, np.ndarray] = {}

    def style(self, name: str) -> np.ndarray:
        if name not in self._styles:
            path = self._voices_dir / f"{name}.bin"
            self._styles[name] = np.fromfile(path, dtype="<f4").reshape(-1, 1, 256)
        return self._styles[name]

    def audio(self, phonemes: str, voice: KokoroVoice) -> np.ndarray:
        """float32 samples at 24 kHz for ``phonemes``."""
        ids = tokens(phonemes)
        if not ids:
            raise ValueError("nothing to say: no speakable phonemes")
        style = self.style(voice.name)[min(len(ids), len(self.style(voice.name)) - 1)]
        feeds = {"tokens": np.array([[0, *ids, 0]], dtype=np.int64), "style": style.astype(np.float32),
                 "speed": np.array([voice.speed], dtype=np.float32)}
        if "input_ids" in self._inputs:  # onnx-community export names its token input differently
            feeds["input_ids"] = feeds.pop("tokens")
        return self._session.run(None, feeds)[0].reshape(-1)

    def synthesize(self, text: str, lang: str, voice: KokoroVoice, path: str) -> float:
        """Speak ``text`` into a 16-bit mono WAV at ``path``; return its duration in seconds."""
        phonemize = zh_phonemes if lang == "zh" else en_phonemes
        pause = np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.float32)
        parts = []
        for chunk in chunks([phonemize(s) for s in _SENTENCES.split(text) if s.strip()]):
            parts += [self.audio(chunk, voice), pause]
        samples = np.concatenate(parts[:-1])
        peak = float(np.max(np.abs(samples))) or 1.0
        pcm = (np.clip(samples * (PEAK / peak), -1, 1) * 32767).astype("<i2").tobytes()
        if voice.tempo != 1.0:
            pcm = subprocess.run(
                ["sox", "-q", "-t", "raw", "-r", str(SAMPLE_RATE), "-e", "signed-integer", "-b", "16", "-c", "1",
                 "-L", "-", "-t", "raw", "-", "tempo", "-s", f"{voice.tempo:g}"],
                input=pcm, capture_output=True, check=True, timeout=60).stdout
        with wave.open(path, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes(pcm)
        return len(pcm) / 2 / SAMPLE_RATE
