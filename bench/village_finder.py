"""Finding a shop by voice: the time one buyer turn spends in the village finder, with 500 shops vs 1 and
2 in the same process (voicebot/village/finder.py).

A buyer inside a shop asking it something (the common turn) must cost the same however many shops the
account has; a buyer in no shop, or asking "who sells X", reads every shop's names and goods once.

Run: .venv/bin/python bench/village_finder.py [--shops 500] [--repeat 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from voicebot.village.finder import ShopEntry, find_shop

GOODS = ["蜂蜜", "土鸡蛋", "香菇", "核桃", "木耳", "茶叶", "绿茶", "红茶", "腊肉", "米酒", "豆腐", "苹果", "橙子",
         "猕猴桃", "板栗", "花生", "红枣", "枸杞", "辣椒酱", "粉条"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
TURNS = {  # (what she says, the shop she is in)
    "in a shop, asking it": ("蜂蜜多少钱", 1),
    "in a shop, a bare name": ("郭姐那家", 1),
    "in no shop, who sells": ("我要找卖蜂蜜的", None),
    "in no shop, anything": ("我要两斤核桃", None),
}


def village(n: int, rng: random.Random) -> list[ShopEntry]:
    return [ShopEntry(i, f"{rng.choice(SURNAMES)}{rng.choice('姐哥嫂叔')}{i}号店",
                      sellers=(f"{rng.choice(SURNAMES)}{rng.choice('梅强芳明')}",),
                      products=tuple(f"{g}{i % 7}" if j > 5 else g for j, g in enumerate(rng.sample(GOODS, 30 // 2))),
                      activity=i) for i in range(1, n + 1)]


def per_turn_ms(shops: list[ShopEntry], text: str, current: int | None, repeat: int) -> float:
    find_shop(text, "zh", shops, current)  # the directory's index is built once per change, not per turn
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        find_shop(text, "zh", shops, current)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shops", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(21)
    sizes = (1, 2, args.shops)
    villages = {n: village(n, rng) for n in sizes}
    print(f"{'turn':26} " + " ".join(f"{n:>7} shops" for n in sizes) + f"  ratio {args.shops}/2")
    for label, (text, current) in TURNS.items():
        ms = [per_turn_ms(villages[n], text, current, args.repeat) for n in sizes]
        print(f"{label:26} " + " ".join(f"{m:10.3f} ms" for m in ms) + f"  {ms[2] / ms[1]:8.2f}")


if __name__ == "__main__":
    main()
