"""``voicebot say``: speak text with the configured voice into a file a phone can play."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path
from typing import Any

import click

from voicebot.audio.encode import format_for_path
from voicebot.audio.errors import AudioError
from voicebot.cli.options import config_option, load_or_exit, print_json, with_config
from voicebot.config import Config
from voicebot.logs import setup_logging
from voicebot.remote.uris import check_uri
from voicebot.tts.errors import TtsError
from voicebot.tts.service import TtsService


async def _say(config: Config, text: str, lang: str, out: Path, fmt: str) -> dict[str, Any]:
    service = TtsService(config)
    await service.start()
    try:
        wav = await service.synthesize(text, lang)
        data = await service.speak(text, lang, fmt)
        engine, voice, _ = service.speech_for(lang)
        problem = service.status().get("kokoro_problem") or "no speech server answered"
    finally:
        await service.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    with wave.open(str(wav), "rb") as w:
        duration = w.getnframes() / w.getframerate()
    result = {"path": str(out), "format": fmt, "duration": round(duration, 3), "bytes": len(data),
              "language": lang, "engine": engine, "voice": voice}
    wanted = config.tts.engines.get(lang, "espeak")
    if engine != wanted:  # said out loud, not only in a log line nobody reads
        result.update(wanted=wanted, problem=problem)
        click.echo(f"warning: tts.engines.{lang} is {wanted}, but {engine} spoke: {problem}", err=True)
    return result


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


@click.group()
def speech() -> None:
    """Speech as a service: voicebot's recognisers and voices over the Wyoming protocol.

    \b
    Example:
      voicebot speech serve --uri tcp://0.0.0.0:10300
    """


@speech.command("serve")
@click.option("--uri", default="tcp://127.0.0.1:10300", show_default=True,
              help="Where to listen: tcp://HOST:PORT or unix:///PATH (one port per process).")
@click.option("--language", "-l", "languages", multiple=True,
              help="Language to serve (repeat; default: shop.language and those in asr.engine_by_language).")
@config_option
def speech_serve(uri: str, languages: tuple[str, ...], config_path: str | None) -> None:
    """Serve recognition (Vosk, Whisper with catalog steering) and voices (Kokoro, espeak-ng) over Wyoming.

    Front ends use it with `[asr] engine = "wyoming"`, `[asr] wyoming = ["tcp://HOST:PORT"]` and
    `[tts] engines = { zh = "wyoming" }`, `[tts] wyoming = [...]`. Run it once per port, as many times
    as the machine has cores for; recognition and synthesis run in worker processes.

    \b
    Example:
      voicebot speech serve --uri tcp://0.0.0.0:10300 --config speech.toml
      voicebot speech serve --uri tcp://0.0.0.0:10301 --config speech.toml
    """
    from voicebot.speech_server import serve  # the optional `wyoming` extra

    config = load_or_exit(config_path)
    try:
        check_uri(uri)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--uri") from None
    setup_logging(config.server.log_level)
    langs = list(languages) or [config.shop.language, *config.asr.engine_by_language]
    try:
        asyncio.run(serve(config, uri, langs, lambda: click.echo(f"voicebot speech server listening on {uri}")))
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:
        raise click.ClickException(f"cannot listen on {uri}: {e}") from None


COMMANDS = [say, speech]
