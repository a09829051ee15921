"""Languages: a pack (``packs/<code>.yaml``, data) plus at most one module (``lang/<code>.py``, code).

``language(code)`` is the one place that knows which codes exist. Packs and modules are looked up in
``voicebot/lang/packs`` and ``voicebot/lang`` first, then in every folder of ``VOICEBOT_LANG_PATH``
(``os.pathsep``-separated; a folder holds ``<code>.yaml`` and optionally ``<code>.py``), so a language
can be added without touching the package. A module defines ``LANGUAGE``, a ``Language`` subclass.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
from pathlib import Path

from voicebot.lang.base import CjkLanguage, Language, Number, fen, strip_ends, tidy
from voicebot.lang.packs import PackError, available_languages, extra_lang_dirs, load_pack

log = logging.getLogger(__name__)

__all__ = ["Language", "Number", "fen", "installed_languages", "language", "strip_ends", "tidy", "warm_languages"]


def installed_languages() -> list[str]:
    """Codes of every language that has a pack (built-in and on ``VOICEBOT_LANG_PATH``)."""
    return available_languages()


def _module_class(code: str) -> type[Language]:
    if importlib.util.find_spec(f"voicebot.lang.{code}") is not None:
        module = importlib.import_module(f"voicebot.lang.{code}")
    else:
        path = next((d / f"{code}.py" for d in extra_lang_dirs() if (d / f"{code}.py").is_file()), None)
        if path is None:  # the pack alone: its script says how names are cut
            return CjkLanguage if load_pack(code).script == "cjk" else Language
        spec = importlib.util.spec_from_file_location(f"voicebot_lang_{code}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    cls = getattr(module, "LANGUAGE", None)
    if not (isinstance(cls, type) and issubclass(cls, Language)):
        raise PackError(f"{Path(str(module.__file__))}: LANGUAGE must be a voicebot.lang.Language subclass")
    return cls


@functools.cache
def language(code: str) -> Language:
    """The language ``code``: its pack (loaded and checked now) and its module's rules."""
    load_pack(code)  # an unknown code or a broken pack fails here, with the file named
    return _module_class(code)(code)


def warm_languages() -> None:
    """Load every installed language's slow parts now, before the first message needs them."""
    for code in installed_languages():
        try:
            language(code).warm()
        except PackError as e:  # a broken extra pack fails where it is used, with its file named
            log.warning("lang.warm_failed", extra={"lang": code, "error": str(e)})
