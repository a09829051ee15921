"""WeChat request signatures: sha1 over the sorted parts, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import time

from voicebot.channels.wechat.errors import InvalidSignature, StaleTimestamp


def sign(*parts: str | int) -> str:
    """``sha1("".join(sorted(parts))).hexdigest()`` as WeChat computes ``signature``/``msg_signature``."""
    return hashlib.sha1("".join(sorted(str(p) for p in parts)).encode("utf-8")).hexdigest()


def check_signature(token: str, signature: str, timestamp: str, nonce: str, *extra: str) -> bool:
    """True when ``signature`` is the sha1 of token, timestamp, nonce (and ``extra``, e.g. Encrypt)."""
    expected = sign(token, timestamp, nonce, *extra)
    return hmac.compare_digest(expected.encode("ascii"), (signature or "").lower().encode("utf-8", "replace"))


def check_timestamp(timestamp: str, window_s: int, now: float | None = None) -> int:
    """Return the timestamp as int, or raise :class:`StaleTimestamp` if outside ``±window_s``."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        raise StaleTimestamp("timestamp is not an integer") from None
    current = time.time() if now is None else now
    if window_s > 0 and abs(current - ts) > window_s:
        raise StaleTimestamp(f"timestamp is {int(current - ts)} s away from now (window {window_s} s)")
    return ts


def verify_request(
    token: str,
    signature: str,
    timestamp: str,
    nonce: str,
    *extra: str,
    window_s: int = 300,
    now: float | None = None,
) -> None:
    """Raise :class:`InvalidSignature` or :class:`StaleTimestamp` unless the request is genuine and fresh."""
    if not token or not check_signature(token, signature, timestamp, nonce, *extra):
        raise InvalidSignature("signature does not match")
    check_timestamp(timestamp, window_s, now)
