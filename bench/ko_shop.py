"""The benchmarks' Korean shop: two products, four questions spoken by espeak-ng, in a temporary folder."""

from __future__ import annotations

from pathlib import Path

from voicebot.config import Config, load_config
from voicebot.shop.facade import Shop
from voicebot.testing.speech import convert, espeak_wav

PRODUCTS = [("사과", 3000, 10, "개"), ("배", 5000, 10, "개")]
QUESTIONS = ["사과 얼마 예요", "배 얼마 예요", "사과 있어요", "배 있어요"]


def ko_shop(folder: Path) -> Config:
    """A ko shop (KRW, one ASR worker) with its data in ``folder / "data"``, stocked with PRODUCTS."""
    config = load_config(environ={}, overrides={"server": {"data_dir": str(folder / "data")},
                                                "shop": {"language": "ko", "currency": "KRW"},
                                                "asr": {"workers": 1}})
    with Shop.open(config) as shop:
        for name, price, stock, unit in PRODUCTS:
            shop.add_product(name, price, stock, unit=unit)
    return config


def question_clips(folder: Path, fmt: str, repeat: int = 3) -> list[bytes]:
    """QUESTIONS ``repeat`` times, spoken at three rates, as ``fmt`` files ("amr-nb", "webm")."""
    clips = []
    for i, text in enumerate(QUESTIONS * repeat):
        wav = espeak_wav(text, "ko", folder / f"q{i}.wav", rate=120 + 10 * (i % 3))
        clips.append(convert(wav, fmt, folder / f"q{i}.{fmt}").read_bytes())
    return clips
