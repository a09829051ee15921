"""Reply lengths by ear (issue 18 item 21): every reply template of zh and en, rendered with realistic
values, and the replies of scripted seller/buyer conversations through the real dialogue, as estimated
spoken seconds at the service's pace (zh 3 syllables/s, en 140 words/min: Kokoro at the configured
tempo, see README's voice table). Prints p50/p95/max, read-backs of one action over 6 s, and the longest.

With ``--speak N`` the N longest read-backs per language are also synthesised by Kokoro and their real
length printed next to the estimate (slow on a loaded machine).

Run: .venv/bin/python bench/reply_lengths.py [--lang zh] [--speak 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile

from voicebot.config import load_config
from voicebot.dialogue import handle_turn
from voicebot.shop.facade import Shop
from voicebot.store.db import open_db
from voicebot.testing.listening import speech_units
from voicebot.testing.reply_corpus import rendered

PACE = {"zh": 3.0, "en": 140 / 60}  # syllables or words per second
LIMIT_S = 6.0

SCRIPTS = {
    "zh": [
        ("seller", "上架核桃，三十块一斤，九十斤"), ("seller", "卖了三斤核桃一共一百块"), ("seller", "核桃坏了两斤"),
        ("seller", "核桃现在有一百五十斤"), ("seller", "核桃便宜五块钱"), ("seller", "撤销"),
        ("buyer", "我想买点核桃"), ("buyer", "多少钱一斤啊"), ("buyer", "那来一斤半"), ("buyer", "我要两瓶蜂蜜"),
        ("buyer", "不对，是一瓶"), ("seller", "今天卖了多少钱"), ("seller", "订单"), ("seller", "二号订单确认"),
        ("seller", "一号订单发货了"), ("buyer", "我的订单到哪了"), ("seller", "上架蜂蜜，六十块，十瓶"),
        ("seller", "对"), ("seller", "库存"), ("seller", "帮助"), ("buyer", "有什么卖的"),
    ],
    "en": [
        ("seller", "add walnuts, thirty yuan a jin, ninety jin"), ("seller", "sold three jin of walnuts for one hundred in total"),
        ("seller", "two jin of walnuts went bad"), ("seller", "we now have 150 jin of walnuts"),
        ("seller", "walnuts five yuan cheaper"), ("seller", "undo"), ("buyer", "i want some walnuts"),
        ("buyer", "how much is it"), ("buyer", "one and a half jin"), ("buyer", "i want two jars of honey"),
        ("seller", "how much did i sell today"), ("seller", "list the orders"), ("seller", "confirm order two"),
        ("seller", "order one shipped"), ("buyer", "where is my order"), ("seller", "stock"), ("seller", "help"),
        ("buyer", "what do you sell"),
    ],
}  # fmt: skip


def seconds(text: str, lang: str) -> float:
    return speech_units(text, lang) / PACE[lang]


def conversation(lang: str) -> list[tuple[str, str]]:
    """(what was said, the reply) for the scripted conversation in a fresh shop."""
    with tempfile.TemporaryDirectory() as d:
        config = load_config(environ={}, overrides={"server": {"data_dir": d}, "shop": {"sellers": ["boss"]}})
        db = open_db(config.db_path)
        shop = Shop(db, config)
        for name, price, stock, unit in (("蜂蜜", 60, 20, "瓶"), ("绿松石手链", 200, 10, "条"), ("银手链", 80, 5, "条"),
                                         ("honey", 60, 20, "jars"), ("bracelet", 200, 10, "")):  # fmt: skip
            shop.add_product(name, price, stock, unit)
        out, now = [], 1_800_000_000.0
        for role, text in SCRIPTS[lang]:
            now += 1
            r = handle_turn(db, config, channel="wechat", user_id="boss" if role == "seller" else "b1", role=role,
                            lang=lang, text=text, confidence=None, now=now)  # fmt: skip
            out.append((text, r.reply))
        db.close()
        return out


async def speak(texts: list[str], lang: str) -> list[float]:
    from voicebot.audio.decode import decode_sync
    from voicebot.config import AudioConfig
    from voicebot.tts.service import TtsService

    with tempfile.TemporaryDirectory() as d:
        config = load_config(environ={}, overrides={"server": {"data_dir": d}})
        tts = TtsService(config)
        await tts.start()
        try:
            out = []
            for t in texts:
                path = await tts.synthesize(t, lang)
                out.append(decode_sync(path.read_bytes(), AudioConfig(max_voice_seconds=600)).duration)
            return out
        finally:
            await tts.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lang", choices=["zh", "en"], action="append")
    ap.add_argument("--speak", type=int, default=0, help="synthesise the N longest read-backs with Kokoro")
    args = ap.parse_args()
    print("lang  set        n    p50 s  p95 s  max s  read-backs > 6 s")
    longest: dict[str, list[tuple[float, str, str]]] = {}
    for lang in args.lang or ["zh", "en"]:
        templates = rendered(lang, variants=4)
        t_secs = [seconds(r.text, lang) for r in templates]
        over = sorted({(round(seconds(r.text, lang), 1), r.key, r.text) for r in templates
                       if r.is_readback and seconds(r.text, lang) > LIMIT_S}, reverse=True)  # fmt: skip
        talk = conversation(lang)
        c_secs = [seconds(reply, lang) for _, reply in talk]
        for name, secs in (("templates", t_secs), ("dialogue", c_secs)):
            q = sorted(secs)
            print(f"{lang:<5} {name:<10} {len(q):<4} {statistics.median(q):<6.1f} "
                  f"{q[min(len(q) - 1, round(0.95 * (len(q) - 1)))]:<6.1f} {max(q):<6.1f} "
                  f"{len(over) if name == 'templates' else sum(s > LIMIT_S for s in secs)}")  # fmt: skip
        for s, key, text in over[:8]:
            print(f"    {s:4.1f} s  {key}: {text}")
        longest[lang] = sorted(((seconds(r, lang), said, r) for said, r in talk), reverse=True)
        for s, said, reply in longest[lang][:6]:
            print(f"    {s:4.1f} s  {said} -> {reply}")
    if args.speak:
        for lang, rows in longest.items():
            texts = [r for _, _, r in rows[: args.speak]]
            real = asyncio.run(speak(texts, lang))
            for (est, _, text), got in zip(rows, real, strict=False):
                print(f"  kokoro {lang}: estimated {est:.1f} s, spoken {got:.1f} s: {text}", file=sys.stderr)


if __name__ == "__main__":
    main()
