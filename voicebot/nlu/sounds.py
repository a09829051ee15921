"""Reading a transcript by sound: Whisper writes Mandarin homophones with the wrong characters.

多少前 (for 多少钱), 又什么麦的 (有什么卖的), 起销定单 (取消订单), 河桃 (核桃), 加武晶 (加五斤): the sounds
are right, the characters are not. :func:`sound_repairs` rewrites every window of a transcript that
sounds like a cue word, a catalog product or a number with its counter (toneless pinyin, with the
merges of ``voicebot/lang/sounds_<lang>.yaml``: zh/z, n/l, f/h, an/ang ...) into that word.

:func:`by_sound` decides between the character reading and the sound reading, guarded so that a
sound-alike never beats words that already make sense:

- the sound reading is taken only when it is a complete command and the character reading is not;
- or when it is the same command with a catalog product the character reading left out (松蜜还有几瓶);
- or when the character reading would change the shop and the sound reading is a question
  (核桃多少前一斤 is a price question, never an order);
- a shop change read by sound is marked ``unsure``: the dialogue reads it back before acting.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pypinyin import lazy_pinyin

from voicebot.intents import Intent
from voicebot.lang import language

LANG_DIR = Path(__file__).resolve().parents[1] / "lang"


@dataclass(frozen=True)
class SoundRules:
    initials: tuple[tuple[str, str], ...]
    finals: tuple[tuple[str, str], ...]
    u_as_i: bool
    cues: tuple[str, ...]
    numerals: str
    counters: tuple[str, ...]
    keep: frozenset[str]
    word_freq: int  # a window that is itself a word this common (jieba's counts) is not rewritten
    near_initials: tuple[tuple[str, str], ...] = ()  # product names only: one syllable may be this near
    near_finals: tuple[tuple[str, str], ...] = ()
    amount_cues: tuple[str, ...] = ()  # a numeral+counter sound ending the sentence after one is the amount
    name_initials: tuple[tuple[str, str], ...] = ()  # known customers' names only: one syllable may be this near
    name_finals: tuple[tuple[str, str], ...] = ()


@functools.cache
def sound_rules(lang: str) -> SoundRules | None:
    """The language's sound rules, or None when it has none (then nothing is read by sound)."""
    path = LANG_DIR / f"sounds_{lang}.yaml"
    if not path.exists():
        return None
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    by_length = lambda m: tuple(sorted(m.items(), key=lambda kv: -len(kv[0])))  # noqa: E731
    return SoundRules(by_length(data.get("initials", {})), by_length(data.get("finals", {})),
                      bool(data.get("u_as_i")), tuple(data.get("cues", [])), str(data.get("numerals", "")),
                      tuple(data.get("counters", [])), frozenset(data.get("keep", [])),
                      int(data.get("word_freq", 0)),
                      by_length((data.get("near") or {}).get("initials") or {}),
                      by_length((data.get("near") or {}).get("finals") or {}),
                      tuple(data.get("amount_cues", [])),
                      by_length((data.get("near_names") or {}).get("initials") or {}),
                      by_length((data.get("near_names") or {}).get("finals") or {}))


@functools.lru_cache(maxsize=8192)
def _syllable(ch: str, lang: str) -> str:
    """One character's toneless pinyin with the language's merges ('' for anything not a hanzi)."""
    rules = sound_rules(lang)
    if rules is None or not ("\u4e00" <= ch <= "\u9fff"):
        return ""
    s = lazy_pinyin(ch)[0]
    if rules.u_as_i and s[:1] in "jqx" and s[1:2] in ("u", "v"):
        s = s[0] + "i" + s[2:]
    s = s.replace("ü", "i").replace("v", "i")
    return _merged(s, rules.initials, rules.finals)


def _merged(syllable: str, initials: Any, finals: Any) -> str:
    """``syllable`` with its first matching initial and first matching final replaced."""
    for old, new in initials:
        if syllable.startswith(old) and len(syllable) > len(old):
            syllable = new + syllable[len(old):]
            break
    for old, new in finals:
        if syllable.endswith(old):
            syllable = syllable[: -len(old)] + new
            break
    return syllable


@functools.lru_cache(maxsize=8192)
def _near(syllable: str, lang: str) -> str:
    """A merged syllable with the language's near sounds merged too (song and feng both 'fen')."""
    rules = sound_rules(lang)
    if rules is None or not syllable:
        return syllable
    return _merged(syllable, rules.near_initials, rules.near_finals)


def _near_name(window: str, product: str, lang: str) -> bool:
    """``window`` is the product's name with one character written for a near sound (松蜜 for 蜂蜜: s/f,
    ong/eng); every other character is the name's own (送米 is not 蜂蜜)."""
    differ = [i for i, (a, b) in enumerate(zip(window, product, strict=True)) if a != b]
    if len(product) < 2 or len(differ) != 1:
        return False
    a, b = sound_key(window[differ[0]], lang)[0], sound_key(product[differ[0]], lang)[0]
    return bool(a) and _near(a, lang) == _near(b, lang)


@functools.lru_cache(maxsize=8192)
def _near_in_name(syllable: str, lang: str) -> str:
    """A merged syllable as near as a name's may be: the near sounds, then the names' own (江 and 张 both 'zan')."""
    rules = sound_rules(lang)
    if rules is None or not syllable:
        return syllable
    return _merged(_near(syllable, lang), rules.name_initials, rules.name_finals)


def sounds_like_names(heard: str, names: list[str], lang: str) -> list[str]:
    """The ``names`` (known customers) that ``heard``, written otherwise, sounds like: the same merged
    syllables (张山, 章三 for 张三; 理事 for 李四; 你四 for 李四 once n/l merge), or all but one the same and that
    one near (江山 for 张三). Empty for a language without sound rules."""
    if sound_rules(lang) is None:
        return []
    key = sound_key(heard, lang)
    if not all(key):
        return []
    out = []
    for name in names:
        other = sound_key(name, lang)
        if name == heard or len(other) != len(key) or not all(other):
            continue
        differ = [i for i, (a, b) in enumerate(zip(key, other, strict=True)) if a != b]
        if not differ or (len(differ) == 1 and len(key) >= 2
                          and _near_in_name(key[differ[0]], lang) == _near_in_name(other[differ[0]], lang)):
            out.append(name)
    return out


def sound_key(text: str, lang: str) -> tuple[str, ...]:
    """``text`` as a tuple of merged syllables, one per character."""
    return tuple(_syllable(ch, lang) for ch in text)


def _words(lang: str, products: list[str], names: list[str]) -> list[str]:
    rules = sound_rules(lang)
    if rules is None:
        return []
    counted = [n + c for n in rules.numerals for c in rules.counters]
    words = [*products, *names, *rules.cues, *counted]
    return sorted({w for w in words if len(w) >= 2}, key=len, reverse=True)


def sound_repairs(text: str, lang: str, products: list[str], names: list[str] = ()) -> str:  # type: ignore[assignment]
    """``text`` (normalised) with every window that sounds like a known word, but is written
    otherwise, rewritten as that word; longest words first, windows never overlap.

    Words already written right, and numerals, are never rewritten (十 and 四 sound alike once sh/s
    merge: a number is only ever read from a sound that is exactly a numeral's, 食品 -> 十瓶)."""
    rules = sound_rules(lang)
    if rules is None or not text:
        return text
    keys = sound_key(text, lang)
    words = _words(lang, list(products), list(names))
    taken = [False] * len(text)
    for word in [*words, *rules.keep]:
        start = text.find(word)
        while start >= 0:
            taken[start : start + len(word)] = [True] * len(word)
            start = text.find(word, start + 1)
    out = list(text)
    counted = {n + c for n in rules.numerals for c in rules.counters}
    for word in sorted(words, key=lambda w: w in counted):  # amounts last: after the cue words before them
        wk, n = sound_key(word, lang), len(word)
        if not all(wk):
            continue
        exact = [lazy_pinyin(ch)[0] if ch in rules.numerals else None for ch in word]
        near = word in products and bool(rules.near_initials or rules.near_finals)
        for i in range(len(text) - n + 1):
            if any(taken[i : i + n]) or not (keys[i : i + n] == wk or (near and _near_name(text[i : i + n], word, lang))):
                continue
            if any(text[i + k] in rules.numerals and text[i + k] != word[k] for k in range(n)):
                continue
            # 进货食品 said at the end, straight after a stock word: the amount (十瓶), though 食品 is a word
            amount = word in counted and i + n == len(text) and "".join(out[:i]).endswith(rules.amount_cues)
            if rules.word_freq and not amount and language(lang).word_count(text[i : i + n]) >= rules.word_freq:
                continue  # 取笑 is a word of its own, not a misheard 取消; 食品 (food) is no 十瓶 elsewhere
            if any(e is not None and lazy_pinyin(text[i + k])[0] != e for k, e in enumerate(exact)):
                continue
            out[i : i + n] = list(word)
            taken[i : i + n] = [True] * n
    return "".join(out)


def complete(intent: Intent) -> bool:
    """A command the dialogue could act on or answer as it is: known, with every required slot."""
    if intent.name == "unknown":
        return False
    return all(getattr(intent, slot) is not None for slot in intent.spec.required)


def by_sound(
    read: Callable[[str], Intent], text: str, normal: str, lang: str, products: list[str],
    names: list[str] = (),  # type: ignore[assignment]
) -> Intent:
    """The intent of ``text``: ``read`` by its characters, or by its sounds when that is clearly better.

    ``normal`` is ``text`` normalised (the sound rules work on it)."""
    first = _mark_sound_product(read(text), lang)
    if sound_rules(lang) is None:
        return first
    repaired = sound_repairs(normal, lang, products, names)
    if repaired == normal:
        return first
    second = read(repaired)
    if not complete(second):
        return first
    if complete(first):
        # Both make sense: the characters win, except that a question never becomes a shop change.
        if first.spec.changes_shop and not second.spec.changes_shop and first.name != second.name:
            return second
        if _fills_in(first, second):  # 松蜜还有几瓶: the same question, now about a product
            return second.copy(unsure=True) if second.spec.changes_shop else second
        return first
    return second.copy(unsure=True) if second.spec.changes_shop else second


def _fills_in(first: Intent, second: Intent) -> bool:
    """``second`` says what ``first`` says and names a catalog product that ``first`` left out."""
    a, b = first.to_contract(), second.to_contract()
    return (a["intent"] == b["intent"] and a["product"] is None and second.product_known
            and all(v is None or b[k] == v for k, v in a.items()))


def _mark_sound_product(intent: Intent, lang: str) -> Intent:
    """A shop change whose catalog product was named only by its sound (河桃 for 核桃, 封立 for 蜂蜜)
    is unsure: the dialogue reads it back first."""
    spoken, product = intent.product_spoken, intent.product
    if (sound_rules(lang) is None or not intent.spec.changes_shop or not intent.product_known
            or not spoken or not product or spoken in product):
        return intent
    return intent.copy(unsure=True)
