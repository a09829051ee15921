"""Property-based: the browser chat's WebSocket protocol against hostile numbers and shapes (hypothesis).

Every number a page sends is a row id. Whatever arrives, the parser returns a message whose numbers
SQLite can hold, or raises the protocol's typed error; and the live socket answers every such frame
with an ``error`` event and stays open (integers of 2**63 and more once crashed the handler: close 1006).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_service import Chat, start_web, web_config

from voicebot.channels.web.protocol import MAX_ROW_ID, TYPES, ProtocolError, parse_binary, parse_text

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_CLIP = 50_000

huge = st.integers(min_value=2**62, max_value=2**80) | st.integers(max_value=-(2**62), min_value=-(2**80))
numbers = (
    st.integers() | huge | st.floats() | st.booleans() | st.none() | st.text(max_size=30)
    | st.sampled_from([2**63, 2**63 - 1, 2**64, -(2**63) - 1, 10**30, 0, -1, 1.5, 1e400])
)
values = st.recursive(numbers, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                           max_size=3), max_leaves=8)
frames = st.fixed_dictionaries(
    {"type": st.sampled_from([*TYPES, "x", ""]) | values},
    optional={"id": st.sampled_from(["o-1", "h-1", "", "../x", "a" * 65]) | values, "after": values,
              "product_id": values, "text": values, "mime": values, "data": values},
)
# numbers JSON can carry that json.dumps would not write: 5 000 digits, exponents, NaN
raw_numbers = st.sampled_from(["9" * 5000, "-" + "9" * 5000, "1e999999", "NaN", "-Infinity", "9223372036854775808",
                               "18446744073709551616", "1" + "0" * 30, "1E30", "0.0", "-0"])
# a number placed in any field (a repeated "id" key replaces the first)
raw_frames = st.builds(lambda t, k, n: f'{{"type": "{t}", "id": "x-1", "{k}": {n}}}',
                       st.sampled_from(TYPES), st.sampled_from(["after", "product_id", "id", "text", "data"]),
                       raw_numbers)


def _bounded(msg) -> None:
    assert 0 <= msg.after <= MAX_ROW_ID and 0 <= msg.product_id <= MAX_ROW_ID
    assert type(msg.after) is int and type(msg.product_id) is int
    if msg.type == "order":
        assert msg.product_id >= 1


@SETTINGS
@given(frames.map(json.dumps) | raw_frames | st.text(max_size=200))
def test_text_frames_give_bounded_numbers_or_a_protocol_error(frame: str) -> None:
    try:
        msg = parse_text(frame, MAX_CLIP)
    except ProtocolError as e:
        assert e.event()["type"] == "error" and e.code
        return
    _bounded(msg)


@SETTINGS
@given((frames.map(json.dumps) | raw_frames).map(str.encode) | st.binary(max_size=300), st.binary(max_size=50))
def test_binary_frames_give_bounded_numbers_or_a_protocol_error(head: bytes, data: bytes) -> None:
    try:
        msg = parse_binary(head + b"\n" + data, MAX_CLIP)
    except ProtocolError:
        return
    assert msg.type == "clip"
    _bounded(msg)


@pytest.fixture
async def chat(aiohttp_server, tmp_path):
    service = await start_web(aiohttp_server, web_config(tmp_path / "data"), [("蜂蜜", 45, 5, "瓶")])
    chat = await Chat(service, service.buyer_link()).open()
    yield chat
    await chat.close()
    assert service.inbound() == []  # no hostile number became a message


# numbers no field accepts, written as JSON text (so also 5 000 digits, 1e999999 and NaN)
bad_numbers = (st.integers(min_value=2**63, max_value=2**200) | st.integers(max_value=-1, min_value=-(2**200))).map(
    str) | st.sampled_from(["9" * 5000, "-" + "9" * 5000, "1e999999", "NaN", "-Infinity", "1.5", "0.0", "true", "null",
                            '"1"', "[1]", "1E30"])


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["hello", "order"]), key=st.sampled_from(["after", "product_id", "id"]), number=bad_numbers)
async def test_the_live_socket_answers_hostile_numbers_with_an_error_and_stays_open(chat, kind, key, number):
    await chat.send(f'{{"type": "{kind}", "id": "n-1", "{key}": {number}}}')
    # a field the message reads, or a number too long for any JSON parser here: refused with an error event
    if kind == "order" or key == "after" or len(number) > 4300:
        event = await chat.next(timeout=30)
        assert event["type"] == "error" and event["code"] in ("bad_json", "bad_product", "bad_id"), event
    await chat.send({"type": "ping"})
    assert (await chat.next(timeout=30))["type"] == "pong"  # the socket is still open


async def test_integers_past_sqlite_get_an_error_event_not_a_dead_socket(chat):
    for frame in ({"type": "hello", "after": 2**63}, {"type": "order", "id": "o-1", "product_id": 2**64},
                  '{"type": "hello", "after": ' + "9" * 5000 + "}"):
        await chat.send(frame)
        assert (await chat.next(timeout=30))["type"] == "error"
    await chat.send({"type": "hello", "after": 2**63 - 1})  # the largest id is fine: nothing to resend
    await chat.send({"type": "ping"})
    assert (await chat.next(timeout=30))["type"] == "pong"
