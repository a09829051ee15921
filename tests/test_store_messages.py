"""The conversation log: redelivery recognised, fields round-trip, operator filters."""

from __future__ import annotations

import pytest

from voicebot.store import open_db
from voicebot.store.messages import (
    get_message,
    list_messages,
    record_inbound,
    record_outbound,
    unfinished_inbound,
    update_message,
)


@pytest.fixture
def db(tmp_path):
    d = open_db(tmp_path / "log.db")
    yield d
    d.close()


def test_same_channel_message_twice_is_not_new(db, tmp_path):
    first = record_inbound(db, "wechat", "6012345", "openid-1", "voice", media_path="/m/in.amr")
    again = record_inbound(db, "wechat", "6012345", "openid-1", "voice", media_path="/m/other.amr")
    other_channel = record_inbound(db, "web", "6012345", "browser-1", "voice")
    assert first[1] is True and again == (first[0], False)
    assert other_channel[1] is True and other_channel[0] != first[0]
    assert get_message(db, first[0])["media_path"] == "/m/in.amr"  # the redelivery changed nothing
    # also across connections (another process)
    second = open_db(tmp_path / "log.db")
    assert record_inbound(second, "wechat", "6012345", "openid-1", "voice") == (first[0], False)
    second.close()


def test_pipeline_fields_round_trip(db):
    mid, _ = record_inbound(db, "wechat", "m1", "u1", "voice")
    assert get_message(db, mid)["status"] == "received"
    words = [{"word": "卖了", "conf": 0.93, "start": 0.1, "end": 0.4}]
    intent = {"intent": "record_sale", "product": "手链", "quantity": 2, "price": None, "customer": "张三"}
    update_message(db, mid, status="processing", transcript="卖了 两条 手链", words=words, language="zh")
    update_message(db, mid, timings={"decode": 12.5, "asr": 410.0, "nlu": 3.1})
    update_message(db, mid, intent=intent, reply_text="好的", reply_audio_path="/m/out.amr", status="replied")
    row = get_message(db, mid)
    assert row["words"] == words and row["intent"] == intent
    assert row["timings"] == {"decode": 12.5, "asr": 410.0, "nlu": 3.1}
    assert (row["status"], row["direction"], row["transcript"]) == ("replied", "in", "卖了 两条 手链")
    with pytest.raises(ValueError):
        update_message(db, mid, status="lost")
    with pytest.raises(ValueError):
        update_message(db, mid, colour="red")
    with pytest.raises(KeyError):
        update_message(db, 999, status="failed")


def test_outbound_filters_and_unfinished(db):
    a, _ = record_inbound(db, "wechat", "a", "u1", "voice")
    b, _ = record_inbound(db, "wechat", "b", "u2", "text", transcript="hi")
    c, _ = record_inbound(db, "wechat", "c", "u1", "image")
    update_message(db, a, status="replied")
    update_message(db, c, status="failed", error="ffmpeg: invalid data")
    out = record_outbound(
        db, "wechat", "u1", "voice", reply_to_id=a, reply_text="好的", reply_audio_path="/x.amr"
    )
    assert get_message(db, out)["reply_to_id"] == a
    assert [m["id"] for m in list_messages(db, user="u1")] == [out, c, a]
    assert [m["id"] for m in list_messages(db, direction="in", status="failed")] == [c]
    assert [m["id"] for m in list_messages(db, limit=2, before_id=out)] == [c, b]
    assert [m["id"] for m in unfinished_inbound(db)] == [b]
