"""The outbox: queued once, claimed by one sender, retried with backoff, held for the user's next message."""

from __future__ import annotations

import pytest

from voicebot.store import outbox
from voicebot.store.db import open_db
from voicebot.store.kv import kv_get, kv_set


@pytest.fixture
def db(tmp_path):
    db = open_db(tmp_path / "shop.db")
    yield db
    db.close()


def test_same_reply_is_queued_once(db):
    first = outbox.enqueue(db, "wechat", "u1", "voice", dedup_key="7:voice", media_path="/a.amr")
    again = outbox.enqueue(db, "wechat", "u1", "voice", dedup_key="7:voice", media_path="/a.amr")
    assert first is not None and again is None
    assert [r["id"] for r in outbox.due(db, "wechat")] == [first]


def test_a_claimed_row_is_not_claimed_again_until_its_lease_ends(db, tmp_path):
    rid = outbox.enqueue(db, "wechat", "u1", "text", payload={"text": "hi"})
    other = open_db(tmp_path / "shop.db")  # a second process
    assert outbox.claim(db, rid)
    assert not outbox.claim(other, rid)
    assert outbox.due(other, "wechat") == []
    assert outbox.mark_sent(db, rid) and not outbox.mark_sent(other, rid)
    other.close()


def test_failures_back_off_then_give_up(db):
    rid = outbox.enqueue(db, "wechat", "u1", "text")
    statuses = [outbox.mark_failed(db, rid, f"errcode=-1 try {n}") for n in range(outbox.MAX_ATTEMPTS)]
    assert statuses[:-1] == ["pending"] * (outbox.MAX_ATTEMPTS - 1) and statuses[-1] == "gave_up"
    assert outbox.due(db, "wechat") == []
    row = db.execute("SELECT status, attempts, last_error FROM outbox WHERE id = ?", (rid,)).fetchone()
    assert row == ("gave_up", outbox.MAX_ATTEMPTS, f"errcode=-1 try {outbox.MAX_ATTEMPTS - 1}")


def test_permanent_failure_gives_up_at_once(db):
    rid = outbox.enqueue(db, "wechat", "u1", "voice")
    assert outbox.mark_failed(db, rid, "errcode=40007 invalid media_id", permanent=True) == "gave_up"


def test_held_rows_wait_for_the_users_next_message(db):
    rid = outbox.enqueue(db, "wechat", "seller", "voice", payload={"text": "新订单"})
    outbox.hold(db, rid, "reply window closed")
    assert outbox.due(db, "wechat") == []
    assert [r["id"] for r in outbox.held_for(db, "wechat", "seller")] == [rid]
    assert outbox.release(db, "wechat", "someone-else") == 0
    assert outbox.release(db, "wechat", "seller") == 1
    assert [r["id"] for r in outbox.due(db, "wechat")] == [rid]


def test_only_api_sends_count_against_the_quota(db):
    a = outbox.enqueue(db, "wechat", "u1", "voice")
    b = outbox.enqueue(db, "wechat", "u1", "voice")
    outbox.mark_sent(db, a, via="api")
    outbox.mark_sent(db, b, via="passive")
    assert outbox.sent_since(db, "wechat", "u1", "2000-01-01T00:00:00.000000Z") == 1


def test_kv_keeps_values_with_their_expiry(db):
    assert kv_get(db, "wechat.token") is None
    kv_set(db, "wechat.token", "T1", 1_900_000_000.5)
    kv_set(db, "wechat.token", "T2", 1_900_000_100.0)
    assert kv_get(db, "wechat.token") == ("T2", 1_900_000_100.0)
