"""Scan events as the webhook reads them: the scene is hostile input, and events are de-duplicated by
FromUserName + CreateTime without two different events swallowing each other."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicebot.channels.wechat.channel import WechatChannel
from voicebot.channels.wechat.errors import MalformedMessage
from voicebot.channels.wechat.messages import cdata, parse_message
from voicebot.pipeline.inbound import event_text, parse_event_text


def event(name: str, key: str | None = None, *, user: str = "oUser", ts: int = 1714036504, extra: str = "") -> str:
    body = f"<Event>{cdata(name)}</Event>" + (f"<EventKey>{cdata(key)}</EventKey>" if key is not None else "")
    return (f"<xml><ToUserName>gh_1</ToUserName><FromUserName>{user}</FromUserName><CreateTime>{ts}</CreateTime>"
            f"<MsgType>event</MsgType>{body}{extra}</xml>")


@pytest.mark.parametrize(("name", "key", "scene"), [
    ("subscribe", "qrscene_guo", "guo"),
    ("Subscribe", "qrscene_shop:12", "shop:12"),
    ("SCAN", "guo", "guo"),
    ("scan", "Guo-01", "Guo-01"),
    ("subscribe", "qrscene_qrscene_x", "qrscene_x"),  # the prefix is stripped once, at the start only
    ("subscribe", None, None),  # followed by searching for the account: no code
    ("subscribe", "", None),
    ("subscribe", "last_trade_no_4200000123", None),  # a follow after paying
    ("subscribe", "xqrscene_guo", None),
    ("CLICK", "qrscene_guo", None),
    ("unsubscribe", "", None),
    ("SCAN", "", ""),  # a scan that names nothing: an unknown code
    ("subscribe", "qrscene_", ""),
    ("SCAN", "../../etc/passwd", ""),
    ("SCAN", "郭姐", ""),
    ("SCAN", "a b", ""),
    ("SCAN", "a\tb", ""),
    ("SCAN", "x" * 65, ""),
    ("subscribe", "qrscene_" + "x" * 64, "x" * 64),
    ("SCAN", "<script>", ""),
])
def test_the_scene_of_a_scan(name, key, scene):
    assert parse_message(event(name, key)).qr_scene == scene


def test_an_event_key_longer_than_wechat_sends_is_refused():
    assert parse_message(event("VIEW", "https://x/" + "a" * 1000)).qr_scene is None
    with pytest.raises(MalformedMessage):
        parse_message(event("SCAN", "a" * 1025))
    with pytest.raises(MalformedMessage):
        parse_message(event("x" * 65, "a"))


@given(st.text(max_size=80))
def test_any_event_key_gives_a_safe_scene_or_none(key):
    try:
        msg = parse_message(event("SCAN", key).encode("utf-8", "surrogatepass"))
    except MalformedMessage:
        return  # characters XML cannot carry
    scene = msg.qr_scene
    assert scene is not None
    assert scene == "" or (scene == msg.event_key and scene.isascii() and scene.isprintable() and " " not in scene
                           and 1 <= len(scene) <= 64)
    inbound = WechatChannel.to_inbound(msg)
    assert parse_event_text(event_text(inbound.event, inbound.scene)) == ("scan", scene)


def test_redelivery_of_an_event_is_one_event_but_two_events_in_one_second_are_two():
    scan_a = parse_message(event("SCAN", "shopA"))
    assert parse_message(event("SCAN", "shopA")).dedup_key == scan_a.dedup_key  # WeChat's redelivery
    keys = {
        scan_a.dedup_key,
        parse_message(event("SCAN", "shopB")).dedup_key,  # scanned another shop within the second
        parse_message(event("LOCATION", None, extra="<Latitude>30.1</Latitude>")).dedup_key,
        parse_message(event("subscribe", "qrscene_shopA")).dedup_key,
        parse_message(event("SCAN", "shopA", ts=1714036505)).dedup_key,
        parse_message(event("SCAN", "shopA", user="oOther")).dedup_key,
    }
    assert len(keys) == 6
    assert all(k.startswith("event:") and not k.isdigit() for k in keys)  # never a MsgId
    long_key = parse_message(event("VIEW", "https://x/" + "a" * 900)).dedup_key
    assert len(long_key) < 160


def test_scan_events_reach_the_pipeline_with_their_scene():
    inbound = WechatChannel.to_inbound(parse_message(event("subscribe", "qrscene_guo")))
    assert (inbound.kind, inbound.event, inbound.scene) == ("event", "subscribe", "guo")
    assert event_text(inbound.event, inbound.scene) == "subscribe:guo"
    plain = WechatChannel.to_inbound(parse_message(event("subscribe")))
    assert (plain.event, plain.scene) == ("subscribe", None)
    assert parse_event_text(event_text(plain.event, plain.scene)) == ("subscribe", None)
    unknown = WechatChannel.to_inbound(parse_message(event("SCAN", "郭姐")))
    assert parse_event_text(event_text(unknown.event, unknown.scene)) == ("scan", "")
    click = WechatChannel.to_inbound(parse_message(event("CLICK", "qrscene_guo")))
    assert parse_event_text(event_text(click.event, click.scene)) == ("ignored:click", None)
