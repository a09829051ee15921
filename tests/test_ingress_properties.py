"""Property-based: the webhook's parsers and the NLU on arbitrary input (hypothesis).

The XML parser and the decryptor see bytes from anyone on the internet: whatever they get, they
either return a message or raise the channel's typed protocol error (which the webhook turns into
a 4xx) — never anything else, which would be a 500 with a traceback. The NLU sees whatever speech
recognition or a typing user produces: it never raises and always names a known intent.
"""

from __future__ import annotations

import base64
import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicebot.channels.wechat import WechatCrypto, WechatProtocolError, parse_message
from voicebot.channels.wechat.messages import cdata, parse_xml_fields
from voicebot.intents import REGISTRY
from voicebot.nlu import understand

KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CRYPTO = WechatCrypto("token", KEY, "wx0123456789abcdef")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KNOWN_INTENTS = set(REGISTRY)
PRODUCTS = {"zh": ["绿松石手链", "蜂蜜"], "en": ["turquoise bracelet", "honey"], "ko": ["사과", "배"]}

FIELDS = ["ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId", "Content", "MediaId", "Format", "Event"]
xml_like = st.recursive(
    st.text(max_size=20).map(cdata) | st.text(alphabet="<>&;!-[]?/ =\"'x0123456789", max_size=30),
    lambda inner: st.tuples(st.sampled_from(FIELDS + ["a", "xml", "!DOCTYPE x"]), st.lists(inner, max_size=4)).map(
        lambda t: f"<{t[0]}>{''.join(t[1])}</{t[0].split()[0]}>"
    ),
    max_leaves=30,
).map(lambda body: f"<xml>{body}</xml>")


@SETTINGS
@given(st.binary(max_size=2048) | xml_like.map(lambda s: s.encode("utf-8")))
def test_parse_message_raises_only_protocol_errors(data: bytes) -> None:
    try:
        parse_message(data)
        parse_xml_fields(data)
    except WechatProtocolError:
        pass


@SETTINGS
@given(st.text(max_size=300))
def test_parse_message_on_any_text_raises_only_protocol_errors(text: str) -> None:
    with contextlib.suppress(WechatProtocolError):
        parse_message(text)


@SETTINGS
@given(st.binary(max_size=1024).map(lambda b: base64.b64encode(b).decode()) | st.text(max_size=200))
def test_decrypt_raises_only_protocol_errors(ciphertext: str) -> None:
    with contextlib.suppress(WechatProtocolError):
        CRYPTO.decrypt_detailed(ciphertext)


@SETTINGS
@given(st.binary(min_size=0, max_size=600))
def test_well_formed_ciphertext_of_any_plaintext_decrypts_or_raises_protocol_errors(plain: bytes) -> None:
    # Well-formed base64 in whole blocks reaches the padding, length and AppID checks.
    encrypted = CRYPTO.encrypt(plain)
    assert CRYPTO.decrypt(encrypted) == plain
    raw = bytearray(base64.b64decode(encrypted))
    raw[-1] ^= 0x5A  # tamper with the last block: padding/AppID/length must catch it
    with contextlib.suppress(WechatProtocolError):
        CRYPTO.decrypt(base64.b64encode(bytes(raw)).decode())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=120), st.sampled_from(["zh", "en", "ko"]), st.sampled_from(["seller", "buyer"]))
def test_nlu_never_raises_and_always_names_a_known_intent(text: str, lang: str, role: str) -> None:
    result = understand(text, lang, role, PRODUCTS[lang])
    contract = result.to_contract()
    assert contract["intent"] in KNOWN_INTENTS
    assert set(contract) == {"intent", "product", "quantity", "price", "customer"}
    assert contract["quantity"] is None or isinstance(contract["quantity"], int)
