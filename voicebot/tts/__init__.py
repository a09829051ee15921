"""Speech synthesis: Kokoro-82M or pyttsx3 (espeak-ng) in a worker process, with an on-disk cache."""
