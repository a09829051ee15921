"""WeChat message encryption (compatible and safe modes) with strict checks and key rotation.

Plaintext layout: 16 random bytes + 4-byte big-endian length + message + AppID, PKCS#7-padded
to a multiple of 32, AES-256-CBC with IV = key[:16]. Written on ``cryptography`` directly
because wechatpy's version draws the prefix from ``random``, does not range-check the padding
and compares signatures in variable time.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import struct
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from voicebot.channels.wechat.errors import DecryptError, InvalidSignature, MalformedMessage, WrongAppId
from voicebot.channels.wechat.messages import parse_xml_fields
from voicebot.channels.wechat.signature import check_signature, sign

BLOCK = 32


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from a 43-character EncodingAESKey."""
    if len(encoding_aes_key) != 43:
        raise ValueError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise ValueError("EncodingAESKey is not valid base64") from None
    if len(key) != 32:
        raise ValueError("EncodingAESKey must decode to 32 bytes")
    return key


def pkcs7_pad(data: bytes, block: int = BLOCK) -> bytes:
    n = block - len(data) % block
    return data + bytes([n]) * n


def pkcs7_unpad(data: bytes, block: int = BLOCK) -> bytes:
    """Remove PKCS#7 padding, rejecting pad values outside 1..block or unequal pad bytes."""
    if not data:
        raise DecryptError("empty plaintext")
    n = data[-1]
    if not 1 <= n <= block or n > len(data) or data[-n:] != bytes([n]) * n:
        raise DecryptError("bad padding")
    return data[:-n]


@dataclass(frozen=True)
class Decrypted:
    """A decrypted message and the index of the key that opened it (0 current, 1 previous)."""

    message: bytes
    key_index: int


class WechatCrypto:
    """Encrypt/decrypt WeChat messages for one account; tries the current key, then the previous one."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str, previous_encoding_aes_key: str = ""):
        self.token = token
        self.app_id = app_id
        self.keys: list[bytes] = [decode_aes_key(encoding_aes_key)]
        if previous_encoding_aes_key:
            self.keys.append(decode_aes_key(previous_encoding_aes_key))

    # -- raw encryption -------------------------------------------------------------------------
    def encrypt(self, plaintext: bytes, *, random_prefix: bytes | None = None, key_index: int = 0) -> str:
        """Base64 ciphertext of ``plaintext``; ``random_prefix`` (16 bytes) only for test vectors."""
        prefix = secrets.token_bytes(16) if random_prefix is None else random_prefix
        if len(prefix) != 16:
            raise ValueError("random prefix must be 16 bytes")
        body = prefix + struct.pack(">I", len(plaintext)) + plaintext + self.app_id.encode("utf-8")
        key = self.keys[key_index]
        enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        return base64.b64encode(enc.update(pkcs7_pad(body)) + enc.finalize()).decode("ascii")

    def _decrypt_with(self, key: bytes, raw: bytes) -> bytes:
        dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        plain = pkcs7_unpad(dec.update(raw) + dec.finalize())
        if len(plain) < 20:
            raise DecryptError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise DecryptError("length field exceeds plaintext")
        message, app_id = plain[20 : 20 + length], plain[20 + length :]
        if app_id != self.app_id.encode("utf-8"):
            raise WrongAppId("trailing AppID does not match this account")
        return message

    def decrypt_detailed(self, ciphertext_b64: str) -> Decrypted:
        """Decrypt with the current key, then the previous; raise the most specific failure."""
        try:
            raw = base64.b64decode(ciphertext_b64, validate=True)
        except (binascii.Error, ValueError):
            raise DecryptError("ciphertext is not valid base64") from None
        if not raw or len(raw) % BLOCK:
            raise DecryptError("ciphertext length is not a multiple of 32")
        errors: list[DecryptError] = []
        for index, key in enumerate(self.keys):
            try:
                return Decrypted(self._decrypt_with(key, raw), index)
            except DecryptError as e:
                errors.append(e)
        wrong_app = [e for e in errors if isinstance(e, WrongAppId)]
        raise (wrong_app or errors)[0]

    def decrypt(self, ciphertext_b64: str) -> bytes:
        return self.decrypt_detailed(ciphertext_b64).message

    # -- signatures and envelopes ---------------------------------------------------------------
    def msg_signature(self, timestamp: str | int, nonce: str, encrypt: str) -> str:
        return sign(self.token, str(timestamp), nonce, encrypt)

    def verify_msg_signature(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        if not check_signature(self.token, msg_signature, str(timestamp), nonce, encrypt):
            raise InvalidSignature("msg_signature does not match")

    def encrypt_reply(
        self,
        reply_xml: str | bytes,
        *,
        timestamp: str | int | None = None,
        nonce: str | None = None,
        key_index: int = 0,
        random_prefix: bytes | None = None,
    ) -> str:
        """The encrypted reply envelope (Encrypt, MsgSignature, TimeStamp, Nonce) for a passive reply."""
        data = reply_xml.encode("utf-8") if isinstance(reply_xml, str) else reply_xml
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce if nonce is not None else str(secrets.randbelow(10**10))
        encrypted = self.encrypt(data, random_prefix=random_prefix, key_index=key_index)
        signature = self.msg_signature(ts, nonce, encrypted)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{ts}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )

    def decrypt_envelope(self, envelope_xml: str | bytes) -> Decrypted:
        """Verify and decrypt an encrypted reply envelope (what the emulator's client does)."""
        fields = parse_xml_fields(envelope_xml)
        try:
            encrypted, signature = fields["Encrypt"], fields["MsgSignature"]
            ts, nonce = fields["TimeStamp"], fields["Nonce"]
        except KeyError as e:
            raise MalformedMessage(f"envelope lacks {e.args[0]}") from None
        self.verify_msg_signature(signature, ts, nonce, encrypted)
        return self.decrypt_detailed(encrypted)
