"""Per language: which recogniser and which voice will actually run, where their files are, and what is wrong.

Logged once per language when the service starts (``serve.language``) and printed by
``voicebot serve --check``, which exits non-zero when a configured engine cannot start. A Kokoro voice
that silently fell back to espeak-ng, a Whisper model that is not there or a speech server that does
not answer is then said out loud instead of found out by a seller.
"""

from __future__ import annotations

from typing import Any

from voicebot.asr.engines import Recognizers
from voicebot.config import Config
from voicebot.tts.service import TtsService


def configured_languages(config: Config) -> list[str]:
    """The shop's language and every language given its own recogniser."""
    return list(dict.fromkeys([config.shop.language, *config.asr.engine_by_language]))


def language_summary(config: Config, asr: Recognizers, tts: TtsService) -> list[dict[str, Any]]:
    """One entry per language ``asr`` serves: recogniser, model, where it is, voice, its files, problems."""
    status = asr.status()
    engines = status.get("engines", {})
    out: list[dict[str, Any]] = []
    for lang, entry in status["languages"].items():
        problems: list[str] = []
        engine = entry.get("engine", "?")
        if not entry.get("installed"):
            problems.append(f"recogniser: {entry.get('fix') or 'no model'}")
        elif engine != "wyoming" and not engines.get(engine, {}).get("workers"):  # closed after a failed start
            problems.append(f"recogniser: the {engine} engine did not start (see the asr.start_failed log line)")
        where = entry.get("path") or (", ".join(entry["servers"]) if entry.get("servers") else None)
        line: dict[str, Any] = {"language": lang, "recogniser": engine, "model": entry.get("model"),
                                "model_path": where}
        wanted = config.tts.engines.get(lang, "espeak")
        if lang in config.tts.voices:
            speaks, voice, _ = tts.speech_for(lang)
            line.update(voice=f"{speaks}:{voice}", voice_files=tts.files_for(lang))
            if speaks != wanted:
                why = tts.status().get("kokoro_problem") if wanted == "kokoro" else "no speech server answers"
                problems.append(f"voice: tts.engines.{lang} is {wanted} but {speaks} speaks ({why})")
            if lang in tts.missing_voices():
                problems.append(f"voice: espeak-ng has no voice {config.tts.voices[lang]!r}")
        else:
            line.update(voice=None, voice_files=None)
            problems.append(f"voice: tts.voices has no entry for {lang!r}")
        line.update(ok=not problems, problems=problems)
        out.append(line)
    return out
