"""The Wyoming protocol's wire format and a balanced set of speech servers (below the engines that use them).

The engines that speak it live with their kind (``asr/wyoming.py``, ``tts/wyoming.py``); voicebot's own
server is ``voicebot/speech_server.py``.
"""
