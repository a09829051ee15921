"""The intent registry and the typed Intent: one list of intents that the packs, the NLU, the dialogue and the
CLI agree on, and JSON forms that old corpora, logs and stored dialogue state still read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicebot.cli import main
from voicebot.dialogue import engine, handle_turn, replies
from voicebot.dialogue.state import load_state
from voicebot.intents import CONTRACT_KEYS, REGISTRY, SPECS, Intent, UnknownIntent, names, spec
from voicebot.lang.packs import available_languages, load_pack
from voicebot.nlu import understand

CASES = [json.loads(line) for line in (Path(__file__).parent.parent / "data" / "nlu_extra.jsonl").open(encoding="utf-8")]
T0 = 1_773_000_000.0


def test_every_intent_a_pack_names_is_registered():
    for lang in available_languages():
        named = {rule["intent"] for rule in load_pack(lang).raw["intents"]}
        assert named, lang
        assert named <= set(REGISTRY), f"{lang}: {sorted(named - set(REGISTRY))}"


def test_unknown_names_are_rejected_everywhere():
    with pytest.raises(UnknownIntent, match="sell_everything"):
        spec("sell_everything")
    with pytest.raises(UnknownIntent):
        Intent("sell_everything")
    with pytest.raises(UnknownIntent):
        Intent.from_contract({"intent": "sell_everything", "product": "蜂蜜"})
    with pytest.raises(UnknownIntent):
        Intent.from_contract({"product": "蜂蜜"})  # no intent at all


def test_the_registry_is_consistent():
    for s in SPECS:
        assert set(s.slots) <= set(CONTRACT_KEYS[1:]), s.name
        assert set(s.required) <= set(s.slots), s.name
        assert set(s.correctable) <= set(s.slots) and "product" not in s.correctable, s.name
        if s.for_seller:
            assert s.role == "buyer" and spec(s.for_seller).role == "seller", s.name
        if s.confirm != "never":  # a read-back is only ever about a change to the shop
            assert s.changes_shop and s.handler, s.name
    assert names(role="seller").isdisjoint(names(role="buyer"))
    assert {"confirm", "deny", "undo", "repeat", "help", "unknown"} <= names(role="both")


def test_every_handler_is_a_method_of_the_dialogue():
    acts = engine.ACTS  # the turn's collaborators that carry out intents (composition, not one class)
    for s in SPECS:
        if s.handler is not None:
            assert sum(callable(getattr(a, s.handler, None)) for a in acts) == 1, s.name
    # and nothing the dialogue can do is missing from the registry
    methods = {m[3:] for a in acts for m in dir(a) if m.startswith("do_")}
    assert methods == {s.name for s in SPECS if s.handler}


def test_every_shop_change_has_its_spoken_reply_and_read_back_in_every_language():
    changing = {s.name for s in SPECS if s.changes_shop and s.handler}
    for lang in available_languages():
        spoken = replies.load_replies(lang)
        assert set(spoken["done"]) == changing, lang
        assert changing <= set(spoken["summary"]), lang


@pytest.mark.parametrize("case", CASES[::9], ids=lambda c: c["text"])
def test_the_nlu_fills_only_registered_slots_and_its_contract_round_trips(case):
    got = understand(case["text"], case["lang"], case["role"], case["products"].split(","))
    contract = got.to_contract()
    assert contract == case["expect"]
    assert list(contract) == list(CONTRACT_KEYS)
    filled = {k for k in CONTRACT_KEYS[1:] if contract[k] is not None}
    assert filled <= set(got.spec.slots), (got.name, filled)
    assert Intent.from_contract(contract).to_contract() == contract
    assert Intent.from_contract(got.to_public()).to_public() == got.to_public()


def test_the_dialogues_notes_survive_the_state_form_under_their_old_keys():
    it = Intent("record_sale", "蜂蜜", 3, 100, "张三", approximate=True, candidates=("a", "b"), unit="瓶",
                total=True, utterance="卖了三瓶蜂蜜", unsure=True, spoken="蜜", confirmed=True, order="张三那单")
    stored = json.loads(json.dumps(it.to_state(), ensure_ascii=False))
    assert stored["_unsure"] is True and stored["_text"] == "卖了三瓶蜂蜜" and stored["_total"] is True
    assert stored["candidates"] == ["a", "b"]
    back = Intent.from_contract(stored)
    assert back == it
    # the log's form keeps the extras and drops the notes
    assert it.to_public() == {"intent": "record_sale", "product": "蜂蜜", "quantity": 3, "price": 100,
                              "customer": "张三", "approximate": True, "unit": "瓶", "candidates": ["a", "b"]}


def test_a_question_stored_as_a_dict_before_the_intent_was_typed_is_answered(db, config, shop):
    """A pending read-back written by the dict-era dialogue (private ``_`` keys) still loads and commits."""
    legacy = {
        "pending": {
            "intent": {"intent": "record_sale", "product": "蜂蜜", "quantity": 3, "price": None, "customer": None,
                       "unit": "瓶", "_text": "卖了三瓶蜂蜜", "_unsure": True},
            "awaiting": "confirm", "question": "卖了三瓶蜂蜜，对吗？", "expires": T0 + 600,
        },
        "last_reply": "卖了三瓶蜂蜜，对吗？",
    }
    db.raw["dialogue_state"].insert({"channel": "wechat", "user": "boss", "state_json": json.dumps(legacy),
                                 "expires_at": None, "updated_at": "2026-03-10T00:00:00.000000Z"})
    assert load_state(db, "wechat", "boss")["pending"]["intent"] == Intent(
        "record_sale", "蜂蜜", 3, unit="瓶", utterance="卖了三瓶蜂蜜", unsure=True)
    r = handle_turn(db, config, channel="wechat", user_id="boss", role="seller", lang="zh", text="对",
                    confidence=None, now=T0)
    assert r.committed and r.intent.name == "record_sale" and shop.product("蜂蜜")["stock"] == 17
    # and the state is written back in the same form
    saved = json.loads(db.raw.execute("SELECT state_json FROM dialogue_state").fetchone()[0])
    assert saved["pending"] is None and saved["last_done"]["intent"]["intent"] == "record_sale"


def test_a_pending_intent_unknown_to_this_version_is_dropped_not_fatal(db, config, shop):
    stale = {"pending": {"intent": {"intent": "gift_wrap"}, "awaiting": "confirm", "question": "?",
                         "expires": T0 + 600}}
    db.raw["dialogue_state"].insert({"channel": "wechat", "user": "boss", "state_json": json.dumps(stale),
                                 "expires_at": None, "updated_at": "2026-03-10T00:00:00.000000Z"})
    r = handle_turn(db, config, channel="wechat", user_id="boss", role="seller", lang="zh", text="蜂蜜还有几瓶",
                    confidence=None, now=T0)
    assert r.error_code is None and "二十瓶" in r.reply


def test_a_turn_recorded_before_the_intent_was_typed_replays(db, config, shop):
    """A ``dialogue_turns`` row in the dict-era form returns its result and acts no more."""
    recorded = {"reply": "好的，卖了两条绿松石手链。", "intent": {"intent": "record_sale", "product": "绿松石手链",
                "quantity": 2, "price": None, "customer": None, "unit": "条"}, "action_id": 9, "committed": True,
                "awaiting": None, "notify": [["wechat", "boss", "note"]], "photo_product": None, "error_code": None}
    db.raw.execute("INSERT INTO dialogue_turns (turn_id, channel, user, result_json, created_at) VALUES (?, ?, ?, ?, ?)",
               ("msg-7", "wechat", "boss", json.dumps(recorded, ensure_ascii=False), "2026-03-10T00:00:00Z"))
    r = handle_turn(db, config, channel="wechat", user_id="boss", role="seller", lang="zh", text="卖了两条手链",
                    confidence=None, now=T0, turn_id="msg-7")
    assert r.intent == Intent("record_sale", "绿松石手链", 2, unit="条") and r.notify == [("wechat", "boss", "note")]
    assert r.to_dict() == {**recorded, "notify": [["wechat", "boss", "note"]]}
    assert shop.product("绿松石手链")["stock"] == 10


def test_cli_prints_the_contract():
    out = CliRunner().invoke(main, ["nlu", "--contract", "--json"])
    assert out.exit_code == 0, out.output
    view = json.loads(out.output)
    assert view["contract_keys"] == list(CONTRACT_KEYS)
    assert [i["intent"] for i in view["intents"]] == [s.name for s in SPECS]
    sale = next(i for i in view["intents"] if i["intent"] == "record_sale")
    assert sale["required"] == ["product", "quantity"] and sale["handler"] == "do_record_sale"
    table = CliRunner().invoke(main, ["nlu", "--contract"])
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0].split()[:3] == ["INTENT", "ROLE", "SLOTS"]
    assert {line.split()[0] for line in lines[1 : len(SPECS) + 1]} == set(REGISTRY)
    assert CliRunner().invoke(main, ["nlu", "--json", "蜂蜜多少钱"]).exit_code == 2
