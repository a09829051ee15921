"""Audio in and out with real encoders: every input format decodes, bad audio fails clearly."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from voicebot.audio import amr, errors
from voicebot.audio.decode import Pcm, decode, decode_sync
from voicebot.audio.encode import encode, encode_sync, format_for_path
from voicebot.audio.levels import is_silent, rms_dbfs
from voicebot.audio.sniff import sniff
from voicebot.config import AudioConfig
from voicebot.testing.speech import (
    FORMATS,
    SUFFIXES,
    convert,
    espeak_wav,
    pad_silence,
    silence_wav,
    wav_duration,
)

LIMITS = AudioConfig()
SNIFFED = {"wav": "wav", "amr-nb": "amr-nb", "amr-wb": "amr-wb", "speex": "ogg", "mp3": "mp3",
           "opus": "ogg", "webm": "webm", "m4a": "m4a", "silk": "silk"}


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Korean espeak-ng speech with pauses around it, as a voice note has."""
    d = tmp_path_factory.mktemp("speech")
    raw = espeak_wav("안녕하세요 팔찌 두 개 주문할게요", "ko", d / "raw.wav")
    return pad_silence(raw, d / "speech.wav", before=0.4, after=0.8)


@pytest.fixture(scope="module")
def encoded(speech: Path) -> dict[str, bytes]:
    return {fmt: convert(speech, fmt, speech.parent / f"x{SUFFIXES[fmt]}").read_bytes() for fmt in FORMATS}


@pytest.mark.parametrize("fmt", FORMATS)
async def test_every_input_format_decodes_to_the_right_duration(fmt: str, speech: Path, encoded: dict) -> None:
    data = encoded[fmt]
    assert sniff(data) == SNIFFED[fmt]
    pcm = await decode(data, LIMITS)
    assert pcm.sample_rate == 16000
    assert pcm.duration == pytest.approx(wav_duration(speech), rel=0.05)
    assert rms_dbfs(pcm.data) > -35


def test_sync_and_async_decoders_agree(encoded: dict) -> None:
    import asyncio

    for fmt in ("amr-nb", "silk", "opus"):
        assert decode_sync(encoded[fmt], LIMITS).data == asyncio.run(decode(encoded[fmt], LIMITS)).data


def test_dtx_pauses_in_amr_keep_their_length(encoded: dict) -> None:
    # sox writes pauses as SID/NO_DATA frames; those must still decode to 20 ms each.
    frames, cut = amr.split_frames(encoded["amr-nb"], amr.NB)
    assert not cut
    assert any((f[0] >> 3) & 0x0F in (8, 15) for f in frames)
    assert decode_sync(encoded["amr-nb"], LIMITS).duration == pytest.approx(len(frames) * 0.02)


async def test_random_bytes_are_rejected() -> None:
    data = random.Random(7).randbytes(20_000)
    with pytest.raises((errors.CorruptAudio, errors.UnsupportedFormat)):
        await decode(data, LIMITS)
    with pytest.raises(errors.CorruptAudio, match="mp3"):  # looks like MP3 at first, is not
        await decode(b"ID3\x04\x00\x00\x00\x00\x00\x00" + data, LIMITS)


async def test_amr_header_only_is_corrupt() -> None:
    with pytest.raises(errors.CorruptAudio, match="amr-nb"):
        await decode(b"#!AMR\n", LIMITS)
    with pytest.raises(errors.CorruptAudio):
        await decode(b"#!AMR\n\x3c\x01\x02", LIMITS)  # a 12.2k frame cut after 2 of 31 bytes


async def test_truncated_amr_keeps_the_frames_it_has(encoded: dict) -> None:
    data = encoded["amr-nb"]
    full = await decode(data, LIMITS)
    half = await decode(data[: len(data) // 2 + 3], LIMITS, check_silence=False)
    assert 0.2 * full.duration < half.duration < 0.9 * full.duration


async def test_empty_audio() -> None:
    with pytest.raises(errors.EmptyAudio):
        await decode(b"", LIMITS)


async def test_oversized_audio_is_refused_before_decoding(encoded: dict) -> None:
    with pytest.raises(errors.TooLarge, match="limit"):
        await decode(encoded["wav"], AudioConfig(max_file_bytes=10_000))


@pytest.fixture(scope="module")
def ten_minutes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("long")
    wav = silence_wav(d / "silence.wav", 600, rate=8000)
    amr_path = d / "long.amr"
    subprocess.run(["sox", str(wav), "-t", "amr-nb", str(amr_path)], check=True)
    return {"amr-nb": amr_path.read_bytes(), "opus": convert(wav, "opus", d / "long.ogg").read_bytes()}


@pytest.mark.parametrize("fmt", ["amr-nb", "opus"])
async def test_ten_minutes_is_too_long(fmt: str, ten_minutes: dict) -> None:
    with pytest.raises(errors.TooLong, match="60 s"):
        await decode(ten_minutes[fmt], LIMITS)


def test_amr_decoding_stops_at_the_limit(ten_minutes: dict) -> None:
    pcm = amr.decode_frames(ten_minutes["amr-nb"], amr.NB, max_seconds=61)
    assert len(pcm) / 2 / 8000 == pytest.approx(61, abs=0.05)


async def test_silence_is_reported(tmp_path: Path) -> None:
    data = silence_wav(tmp_path / "s.wav", 3).read_bytes()
    with pytest.raises(errors.SilentAudio):
        await decode(data, LIMITS)
    pcm = await decode(data, LIMITS, check_silence=False)
    assert pcm.duration == pytest.approx(3.0)


async def test_a_hung_decoder_times_out(encoded: dict) -> None:
    with pytest.raises(errors.AudioTimeout, match="killed"):
        await decode(encoded["mp3"], AudioConfig(subprocess_timeout_s=0.001))


def test_levels() -> None:
    assert rms_dbfs(b"\0\0" * 1600) == -120.0
    square = (b"\xff\x7f" + b"\x00\x80") * 800
    assert rms_dbfs(square) == pytest.approx(0, abs=0.01)
    quiet_then_loud = b"\0\0" * 16000 + b"\x00\x10\x00\xf0" * 800
    assert not is_silent(quiet_then_loud, -45)
    assert is_silent(b"\x01\x00" * 16000, -45)


@pytest.mark.parametrize("fmt", ["amr", "mp3", "ogg", "wav"])
async def test_encode_round_trip(fmt: str, speech: Path) -> None:
    from_wav = await encode(speech, fmt)
    pcm = decode_sync(from_wav, LIMITS)
    assert pcm.duration == pytest.approx(wav_duration(speech), rel=0.05)
    assert rms_dbfs(pcm.data) > -35
    again = encode_sync(Pcm(pcm.data), fmt)
    assert decode_sync(again, LIMITS).duration == pytest.approx(pcm.duration, rel=0.05)


async def test_amr_replies_are_narrowband_without_dtx(speech: Path) -> None:
    data = await encode(speech, "amr")
    assert sniff(data) == "amr-nb"
    frames, cut = amr.split_frames(data, amr.NB)
    assert not cut and {(f[0] >> 3) & 0x0F for f in frames} == {7}  # every frame 12.2 kbit/s speech


def test_output_format_from_suffix() -> None:
    assert [format_for_path(p) for p in ("a.amr", "b.MP3", "c.ogg", "d.wav")] == ["amr", "mp3", "ogg", "wav"]
    with pytest.raises(errors.UnsupportedFormat, match=".flac"):
        format_for_path("x.flac")
