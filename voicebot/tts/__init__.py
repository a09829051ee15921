"""Speech synthesis: pyttsx3 (espeak-ng) in a worker process, with an on-disk cache."""
