"""Long spoken answers are split into voice messages WeChat accepts (each under 60 s and 2 MB)."""

from __future__ import annotations

from voicebot.audio.decode import decode_sync
from voicebot.channels.wechat.policy import LIMITS
from voicebot.config import AudioConfig, load_config
from voicebot.pipeline.voice_parts import speak_in_parts, split_text
from voicebot.tts.service import TtsService


def test_split_text_cuts_after_sentence_marks():
    parts = split_text("绿松石手链两百块。蜂蜜四十五块。茶叶三十块。香菇二十块。", 2)
    assert len(parts) == 2 and "".join(parts) == "绿松石手链两百块。蜂蜜四十五块。茶叶三十块。香菇二十块。"
    assert all(p.endswith("。") for p in parts)
    assert split_text("one two three four", 2) == ["one two", "three four"]


async def test_a_long_answer_becomes_several_playable_voice_messages(tmp_path):
    # espeak-ng: this is about splitting, and it synthesises a minute of speech fast (~3 syllables/s).
    config = load_config(overrides={"server": {"data_dir": str(tmp_path)}, "tts": {"engines": {"zh": "espeak"}}},
                         environ={})
    tts = TtsService(config)
    await tts.start()
    try:
        sentence = "绿松石手链两百块一条，还有十条。"
        text = sentence * 22
        parts = await speak_in_parts(tts, text, "zh", "amr", LIMITS)
        short = await speak_in_parts(tts, sentence, "zh", "amr", LIMITS)
    finally:
        await tts.close()
    assert len(short) == 1
    assert len(parts) >= 2
    assert "".join(t for t, _ in parts) == text
    durations = [decode_sync(audio, AudioConfig(max_voice_seconds=600)).duration for _, audio in parts]
    assert all(0.5 < d < 60 for d in durations), durations
    assert sum(durations) > 60
