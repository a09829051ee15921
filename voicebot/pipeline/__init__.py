"""The channel-independent run of one message: inbox -> decode -> ASR -> dialogue -> TTS -> outbox."""
