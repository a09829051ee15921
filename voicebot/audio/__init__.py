"""Audio in and out: sniff, decode any voice-note format to 16 kHz mono PCM, encode replies."""
