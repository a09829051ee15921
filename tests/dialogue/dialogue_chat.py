"""A conversation with one shop, turn by turn: seller and buyers, a second apart, the exact reply checked
when one is given (shared by the dialogue tests)."""

from __future__ import annotations

from voicebot.dialogue import TurnResult, handle_turn

T0 = 1_800_000_000.0


class Chat:
    """Several people talking to one shop; ``turn`` checks the exact reply when one is given."""

    def __init__(self, db, config, lang: str = "zh") -> None:
        self.db, self.config, self.lang, self.now = db, config, lang, T0

    def turn(self, text: str, expect: str | None = None, *, user: str = "boss", role: str = "seller",
             confidence: float | None = None) -> TurnResult:  # fmt: skip
        self.now += 1
        r = handle_turn(
            self.db, self.config, channel="wechat", user_id=user, role=role, lang=self.lang, text=text,
            confidence=confidence, now=self.now,
        )  # fmt: skip
        print(f"{role}> {text}\n  bot< {r.reply}  [{r.intent.name} awaiting={r.awaiting}] {r.notify}")
        if expect is not None:
            assert r.reply == expect, text
        return r

    def seller(self, text: str, expect: str | None = None, confidence: float | None = None) -> TurnResult:
        return self.turn(text, expect, confidence=confidence)

    def buyer(self, text: str, expect: str | None = None, user: str = "b1") -> TurnResult:
        return self.turn(text, expect, user=user, role="buyer")

    def wait(self, seconds: float) -> None:
        self.now += seconds
