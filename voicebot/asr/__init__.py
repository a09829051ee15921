"""Speech recognition: Vosk models (registry, download), worker pool, grammars."""
