"""Kokoro-82M behind the TTS service: speaks zh and en in the worker, is cached per engine, and steps
aside for espeak-ng (with the fix in the log and /healthz) when its files are missing."""

from __future__ import annotations

import asyncio
import io
import logging
import tarfile
import wave
import zipfile
from pathlib import Path

import numpy as np
import pytest

from voicebot.config import load_config
from voicebot.tts import kokoro_files
from voicebot.tts.kokoro import VOCAB, chunks, en_phonemes, tokens, zh_phonemes
from voicebot.tts.kokoro_files import KokoroMissing, ensure
from voicebot.tts.service import TtsService


def _wav(path: Path) -> tuple[int, float]:
    with wave.open(str(path), "rb") as w:
        return w.getframerate(), w.getnframes() / w.getframerate()


def test_phonemes_are_mandarin_with_tones_and_english_ipa_in_kokoros_vocabulary() -> None:
    zh = zh_phonemes("好的，绿松石手链，两百块。")
    assert "↓" in zh and "↘" in zh and "ʂ" in zh  # third and fourth tones, retroflex sh
    en = en_phonemes("Two hundred yuan, thank you.")
    assert "h" in en and "," in en
    assert all(p in VOCAB for p in zh + en if not p.isspace())
    assert VOCAB[" "] == 16 and VOCAB["ʃ"] == 131 and VOCAB["ᵻ"] == 177 and len(tokens(zh * 100)) == 510


def test_long_text_is_spoken_whole_in_pieces_the_model_takes() -> None:
    sentences = [zh_phonemes("绿松石手链两百块一条，还有十条。")] * 14 + [zh_phonemes("还有十条，" * 80)]
    pieces = chunks(sentences)
    assert all(len(tokens(p, limit=None)) <= 510 for p in pieces) and len(pieces) >= 5
    said = "".join(p.replace(" ", "") for p in pieces)
    assert said == "".join(s.replace(" ", "") for s in sentences)  # nothing dropped, nothing added


async def test_kokoro_speaks_zh_and_en_in_the_worker_and_is_cached_apart_from_espeak(tmp_path: Path) -> None:
    config = load_config(overrides={"server": {"data_dir": str(tmp_path / "data")}}, environ={})
    service = TtsService(config)
    await service.start()
    try:
        status = service.status()
        assert status["engines"] == {"zh": "kokoro", "en": "kokoro", "ko": "espeak"}, status["kokoro_problem"]
        zh = await service.synthesize("好的，两条绿松石手链，一共两百块。", "zh")
        rate, audio_length = _wav(zh)  # the reply's length in the audio, a sentence's worth: not a timing
        assert rate == 24_000 and 2.0 < audio_length < 8.0
        en = await service.synthesize("OK, two jars of honey.", "en")
        assert _wav(en)[0] == 24_000
        config.tts.engines["zh"] = "espeak"
        espeak = await service.synthesize("好的，两条绿松石手链，一共两百块。", "zh")
        assert espeak != zh and _wav(espeak)[0] == 22_050  # another engine, another cache entry
        assert status["worker_pid"] == service.worker_pid()  # Kokoro ran in the TTS worker
    finally:
        await service.close()


async def test_without_kokoros_files_espeak_speaks_and_the_fix_is_logged(tmp_path: Path, caplog) -> None:
    config = load_config(overrides={"server": {"data_dir": str(tmp_path / "data")},
                                    "asr": {"models_dir": str(tmp_path / "models")},
                                    "tts": {"kokoro_npm_cache": str(tmp_path / "npm")}}, environ={})
    service = TtsService(config)
    with caplog.at_level(logging.INFO, logger="voicebot"):
        await service.start()
    try:
        status = service.status()
        assert status["engines"]["zh"] == "espeak" and status["engines"]["en"] == "espeak"
        assert "voicebot models pull tts-zh" in status["kokoro_problem"]
        assert any("tts.kokoro_missing" in r.getMessage() and "models pull tts-zh" in r.getMessage()
                   for r in caplog.records)
        assert _wav(await service.synthesize("好的", "zh"))[1] > 0.3
    finally:
        await service.close()
    assert not (tmp_path / "models" / "kokoro-v1.0" / "kokoro-v1.0.int8.onnx").exists()  # nothing half-made


def test_voices_come_from_the_release_archive(tmp_path: Path) -> None:
    folder = tmp_path / "models" / kokoro_files.FOLDER
    folder.mkdir(parents=True)
    style = np.arange(510 * 256, dtype=np.float32).reshape(510, 1, 256)
    buf = io.BytesIO()
    np.savez(buf, zm_yunxi=style)
    (folder / kokoro_files.VOICES_ARCHIVE).write_bytes(buf.getvalue())
    assert zipfile.is_zipfile(folder / kokoro_files.VOICES_ARCHIVE)
    files = ensure(tmp_path / "models", ["zm_yunxi"], None)  # the model comes from the PyPI parts
    assert (files.voices_dir / "zm_yunxi.bin").read_bytes() == style.astype("<f4").tobytes()
    assert files.model.stat().st_size == kokoro_files.MODEL_SIZE
    with pytest.raises(KokoroMissing, match="af_heart"):
        ensure(tmp_path / "models", ["af_heart"], None)


def test_a_tampered_npm_tarball_is_refused(tmp_path: Path) -> None:
    npm = tmp_path / "npm"
    npm.mkdir()
    with tarfile.open(npm / kokoro_files.NPM_TARBALL, "w:gz") as tf:
        data = b"\0" * kokoro_files.VOICE_BYTES
        info = tarfile.TarInfo("package/voices/zm_yunxi.bin")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    with pytest.raises(KokoroMissing, match="sha256"):
        ensure(tmp_path / "models", ["zm_yunxi"], npm)
    assert not (tmp_path / "models" / kokoro_files.FOLDER / "voices" / "zm_yunxi.bin").exists()


def test_voices_are_extracted_from_the_verified_npm_tarball(tmp_path: Path) -> None:
    npm = Path(".cache/npm")
    assert (npm / kokoro_files.NPM_TARBALL).is_file(), "run `make install` (it fetches kokoro-js with npm)"
    files = asyncio.run(asyncio.to_thread(ensure, tmp_path / "models", ["zf_xiaoyi"], npm))
    assert (files.voices_dir / "zf_xiaoyi.bin").stat().st_size == kokoro_files.VOICE_BYTES


class _Files:
    """A local HTTP server for a release folder (what `--url` points at)."""

    def __init__(self, files: dict[str, Path | bytes]) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                body = files.get(self.path.rsplit("/", 1)[-1])
                if body is None:
                    self.send_error(404)
                    return
                data = body.read_bytes() if isinstance(body, Path) else body
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/release"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _Files:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def test_models_pull_tts_zh_downloads_verifies_and_installs_the_voice(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from voicebot.cli import main
    from voicebot.packaged_models import KOKORO_V1, assemble

    model = assemble(KOKORO_V1, Path("models")) / kokoro_files.MODEL_FILE
    buf = io.BytesIO()
    np.savez(buf, zm_yunxi=np.ones((510, 1, 256), np.float32), af_heart=np.zeros((510, 1, 256), np.float32))
    env = {"VOICEBOT_ASR__MODELS_DIR": str(tmp_path / "models")}
    with _Files({kokoro_files.MODEL_FILE: b"not a model", kokoro_files.VOICES_ARCHIVE: buf.getvalue()}) as bad:
        result = CliRunner(env=env).invoke(main, ["models", "pull", "tts-zh", "--url", bad.url, "--quiet"])
    assert result.exit_code == 1 and "refusing" in result.output
    assert not list((tmp_path / "models").rglob("*.onnx*"))  # nothing half-downloaded is kept as the model
    with _Files({kokoro_files.MODEL_FILE: model, kokoro_files.VOICES_ARCHIVE: buf.getvalue()}) as good:
        result = CliRunner(env=env).invoke(main, ["models", "pull", "tts-zh", "--url", good.url, "--quiet"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "models" / kokoro_files.FOLDER
    assert (folder / kokoro_files.MODEL_FILE).stat().st_size == kokoro_files.MODEL_SIZE
    assert (folder / "voices" / "zm_yunxi.bin").read_bytes() == np.ones(510 * 256, "<f4").tobytes()
    assert (folder / "voices" / "af_heart.bin").is_file()
