"""Signatures, crypto and XML of the WeChat protocol, against the published vectors."""

import base64
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from voicebot.channels.wechat import (
    DecryptError,
    InvalidSignature,
    MalformedMessage,
    StaleTimestamp,
    WechatCrypto,
    WrongAppId,
    check_signature,
    image_reply,
    parse_message,
    sign,
    text_reply,
    voice_reply,
)
from voicebot.channels.wechat.crypto import decode_aes_key, pkcs7_pad, pkcs7_unpad
from voicebot.channels.wechat.messages import parse_xml_fields
from voicebot.channels.wechat.signature import verify_request

VECTOR_A = {
    "token": "spamtest",
    "key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "app_id": "wx2c2769f8efd9abc2",
    "timestamp": "1409735669",
    "nonce": "1320562132",
    "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
    "encrypt": (
        "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9"
        "FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+"
        "WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0E"
        "IBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
    ),
}
VECTOR_B_REPLY = """<xml>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[test]]></Content>
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>
<ToUserName><![CDATA[messense]]></ToUserName>
<AgentID>1</AgentID>
<CreateTime>1411525903</CreateTime>
</xml>"""


def vector_a() -> WechatCrypto:
    return WechatCrypto(VECTOR_A["token"], VECTOR_A["key"], VECTOR_A["app_id"])


# -- signatures -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("token", "timestamp", "nonce", "expected"),
    [
        ("AAAAA", "1714036504", "1514711492", "f464b24fc39322e44b38aa78f5edd27bd1441696"),
        ("test", "1410685589", "test", "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"),
    ],
)
def test_signature_vectors(token, timestamp, nonce, expected):
    assert sign(token, timestamp, nonce) == expected
    assert check_signature(token, expected, timestamp, nonce)
    assert check_signature(token, expected.upper(), timestamp, nonce)  # hex case does not matter
    forged = expected[:-1] + ("0" if expected[-1] != "0" else "1")
    assert not check_signature(token, forged, timestamp, nonce)
    assert not check_signature(token + "x", expected, timestamp, nonce)
    assert not check_signature(token, "", timestamp, nonce)


def test_verify_request_checks_signature_then_timestamp_window():
    token, ts, nonce = "test", "1410685589", "test"
    sig = sign(token, ts, nonce)
    verify_request(token, sig, ts, nonce, window_s=300, now=1410685589 + 299)
    with pytest.raises(StaleTimestamp):
        verify_request(token, sig, ts, nonce, window_s=300, now=1410685589 + 301)
    with pytest.raises(StaleTimestamp):
        verify_request(token, sig, ts, nonce, window_s=300, now=1410685589 - 301)
    with pytest.raises(InvalidSignature):
        verify_request(token, sig, ts, "other", window_s=300, now=1410685589)
    with pytest.raises(InvalidSignature):  # an unconfigured token never validates anything
        verify_request("", sign("", ts, nonce), ts, nonce, window_s=300, now=1410685589)


# -- crypto vectors ---------------------------------------------------------------------------------
def test_vector_a_msg_signature_and_decrypt_to_tencent_sample():
    crypto = vector_a()
    assert crypto.msg_signature(VECTOR_A["timestamp"], VECTOR_A["nonce"], VECTOR_A["encrypt"]) == VECTOR_A[
        "msg_signature"
    ]
    crypto.verify_msg_signature(VECTOR_A["msg_signature"], VECTOR_A["timestamp"], VECTOR_A["nonce"], VECTOR_A["encrypt"])
    plain = crypto.decrypt(VECTOR_A["encrypt"])
    assert len(plain) == 280
    msg = parse_message(plain)
    assert msg.from_user == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
    assert msg.to_user == "gh_10f6c3c3ac5a"
    assert msg.msg_type == "text"
    assert msg.content == "abcdteT"
    assert msg.msg_id == "6054768590064713728"
    assert msg.create_time == 1409735668
    assert msg.dedup_key == "6054768590064713728"


def test_vector_b_deterministic_encryption_gives_published_msg_signature():
    crypto = WechatCrypto("123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a")
    envelope = crypto.encrypt_reply(
        VECTOR_B_REPLY, timestamp="1411525903", nonce="461056294", random_prefix=b"1234567890123456"
    )
    fields = parse_xml_fields(envelope)
    assert fields["MsgSignature"] == "407518b7649e86ef23978113f92d27afa9296533"
    assert fields["TimeStamp"] == "1411525903"
    assert fields["Nonce"] == "461056294"
    assert crypto.decrypt_envelope(envelope).message == VECTOR_B_REPLY.encode()


def test_random_prefix_differs_every_time_and_round_trips():
    crypto = vector_a()
    a, b = crypto.encrypt("你好".encode()), crypto.encrypt("你好".encode())
    assert a != b
    assert crypto.decrypt(a) == crypto.decrypt(b) == "你好".encode()


# -- rejection --------------------------------------------------------------------------------------
def _raw_encrypt(key: bytes, plaintext: bytes) -> str:
    """Encrypt already-padded bytes, to build ciphertexts the real encoder never makes."""
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plaintext) + enc.finalize()).decode()


def test_tampered_ciphertext_is_rejected():
    crypto = vector_a()
    raw = bytearray(base64.b64decode(VECTOR_A["encrypt"]))
    raw[-20] ^= 0x01  # garbles the AppID block and flips a padding byte of the last block
    with pytest.raises(DecryptError):
        crypto.decrypt(base64.b64encode(bytes(raw)).decode())
    with pytest.raises(DecryptError):
        crypto.decrypt(VECTOR_A["encrypt"][:-8])  # truncated
    with pytest.raises(DecryptError):
        crypto.decrypt("not base64 at all!!")


def test_wrong_app_id_is_rejected():
    other = WechatCrypto(VECTOR_A["token"], VECTOR_A["key"], "wx_someone_else")
    with pytest.raises(WrongAppId):
        vector_a().decrypt(other.encrypt(b"<xml/>"))


@pytest.mark.parametrize("pad", [0, 33, 255])
def test_padding_value_out_of_range_is_rejected(pad):
    key = decode_aes_key(VECTOR_A["key"])
    body = b"0" * 16 + struct.pack(">I", 6) + b"<xml/>" + VECTOR_A["app_id"].encode()
    body += b"x" * (-(len(body) + 1) % 32) + bytes([pad])
    with pytest.raises(DecryptError, match="padding"):
        vector_a().decrypt(_raw_encrypt(key, body))


def test_unequal_padding_bytes_are_rejected():
    key = decode_aes_key(VECTOR_A["key"])
    body = pkcs7_pad(b"0" * 16 + struct.pack(">I", 6) + b"<xml/>" + VECTOR_A["app_id"].encode())
    n = body[-1]
    assert n > 1
    tampered = body[:-2] + bytes([n ^ 0x40, n])
    with pytest.raises(DecryptError, match="padding"):
        vector_a().decrypt(_raw_encrypt(key, tampered))
    assert pkcs7_unpad(body) == body[:-n]


def test_length_field_beyond_plaintext_is_rejected():
    key = decode_aes_key(VECTOR_A["key"])
    body = pkcs7_pad(b"0" * 16 + struct.pack(">I", 5000) + b"<xml/>" + VECTOR_A["app_id"].encode())
    with pytest.raises(DecryptError, match="length"):
        vector_a().decrypt(_raw_encrypt(key, body))


def test_key_rotation_previous_key_accepted_and_reported():
    old_key, new_key = VECTOR_A["key"], "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
    sender_on_old_key = WechatCrypto("t", old_key, "wxapp")
    rotated = WechatCrypto("t", new_key, "wxapp", previous_encoding_aes_key=old_key)
    opened = rotated.decrypt_detailed(sender_on_old_key.encrypt(b"<xml>old</xml>"))
    assert (opened.message, opened.key_index) == (b"<xml>old</xml>", 1)
    reply = rotated.encrypt(b"<xml>reply</xml>", key_index=opened.key_index)
    assert sender_on_old_key.decrypt(reply) == b"<xml>reply</xml>"
    assert rotated.decrypt_detailed(rotated.encrypt(b"new")).key_index == 0
    not_rotated = WechatCrypto("t", new_key, "wxapp")
    with pytest.raises(DecryptError):
        not_rotated.decrypt(sender_on_old_key.encrypt(b"<xml>old</xml>"))


def test_bad_encoding_aes_key_is_refused_at_construction():
    with pytest.raises(ValueError, match="43"):
        WechatCrypto("t", "short", "wx")


# -- XML ------------------------------------------------------------------------------------------
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&e;</Content><MsgId>1</MsgId></xml>"""
BARE_DTD = b"""<!DOCTYPE xml><xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName>
<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>"""


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        XXE,
        BARE_DTD,
        b"<xml><ToUserName>gh</ToUserName>",  # not well formed
        b"<other><MsgType>text</MsgType></other>",  # wrong root
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><MsgType>text</MsgType></xml>",
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>soon</CreateTime>"
        b"<MsgType>text</MsgType></xml>",
        b"",
    ],
    ids=["billion-laughs", "xxe", "dtd", "truncated", "root", "no-createtime", "bad-createtime", "empty"],
)
def test_unsafe_or_malformed_xml_is_rejected(body):
    with pytest.raises(MalformedMessage):
        parse_message(body)


def test_parse_every_message_kind():
    voice = parse_message(
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>"
        "<CreateTime>1714036504</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
        "<MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[AMR]]></Format><Recognition><![CDATA[]]></Recognition>"
        "<MsgId>24512345678901234</MsgId></xml>"
    )
    assert (voice.msg_type, voice.media_id, voice.format, voice.recognition) == ("voice", "m1", "amr", "")
    image = parse_message(
        "<xml><ToUserName>gh_1</ToUserName><FromUserName>oUser</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>image</MsgType><PicUrl>http://x/y</PicUrl><MediaId>m2</MediaId><MsgId>7</MsgId></xml>"
    )
    assert (image.pic_url, image.media_id) == ("http://x/y", "m2")
    event = parse_message(
        "<xml><ToUserName>gh_1</ToUserName><FromUserName>oUser</FromUserName><CreateTime>1714036504</CreateTime>"
        "<MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_42</EventKey></xml>"
    )
    assert (event.event, event.event_key, event.msg_id) == ("subscribe", "qrscene_42", None)
    assert event.dedup_key == "event:oUser:1714036504:subscribe:qrscene_42"


def test_passive_replies_address_the_sender_and_survive_cdata_terminators():
    msg = parse_message(
        "<xml><ToUserName>gh_1</ToUserName><FromUserName>oUser</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>hi</Content><MsgId>7</MsgId></xml>"
    )
    text = parse_xml_fields(text_reply(msg, "价格 ]]> 五元", create_time=5))
    assert text == {
        "ToUserName": "oUser",
        "FromUserName": "gh_1",
        "CreateTime": "5",
        "MsgType": "text",
        "Content": "价格 ]]> 五元",
    }
    assert parse_xml_fields(voice_reply(msg, "MID"))["Voice"] == {"MediaId": "MID"}
    assert parse_xml_fields(image_reply(msg, "PID"))["Image"] == {"MediaId": "PID"}
