"""voicebot: a voice-first shop assistant for sellers who cannot read."""

__version__ = "0.1.0"
