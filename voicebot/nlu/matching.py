"""Product matching against the catalog: exact, partial, plural/singular, homophones (pinyin), fuzzy.

``match_product`` scores one spoken phrase; ``find_product`` looks for the best product mention anywhere
in a whole utterance (every window of characters or words), which is what the intent parser uses.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz

from voicebot.lang import language
from voicebot.lang.packs import load_pack

THRESHOLD = 75.0  # below this a mention is "not found"
TIE = 2.0  # candidates within this many points of the best are a tie


@dataclass
class MatchResult:
    product: str | None  # the catalog's exact name, or None when not found or ambiguous
    score: float
    candidates: list[str] = field(default_factory=list)  # best first; several when ambiguous
    ambiguous: bool = False
    spoken: str = ""  # the words that were matched, as spoken
    span: tuple[int, int] | None = None  # where ``spoken`` is in the normalised utterance


@functools.lru_cache(maxsize=4096)
def _pinyin(text: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(text, errors="default"))


def _latin_key(text: str, lang: str) -> str:
    """The words of ``text`` as names are compared: lower-case, each in its matching form (English: singular)."""
    form = language(lang).match_form
    return " ".join(form(w) for w in re.findall(r"[a-z0-9']+", text.lower()))


def _cjk_key(text: str) -> str:
    return re.sub(r"\s+", "", text.lower())


def _score_cjk(spoken: str, product: str, use_pinyin: bool) -> float:
    """How well ``spoken`` names ``product`` (0-100), both without spaces."""
    if not spoken or not product:
        return 0.0
    if spoken == product:
        return 100.0
    sp = _pinyin(spoken) if use_pinyin else tuple(spoken)
    pp = _pinyin(product) if use_pinyin else tuple(product)
    if sp == pp:
        return 96.0  # homophone: 风蜜 / 蜂蜜
    if len(spoken) >= 2 and spoken in product:
        return 80.0 + 5.0 * len(spoken) / len(product)  # partial: 手链 / 绿松石手链
    n = len(sp)
    if n >= 2 and any(pp[i : i + n] == sp for i in range(len(pp) - n + 1)):
        return 78.0 + 5.0 * n / len(pp)  # partial homophone: 首联 / 绿松石手链
    if len(spoken) < 2:
        return 0.0
    if len(product) > len(spoken) and spoken[0] == product[0] and spoken[-1] == product[-1] and _subsequence(spoken, product):
        return 76.0 + 4.0 * len(spoken) / len(product)  # short form: 草帽 / 草编帽, 布鞋 / 布底鞋
    ratio = fuzz.ratio(" ".join(sp), " ".join(pp))
    return ratio * 0.92 if ratio >= 85 else 0.0


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _naive_key(text: str, lang: str) -> str:
    """Every word in its loose form (English: without a final "s", kiwis / kiwi)."""
    form = language(lang).loose_form
    return " ".join(form(w) for w in re.findall(r"[a-z0-9']+", text.lower()))


def _score_latin(spoken: str, product: str, lang: str, stopwords: frozenset[str]) -> float:
    score = _score_latin_keys(_latin_key(spoken, lang), _latin_key(product, lang), stopwords)
    if score < 100:
        score = max(score, _score_latin_keys(_naive_key(spoken, lang), _naive_key(product, lang), stopwords))
    return score


def _score_latin_keys(s: str, p: str, stopwords: frozenset[str]) -> float:
    if not s or not p:
        return 0.0
    if s == p:
        return 100.0
    sw, pw = s.split(), p.split()
    content = [w for w in sw if w not in stopwords]
    if content and len(content) == len(sw) and set(sw) <= set(pw):
        return 80.0 + 5.0 * len(sw) / len(pw)
    ratio = fuzz.ratio(s, p)
    return ratio * 0.92 if ratio >= 85 else 0.0


def _score(spoken: str, product: str, lang: str) -> float:
    speech = language(lang)
    if not speech.spaced:  # compared character by character (and by sound where the language says)
        return _score_cjk(_cjk_key(spoken), _cjk_key(product), use_pinyin=speech.pinyin_matching)
    return _score_latin(spoken, product, lang, speech.pack.stopwords)


def _decide(scored: list[tuple[float, str]], spoken: str, span: tuple[int, int] | None) -> MatchResult:
    scored = sorted(scored, key=lambda t: -t[0])
    if not scored or scored[0][0] < THRESHOLD:
        return MatchResult(None, scored[0][0] if scored else 0.0, [], False, spoken, span)
    best = scored[0][0]
    tied = [name for s, name in scored if best - s <= TIE and s >= THRESHOLD]
    if len(tied) > 1:
        return MatchResult(None, best, tied, True, spoken, span)
    return MatchResult(tied[0], best, tied, False, spoken, span)


def match_product(spoken: str, products: list[str], lang: str) -> MatchResult:
    """Match one spoken product phrase against the catalog."""
    scored = [(_score(spoken, p, lang), p) for p in products]
    return _decide(scored, spoken.strip(), None)


def find_product(
    text: str, products: list[str], lang: str, exclude: list[tuple[int, int]] | None = None
) -> MatchResult:
    """The best product mention in a normalised utterance; ``exclude`` spans (numbers, names) are skipped."""
    pack = load_pack(lang)
    exclude = exclude or []
    if not language(lang).spaced:  # windows of characters, else of words
        units = [(i, i + 1, ch) for i, ch in enumerate(text)]
        max_len = max((len(_cjk_key(p)) for p in products), default=0) + 2
        join = ""
    else:
        units = [(m.start(), m.end(), m.group()) for m in re.finditer(r"[a-z0-9']+", text)]
        max_len = max((len(p.split()) for p in products), default=0) + 1
        join = " "
    best: dict[str, tuple[float, str, tuple[int, int]]] = {}
    for i in range(len(units)):
        for j in range(i + 1, min(len(units), i + max_len) + 1):
            a, b = units[i][0], units[j - 1][1]
            if any(a < eb and ea < b for ea, eb in exclude):
                break
            window = join.join(u[2] for u in units[i:j])
            if units[i][2] in pack.stopwords or units[j - 1][2] in pack.stopwords:
                continue
            for p in products:
                s = _score(window, p, lang)
                # Prefer the longer window on equal scores (it is the fuller mention).
                if s > 0 and (p not in best or s > best[p][0] or (s == best[p][0] and b - a > _len(best[p][2]))):
                    best[p] = (s, window, (a, b))
    if not best:
        return MatchResult(None, 0.0, [], False, "", None)
    scored = [(s, p) for p, (s, _, _) in best.items()]
    top = max(best.values(), key=lambda t: t[0])
    # A tie is only a tie when the same words named both products.
    result = _decide(scored, top[1], top[2])
    if result.ambiguous:
        # 黑木耳 / 木耳, honey soap / honey: the name whose mention holds every other one's is the one meant.
        spans = {p: best[p][2] for p in result.candidates}
        widest = max(result.candidates, key=lambda p: _len(spans[p]))
        wa, wb = spans[widest]
        if all(p == widest or (wa <= spans[p][0] and spans[p][1] <= wb and _len(spans[p]) < wb - wa)
               for p in result.candidates):  # fmt: skip
            return MatchResult(widest, best[widest][0], result.candidates, False, best[widest][1], spans[widest])
        same = [p for p in result.candidates if best[p][2] == top[2] or best[p][1] == top[1]]
        if len(same) == 1:
            return MatchResult(same[0], top[0], result.candidates, False, top[1], top[2])
    if result.product is not None and result.span is not None:
        # chili sauce with "chili" and "red chili sauce": a longer mention, word for word part of another
        # product's name, means that product rather than the shorter name inside it.
        a, b = result.span
        wider = [
            p for p, (s, window, (pa, pb)) in best.items()
            if p != result.product and s >= THRESHOLD and pa <= a and b <= pb and pb - pa > b - a
            and _literal_part(window, p, lang)
        ]  # fmt: skip
        if wider:
            widest = max(_len(best[p][2]) for p in wider)
            top_wider = [p for p in wider if _len(best[p][2]) == widest]
            if len(top_wider) == 1:
                p = top_wider[0]
                return MatchResult(p, best[p][0], [p], False, best[p][1], best[p][2])
    return result


def _literal_part(spoken: str, product: str, lang: str) -> bool:
    """``spoken`` is word for word (character for character) a part of ``product``, not a sound-alike."""
    if not language(lang).spaced:
        return _cjk_key(spoken) in _cjk_key(product)
    words = set(product.lower().replace("-", " ").split()) | set(_latin_key(product, lang).split())
    form = language(lang).match_form
    return all(w in words or form(w) in words for w in _latin_key(spoken, lang).split() + spoken.split())


def _len(span: tuple[int, int]) -> int:
    return span[1] - span[0]
