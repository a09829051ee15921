"""Exceptions of the WeChat channel; each has a stable ``code`` for logs and HTTP status mapping."""

from __future__ import annotations


class WechatProtocolError(Exception):
    """A request from (or claiming to be from) WeChat that must be rejected."""

    code = "wechat_protocol"
    status = 400


class InvalidSignature(WechatProtocolError):
    code = "invalid_signature"
    status = 403


class PlaintextRefused(WechatProtocolError):
    """Safe mode is configured, so a request without an encrypted body and msg_signature is refused.

    The query ``signature`` covers only token, timestamp and nonce, not the body: accepting a
    plaintext body on it would let anyone who saw one delivery URL post any message.
    """

    code = "plaintext_refused"
    status = 403


class ReplayedNonce(WechatProtocolError):
    """A (timestamp, nonce) pair already used with a different body: a replayed delivery URL."""

    code = "replayed_nonce"
    status = 403


class StaleTimestamp(WechatProtocolError):
    code = "stale_timestamp"
    status = 403


class DecryptError(WechatProtocolError):
    """The ciphertext cannot be decrypted with any configured key, or its padding/length is wrong."""

    code = "decrypt_error"
    status = 400


class WrongAppId(DecryptError):
    """Decryption worked but the trailing AppID is not ours."""

    code = "wrong_app_id"


class MalformedMessage(WechatProtocolError):
    """The XML is not well formed, uses DTDs/entities, or lacks required fields."""

    code = "malformed_message"
    status = 400


class BodyTooLarge(WechatProtocolError):
    code = "body_too_large"
    status = 413


class BodyTimeout(WechatProtocolError):
    """The body did not arrive within ``wechat.body_timeout_s`` (a slow or stalled sender)."""

    code = "body_timeout"
    status = 408
