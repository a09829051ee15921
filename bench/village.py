"""Village benchmark: 500 shops on one service against the same traffic on one shop, in the same run.

Builds two databases in a temporary folder: the VILLAGE (``--shops`` shops of ``--products`` products,
one seller each, ``--buyers`` buyers who each visit a few shops; every ``--ko-every``-th shop is a Korean
shop) and the BASELINE (one zh shop, plus one ko shop when there is voice, with the same kind of
catalog). Then, in this one process:

1. Speech steering: every shop's steering (the zh grammar, the zh Whisper prompt, and the ko grammar kept
   to the real ko Vosk model's vocabulary) built through the service's cache, then every shop again
   (hits), then one shop changed (only it is rebuilt). Prints build time per shop, the cache's memory
   for the whole village and per shop, and a hit's cost.
2. Traffic: the same mix of turns (buyers asking prices and stock, listing, ordering; sellers checking
   stock, recording sales to named people, asking today's sales) on the village and on the baseline,
   interleaved turn by turn so machine noise hits both alike. Text, and ``--voice`` Korean voice notes
   (espeak-ng, AMR as WeChat sends them) recognised by the real Vosk worker with the shop's own grammar.
   Prints ack p50/p99 (the inbox commit an ack waits for), turn latency p50/p99, product matching per
   turn, their ratios village/baseline, the intents reached, DB sizes and this process's RSS.

``--path dialogue`` (the default until message->shop routing is on main) drives each shop at the
dialogue level: ``shop.record_inbound`` (the ack's commit), then the run's database work and
``handle_turn(shop.db, shop.config, ...)`` for that message's shop. Speech synthesis is left out on both
sides (it does not depend on the number of shops). Drivers share one interface (:class:`Driver`), so the
full service path is one more driver.

Run: nice -n 10 .venv/bin/python bench/village.py            (500 shops; ~10 min on a busy 2-core box)
     nice -n 10 .venv/bin/python bench/village.py --shops 50 --turns 400 --voice 0   (a quick look)
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import itertools
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from voicebot.config import Config, load_config
from voicebot.dialogue import engine as dialogue
from voicebot.nlu import intents as nlu_intents
from voicebot.nlu import matching
from voicebot.pipeline.steering import GrammarBuilder, ShopWords, Steering, shop_words
from voicebot.shop import shops
from voicebot.shop.facade import Shop
from voicebot.store.db import open_db
from voicebot.store.transactions import write_tx

CHANNEL = "wechat"
# Village goods: each shop sells PRODUCTS of these, named with a maker's word ("土蜂蜜", "野生香菇").
GOODS = [("蜂蜜", "瓶"), ("香菇", "斤"), ("木耳", "斤"), ("茶叶", "斤"), ("核桃", "斤"), ("板栗", "斤"),
         ("手链", "条"), ("项链", "条"), ("耳环", "对"), ("戒指", "个"), ("鸡蛋", "个"), ("鸭蛋", "个"),
         ("腊肉", "斤"), ("香肠", "斤"), ("红薯", "斤"), ("土豆", "斤"), ("玉米", "斤"), ("大米", "斤"),
         ("菜籽油", "斤"), ("花生", "斤"), ("芝麻", "斤"), ("辣椒", "斤"), ("豆腐", "块"), ("米酒", "瓶"),
         ("草鞋", "双"), ("布鞋", "双"), ("竹篮", "个"), ("扫帚", "把"), ("枣子", "斤"), ("柿饼", "斤"),
         ("葛粉", "斤"), ("藕粉", "斤"), ("莲子", "斤"), ("银耳", "斤"), ("绿豆", "斤"), ("黄豆", "斤"),
         ("苹果", "斤"), ("橘子", "斤"), ("梨", "斤"), ("桃子", "斤")]
MAKERS = ["", "土", "野生", "农家", "新鲜", "手工", "老", "山里", "绿松石", "自家"]
KO_GOODS = ["사과", "배", "꿀", "감", "귤", "포도", "수박", "참외", "복숭아", "자두", "밤", "대추", "쌀", "콩",
            "팥", "보리", "고추", "마늘", "양파", "감자", "고구마", "배추", "무", "오이", "호박", "당근", "버섯",
            "김", "미역", "두부", "계란", "우유", "떡", "술", "차", "생강", "인삼", "된장", "간장", "소금"]
KO_QUESTIONS = ["{p} 얼마 예요", "{p} 있어요"]
NAMES = ["张三", "李四", "王五", "赵六", "老刘", "陈姐", "小周", "吴婶"]
STOCK = 1_000_000  # nobody runs out: every order is taken


# -- the village ------------------------------------------------------------------------------------


@dataclass
class ShopPlan:
    shop_id: int
    lang: str
    seller: str
    products: list[tuple[str, str, int]]  # (name, unit, price in yuan)
    buyers: list[str] = field(default_factory=list)


def catalog(rng: random.Random, lang: str, n: int) -> list[tuple[str, str, int]]:
    if lang == "ko":
        return [(name, "개", rng.randint(5, 300)) for name in rng.sample(KO_GOODS, min(n, len(KO_GOODS)))]
    combos = [(maker + good, unit) for maker in MAKERS for good, unit in GOODS]
    return [(name, unit, rng.randint(5, 300)) for name, unit in rng.sample(combos, n)]


def plan_village(n_shops: int, n_products: int, n_buyers: int, ko_every: int, seed: int = 7) -> list[ShopPlan]:
    """Who sells what: each shop's language, seller and catalog; each buyer a customer of 1-3 shops."""
    rng = random.Random(seed)
    plans = []
    for i in range(n_shops):
        lang = "ko" if ko_every and i % ko_every == ko_every - 1 else "zh"
        plans.append(ShopPlan(i + 1, lang, f"seller-{i}", catalog(rng, lang, n_products)))
    for b in range(n_buyers):
        for plan in rng.sample(plans, rng.randint(1, min(3, len(plans)))):
            plan.buyers.append(f"buyer-{b}")
    return plans


def seed_shop(db: Any, config: Config, plan: ShopPlan, shop_id: int) -> None:
    """Shop ``shop_id`` of ``db`` becomes what ``plan`` says (one transaction)."""
    with write_tx(db):
        if shop_id == shops.DEFAULT_SHOP:
            shops.update_shop(db, shop_id, name=f"shop-{plan.shop_id}", language=plan.lang)
        else:
            added = shops.add_shop(db, f"shop-{plan.shop_id}", language=plan.lang,
                                   currency="KRW" if plan.lang == "ko" else "CNY")["id"]
            assert added == shop_id
        shop = Shop(db, config, shop_id)
        shop.add_seller(plan.seller, CHANNEL)
        for name, unit, price in plan.products:
            shop.add_product(name, price, STOCK, unit=unit)
        for buyer in plan.buyers:  # buyers become customers on first contact; a village has met them before
            shop.customer(CHANNEL, buyer)


def build_village(path: Path, config: Config, plans: list[ShopPlan]) -> None:
    """Every shop in one database (shop ids are the plans')."""
    db = open_db(path)
    for plan in plans:
        seed_shop(db, config, plan, plan.shop_id)
    db.close()


def build_twin(path: Path, config: Config, plan: ShopPlan) -> None:
    """A one-shop database (today's deployment) holding exactly what ``plan``'s shop holds in the village."""
    db = open_db(path)
    seed_shop(db, config, plan, shops.DEFAULT_SHOP)
    db.close()


# -- traffic ----------------------------------------------------------------------------------------


@dataclass
class Turn:
    """One message, said about the shop's k-th product (so the same turn can go to another shop)."""

    shop: int  # index into the plans
    user: str
    role: str
    template: str  # "{p}多少钱": {p} the product's name, {u} its unit
    k: int
    voice: bool = False

    def text(self, plan: ShopPlan) -> str:
        name, unit, _ = plan.products[self.k % len(plan.products)]
        return self.template.format(p=name, u=unit)


BUYER_ZH = ["{p}多少钱", "{p}还有吗", "有什么卖的", "我要{n}{u}{p}", "{p}多少钱一{u}"]
SELLER_ZH = ["{p}还有多少", "卖了{n}{u}{p}给{who}", "今天卖了多少钱", "{p}多少钱"]


def warm_up(plans: list[ShopPlan], turns: list[Turn]) -> list[Turn]:
    """One unmeasured turn for every shop the traffic visits (a voice note for a shop that gets them)."""
    first = {}
    for t in turns:
        first.setdefault((t.shop, t.voice), Turn(t.shop, t.user, t.role, "{p}多少钱" if not t.voice else
                                                 KO_QUESTIONS[0], 0, t.voice))
    return list(first.values())


def make_traffic(plans: list[ShopPlan], n_turns: int, n_voice: int, seed: int = 11) -> list[Turn]:
    """``n_turns`` text turns (70 % buyers) on zh shops and ``n_voice`` Korean voice notes on ko shops."""
    rng = random.Random(seed)
    zh = [i for i, p in enumerate(plans) if p.lang == "zh"]
    ko = [i for i, p in enumerate(plans) if p.lang == "ko"]
    turns = []
    for _ in range(n_turns):
        i = rng.choice(zh)
        plan = plans[i]
        role = "buyer" if rng.random() < 0.7 and plan.buyers else "seller"
        user = rng.choice(plan.buyers) if role == "buyer" else plan.seller
        template = rng.choice(BUYER_ZH if role == "buyer" else SELLER_ZH)
        template = template.replace("{n}", rng.choice("一两三")).replace("{who}", rng.choice(NAMES))
        turns.append(Turn(i, user, role, template, rng.randrange(len(plan.products))))
    for _ in range(n_voice if ko else 0):
        i = rng.choice(ko)
        plan = plans[i]
        user = rng.choice(plan.buyers or [plan.seller])
        turns.append(Turn(i, user, "buyer", rng.choice(KO_QUESTIONS), rng.randrange(4), voice=True))
    rng.shuffle(turns)
    return turns


# -- measuring --------------------------------------------------------------------------------------


class MatchClock:
    """Time spent in product matching (outermost calls only), wrapped around the NLU's entry points."""

    def __init__(self) -> None:
        self.spent = 0.0
        self._depth = 0
        self._undo: list[Callable[[], None]] = []

    def _wrap(self, module: Any, name: str) -> None:
        fn = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            self._depth += 1
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1
                if not self._depth:
                    self.spent += time.perf_counter() - started

        setattr(module, name, timed)
        self._undo.append(lambda: setattr(module, name, fn))

    @contextmanager
    def installed(self) -> Iterator[MatchClock]:
        for module, name in ((nlu_intents, "find_product"), (nlu_intents, "match_product"),
                             (matching, "find_product"), (matching, "match_product")):
            self._wrap(module, name)
        try:
            yield self
        finally:
            for undo in reversed(self._undo):
                undo()

    def take(self) -> float:
        spent, self.spent = self.spent, 0.0
        return spent


@dataclass
class Sample:
    ack: float
    turn: float
    match: float
    intent: str
    voice: bool


class Driver(Protocol):
    """Sends one turn to a village and measures it."""

    async def send(self, turn: Turn) -> Sample: ...

    async def close(self) -> None: ...


class DialogueDriver:
    """The service's database work for a message, at the dialogue level, in this process.

    Ack: the inbox commit (``record_inbound``). Turn: what a run does around understanding (the message's
    shop, claim, who is speaking, ``handle_turn``, the log update); a voice note adds decoding and
    recognition with the shop's steering from the service's cache. ``twins``: each shop is its own
    one-shop deployment (its own database file and caches), today's alternative to a village.
    """

    def __init__(self, folder: Path, config: Config, plans: list[ShopPlan], clock: MatchClock, *,
                 twins: bool, asr: Any = None, clips: dict[str, bytes] | None = None) -> None:
        self.folder, self.config, self.plans, self.clock, self.twins = folder, config, plans, clock, twins
        self.asr, self.clips = asr, clips or {}
        self.village = None if twins else Shop(open_db(folder / "village.db"), config, shops.DEFAULT_SHOP)
        self._homes: dict[int, tuple[Shop, Steering]] = {}
        self._ids = itertools.count(1)

    def home(self, plan: ShopPlan) -> tuple[Shop, Steering]:
        """The deployment serving ``plan``'s shop and its steering cache (opened once, not timed)."""
        key = plan.shop_id if self.twins else 0
        if key not in self._homes:
            own = dataclasses.replace(self.config, shop=dataclasses.replace(  # its [shop] section
                self.config.shop, name=f"shop-{plan.shop_id}", language=plan.lang,
                currency="KRW" if plan.lang == "ko" else "CNY"))
            shop = (Shop(open_db(twin_path(self.folder, plan)), own, shops.DEFAULT_SHOP) if self.twins
                    else self.village)
            assert shop is not None
            self._homes[key] = (shop, Steering(GrammarBuilder(self.asr)))
        return self._homes[key]

    async def send(self, turn: Turn) -> Sample:
        plan = self.plans[turn.shop]
        home, steering = self.home(plan)
        sid = shops.DEFAULT_SHOP if self.twins else plan.shop_id
        n = next(self._ids)
        kind = "voice" if turn.voice else "text"
        said = turn.text(plan)
        started = time.perf_counter()
        mid, _ = home.log.record_inbound(CHANNEL, f"m{n}", turn.user, kind, shop_id=sid,
                                         transcript=said if kind == "text" else None)
        acked = time.perf_counter()
        self.clock.take()
        shop = home.other(sid)  # the run serves the message's shop
        row = shop.log.claim(mid)
        assert row is not None
        customer = shop.customer(CHANNEL, turn.user)
        role = "seller" if shop.is_seller(CHANNEL, turn.user) else "buyer"
        lang = customer.get("language") or shop.config.shop.language
        text = await self._hear(shop, steering, lang, self.clips[said]) if turn.voice else said
        result = dialogue.handle_turn(shop.db, shop.config, channel=CHANNEL, user_id=turn.user, role=role,
                                      lang=lang, text=text, confidence=None if kind == "text" else 0.95,
                                      turn_id=str(mid))
        shop.update_message(mid, customer_id=customer["id"], language=lang, intent=result.intent.to_public(),
                            reply_text=result.reply, status="replied")
        done = time.perf_counter()
        return Sample(acked - started, done - acked, self.clock.take(), result.intent.name, kind == "voice")

    async def _hear(self, shop: Shop, steering: Steering, lang: str, clip: bytes) -> str:
        from voicebot.audio.decode import decode

        assert self.asr is not None
        pcm = await decode(clip, self.config.audio)
        kind = self.asr.biasing(lang)
        grammar = None
        if kind is not None:
            grammar = await steering.phrases(shop.shop_id, lang, kind, shops.revision(shop.village, shop.shop_id),
                                             lambda: _aw(shop))
        transcript = await self.asr.transcribe(pcm.data, lang, grammar=grammar)
        return transcript.text

    async def close(self) -> None:
        for shop, _ in self._homes.values():
            shop.close()


def twin_path(folder: Path, plan: ShopPlan) -> Path:
    return folder / "twins" / f"shop-{plan.shop_id}.db"


class ServiceDriver:
    """A turn through the real service: ``voicebot serve`` in its own process on ``db``, the WeChat API
    emulated in this process, messages signed and encrypted as WeChat sends them.

    Ack: the webhook's HTTP answer. Turn: from the POST until the reply reached the emulated API (espeak-ng
    speaks it). A buyer whose current shop is not the turn's first scans its code (not measured). After each
    turn the driver waits for the service's outbox to empty, so a seller's order notification is never
    taken for her own reply. Product matching runs inside the service: reported by the dialogue path.
    """

    def __init__(self, folder: Path, plans: list[ShopPlan], *, codes: dict[int, str], clips: dict[str, bytes]):
        self.folder, self.plans, self.codes, self.clips = folder, plans, codes, clips
        self.where: dict[str, int] = {}  # buyer -> the shop she is in
        self.voice = True  # False: voice turns are not sent here

    async def start(self) -> None:
        from aiohttp import ClientSession, TCPConnector, web

        sys.path.insert(0, str(Path(__file__).parent))
        from load import AES_KEY, TOKEN, free_port

        from voicebot.testing.wechat_client import WechatClient
        from voicebot.testing.wechat_emulator import EmulatorAccount, WechatEmulator

        self.emulator = WechatEmulator(EmulatorAccount(window_quota=10**6))
        self.emu_runner = web.AppRunner(self.emulator.app, access_log=None)
        await self.emu_runner.setup()
        emu_port, port = free_port(), free_port()
        await web.TCPSite(self.emu_runner, "127.0.0.1", emu_port).start()
        acct = self.emulator.account
        config = self.folder / "config.toml"
        config.write_text(
            f'[server]\ndata_dir = "{self.folder / "data"}"\nport = {port}\nconcurrent_runs = 2\n'
            '[shop]\nlanguage = "zh"\n[asr]\nworkers = 1\n'
            '[tts]\nengines = { zh = "espeak", en = "espeak", ko = "espeak" }\n'
            f'[wechat]\nenabled = true\ntoken = "{TOKEN}"\napp_id = "{acct.app_id}"\napp_secret = "{acct.app_secret}"\n'
            f'encoding_aes_key = "{AES_KEY}"\napi_base = "http://127.0.0.1:{emu_port}"\n'
            'reply_mode = "customer_service"\nwindow_quota = 1000000\n', encoding="utf-8")
        self.log = (self.folder / "serve.log").open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "voicebot", "serve", "--config", str(config)],
                                     stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        self.session = ClientSession(connector=TCPConnector(limit=0))
        await self._up(url)
        self.wx = WechatClient(url + "/wechat", TOKEN, app_id=acct.app_id, mode="safe", encoding_aes_key=AES_KEY,
                               emulator=self.emulator, timeout_s=30, session=self.session)

    async def _up(self, url: str) -> None:
        """Until the service answers and its recognisers are up (a zh-only service has none here)."""
        for _ in range(600):
            if self.proc.poll() is not None:
                raise RuntimeError(f"voicebot serve exited during start-up (log: {self.folder / 'serve.log'})")
            try:
                async with self.session.get(url + "/healthz") as r:
                    health = await r.json()
                    if r.status == 200 and (health["asr"]["ready"] or not health["asr"]["workers"]):
                        return
            except (OSError, ValueError, KeyError):
                pass
            await asyncio.sleep(0.3)
        raise TimeoutError("voicebot did not start")

    @property
    def db_path(self) -> Path:
        return self.folder / "data" / "voicebot.db"

    async def _post(self, inbound: Any, reply: bool = True) -> tuple[float, float]:
        """POST one message; (ack seconds, seconds until its reply reached the API)."""
        self.emulator.user_message(inbound.from_user)
        before = len(self.emulator.sent_to(inbound.from_user))
        started = time.perf_counter()
        attempt = await self.wx.post_once(self.wx.prepare(inbound))
        if attempt.status != 200:
            raise RuntimeError(f"the webhook answered {attempt.status}")
        while reply and len(self.emulator.sent_to(inbound.from_user)) == before:
            if time.perf_counter() - started > 120 or self.proc.poll() is not None:
                raise RuntimeError("no reply within 120 s")
            await asyncio.sleep(0.002)
        replied = time.perf_counter() - started
        await self._settle()
        return attempt.seconds, replied

    async def _settle(self) -> None:
        """Until every queued reply and notification is sent (not measured)."""
        while True:
            with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30) as db:
                (pending,) = db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()
                (running,) = db.execute(
                    "SELECT count(*) FROM messages WHERE direction = 'in' AND status IN ('received', 'processing')"
                ).fetchone()
            if not pending and not running:
                return
            await asyncio.sleep(0.005)

    async def send(self, turn: Turn) -> Sample:
        plan = self.plans[turn.shop]
        openid = plan.seller if turn.role == "seller" else turn.user
        user = self.wx.user(openid)
        if turn.role == "buyer" and self.where.get(openid) != plan.shop_id and len(self.codes) > 1:
            await self._post(user.event("SCAN", self.codes[plan.shop_id]), reply=False)  # she walks in
            self.where[openid] = plan.shop_id
        said = turn.text(plan)
        inbound = (user.voice(self.emulator.put_media(self.clips[said], "voice"), "amr") if turn.voice
                   else user.text(said))
        ack, replied = await self._post(inbound)
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30) as db:
            row = db.execute("SELECT intent_json FROM messages WHERE channel_msg_id = ?", (inbound.msg_id,)).fetchone()
        intent = json.loads(row[0] or "{}").get("intent", "none") if row else "lost"
        return Sample(ack, replied, float("nan"), intent, turn.voice)

    def rss(self) -> tuple[float, float]:
        from load import rss_mb as pid_rss
        from load import tree_rss_mb

        return pid_rss(self.proc.pid), tree_rss_mb(self.proc.pid)

    async def close(self) -> None:
        from load import stop_service

        if hasattr(self, "session"):
            await self.session.close()
        if hasattr(self, "proc"):
            await stop_service(self.proc, self.log, self.emu_runner)


async def _aw(shop: Shop) -> ShopWords:
    return shop_words(shop)  # the service reads these on its database thread; here, in line


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms" if x >= 0.001 else f"{x * 1e6:.0f} µs"


# -- 1. steering ------------------------------------------------------------------------------------


class VocabOnly:
    """A recogniser that only answers what the grammar builder asks: biasing and vocabulary."""

    def __init__(self, vocab: dict[str, frozenset[str] | None]) -> None:
        self.vocab = vocab

    def biasing(self, lang: str) -> Any:
        return "grammar"

    async def vocabulary(self, lang: str) -> frozenset[str] | None:
        return self.vocab.get(lang)

    async def transcribe(self, pcm: bytes, lang: str, grammar: list[str] | None = None) -> Any:
        raise NotImplementedError


async def bench_steering(db_path: Path, config: Config, plans: list[ShopPlan]) -> None:
    from voicebot.asr.registry import find_model
    from voicebot.asr.vocabulary import model_vocabulary

    ko_model = find_model("ko", config.models_dir)
    ko_vocab = model_vocabulary(str(ko_model)) if ko_model else None
    village = Shop(open_db(db_path), config, shops.DEFAULT_SHOP)
    print(f"\n== speech steering: {len(plans)} shops ({sum(p.lang == 'ko' for p in plans)} ko), "
          f"{len(plans[0].products)} products each; ko grammar kept to the ko model's "
          f"{len(ko_vocab or ())} words; zh has no Vosk model here (its grammar is unfiltered) ==")
    for kind in ("grammar", "prompt"):
        steering = Steering(GrammarBuilder(VocabOnly({"ko": ko_vocab})))
        await steering.grammar.vocabulary("ko")  # read once per service, not per shop
        for lang in ("zh", "ko"):  # the packs load once per process, not per shop
            await steering.build(lang, kind, ShopWords(0, ["蜂蜜"], ["张三"]))
        others = [village.other(p.shop_id) for p in plans]
        revisions = [shops.revision(village.village, s.shop_id) for s in others]
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        builds = []
        for s, plan, rev in zip(others, plans, revisions, strict=True):
            started = time.perf_counter()
            await steering.phrases(s.shop_id, plan.lang, kind, rev, lambda s=s: _aw(s))
            builds.append(time.perf_counter() - started)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        hits = []
        for s, plan, rev in zip(others, plans, revisions, strict=True):
            started = time.perf_counter()
            await steering.phrases(s.shop_id, plan.lang, kind, rev, lambda s=s: _aw(s))
            hits.append(time.perf_counter() - started)
        revision_reads = []
        for s in others[:200]:
            started = time.perf_counter()
            shops.revision(s.village, s.shop_id)
            revision_reads.append(time.perf_counter() - started)
        sizes = [len(steering._cache[(p.shop_id, p.lang, kind)][1] or ()) for p in plans]
        zh_b = [b for b, p in zip(builds, plans, strict=True) if p.lang == "zh"]
        ko_b = [b for b, p in zip(builds, plans, strict=True) if p.lang == "ko"]
        print(f"{kind}: build all {sum(builds):.2f} s; per shop zh p50 {ms(statistics.median(zh_b))} "
              f"p99 {ms(percentile(zh_b, 0.99))}" + (f", ko p50 {ms(statistics.median(ko_b))}" if ko_b else "")
              + f"; {statistics.median(sizes):.0f} phrases a shop; cache {held / 1e6:.2f} MB for {len(steering)} "
              f"shops ({held / len(plans) / 1000:.1f} KB a shop; the {steering.max_entries}-entry bound: "
              f"{held / len(plans) * steering.max_entries / 1e6:.1f} MB)")
        print(f"  hit p50 {ms(statistics.median(hits))} + the revision read p50 "
              f"{ms(statistics.median(revision_reads))}; a hit is {statistics.median(zh_b) / statistics.median(hits):.0f}x "
              "cheaper than a build")
        changed = others[1]
        builds_before = dict(steering.builds)
        changed.add_product("新来的蜂蜜", 100, 5, unit="瓶")
        for s, plan in zip(others, plans, strict=True):
            await steering.phrases(s.shop_id, plan.lang, kind, shops.revision(s.village, s.shop_id),
                                   lambda s=s: _aw(s))
        rebuilt = [sid for sid, n in steering.builds.items() if n != builds_before.get(sid)]
        print(f"  after a product is added to shop {changed.shop_id}, asking every shop again rebuilt: {rebuilt}")
        changed.remove_product("新来的蜂蜜")
    village.close()


async def bench_recognisers(config: Config, plans: list[ShopPlan], clip: bytes) -> None:
    """A Vosk recogniser per grammar: what a shop costs the worker when its recogniser is not among the
    worker's recent ones (``asr.worker.MAX_RECOGNIZERS``): built fresh vs reused, in this process."""
    from voicebot.asr import worker
    from voicebot.asr.registry import find_model
    from voicebot.asr.vocabulary import model_vocabulary
    from voicebot.audio.decode import decode
    from voicebot.nlu.grammar import grammar_phrases

    model = find_model("ko", config.models_dir)
    ko = [p for p in plans if p.lang == "ko"]
    if model is None or not ko:
        return
    vocab = model_vocabulary(str(model))
    pcm = (await decode(clip, config.audio)).data
    worker.model(str(model))
    rss0, fresh, reused = rss_mb(), [], []
    for plan in ko:
        grammar = grammar_phrases("ko", [name for name, _, _ in plan.products], vocab)
        started = time.perf_counter()
        worker.decode(pcm, "ko", str(model), grammar)
        fresh.append(time.perf_counter() - started)
        started = time.perf_counter()
        worker.decode(pcm, "ko", str(model), grammar)
        reused.append(time.perf_counter() - started)
    grew = (rss_mb() - rss0) / len(ko)
    worker._RECOGNIZERS.clear()
    print(f"vosk ko, {len(ko)} shops' grammars on one {len(pcm) / 32000:.1f} s note: decode with a fresh recogniser "
          f"p50 {ms(statistics.median(fresh))}, reused p50 {ms(statistics.median(reused))} (ratio "
          f"{statistics.median(fresh) / statistics.median(reused):.2f}); about {grew:.1f} MB a recogniser; a worker "
          f"keeps its {worker.MAX_RECOGNIZERS} most recent")


# -- 2. traffic -------------------------------------------------------------------------------------


async def run_traffic(village: Driver, alone: Driver, turns: list[Turn]) -> None:
    got: dict[str, list[Sample]] = {"village": [], "alone": []}
    for k, turn in enumerate(turns):  # each turn on both sides, alternating who goes first
        order = [("village", village), ("alone", alone)]
        if k % 2:
            order.reverse()
        for name, driver in order:
            if turn.voice and not getattr(driver, "voice", True):
                continue
            got[name].append(await driver.send(turn))
    v, b = got["village"], got["alone"]
    for label, pick in (("text", False), ("voice", True)):
        vs, bs = [s for s in v if s.voice == pick], [s for s in b if s.voice == pick]
        if not vs:
            continue
        if not bs:
            print(f"\n-- {label}: {len(vs)} turns on the village only: turn p50 {ms(statistics.median(s.turn for s in vs))}"
                  f" p99 {ms(percentile([s.turn for s in vs], .99))}, intents {dict(Counter(s.intent for s in vs))}")
            continue
        print(f"\n-- {label}: {len(vs)} turns on each side --")
        for what in ("ack", "turn", "match"):
            vv, bb = [getattr(s, what) for s in vs], [getattr(s, what) for s in bs]
            if any(x != x for x in vv + bb):  # nan: measured on the other path
                continue
            p50v, p50b, p99v, p99b = statistics.median(vv), statistics.median(bb), percentile(vv, .99), percentile(bb, .99)
            name = {"ack": "ack (inbox commit)", "turn": "turn latency", "match": "product matching"}[what]
            print(f"{name:<20} village p50 {ms(p50v):>9} p99 {ms(p99v):>9} | 1 shop p50 {ms(p50b):>9} "
                  f"p99 {ms(p99b):>9} | ratio p50 {p50v / p50b:.2f} p99 {p99v / p99b:.2f}"
                  + ("  (target <= 1.15)" if what == "turn" else ""))
        vi, bi = Counter(s.intent for s in vs), Counter(s.intent for s in bs)
        print(f"intents village {dict(vi.most_common())}")
        if vi != bi:
            print(f"intents 1 shop  {dict(bi.most_common())}")


def db_size_mb(*paths: Path) -> float:
    return sum(f.stat().st_size for p in paths for f in p.parent.glob(p.name + "*")) / 1e6


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="voicebot-village-"))
    config = load_config(environ={}, overrides={"server": {"data_dir": str(folder / "data")},
                                                "asr": {"workers": 1}})
    print(f"village: {args.shops} shops x {args.products} products, {args.shops} sellers, {args.buyers} buyers; "
          f"load average {os.getloadavg()[0]:.1f}; path {args.path}")
    started = time.monotonic()
    plans = plan_village(args.shops, args.products, args.buyers, args.ko_every)
    build_village(folder / "village.db", config, plans)
    print(f"village built in {time.monotonic() - started:.0f} s: {db_size_mb(folder / 'village.db'):.1f} MB")

    await bench_steering(folder / "village.db", config, plans)

    turns = make_traffic(plans, args.turns, args.voice if args.ko_every else 0)
    clips = {}
    spoken = {t.text(plans[t.shop]) for t in turns + warm_up(plans, turns) if t.voice}
    if spoken:
        from voicebot.testing.speech import convert, espeak_wav

        for i, text in enumerate(sorted(spoken)):
            wav = espeak_wav(text, "ko", folder / f"v{i}.wav", rate=130)
            clips[text] = convert(wav, "amr-nb", folder / f"v{i}.amr").read_bytes()
        await bench_recognisers(config, plans, next(iter(clips.values())))
    if args.path == "service":
        await on_services(folder, config, plans, turns, clips)
    else:
        await on_dialogue(folder, config, plans, turns, clips)
    print(f"total {time.monotonic() - started:.0f} s; files in {folder}")


async def on_dialogue(folder: Path, config: Config, plans: list[ShopPlan], turns: list[Turn],
                      clips: dict[str, bytes]) -> None:
    """Each turn on the village and on its shop's one-shop twin, at the dialogue level, in this process."""
    touched = sorted({t.shop for t in turns})
    (folder / "twins").mkdir()
    built = time.monotonic()
    for i in touched:
        build_twin(twin_path(folder, plans[i]), config, plans[i])
    twins = [twin_path(folder, plans[i]) for i in touched]
    print(f"\n{len(touched)} one-shop twins (each a shop of the village alone in its own database, as deployed "
          f"today) built in {time.monotonic() - built:.0f} s: {db_size_mb(*twins):.1f} MB together")
    asr = None
    if clips:
        from voicebot.asr.pool import AsrPool

        asr = AsrPool(config, ["ko"])
        await asr.start()
    print(f"\n== traffic: {len(turns)} turns ({sum(t.voice for t in turns)} voice), each on the village and on "
          "its shop's one-shop twin, alternating ==")
    clock = MatchClock()
    with clock.installed():
        drivers = (DialogueDriver(folder, config, plans, clock, twins=False, asr=asr, clips=clips),
                   DialogueDriver(folder, config, plans, clock, twins=True, asr=asr, clips=clips))
        try:
            for turn in warm_up(plans, turns):  # both sides warm, as a service is after its first minutes
                for d in drivers:
                    await d.send(turn)
            await run_traffic(drivers[0], drivers[1], turns)
            rss = rss_mb()
        finally:
            for d in drivers:
                await d.close()
            if asr is not None:
                await asr.close()
    print(f"\nDB after traffic: village {db_size_mb(folder / 'village.db'):.1f} MB, twins {db_size_mb(*twins):.1f} MB; "
          f"this process's RSS {rss:.0f} MB (the village and {len(twins)} twins open, the NLU; ASR in its worker)")


async def on_services(folder: Path, config: Config, plans: list[ShopPlan], turns: list[Turn],
                      clips: dict[str, bytes]) -> None:
    """The same turns through two real services: the village, and one shop (plans[0]'s twin, every turn
    said about its k-th product, its seller speaking every seller turn, every buyer a customer)."""
    village_dir, one_dir = folder / "svc-village", folder / "svc-one"
    for d in (village_dir, one_dir):
        (d / "data").mkdir(parents=True)
    shutil.copy(folder / "village.db", village_dir / "data" / "voicebot.db")
    one = dataclasses.replace(plans[0], buyers=sorted({b for p in plans for b in p.buyers}))
    build_twin(one_dir / "data" / "voicebot.db", config, one)
    with sqlite3.connect(village_dir / "data" / "voicebot.db") as db:
        codes = {int(r[0]): r[1] for r in db.execute("SELECT id, code FROM shops")}
    village = ServiceDriver(village_dir, plans, codes=codes, clips=clips)
    alone = ServiceDriver(one_dir, [one] * len(plans), codes={one.shop_id: "one"}, clips=clips)
    alone.voice = False  # a zh shop: the ko voice notes go to the village's ko shops only
    print(f"\n== traffic: {len(turns)} turns ({sum(t.voice for t in turns)} voice), each through the village "
          "service and a one-shop service, alternating; replies spoken by espeak-ng ==")
    try:
        await village.start()
        await alone.start()
        rss_before = village.rss(), alone.rss()
        for turn in warm_up(plans, turns):
            await village.send(turn)
            if not turn.voice:
                await alone.send(turn)
        await run_traffic(village, alone, turns)
        rss_after = village.rss(), alone.rss()
    finally:
        await village.close()
        await alone.close()
    for name, d, before, after in (("village", village, rss_before[0], rss_after[0]),
                                   ("one shop", alone, rss_before[1], rss_after[1])):
        print(f"{name}: DB {db_size_mb(d.db_path):.1f} MB; service RSS {before[0]:.0f} -> {after[0]:.0f} MB, "
              f"with its workers {before[1]:.0f} -> {after[1]:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shops", type=int, default=500)
    parser.add_argument("--products", type=int, default=30)
    parser.add_argument("--buyers", type=int, default=5000)
    parser.add_argument("--turns", type=int, default=2000, help="text turns on each side")
    parser.add_argument("--voice", type=int, default=40, help="Korean voice notes on each side (0: none)")
    parser.add_argument("--ko-every", type=int, default=50, help="every n-th shop is Korean (0: none)")
    parser.add_argument("--path", choices=["dialogue", "service"], default="dialogue",
                        help="service: through `voicebot serve` and the WeChat emulator (needs message->shop routing)")
    asyncio.run(main(parser.parse_args()))
    sys.exit(0)
