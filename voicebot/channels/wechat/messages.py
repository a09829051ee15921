"""Inbound WeChat XML, parsed safely, and passive reply XML."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from voicebot.channels.wechat.errors import MalformedMessage

SUCCESS = "success"
MAX_DEPTH = 20  # WeChat's messages nest 3 deep; anything far deeper is an attack, refused while parsing
MSG_ID = re.compile(r"[0-9]{1,64}")  # ASCII digits only (str.isdigit would take "١٢٣" and "²")
MEDIA_ID = re.compile(r"[A-Za-z0-9_=-]{1,256}")  # no dots or slashes: a MediaId never names a path
MAX_USER_CHARS = 128  # OpenIDs are 28 characters
MAX_EVENT_KEY_CHARS = 1024  # menu keys are at most 128 bytes, menu URLs 1024: anything longer is not WeChat
# A QR scene we hand out: a shop's code (1-64 of these characters, WeChat's limit is 64). Anything else
# in a scan's EventKey is not one of ours and reads as an unknown code.
SCENE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
QRSCENE_PREFIX = "qrscene_"


class _DepthLimitedBuilder(TreeBuilder):
    """Builds the tree like TreeBuilder, refusing nesting deeper than ``max_depth`` as it is read."""

    def __init__(self, max_depth: int) -> None:
        super().__init__()
        self.depth = 0
        self.max_depth = max_depth

    def start(self, tag: Any, attrs: Any) -> Element:
        self.depth += 1
        if self.depth > self.max_depth:
            raise MalformedMessage(f"XML nesting deeper than {self.max_depth}")
        return super().start(tag, attrs)

    def end(self, tag: Any) -> Element:
        self.depth -= 1
        return super().end(tag)


def _element_to_value(el: Element) -> Any:
    children = list(el)
    if not children:
        return el.text or ""
    return {child.tag: _element_to_value(child) for child in children}


def parse_xml_fields(data: str | bytes) -> dict[str, Any]:
    """The ``<xml>`` root's children as a dict (nested elements become dicts).

    DTDs, entity declarations and external references are rejected, so a billion-laughs or
    XXE payload raises :class:`MalformedMessage` before anything is expanded; so does nesting
    deeper than ``MAX_DEPTH``, before the tree is built further.
    """
    parser = DefusedXMLParser(
        target=_DepthLimitedBuilder(MAX_DEPTH), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(data)
        root = parser.close()
    except MalformedMessage:
        raise
    except DefusedXmlException as e:
        raise MalformedMessage(f"forbidden XML construct: {type(e).__name__}") from None
    except (ParseError, ValueError, TypeError, RecursionError) as e:
        raise MalformedMessage(f"XML is not well formed: {str(e)[:200]}") from None
    if root.tag != "xml":
        raise MalformedMessage(f"root element is <{root.tag}>, expected <xml>")
    value = _element_to_value(root)
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class InboundMessage:
    """One message or event a user sent to the Official Account."""

    to_user: str
    from_user: str
    create_time: int
    msg_type: str
    msg_id: str | None = None
    content: str = ""
    media_id: str = ""
    format: str = ""
    pic_url: str = ""
    event: str = ""
    event_key: str = ""
    recognition: str = ""
    raw: bytes = b""

    @property
    def dedup_key(self) -> str:
        """MsgId for messages; for events (which carry no MsgId) FromUserName + CreateTime, plus the
        event and its key: a redelivery is byte-identical, while two different events of one user in
        the same second (a scan of shop A, then of shop B; a subscribe and its LOCATION report) are
        two events, and neither may swallow the other. The ``event:`` prefix keeps these apart from
        MsgIds (digits only)."""
        if self.msg_id:
            return self.msg_id
        key = self.event_key if len(self.event_key) <= 64 else hashlib.sha256(self.event_key.encode()).hexdigest()
        return f"event:{self.from_user}:{self.create_time}:{self.event.lower()}:{key}"

    @property
    def qr_scene(self) -> str | None:
        """For a QR scan (``subscribe`` with ``qrscene_…``, or ``SCAN``): the scene, or "" when the key
        is not a scene we could have made (an unknown code). None for anything else, including a
        plain subscribe or one after a payment (``last_trade_no_…``)."""
        if self.msg_type != "event":
            return None
        event = self.event.lower()
        if event == "subscribe":
            if not self.event_key.startswith(QRSCENE_PREFIX):
                return None
            scene = self.event_key[len(QRSCENE_PREFIX):]
        elif event == "scan":
            scene = self.event_key
        else:
            return None
        return scene if SCENE.fullmatch(scene) else ""


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name, "")
    if isinstance(value, dict):
        raise MalformedMessage(f"{name} must be text")
    return value


def parse_message(data: str | bytes) -> InboundMessage:
    """Parse a (decrypted) inbound message; raise :class:`MalformedMessage` when it is not one."""
    try:
        raw = data.encode("utf-8") if isinstance(data, str) else data
    except UnicodeEncodeError:
        raise MalformedMessage("message text is not valid Unicode") from None
    fields = parse_xml_fields(raw)
    for required in ("ToUserName", "FromUserName", "CreateTime", "MsgType"):
        if not _text(fields, required):
            raise MalformedMessage(f"message lacks {required}")
    try:
        create_time = int(_text(fields, "CreateTime"))
    except ValueError:
        raise MalformedMessage("CreateTime is not an integer") from None
    msg_id = _text(fields, "MsgId") or None
    if msg_id is not None and not MSG_ID.fullmatch(msg_id):
        raise MalformedMessage("MsgId is not 1-64 ASCII digits")
    media_id = _text(fields, "MediaId")
    if media_id and not MEDIA_ID.fullmatch(media_id):
        raise MalformedMessage("MediaId has characters or a length WeChat never uses")
    for name in ("ToUserName", "FromUserName"):
        if len(_text(fields, name)) > MAX_USER_CHARS:
            raise MalformedMessage(f"{name} is longer than {MAX_USER_CHARS} characters")
    if len(_text(fields, "EventKey")) > MAX_EVENT_KEY_CHARS or len(_text(fields, "Event")) > 64:
        raise MalformedMessage("Event or EventKey is longer than WeChat ever sends")
    return InboundMessage(
        to_user=_text(fields, "ToUserName"),
        from_user=_text(fields, "FromUserName"),
        create_time=create_time,
        msg_type=_text(fields, "MsgType").lower(),
        msg_id=msg_id,
        content=_text(fields, "Content"),
        media_id=media_id,
        format=_text(fields, "Format").lower(),
        pic_url=_text(fields, "PicUrl"),
        event=_text(fields, "Event").lower(),
        event_key=_text(fields, "EventKey"),
        recognition=_text(fields, "Recognition"),
        raw=raw,
    )


def cdata(value: str) -> str:
    """A CDATA section holding ``value`` exactly, even if it contains ``]]>``."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _reply(to_user: str, from_user: str, msg_type: str, inner: str, create_time: int | None) -> str:
    ts = int(time.time()) if create_time is None else create_time
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{ts}</CreateTime><MsgType>{cdata(msg_type)}</MsgType>{inner}</xml>"
    )


def text_reply(msg: InboundMessage, content: str, create_time: int | None = None) -> str:
    """Passive text reply to ``msg`` (to its sender, from the account)."""
    return _reply(msg.from_user, msg.to_user, "text", f"<Content>{cdata(content)}</Content>", create_time)


def voice_reply(msg: InboundMessage, media_id: str, create_time: int | None = None) -> str:
    inner = f"<Voice><MediaId>{cdata(media_id)}</MediaId></Voice>"
    return _reply(msg.from_user, msg.to_user, "voice", inner, create_time)


def image_reply(msg: InboundMessage, media_id: str, create_time: int | None = None) -> str:
    inner = f"<Image><MediaId>{cdata(media_id)}</MediaId></Image>"
    return _reply(msg.from_user, msg.to_user, "image", inner, create_time)
