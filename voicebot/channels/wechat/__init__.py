"""The WeChat Official Account channel's protocol layer: signatures, crypto, XML, webhook front, API client."""

from voicebot.channels.wechat.api import KeyValueCache, MemoryCache, TokenCache, WechatApi, WechatApiError
from voicebot.channels.wechat.crypto import Decrypted, WechatCrypto
from voicebot.channels.wechat.errors import (
    BodyTimeout,
    BodyTooLarge,
    DecryptError,
    InvalidSignature,
    MalformedMessage,
    StaleTimestamp,
    WechatProtocolError,
    WrongAppId,
)
from voicebot.channels.wechat.messages import (
    SUCCESS,
    InboundMessage,
    image_reply,
    parse_message,
    text_reply,
    voice_reply,
)
from voicebot.channels.wechat.signature import check_signature, sign
from voicebot.channels.wechat.webhook import ReplyEncoder, WechatWebhook, make_webhook

__all__ = [
    "SUCCESS",
    "BodyTimeout",
    "BodyTooLarge",
    "Decrypted",
    "DecryptError",
    "InboundMessage",
    "InvalidSignature",
    "KeyValueCache",
    "MalformedMessage",
    "MemoryCache",
    "ReplyEncoder",
    "StaleTimestamp",
    "TokenCache",
    "WechatApi",
    "WechatApiError",
    "WechatCrypto",
    "WechatProtocolError",
    "WechatWebhook",
    "WrongAppId",
    "check_signature",
    "image_reply",
    "make_webhook",
    "parse_message",
    "sign",
    "text_reply",
    "voice_reply",
]
