"""WeChat's rules for replies: the 48-hour customer-service window and its quota, voice messages of at
most 60 s and 2 MB, an optional text copy, and passive mode (replies only inside WeChat's deliveries)."""

from __future__ import annotations

from datetime import datetime, timedelta

from voicebot.config import WechatConfig
from voicebot.pipeline.inbound import Limits
from voicebot.store.clock import to_iso
from voicebot.store.outbox import Outbox

# under WeChat's 60 s, with room for the encoder's padding; uploads of voice are limited to 2 MB
LIMITS = Limits(max_voice_s=55.0, max_voice_bytes=2 * 1024 * 1024)


class WechatPolicy:
    """The delivery policy of a WeChat Official Account (see :class:`voicebot.pipeline.inbound.DeliveryPolicy`)."""

    def __init__(self, config: WechatConfig) -> None:
        self.text_copy = config.send_text_copy
        self.resend_ambiguous = config.resend_ambiguous
        self.max_age_s = config.reply_max_age_hours * 3600
        self.window = timedelta(hours=config.window_hours)
        self.quota = config.window_quota
        # "auto" starts with the customer-service API and turns passive when the account lacks it
        self.passive_only = config.reply_mode == "passive"

    def hold_reason(self, outbox: Outbox, channel: str, user: str, now: datetime) -> str | None:
        """Replies go only within ``window_hours`` of the user's last message, ``window_quota`` of them."""
        last_in = outbox.last_inbound_at(channel, user)
        if last_in is None or last_in < to_iso(now - self.window):
            return "reply window closed: waiting for the user's next message"
        if outbox.sent_since(channel, user, last_in) >= self.quota:
            return f"reply quota of {self.quota} used: waiting for the user's next message"
        return None
