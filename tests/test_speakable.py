"""Every reply the packs can produce reaches the voice as words it can say in its own language."""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from voicebot.config import Config
from voicebot.testing.reply_corpus import rendered
from voicebot.tts.speakable import speakable

VOICES = Config().tts.voices


def _trace(voice: str, text: str) -> str:
    return subprocess.run(["espeak-ng", "-q", "-x", "-v", voice, text], capture_output=True, text=True,
                          check=True, timeout=30).stdout


@pytest.mark.parametrize(("text", "lang", "said"), [
    ("好的，2号手链，2条，22个，卖了99.99块", "zh", "好的，二号手链，两条，二十二个，卖了九十九点九九块"),
    ("ＡＢ姐的iPhone壳", "zh", "诶比姐的艾屁艾尺欧艾娜伊壳"),
    ("打9折，100%", "zh", "打九折，百分之一百"),
    ("No. 2 bracelet costs 3.5", "en", "No. two bracelet costs three point five"),
    ("USB 2개", "ko", "유에스비 두개"),
])
def test_digits_and_latin_letters_become_words(text: str, lang: str, said: str) -> None:
    assert speakable(text, lang) == said


def test_the_mandarin_voice_speaks_mandarin_phonemes_not_english() -> None:
    assert VOICES["zh"].startswith("cmn-latn-pinyin")
    trace = _trace(VOICES["zh"], "好的，绿松石手链")
    assert "(en)" not in trace and "X'Au21" in trace  # 好 with its third tone


@pytest.mark.parametrize("lang", ["zh", "en", "ko"])
def test_every_rendered_reply_is_speakable_in_its_own_voice(lang: str) -> None:
    replies = rendered(lang, variants=4, fragments=True)
    assert len(replies) > 200
    said = [speakable(r.text, lang) for r in replies]
    leftovers = [(r.key, s) for r, s in zip(replies, said, strict=True)
                 if re.search(r"\d", s) or (lang != "en" and re.search(r"[A-Za-z]", s))]
    assert not leftovers, leftovers[:10]
    with ThreadPoolExecutor(4) as pool:
        traces = list(pool.map(lambda s: _trace(VOICES[lang], s), said))
    # espeak-ng marks a switch into another language's rules with "(en)", "(cmn)", ...
    switched = [(r.key, s, t) for r, s, t in zip(replies, said, traces, strict=True) if re.search(r"\([a-z]{2,3}\)", t)]
    assert not switched, switched[:5]
