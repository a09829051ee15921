"""The phrase list for grammar-constrained Vosk decoding, from the language pack and the catalog,
kept to the words the recogniser knows."""

from __future__ import annotations

from voicebot.lang import language
from voicebot.lang.packs import load_pack


def segment(phrase: str, vocabulary: set[str] | frozenset[str]) -> str | None:
    """``phrase`` as space-separated in-vocabulary words (greedy longest match), or None if impossible.

    Models with a morpheme-split vocabulary need this: "얼마예요" is not a word, "얼마 예요" is.
    """
    words: list[str] = []
    for chunk in phrase.split():
        if chunk in vocabulary:
            words.append(chunk)
            continue
        pos = 0
        while pos < len(chunk):
            for end in range(len(chunk), pos, -1):
                if chunk[pos:end] in vocabulary:
                    words.append(chunk[pos:end])
                    pos = end
                    break
            else:
                return None
    return " ".join(words) if words else None


def grammar_phrases(lang: str, products: list[str], vocabulary: set[str] | frozenset[str] | None = None) -> list[str]:
    """Command words, numbers, units and product names for ``lang``; out-of-vocabulary words dropped.

    Phrases are built only from words in ``vocabulary`` (when given), so Vosk never has to ignore any.
    """
    pack = load_pack(lang)
    raw = list(pack.grammar.get("commands", [])) + list(pack.grammar.get("numbers", []))
    if pack.raw.get("grammar", {}).get("bare_units", True):
        raw += list(pack.count_units) + list(pack.money_units)
    speech = language(lang)
    names = [speech.grammar_name(p.strip()) for p in products if p and p.strip()]
    for template in pack.grammar.get("templates", []):
        raw += [template.replace("{product}", name) for name in names]
    raw += names
    seen: set[str] = set()
    out: list[str] = []
    for phrase in raw:
        phrase = " ".join(phrase.split())
        if vocabulary is not None:
            segmented = segment(phrase, vocabulary)
            if segmented is None:
                continue
            phrase = segmented
        if phrase and phrase not in seen:
            seen.add(phrase)
            out.append(phrase)
    return out
