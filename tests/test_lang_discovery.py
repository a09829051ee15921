"""A language is one pack (+ at most one module): a toy fourth language from a temporary folder, and the
pack loader's checks (unknown keys and intents are errors, ``terms`` are substituted)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from voicebot.lang.packs import PackError, load_pack

# Esperanto, just enough to add stock and ask a price: numbers are words (unu, du, ... dek).
EO_PACK = """\
lang: eo
name: Esperanto
script: latin
name_regex: '(?P<customer>[a-z]+)'
terms:
  number: 'unu|du|tri|kvar|kvin|ses|sep|ok|naŭ|dek|\\d+'
units:
  money: [eŭroj]
  count: [pecoj]
intents:
  - intent: add_stock
    roles: [seller]
    patterns: ['^aldonu ({number})\\b']
  - intent: ask_price
    patterns: ['\\bkiom kostas\\b']
grammar: {commands: [aldonu, kiom kostas]}
replies:
  sep: ", "
  list_sep: ", "
  order_sep: "; "
  or: " aŭ "
  currency: {CNY: juanoj}
  default_unit: ""
  ask: {quantity_add_stock: "Kiom da?"}
  summary: {add_stock: "{quantity} pli da {product}"}
  confirm_question: "{summary}. Ĉu ĝuste?"
  done: {add_stock: "Bone, {quantity} pli da {product}, nun {stock}."}
  price_is: "{product} kostas {price}."
  unknown: Pardonu, mi ne komprenis.
  error: Io misfunkciis.
"""

EO_MODULE = '''\
"""Esperanto numbers as words: unu .. dek (a toy)."""

import re

from voicebot.lang import Language, Number

WORDS = ["nul", "unu", "du", "tri", "kvar", "kvin", "ses", "sep", "ok", "naŭ", "dek"]


class Esperanto(Language):
    def find_numbers(self, text):
        out = []
        for m in re.finditer(r"\\b(" + "|".join(WORDS) + r"|\\d+)\\b", text):
            word = m.group(1)
            value = int(word) if word.isdigit() else WORDS.index(word)
            out.append(Number(value, m.start(), m.end(), word, None, "count" if word != "nul" else None))
        return out

    def number(self, n):
        return WORDS[n] if 0 <= n < len(WORDS) else str(n)


LANGUAGE = Esperanto
'''


@pytest.fixture
def eo_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "languages"
    folder.mkdir()
    (folder / "eo.yaml").write_text(EO_PACK, encoding="utf-8")
    (folder / "eo.py").write_text(EO_MODULE, encoding="utf-8")
    monkeypatch.setenv("VOICEBOT_LANG_PATH", str(folder))
    yield folder
    from voicebot.lang import language

    load_pack.cache_clear()
    language.cache_clear()


def test_a_fourth_language_from_a_folder_runs_a_turn(eo_path: Path, tmp_path: Path) -> None:
    from voicebot.config import load_config
    from voicebot.dialogue import handle_turn
    from voicebot.lang import installed_languages, language
    from voicebot.shop.facade import Shop
    from voicebot.store.db import open_db

    assert "eo" in installed_languages() and type(language("eo")).__name__ == "Esperanto"
    config = load_config(environ={}, overrides={"server": {"data_dir": str(tmp_path)}, "shop": {"sellers": ["boss"]}})
    db = open_db(config.db_path)
    shop = Shop(db, config)
    shop.add_product("mielo", 30, 20, "")
    result = handle_turn(shop.db, config, channel="wechat", user_id="boss", role="seller", lang="eo",
                         text="Aldonu kvin mielo", confidence=None)  # fmt: skip
    assert result.intent.name == "add_stock" and result.intent.quantity == 5
    assert result.reply == "Bone, kvin pli da mielo, nun 25."  # template from the pack, numbers from eo.py
    assert shop.product("mielo")["stock"] == 25
    db.close()


def test_the_cli_offers_the_installed_languages(eo_path: Path) -> None:
    env = {**__import__("os").environ, "VOICEBOT_LANG_PATH": str(eo_path)}
    help_text = subprocess.run([sys.executable, "-m", "voicebot", "chat", "--help"], env=env, capture_output=True,
                               text=True, check=True).stdout  # fmt: skip
    assert "[en|eo|ko|zh]" in help_text.replace("\n", "").replace(" ", "")
    said = subprocess.run([sys.executable, "-m", "voicebot", "nlu", "--lang", "eo", "--products", "mielo",
                           "aldonu du mielo"], env=env, capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert '"intent": "add_stock"' in said and '"quantity": 2' in said


def _pack_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change) -> None:
    data = yaml.safe_load(EO_PACK)
    change(data)
    (tmp_path / "xx.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("VOICEBOT_LANG_PATH", str(tmp_path))
    load_pack.cache_clear()


def test_an_unknown_key_in_a_pack_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _pack_with(tmp_path, monkeypatch, lambda d: d.update(model={"name": "vosk-model-xx"}))
    with pytest.raises(PackError, match=r"xx.yaml: unknown key\(s\) \['model'\]"):
        load_pack("xx")
    _pack_with(tmp_path, monkeypatch, lambda d: d["intents"][0].update(pattern="typo"))
    with pytest.raises(PackError, match=r"intents\[0\]: unknown key\(s\) \['pattern'\]"):
        load_pack("xx")
    load_pack.cache_clear()


def test_an_unknown_intent_in_a_pack_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _pack_with(tmp_path, monkeypatch, lambda d: d["intents"][1].update(intent="ask_prise"))
    with pytest.raises(PackError, match=r"intents\[1\]: unknown intent 'ask_prise'"):
        load_pack("xx")
    load_pack.cache_clear()


def test_terms_are_substituted_and_a_pattern_list_is_one_alternation() -> None:
    zh, en = load_pack("zh"), load_pack("en")
    assert "{num}" not in str([p.pattern for r in zh.rules for p in r.patterns])
    assert any("[零一二两三四五六七八九十百千\\d俩仨]" in p.pattern for r in zh.rules for p in r.patterns)
    set_price = next(r for r in en.rules if r.intent == "set_price" and len(r.patterns) == 1
                     and "knock" in r.patterns[0].pattern)  # fmt: skip
    assert set_price.matches("put the honey at twelve") and set_price.matches("make it fifty")
    assert not set_price.matches("what do you sell")


def test_no_code_outside_the_language_modules_branches_on_a_language_code() -> None:
    """The built-in languages are named only in voicebot/lang, config defaults and test helpers."""
    root = Path(__file__).resolve().parents[1] / "voicebot"
    found = subprocess.run(["grep", "-rlE", r"""["'](zh|en|ko)["']""", str(root), "--include=*.py"],
                           capture_output=True, text=True).stdout.split()  # fmt: skip
    mine = {"nlu", "lang", "tts/speakable.py", "dialogue/replies.py", "dialogue/turn.py", "dialogue/ports.py"}
    hits = [f for f in found if any(textwrap.dedent(f).startswith(str(root / m)) for m in mine)]
    assert [h for h in hits if not h.startswith(str(root / "lang"))] == []


def test_a_pack_without_a_module_gets_the_generic_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voicebot.lang import Language, language
    from voicebot.nlu.intents import understand

    _pack_with(tmp_path, monkeypatch, lambda d: None)
    try:
        assert type(language("xx")) is Language
        said = understand("Aldonu 7 mielo", "xx", "seller", ["mielo"])
        assert (said.name, said.product, said.quantity) == ("add_stock", "mielo", 7)  # digits: the generic reader
    finally:
        load_pack.cache_clear()
        language.cache_clear()
