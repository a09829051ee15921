"""``voicebot say``: speak text with the configured voice into a file a phone can play."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path
from typing import Any

import click

from voicebot.audio.encode import format_for_path
from voicebot.audio.errors import AudioError
from voicebot.cli.options import print_json, with_config
from voicebot.config import Config
from voicebot.tts.errors import TtsError
from voicebot.tts.service import TtsService


async def _say(config: Config, text: str, lang: str, out: Path, fmt: str) -> dict[str, Any]:
    service = TtsService(config)
    await service.start()
    try:
        wav = await service.synthesize(text, lang)
        data = await service.speak(text, lang, fmt)
    finally:
        await service.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    with wave.open(str(wav), "rb") as w:
        duration = w.getnframes() / w.getframerate()
    return {"path": str(out), "format": fmt, "duration": round(duration, 3), "bytes": len(data),
            "language": lang, "engine": service.speech_for(lang)[0], "voice": service.speech_for(lang)[1]}


@click.command()
@click.argument("text")
@click.option("--lang", "-l", default=None, help="Language: zh, en or ko (default: shop.language).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path("reply.amr"),
              show_default=True, help="Output file; the suffix picks the format: .amr .mp3 .ogg .wav")
@with_config
def say(text: str, lang: str | None, output: Path, config: Config) -> None:
    """Speak TEXT with Kokoro or espeak-ng (per tts.engines) and write it as AMR-NB, MP3, Ogg/Opus or WAV.

    Prints one JSON line: path, format, duration (s), bytes, language, engine, voice.

    \b
    Example:
      voicebot say "两百块，库存十个" --lang zh -o reply.amr
      voicebot say "Your order is ready" --lang en -o reply.mp3
    """
    lang = lang or config.shop.language
    try:
        fmt = format_for_path(output)
        if lang not in config.tts.voices:
            raise click.BadParameter(f"no voice configured for {lang!r}; known: "
                                     + ", ".join(sorted(config.tts.voices)), param_hint="--lang")
        if not text.strip():
            raise click.BadParameter("nothing to say", param_hint="TEXT")
        print_json(asyncio.run(_say(config, text, lang, output, fmt)))
    except (AudioError, TtsError) as e:
        raise click.ClickException(str(e)) from None


COMMANDS = [say]
