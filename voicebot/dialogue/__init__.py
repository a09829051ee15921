"""The per-user voice dialogue on top of the NLU and the shop (issue 4).

``handle_turn`` takes one utterance and returns a :class:`TurnResult` (reply, intent, committed
action, notifications); ``note_photo`` tells the dialogue that a photo arrived.
"""

from voicebot.dialogue.engine import handle_turn, note_photo
from voicebot.dialogue.turn import TurnResult

__all__ = ["TurnResult", "handle_turn", "note_photo"]
