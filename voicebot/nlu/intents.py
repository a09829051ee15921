"""Transcript -> one Intent, using the language pack's rules, the number reader and the catalog matcher."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from types import SimpleNamespace

from voicebot.intents import CONTRACT_KEYS, SPECS, Intent, names
from voicebot.lang import language, strip_ends
from voicebot.lang.packs import Pack, load_pack
from voicebot.nlu.matching import THRESHOLD, MatchResult, find_product, match_product
from voicebot.nlu.normalize import clause_spans, clauses, normalize
from voicebot.nlu.numbers import Number, find_numbers, tidy
from voicebot.nlu.second_command import split_commands
from voicebot.nlu.sounds import by_sound, sounds_like_names

# The intent lists come from the registry (one place for the whole contract).
SLOTS: dict[str, frozenset[str]] = {s.name: frozenset(s.slots) for s in SPECS if s.slots}
SELLER_INTENTS = names(role="seller")
BUYER_INTENTS = names(role="buyer")
# A seller who speaks like a buyer means the seller's version.
SELLER_FROM_BUYER = {s.name: s.for_seller for s in SPECS if s.for_seller}
_NEW_NAME_INTENTS = ("add_product", "attach_photo")
_COUNTED_INTENTS = ("record_sale", "place_order", "add_stock")
_COMMON_WORD = 1000  # jieba's count: a word this common is no name heard after a misheard "to"
_MAX_CLAUSES = 8  # small talk before a command: a few clauses, not a page
# A known customer's name said exactly after a misheard "to" (卖这王五两斤核桃) is sure: no read-back for it
# (measured on issue 19's tuning half with bench/whisper_table.py; see README "What the zh NLU reads")
KNOWN_AFTER_MISHEARD_TO = True


__all__ = ["BUYER_INTENTS", "CONTRACT_KEYS", "SELLER_INTENTS", "SLOTS", "Intent", "second_command", "understand"]


# The Intent fields the passes below fill in, with Intent's own defaults.
_HEARD = {f.name: f.default for f in dataclasses.fields(Intent) if f.name in (
    "product", "quantity", "price", "customer", "approximate", "period", "unit", "total",
    "product_spoken", "product_known", "score", "unsure")}


class Reading(SimpleNamespace):
    """What :func:`understand` works out, step by step: an :class:`Intent`'s heard fields while they still
    change, with ``intent`` its name and ``ambiguous`` its candidate list. It returns it as an Intent."""

    def __init__(self, intent: str, text: str = "") -> None:
        super().__init__(**_HEARD, intent=intent, ambiguous=[], text=text)

    def to_intent(self) -> Intent:
        heard = {k: getattr(self, k) for k in _HEARD}
        heard["price"] = tidy(self.price) if self.price is not None else None
        return Intent(self.intent, candidates=tuple(self.ambiguous) or None, text=self.text, **heard)


@dataclass(frozen=True)
class _Name:
    """A customer's name found in the words: where, and how it was known (``known``: a customer of the
    shop's, by its characters; ``by_sound``: a known customer's, heard written otherwise (江山 for 张三), or a
    name that sounds like several of them; either way the dialogue reads the change back)."""

    name: str
    span: tuple[int, int]
    known: bool = False
    by_sound: bool = False


def _customer(
    norm: str, original: str, pack: Pack, products: list[str], lang: str,
    misheard: tuple[re.Pattern[str], ...] = (), customers: list[str] | None = None,
) -> _Name | None:
    """A customer's name from the pack's patterns, checked against pronouns, numbers and the catalog.

    ``misheard``: these patterns of a misheard "to" (卖了三瓶蜂蜜的李四) instead, and only a name that
    starts with a surname (老王, 小李 too). ``customers``: the shop's known customers (None: not known);
    a name in the place of a name that is one of them, or sounds like one, is that customer."""
    words = normalize_tokens(original)
    speech = language(lang)
    for pattern in misheard or pack.customer_patterns:
        for m in pattern.finditer(norm):
            found = speech.customer_name(m.group("customer"), m.span("customer"), norm, words)
            if found is not None and _number_tail(norm, found[1], lang):
                continue  # 核桃八毛五: 毛五 is the end of a price (0.85), not a customer
            if customers:
                known = _known_customer(found, m.group("customer"), m.span("customer"), norm, pack, products,
                                        lang, customers)  # fmt: skip
                if known is not None:
                    return known
            if found is None:
                continue
            name, span = found
            if name in pack.name_stopwords or re.search(r"\d", name):
                continue
            if products and match_product(name, products, lang).score >= THRESHOLD:
                continue
            if name in speech.number_words:
                continue
            if misheard and not _sounds_like_a_name(name, pack, lang):
                continue
            return _Name(name, span, by_sound=bool(customers) and _sounds_like_several(name, customers, lang))
    return None


def _known_customer(
    found: tuple[str, tuple[int, int]] | None, raw: str, raw_span: tuple[int, int], norm: str, pack: Pack,
    products: list[str], lang: str, customers: list[str],
) -> _Name | None:
    """The known customer a name pattern's words (``raw`` at ``raw_span``, ``found`` the name trimmed from
    them) name: by its characters, or else the one customer the name sounds like (江山, 理事), or when the
    words are no name, a stretch of them (给王武了). Never a part of a longer name (理事长 is no 李四)."""
    if found is not None and found[0] in customers:
        return _Name(found[0], found[1], known=True)
    windows = [found] if found is not None else [
        (raw[i : i + n], (raw_span[0] + i, raw_span[0] + i + n))
        for n in sorted({len(c) for c in customers}, reverse=True) for i in range(len(raw) - n + 1)]  # fmt: skip
    for heard, span in windows:
        if heard in customers or any(ch in pack.not_in_names for ch in heard):
            continue  # 你是要: a pronoun and a verb, however like 李四 they sound
        if products and match_product(heard, products, lang).score >= THRESHOLD:
            continue
        alike = sounds_like_names(heard, customers, lang)
        # 卖给你四斤核桃: a numeral ending the sound-alike that counts what follows is an amount, not 李四's 四
        counted = heard[-1] in pack.numeral_chars and norm[span[1] :].startswith(tuple(pack.count_units))
        if len(alike) == 1 and not counted:
            return _Name(alike[0], span, by_sound=True)
    return None


def _sounds_like_several(name: str, customers: list[str], lang: str) -> bool:
    """A new name that sounds like more than one known customer (张山 with 张三 and 章三): read it back."""
    return name not in customers and len(sounds_like_names(name, customers, lang)) > 1


def _number_tail(norm: str, span: tuple[int, int], lang: str) -> bool:
    """The name starts inside a number said before it (八毛五: 毛五 is the end of 0.85 yuan)."""
    return any(n.start < span[0] < n.end for n in find_numbers(norm, lang))


def _sounds_like_a_name(name: str, pack: Pack, lang: str) -> bool:
    """A surname and a given name (老王, 小李, 老三 too), and no common word (时候 starts with the surname 时)
    nor a day (周三)."""
    prefixes = str(pack.raw.get("name_prefixes") or "")
    surnamed = name[0] in pack.surnames and name[0] not in prefixes
    surnamed = surnamed or (name[0] in prefixes and (name[1:2] in pack.surnames or name[1:2] in pack.numeral_chars))
    return surnamed and name not in pack.number_rejects and language(lang).word_count(name) < _COMMON_WORD


def normalize_tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _classify(norm: str, role: str, pack: Pack, has_customer: bool) -> str:
    core = strip_ends(norm, pack.particles)
    for rule in pack.rules:
        if role not in rule.roles:
            if rule.exclusive and rule.matches(norm):
                return "unknown"  # only another role says this: not something to guess a nearby intent from
            continue
        if "customer" in rule.requires and not has_customer:
            continue
        whole = rule.whole is not None and ((core and rule.whole.fullmatch(core)) or rule.whole.fullmatch(norm))
        if whole or any(p.search(norm) for p in rule.patterns):
            intent = rule.intent
            if role == "seller":
                intent = SELLER_FROM_BUYER.get(intent, intent)
            elif intent in SELLER_INTENTS:
                continue  # a buyer never gets a seller intent
            return intent
    return "unknown"


def _restocks_known(norm: str, role: str, pack: Pack, products: list[str], lang: str) -> bool:
    """新货 said of a product already in the catalog, with a restock cue (来了三十斤): more stock of it."""
    if not any(r.intent == "add_stock" and role in r.roles and r.matches(norm) for r in pack.rules):
        return False
    numbers = find_numbers(norm, lang)
    if any(n.kind == "money" for n in numbers):
        return False
    found = find_product(norm, products, lang, exclude=[(n.start, n.end) for n in numbers])
    return found.product is not None and found.score >= 100 and not found.ambiguous


def _names_an_amount(norm: str, products: list[str], lang: str) -> bool:
    """A counted amount (五斤, two jars) of a catalog product, and nothing else recognised."""
    numbers = find_numbers(norm, lang)
    counted = [n for n in numbers if n.kind == "count"]
    found = find_product(norm, products, lang, exclude=[(n.start, n.end) for n in numbers])
    if found.span is None or (found.product is None and not found.ambiguous):
        return False
    if counted:
        return True
    # three kiwi fruit: a bare number just before the product
    return any(n.kind is None and not norm[n.end : found.span[0]].strip() for n in numbers)


def _only_an_amount(norm: str, products: list[str], pack: Pack) -> bool:
    """Nothing but an amount of a product and the words that go with asking for it (老板，五斤核桃 / two jars
    of honey please): 我家里还有两斤核桃没吃完呢 names an amount too, but asks for nothing."""
    fillers = pack.raw.get("order_fillers")
    if not fillers:
        return True
    numbers = find_numbers(norm, pack.lang)
    found = find_product(norm, products, pack.lang, exclude=[(n.start, n.end) for n in numbers])
    rest = _mask(norm, [(n.start, n.end) for n in numbers] + ([found.span] if found.span else []))
    return not language(pack.lang).remove_words(rest, fillers).strip()


def _product_follows(norm: str, n: Number, spoken: str | None) -> bool:
    """The product is named right after the number (一块腊肉), so its unit counts the product."""
    return bool(spoken) and norm[n.end :].lstrip().startswith(spoken)


def _sold_in_pieces(product: str | None, pack: Pack) -> bool:
    """手工皂卖了五块: a product counted in pieces (soap, tofu, cake), so its 块 are pieces, not yuan."""
    return bool(product) and any(product.endswith(w) for w in pack.raw.get("piece_nouns") or ())


def _product_before(norm: str, n: Number, spoken: str | None) -> bool:
    """The product was named before the number (sold the necklace for two hundred)."""
    return bool(spoken) and 0 <= norm.find(spoken) < n.start


def _cue_before(norm: str, n: Number, cues: re.Pattern[str] | None, tail: str) -> bool:
    """One of ``cues`` stands just before ``n`` (``tail``: what may stand between, :attr:`Pack.cue_tail`)."""
    if cues is None:
        return False
    before = norm[max(0, n.start - 14) : n.start]
    return re.search(f"(?:{cues.pattern}){tail}", before) is not None


def _classify_numbers(
    norm: str, numbers: list[Number], pack: Pack, lang: str, intent: str = ""
) -> list[tuple[Number, str | None]]:
    """(number, "money" | "count" | None) with per-unit mentions (三十块一斤, 多少钱一瓶) removed."""
    out: list[tuple[Number, str | None]] = []
    speech = language(lang)
    prev_end = -10
    for i, n in enumerate(numbers):
        gap = norm[prev_end:n.start] if prev_end >= 0 else None
        prev = out[-1][0] if out else None
        # 十五块一块: "one 块" right after a price is "a piece" (块 counts soap, tofu, cake as well as yuan).
        piece = n.value == 1 and n.unit in pack.ambiguous_units and prev is not None and prev.kind == "money"
        nxt = numbers[i + 1] if i + 1 < len(numbers) else None
        # 一包十二块 / 一只一百二: "one pack" straight before a price is what the price is for
        before_price = (
            intent == "add_product"
            and nxt is not None
            and n.kind == "count"
            and n.unit is not None
            and not norm[n.end : nxt.start].strip()
            and (nxt.kind == "money" or (nxt.kind is None and nxt.value >= 10 and speech.bare_price_after_one))
        )
        per_unit = (n.kind == "count" or piece) and n.value == 1 and (
            before_price
            or (gap is not None and len(gap.strip()) == 0)
            or (pack.per_unit is not None and pack.per_unit.search(norm[: n.start]) is not None)
        )
        prev_end = n.end
        if per_unit:
            continue
        kind = n.kind
        if kind is None and pack.count_after is not None and pack.count_after.match(norm, n.end):
            kind = "count"  # "twenty in stock": the number before a stock word is how many
        if kind is None:
            if _cue_before(norm, n, pack.price_cues, pack.cue_tail):
                kind = "money"
            elif _cue_before(norm, n, pack.quantity_cues, pack.cue_tail):
                kind = "count"
        out.append((n, kind))
    return out


def _new_name(norm: str, pack: Pack, skip: list[tuple[int, int]]) -> str | None:
    """A new product's name: the longest stretch not taken by command words, numbers or names."""
    taken = [False] * len(norm)
    for a, b in skip:
        for i in range(a, min(b, len(norm))):
            taken[i] = True
    if pack.strip is not None:
        for m in pack.strip.finditer(norm):
            for i in range(m.start(), m.end()):
                taken[i] = True
    cue = pack.name_cues.search(norm) if pack.name_cues is not None else None
    chunks: list[str] = []
    current = ""
    for ch, t in zip(norm, taken, strict=True):
        if t:
            if current.strip():
                chunks.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        chunks.append(current.strip())
    chunks = [c for c in (language(pack.lang).name_chunk(c) for c in chunks) if c]
    if cue is not None:  # 一个新东西叫玉米 / a new item called scarf: the name follows the cue
        after = [c for c in chunks if norm.find(c, cue.end()) >= 0]
        if after:
            return after[0]
    return max(chunks, key=len) if chunks else None


def understand(
    text: str, lang: str, role: str, products: list[str], norm: str | None = None,
    customers: list[str] | None = None,
) -> Intent:
    """The one intent in ``text`` spoken by a ``role`` (seller | buyer), products matched to ``products``.

    Read by its characters, or by its sounds (toneless pinyin) when only that makes a command of it. Of two
    commands in one sentence, the first (:func:`second_command` gives the other's words). ``norm``: ``text``
    normalised already (a caller that read the words once). ``customers``: the names of the shop's known
    customers (None: not known); a name heard as one of them by sound is that customer, ``unsure``."""
    two = _two_commands(text, lang, role, products, customers)
    if two or norm is None:
        text, norm = (two[0] if two else text), normalize(two[0] if two else text, lang)
    said, normal = text, norm
    return by_sound(lambda t: _read(t, lang, role, products, normal if t == said else None, customers).to_intent(),
                    text, norm, lang, products)  # fmt: skip


def second_command(
    text: str, lang: str, role: str, products: list[str], customers: list[str] | None = None
) -> str | None:
    """The words of a second command said after the first in ``text`` (None when it says one)."""
    two = _two_commands(text, lang, role, products, customers)
    return two[1] if two else None


def _two_commands(
    text: str, lang: str, role: str, products: list[str], customers: list[str] | None = None
) -> tuple[str, str] | None:
    products = [p.strip() for p in products if p and p.strip()]
    return split_commands(
        text, lang, role, products,
        lambda t: _read(t, lang, role, products, customers=customers).to_intent(),
        lambda norm, names: _names_an_amount(norm, names, lang),
    )  # fmt: skip


def _read(
    text: str, lang: str, role: str, products: list[str], norm: str | None = None,
    customers: list[str] | None = None,
) -> Reading:
    products = [p.strip() for p in products if p and p.strip()]
    if customers is not None:
        customers = [c.strip() for c in customers if c and c.strip()]
    norm = normalize(text, lang) if norm is None else norm
    if not norm:
        return Reading("unknown", text=norm)
    spans = clause_spans(text, lang, _MAX_CLAUSES, whole=norm)  # a pasted wall of commas is read as one piece
    u = _Utterance(text, norm, lang, role, load_pack(lang), products, spans, customers)
    later = _command_clause(u)
    if later is not None:
        return later
    result = Reading(_intent_name(u), text=norm)
    later = _from_cue_clause(u, result.intent) or _from_cue(u, result.intent)
    if later is not None:
        return later
    slots = SLOTS.get(result.intent, frozenset())
    if not slots and result.intent not in ("sales_summary", "list_orders"):
        return result
    _fill_period(u, result)
    if "customer" in slots and u.customer is not None:
        result.customer = u.customer
        result.unsure = result.unsure or u.customer_by_sound  # 江山 for 张三: read back first
    _find_numbers(u, result)
    if "product" in slots:
        _fill_product(u, result)
    price, quantity = _fill_amounts(u, result, slots)
    if u.guessed:
        result.approximate = True
    if "customer" in slots and not result.customer and _lost_customer(u, result):
        result.approximate = True  # 卖了三瓶蜂蜜给李: the name was cut off; the dialogue reads it back
    if u.boundary_unsure and result.customer:
        result.approximate = True  # heard two ways: the dialogue reads it back before recording it
    if result.intent == "add_product":
        _fill_new_product(u, result, price, quantity)
    return result


def _lost_customer(u: _Utterance, result: Reading) -> bool:
    """The sentence ends in a "to" and no whole name (the pack's ``lost_customer``; ``lost_after_product``:
    what may end it right after the product, 卖了三瓶蜂蜜的)."""
    lost, after = u.pack.raw.get("lost_customer"), u.pack.raw.get("lost_after_product")
    if lost and re.search(lost, u.norm):
        return True
    spoken = result.product_spoken
    if not (after and spoken and spoken in u.norm):
        return False
    return re.fullmatch(after, u.norm[u.norm.rfind(spoken) + len(spoken):]) is not None


def _name_number_boundary(u: _Utterance) -> None:
    """卖给老王二十斤: a name that took the first numerals of the number after it gives them back (the
    language's :meth:`~voicebot.lang.Language.name_before_number`); heard two ways, the change is read back."""
    name, span = u.customer, u.cspan
    if not name or span is None or span[1] >= len(u.norm):
        return
    u.customer, u.cspan, unsure = language(u.lang).name_before_number(name, span, u.norm)
    if unsure:
        u.boundary_unsure = True


def _command_clause(u: _Utterance) -> Reading | None:
    """一百块的化肥涨到一百二了，卖了三斤梨子: the command is the first clause that says one about something she
    sells (or lists); the clauses before it are small talk, whatever command words they hold."""
    if len(u.spans) < 2:
        return None
    parts = clauses(u.text, u.lang)
    if len(parts) != len(u.spans):
        return None
    for i, part in enumerate(parts):
        heard = _read(part, u.lang, u.role, u.products, customers=u.customers)
        if heard.intent not in SLOTS or heard.intent in ("sales_summary", "list_orders"):
            continue
        if "product" in SLOTS[heard.intent] and not (heard.product_known or heard.ambiguous) and not (
            heard.intent in _NEW_NAME_INTENTS and heard.product
        ):
            continue
        return _read(",".join(parts[i:]), u.lang, u.role, u.products, customers=u.customers) if i > 0 else None
    return None


def _from_cue(u: _Utterance, intent: str) -> Reading | None:
    """上次买的核桃很好吃这次想要三瓶蜂蜜 (no pauses): with a product named before the ordering cue and another
    after it, the cue governs the one after it, and the amounts after it."""
    if intent not in ("place_order", "record_sale") or not u.products:
        return None
    rules = [r for r in u.pack.rules if u.role in r.roles and r.intent == intent]
    starts = [m.start() for r in rules for p in r.patterns if (m := p.search(u.norm)) is not None]
    at = min(starts, default=0)
    if at == 0:
        return None
    before = find_product(u.norm[:at], u.products, u.lang)
    after = find_product(u.norm[at:], u.products, u.lang)
    if before.product is None or after.product is None or before.product == after.product:
        return None
    later = _read(u.norm[at:], u.lang, u.role, u.products, customers=u.customers)
    return later if later.intent == intent and later.product == after.product else None


def _from_cue_clause(u: _Utterance, intent: str) -> Reading | None:
    """The reading of the clauses from the one that says the command on (早上坐车花了十块，对了，卖了一瓶蜂蜜:
    the ten yuan are small talk, not the price), when the clauses before it are small talk."""
    if len(u.spans) < 2 or intent not in SLOTS:
        return None
    mapped = (lambda i: SELLER_FROM_BUYER.get(i, i)) if u.role == "seller" else (lambda i: i)  # noqa: E731
    rules = [r for r in u.pack.rules if u.role in r.roles and mapped(r.intent) == intent]
    first = next((i for i, (a, b) in enumerate(u.spans) if any(r.matches(u.norm[a:b]) for r in rules)), 0)
    if first == 0:
        return None
    rest = clauses(u.text, u.lang)[first:]
    if len(rest) != len(u.spans) - first:
        return None
    later = _read(",".join(rest), u.lang, u.role, u.products, customers=u.customers)
    if later.intent != intent or ("product" in SLOTS[intent] and not later.product and not later.ambiguous):
        return None  # the product was named before the command: keep the whole sentence
    return later


@dataclass
class _Utterance:
    """What the passes of ``understand`` share: the words, who said them, and what was found so far."""

    text: str  # as heard
    norm: str  # normalised
    lang: str
    role: str
    pack: Pack
    products: list[str]
    spans: list[tuple[int, int]] = field(default_factory=list)  # the clauses (where it pauses) in ``norm``
    customers: list[str] | None = None  # the shop's known customers (None: not known)
    customer: str | None = None
    customer_known: bool = False  # ``customer`` is a known customer's name, said as she is called
    customer_by_sound: bool = False  # ``customer`` was heard by its sound only (江山 for 张三)
    cspan: tuple[int, int] | None = None  # where the customer's name is in ``norm``
    boundary_unsure: bool = False  # a name runs into a number two ways (王二十斤): read the change back
    guessed: bool = False  # the intent was guessed from what was named, no command word: read it back
    masked: str = ""  # ``norm`` with names blanked out, for the number reader
    numbers: list[tuple[Number, str | None]] = field(default_factory=list)  # (number, money | count | None)
    skip: list[tuple[int, int]] = field(default_factory=list)  # spans a product mention must not use

    def names_an_amount(self) -> bool:
        return bool(self.products) and _names_an_amount(self.norm, self.products, self.lang)


def _intent_name(u: _Utterance) -> str:
    """Pass 1: the intent, from the pack's rules, then from what was named (an amount, a known product)."""
    if u.role == "seller":
        for a, b in u.spans:  # 卖给老李，算他二十五一斤: a name pattern ends where its clause ends
            found = _customer(u.norm[a:b], u.text, u.pack, u.products, u.lang, customers=u.customers)
            if found is not None:
                _take_customer(u, found, a)
                break
    name = _classify(u.norm, u.role, u.pack, u.customer is not None)
    if u.role == "seller" and u.customer is None and name in ("record_sale", "unknown"):
        _misheard_customer(u, creates=name == "unknown")
    if name == "unknown" and u.role == "buyer" and u.products and _only_a_price(u, asking=True):
        name = "ask_price"  # 腊肉六十五一斤? a buyer saying a price asks it, never orders 65 jin
    if (
        name == "unknown"
        and u.role == "buyer"
        and u.products
        and not any(r.matches(u.norm) for r in u.pack.rules if r.intent in SELLER_INTENTS)
        and u.names_an_amount()
        and _only_an_amount(u.norm, u.products, u.pack)
    ):
        name = "place_order"  # 老板给我称五斤苹果: a buyer naming an amount of a product wants it
    if name == "unknown" and u.role == "seller" and u.customer is not None and u.names_an_amount():
        name = "record_sale"  # two jars of honey to linda: an amount of a product for someone
    if name == "add_product" and u.products and _restocks_known(u.norm, u.role, u.pack, u.products, u.lang):
        name = "add_stock"
    if name == "unknown" and u.role == "seller" and u.products and _only_a_price(u):
        name, u.guessed = "set_price", True  # 蜂蜜百成三十五块: the cue word misheard, a new price read back
    return name


_SAME_SOUND = 96.0  # matching's score for a homophone (风蜜 / 蜂蜜): a "new" name that is an old one's sound
_GUESS_SLACK = 2  # characters besides the product and the price that a price change may have (改成 misheard)


def _only_a_price(u: _Utterance, asking: bool = False) -> bool:
    """A catalog product and a money amount (per unit at most), and at most a misheard word besides, none of
    whose characters says it is something else (the pack's ``no_price_guess``: 花了, 买的, a question;
    ``asking``: a question is fine, the pack's ``question_chars``)."""
    numbers = find_numbers(u.norm, u.lang)
    per_unit = [n for n in numbers if n.kind == "count" and n.value == 1 and n.unit]
    # 腊肉六十五一斤: a bare amount right before "one <unit>" is what one costs
    money = [n for n in numbers if n.kind == "money" or (n.kind is None and any(p.start == n.end for p in per_unit))]
    others = [n for n in numbers if n not in money and n not in per_unit]
    if len(money) != 1 or others:
        return False
    found = find_product(u.norm, u.products, u.lang, exclude=[(n.start, n.end) for n in numbers])
    if found.product is None or found.ambiguous or found.span is None or found.span[0] > money[0].start:
        return False
    rest = _mask(u.norm, [(n.start, n.end) for n in numbers] + [found.span]).replace(" ", "")
    blockers = set(str(u.pack.raw.get("no_price_guess") or ""))
    if asking:
        blockers -= set(str(u.pack.raw.get("question_chars") or ""))
    return len(rest) <= _GUESS_SLACK and not set(rest) & blockers


def _misheard_customer(u: _Utterance, creates: bool) -> None:
    """卖了三瓶蜂蜜的李四, 卖这王五两斤核桃: the word for "to" came out as another character. In a sale, a name
    found after one makes the change unsure (the dialogue reads it back) and keeps its numeral out of the
    price. ``creates``: no rule made it a sale, so only a pattern that says the sale word itself (anchored
    at the start, 卖这王五) may, with an amount of a product (a recited catalog 核桃、张三 is no sale)."""
    patterns = tuple(p for p in u.pack.misheard_customer_patterns if not creates or p.pattern.startswith("^"))
    if not patterns:
        return
    pieces = [(0, len(u.norm)), *u.spans] if len(u.spans) > 1 else [(0, len(u.norm))]
    product = find_product(u.norm, u.products, u.lang) if u.products else None
    norm = _mask(u.norm, [product.span]) if product is not None and product.span else u.norm  # 茶叶王五: not 叶王五
    for a, b in pieces:
        found = _customer(norm[a:b], u.text, u.pack, u.products, u.lang, misheard=patterns, customers=u.customers)
        if found is not None:
            if creates and not u.names_an_amount():
                return
            _take_customer(u, found, a)
            # a known customer's own name after the misheard "to" is no guess (issue 19's tuning half: none of
            # these was a wrong change); a new name is, a sound-alike is read back by its sound, and so is a
            # sale only guessed from a word like the sale word (麦祭王五两斤核桃)
            said = not creates or re.search(str(u.pack.raw.get("sale_said") or "^$"), u.norm) is not None
            if not (u.customer_known and KNOWN_AFTER_MISHEARD_TO and said):
                u.boundary_unsure = True
            return


def _take_customer(u: _Utterance, found: _Name, offset: int) -> None:
    """``found`` (in the clause at ``offset``) is the utterance's customer; a name that runs into a number
    gives its numerals back (then no known customer's name as said)."""
    u.customer, u.cspan = found.name, (found.span[0] + offset, found.span[1] + offset)
    _name_number_boundary(u)
    u.customer_known = found.known and u.customer == found.name
    u.customer_by_sound = found.by_sound


def _fill_period(u: _Utterance, result: Reading) -> None:
    """Pass 2: the period asked about (today, this week ...)."""
    for period, pattern in u.pack.periods.items():
        if pattern.search(u.norm):
            result.period = period
            break


def _numbers_by_clause(text: str, lang: str, spans: list[tuple[int, int]]) -> list[Number]:
    """The numbers of each clause: a pause ends a number (一百八，十个 is 180 and 10, not 1,810)."""
    if len(spans) < 2:
        return find_numbers(text, lang)
    return [dataclasses.replace(n, start=n.start + a, end=n.end + a)
            for a, b in spans for n in find_numbers(text[a:b], lang)]  # fmt: skip


def _find_numbers(u: _Utterance, result: Reading) -> None:
    """Pass 3: the numbers, read with names blanked out, each marked money, count or neither."""
    u.masked = u.norm
    if u.cspan and result.customer:  # 卖给李四三斤: the name's 四 is not part of a number
        u.masked = u.norm[: u.cspan[0]] + " " * (u.cspan[1] - u.cspan[0]) + u.norm[u.cspan[1] :]
    if u.products:  # 三七粉 / 八角: the numerals of a product's name are not numbers
        u.masked = _mask(u.masked, language(u.lang).numeral_name_spans(u.norm, u.products))
    numbers = _numbers_by_clause(u.masked, u.lang, u.spans)
    spent = u.pack.cue_words("spent_cues")
    if spent is not None:  # 坐车花了十块: money spent on something else is no amount of this command
        numbers = [n for n in numbers if not _cue_before(u.norm, n, spent, u.pack.cue_tail)]
    u.numbers = _classify_numbers(u.norm, numbers, u.pack, u.lang, result.intent)
    u.skip = [(n.start, n.end) for n, _ in u.numbers] + ([u.cspan] if u.cspan and result.customer else [])


def _product_mention(u: _Utterance) -> MatchResult | None:
    """The catalog product the words name (None without a catalog), trying the counter word and a lone
    character when the plain search finds nothing."""
    norm, products, numbers, skip = u.norm, u.products, u.numbers, u.skip
    found = find_product(norm, products, u.lang, exclude=skip) if products else None
    if found is not None and found.span is None and any(n.unit for n, _ in numbers):
        # fifteen baskets / 两篮: the counter word is itself the product's name
        numeral_only = [(n.start, n.end - len(n.unit)) if n.unit and n.text.endswith(n.unit) else (n.start, n.end)
                        for n, _ in numbers]  # fmt: skip
        again = find_product(norm, products, u.lang, exclude=numeral_only + skip[len(numbers):])
        if again.span is not None and (again.product is not None or again.ambiguous):
            found = again
    if found is not None and found.product is None and not found.ambiguous:
        lone = language(u.lang).lone_char(u.text, norm, products)
        if lone is not None:  # 茶 还有吗 with 红茶, 绿茶: ambiguous, let the dialogue ask which
            tok, at, hits = lone
            found = MatchResult(hits[0] if len(hits) == 1 else None, float(THRESHOLD), hits, len(hits) > 1, tok, (at, at + 1))
    return found


def _fill_product(u: _Utterance, result: Reading) -> None:
    """Pass 4: the product, a catalog one or (add_product, a photo of something new) a new name."""
    found = _product_mention(u)
    intent_name = result.intent
    # A photo of a product the catalog names (这是手链 -> 绿松石手链) is that product; otherwise a new name.
    photo_known = intent_name == "attach_photo" and found is not None and found.product is not None
    if intent_name == "add_product" or (
        intent_name in _NEW_NAME_INTENTS and not photo_known and (found is None or found.score < 100 or found.ambiguous)
    ):
        if intent_name == "add_product" or found is None or found.product is None:
            name = _new_name(u.norm, u.pack, u.skip)
            if intent_name == "attach_photo" and found is not None and found.ambiguous:
                name = found.spoken
            result.product, result.product_spoken = name, name
    elif found is not None and found.span is not None:
        result.score, result.product_spoken = found.score, found.spoken
        if found.ambiguous:
            result.product, result.ambiguous = found.spoken, found.candidates
        elif found.product is not None:
            result.product, result.product_known = found.product, True
    if found is not None and found.product is not None and result.product == found.product:
        result.product_known = True
        result.score = found.score


def _sort_amounts(u: _Utterance, result: Reading) -> tuple[list[Number], list[Number], list[Number]]:
    """Prices, counts and bare numbers, with the numbers whose role the intent decides moved over."""
    norm, pack, intent_name = u.norm, u.pack, result.intent
    prices = [n for n, k in u.numbers if k == "money"]
    counts = [n for n, k in u.numbers if k == "count"]
    bare = [n for n, k in u.numbers if k is None]
    if intent_name == "set_stock" and any(n.unit is None for n in prices):
        # 库存改成五十: the number after 改成 (a price word), with no currency said, is the stock
        bare = sorted(bare + [n for n in prices if n.unit is None], key=lambda n: n.start)
        prices = [n for n in prices if n.unit is not None]
    if (
        intent_name in _COUNTED_INTENTS
        and not counts
        and not bare
        and prices
        and prices[0].unit is None
        and not (language(u.lang).price_after_product and _product_before(norm, prices[0], result.product_spoken))
    ):
        # 卖了俩手链 / paid for three honey: a number after a sales word, with no currency, is how many
        # (but "bought a necklace for two hundred": after the product, "for" names the price)
        counts = [prices.pop(0)]
    if (
        intent_name in _COUNTED_INTENTS
        and not counts
        and len(prices) == 1
        and prices[0].unit in pack.ambiguous_units
        and (
            intent_name != "record_sale"
            or _product_follows(norm, prices[0], result.product_spoken)
            or (prices[0].value < 10 and _sold_in_pieces(result.product, pack))
        )
    ):
        counts = [prices.pop()]  # 帮我留一块腊肉: a piece, not a yuan
    if intent_name == "add_product" and not counts and len(prices) >= 2 and prices[-1].unit in pack.ambiguous_units:
        counts = [prices.pop()]  # 手工皂十五块一块五十块: the last "块" counts pieces
    # 卖 八十 一 斤: a new price must be a price; "八十一斤" is 八十 (a price) for 一斤. So is a second amount
    # after a price word in a sale (卖了三斤腊肠给老孙，算他四十一斤: 40 a jin, not 41 jin).
    priced = intent_name == "set_price" and not prices and not bare and len(counts) == 1
    priced = priced or (intent_name == "record_sale" and not prices and len(counts) == 2
                        and _cue_before(norm, counts[1], pack.price_cues, pack.cue_tail))  # fmt: skip
    if priced and counts[-1].unit:
        n = counts[-1]
        numeral = n.text[: -len(n.unit)] if n.text.endswith(n.unit) else ""
        if pack.price_and_one is not None and pack.price_and_one.search(numeral):
            prices = [Number(n.value - 1, n.start, n.end - len(n.unit) - 1, numeral[:-1])]
            counts = counts[:-1]
    return prices, counts, bare


def _fill_amounts(u: _Utterance, result: Reading, slots: frozenset[str]) -> tuple[Number | None, Number | None]:
    """Pass 5: the price and the quantity (and its unit, whether approximate, whether a total)."""
    intent_name = result.intent
    prices, counts, bare = _sort_amounts(u, result)
    price: Number | None = None
    if "price" in slots:
        if prices:
            # 从四十块改成五十块: the new price is the last one said
            price = prices[-1] if intent_name == "set_price" else prices[0]
        elif intent_name in ("set_price", "add_product", "price_down", "price_up") and bare:
            price = bare.pop(0)
        if price is not None:
            result.price = price.value
    if intent_name == "record_sale" and price is None and counts and bare:
        # 三瓶蜂蜜一百二 / 手链一百八卖了两条: the amount beside the count is what was paid
        price = bare.pop()
        result.price = price.value
    quantity = None
    if "quantity" in slots:
        quantity = counts[0] if counts else (bare[0] if bare else None)
        if intent_name == "set_stock" and (counts or bare):
            quantity = (counts or bare)[-1]  # 进了五十斤，现在有一百五十斤: the stock is the last amount
        if quantity is not None and isinstance(quantity.value, int | float):
            result.quantity = tidy(quantity.value)  # 1.5 (一斤半) stays 1.5: goods sold by weight
            result.unit = language(u.lang).unit_form(quantity.unit) if quantity.unit else None
            result.approximate = quantity.approximate
        if result.quantity is None and _one_before_product(u, result):
            result.quantity = 1  # "john bought a bracelet": an article just before the product is one of it
    if price is not None and price.approximate:
        result.approximate = True
    if price is not None and u.pack.total_words is not None and u.pack.total_words.search(u.norm):
        result.total = True
    return price, quantity


def _one_before_product(u: _Utterance, result: Reading) -> bool:
    """An article right before a known product ("a bracelet") says one of it."""
    if not ((result.product_known or result.ambiguous) and result.product_spoken):
        return False
    if u.pack.one_words is None or result.intent == "add_product":
        return False
    before = u.norm[: u.norm.find(result.product_spoken)] if result.product_spoken in u.norm else ""
    return bool(u.pack.one_words.search(before))


def _fill_new_product(u: _Utterance, result: Reading, price: Number | None, quantity: Number | None) -> None:
    """Pass 6 (add_product): the unit from the per-unit phrase, and the name once price and stock are known."""
    norm, pack = u.norm, u.pack
    numbers = _numbers_by_clause(u.masked, u.lang, u.spans)
    if result.unit is None:
        # 三十块一斤: the counter of the per-unit phrase is the product's unit
        per = [n for n in numbers if n.kind == "count" and n.value == 1 and n.unit]
        if per:
            result.unit = per[0].unit
    # Now that price and stock are known: 一瓶 (per unit) is not part of the name, 腊八蒜's 八 is.
    used = {(n.start, n.end) for n in (price, quantity) if n is not None}
    name_skip = [
        (n.start, n.end) for n in numbers
        if (n.start, n.end) in used
        or not language(u.lang).numeral_in_name(norm, n)
    ] + ([u.cspan] if u.cspan and result.customer else [])  # fmt: skip
    name = _new_name(norm, pack, name_skip)
    if name:
        result.product, result.product_spoken = name, name
        same = match_product(name, u.products, u.lang) if u.products and name not in u.products else None
        if same is not None and same.product is not None and same.score >= _SAME_SOUND:
            # 上架合桃 with 核桃 in the catalog: the same sound is that product (the dialogue says it exists)
            result.product, result.product_known, result.approximate = same.product, True, True


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    for a, b in spans:
        text = text[:a] + " " * (b - a) + text[b:]
    return text
