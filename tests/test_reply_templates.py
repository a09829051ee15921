"""Replies cannot silently lose words: every template renders with the fields its callers pass.

The callers are found in the source (``say(lang, "key", field=...)``, ``self.say("key", ...)`` and the
dialogue turn's ``t.say("key", ...)``);
each one's fields must cover what the template names in every language pack, so a misspelt keyword
or a field a translator added fails here instead of dropping words from what the seller hears.
"""

from __future__ import annotations

import ast
import logging
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import voicebot
from voicebot.dialogue import replies
from voicebot.lang.packs import available_languages

ROOT = Path(voicebot.__file__).parent
LANGS = sorted(available_languages())


def _templates(node: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, template) for every string template of a pack's ``replies:``."""
    for k, v in node.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            yield from _templates(v, f"{key}.")
        elif isinstance(v, str):
            yield key, v


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def call_sites() -> list[tuple[str, str, set[str]]]:
    """(where, key, fields passed) of every ``say`` call whose key is a literal and whose fields can be read.

    An f-string key (``f"web.{what}"``) names only some of the keys it could match, and ``**fields`` hides
    what is passed: those calls are left to the dialogue tests, which run in strict mode.
    """
    sites = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "say":
                # self.say(...) / the dialogue's turn: t.say(...), self.t.say(...)
                on_self = (isinstance(func.value, ast.Name) and func.value.id in ("self", "t")) or (
                    isinstance(func.value, ast.Attribute) and func.value.attr == "t")
            elif isinstance(func, ast.Name) and func.id == "say":
                on_self = False
            else:
                continue
            args = node.args[0:1] if on_self else node.args[1:2]
            if not args or any(k.arg is None for k in node.keywords):  # `**fields`: not readable here
                continue
            if isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                where = f"{path.relative_to(ROOT.parent)}:{node.lineno}"
                sites.append((where, args[0].value, {k.arg for k in node.keywords if k.arg}))
    return sites


SITES = call_sites()


def _render_each(lang: str, fields_for) -> list[str]:
    problems = []
    for key, template in _templates(replies.load_replies(lang)):
        for fields in fields_for(key, template):
            try:
                text = replies.say(lang, key, **dict.fromkeys(fields, "〔x〕"))
            except replies.MissingField as e:
                problems.append(str(e))
                continue
            if "{" in text or "}" in text:
                problems.append(f"{lang}:{key} left a brace: {text!r}")
    return problems


def test_the_callers_are_found():
    """Guard for the tests below: they check something only if the source scan finds the callers."""
    assert len(SITES) >= 60
    assert any(key == "price_is" and fields == {"product", "price", "unit"} for _, key, fields in SITES)


@pytest.mark.parametrize("lang", LANGS)
def test_every_caller_passes_the_fields_its_template_names(lang):
    keys = dict(_templates(replies.load_replies(lang)))
    problems = []
    for where, key, fields in SITES:
        if key not in keys:
            continue  # a fragment that is not a string template (lists), or missing: the next test
        try:
            replies.say(lang, key, **dict.fromkeys(fields, "〔x〕"))
        except replies.MissingField as e:
            problems.append(f"{where}: {e}")
    assert problems == []


@pytest.mark.parametrize("lang", LANGS)
def test_every_literal_reply_key_exists_in_every_pack(lang):
    missing = [f"{where}: {key}" for where, key, _ in SITES if not replies.has(lang, key)]
    assert missing == []


@pytest.mark.parametrize("lang", LANGS)
def test_every_template_renders_with_its_declared_fields(lang):
    """Declared fields: what the callers of that key pass, else the names the template itself uses."""
    declared: dict[str, list[set[str]]] = {}
    for key, _ in _templates(replies.load_replies(lang)):
        declared[key] = [fields for _, k, fields in SITES if k == key]

    def fields_for(key: str, template: str) -> list[set[str]]:
        return declared[key] or [_fields(template)]

    assert _render_each(lang, fields_for) == []


def test_a_misspelt_field_fails_loudly_in_tests():
    with pytest.raises(replies.MissingField, match="left"):
        replies.say("zh", "done.record_sale", product="手链", quantity="两条", total="四百块", lfet="还剩八条")


def test_in_production_a_missing_field_is_logged_and_the_rest_is_still_said(monkeypatch, caplog):
    monkeypatch.setenv(replies.STRICT_ENV, "0")
    with caplog.at_level(logging.ERROR):
        text = replies.say("zh", "done.record_sale", product="手链", quantity="两条", total="四百块", lfet="还剩八条")
    assert "卖了两条手链" in text and "四百块" in text
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("replies.missing_field" in m and '"field": "left"' in m for m in errors), errors


def test_an_optional_clause_is_said_only_when_given():
    plain = replies.say("zh", "done.record_sale", product="手链", quantity="两条", total="四百块", left="还剩八条")
    to_zhang = replies.say("zh", "done.record_sale", product="手链", quantity="两条", total="四百块", left="还剩八条",
                           to_customer=replies.say("zh", "summary.to_customer", customer="张三"))
    assert "张三" not in plain and "给张三" in to_zhang
