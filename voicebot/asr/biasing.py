"""Catalog biasing for Whisper: product names, customer names and the pack's key words as a prompt.

Whisper has no grammar mode. Its ``initial_prompt`` is text it believes came just before the
audio, so words in it are more likely to be written the same way (绿松石手链, not 绿松石首链) and a
simplified-Chinese prompt keeps the output in simplified characters. The phrase list is built from
the message's shop and cached until that shop changes (voicebot.pipeline.steering), like the Vosk
grammar, so catalog changes apply at the next voice note.
"""

from __future__ import annotations

from voicebot.lang import language

# by how the language writes: words apart ("latin") or not ("cjk", a token is about a character)
MAX_PROMPT_CHARS = {"cjk": 120, "latin": 400}  # Whisper keeps at most 224 prompt tokens
SEPARATORS = {"cjk": ("、", "。"), "latin": (", ", ".")}


def bias_phrases(lang: str, products: list[str], customers: list[str]) -> list[str]:
    """The words to bias toward, most important first: products, then customers.

    The pack's command words (上架, 卖了, "how much is the") are left out on purpose: measured on the
    test voices, Whisper copied them into the transcript whenever the audio was unclear
    ("上架苹果…" heard as "上架、价格、库存"), while names it has no other way to spell right.
    """
    words = [*products, *customers]
    return list(dict.fromkeys(w.strip() for w in words if w and w.strip()))


def prompt_for(lang: str, phrases: list[str] | None) -> str | None:
    """``phrases`` as one short prompt in ``lang``'s script (None when there is nothing to say)."""
    if not phrases:
        return None
    script = "latin" if language(lang).spaced else "cjk"
    sep, end = SEPARATORS[script]
    out = ""
    for phrase in phrases:
        candidate = f"{out}{sep}{phrase}" if out else phrase
        if len(candidate) + len(end) > MAX_PROMPT_CHARS[script]:
            break
        out = candidate
    return f"{out}{end}" if out else None
