"""Every way a run can fail has a {stage}.{code} and a spoken reply in every language."""

from __future__ import annotations

import pytest

from voicebot.asr.recognizer import AsrError, ModelMissing
from voicebot.audio import errors as audio_errors
from voicebot.dialogue import replies
from voicebot.lang.packs import available_languages
from voicebot.pipeline.failures import FALLBACK, SPOKEN, StageFailure, code_of, failure_of
from voicebot.pipeline.inbound import MediaError
from voicebot.shop.errors import PhotoError
from voicebot.store import StoreBusy


@pytest.mark.parametrize("lang", sorted(available_languages()))
def test_every_failure_has_a_reply_in_every_pack(lang):
    missing = [key for key in [*SPOKEN.values(), *FALLBACK.values()] if not replies.has(lang, key)]
    assert missing == []


def test_each_kind_of_failure_is_told_apart():
    cases = {
        audio_errors.CorruptAudio("bad frames"): ("decode.corrupt", "errors.audio_corrupt", "bad frames"),
        audio_errors.SilentAudio("quiet"): ("decode.silent", "errors.audio_silent", "quiet"),
        MediaError("gone", "expired"): ("fetch.expired", "errors.media_expired", "gone"),
        PhotoError("no photo 3", reason="missing"): ("photo.missing", "errors.photo_damaged", "no photo 3"),
        ModelMissing("ko"): ("asr.no_model", "errors.no_model", str(ModelMissing("ko"))),
        AsrError("worker died"): ("asr.failed", "errors.asr", "worker died"),
        StoreBusy("database is busy"): ("store.busy", "errors.busy", "database is busy"),
        ZeroDivisionError("bug"): ("run.internal", "errors.internal", "ZeroDivisionError: bug"),
    }
    for error, (code, key, detail) in cases.items():
        failure = failure_of(error)
        assert (f"{failure.stage}.{failure.code}", failure.reply_key, failure.detail) == (code, key, detail)
        assert failure.logged == f"{code}: {detail}"  # what the conversation log keeps
        assert failure.failed == (code == "run.internal")  # only a bug marks the message failed


def test_every_audio_error_code_has_its_own_reply():
    codes = {c.code for c in audio_errors.AudioError.__subclasses__()}
    assert {"corrupt", "silent", "too_long", "empty"} <= codes
    assert {f"decode.{c}" for c in codes} <= set(SPOKEN)


def test_the_code_is_read_back_from_what_the_log_keeps():
    for key in SPOKEN:
        stage, code = key.split(".")
        assert code_of(StageFailure(stage, code, "why: it failed").logged) == key
    assert code_of("corrupt: an older row") == "other" and code_of("ZeroDivisionError: x") == "other"
