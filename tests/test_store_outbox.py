"""The outbox: queued once, claimed by one sender, retried with backoff, held for the user's next message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from voicebot.store import outbox
from voicebot.store.clock import from_iso
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


def test_failures_back_off_capped_and_keep_trying_while_the_reply_is_useful(db):
    rid = outbox.enqueue(db, "wechat", "u1", "text")
    now = datetime.now(UTC)
    delays = []
    for n in range(40):  # 40 failed tries over ~2.5 hours of API errors: still pending
        assert outbox.mark_failed(db, rid, f"errcode=-1 try {n}", now=now) == "pending"
        (row,) = db.execute("SELECT next_attempt_at FROM outbox WHERE id = ?", (rid,)).fetchall()
        nxt = from_iso(row[0])
        delays.append((nxt - now).total_seconds())
        now = nxt
    assert delays[:6] == [1, 2, 5, 15, 60, 300] and max(delays) == outbox.MAX_BACKOFF_S
    assert [r["id"] for r in outbox.due(db, "wechat", now=now)] == [rid]
    # past the reply's useful life (max_age_s after it was queued) it is given up, with the reason
    assert outbox.mark_failed(db, rid, "errcode=-1", now=now + timedelta(hours=48)) == "gave_up"
    (err,) = db.execute("SELECT last_error FROM outbox WHERE id = ?", (rid,)).fetchone()
    assert "no longer useful" in err


def test_an_unknown_outcome_is_resent_at_most_resend_limit_times_then_shown_as_ambiguous(db):
    rid = outbox.enqueue(db, "wechat", "u1", "voice")
    outbox.start_attempt(db, rid)
    assert db.execute("SELECT attempt_started_at FROM outbox WHERE id = ?", (rid,)).fetchone()[0]
    assert outbox.mark_ambiguous(db, rid, "timeout", resend_limit=1) == "pending"
    assert outbox.mark_ambiguous(db, rid, "timeout", resend_limit=1) == "ambiguous"
    assert outbox.due(db, "wechat", now=datetime.now(UTC) + timedelta(hours=1)) == []
    (row,) = outbox.undelivered(db)
    assert row["status"] == "ambiguous" and "may have been delivered" in row["last_error"]
    # an operator's retry sends it again, and a timeout then stops it again
    assert outbox.retry(db, [rid]) == 1
    assert [r["id"] for r in outbox.due(db, "wechat")] == [rid]
    assert outbox.mark_ambiguous(db, rid, "timeout", resend_limit=0) == "ambiguous"


def test_operator_retry_makes_stopped_and_waiting_rows_due_but_not_held_ones(db):
    gave_up = outbox.enqueue(db, "wechat", "u1", "text")
    outbox.mark_failed(db, gave_up, "errcode=40003", permanent=True)
    waiting = outbox.enqueue(db, "wechat", "u2", "text")
    for _ in range(7):  # backing off: next try in 5 minutes
        outbox.mark_failed(db, waiting, "errcode=-1")
    busy = outbox.enqueue(db, "wechat", "u5", "text")
    outbox.claim(db, busy)  # another sender is on it
    outbox.start_attempt(db, busy)
    held = outbox.enqueue(db, "wechat", "u3", "text")
    outbox.hold(db, held, "window closed")
    sent = outbox.enqueue(db, "wechat", "u4", "text")
    outbox.mark_sent(db, sent)
    assert outbox.retry(db) == 2
    assert sorted(r["id"] for r in outbox.due(db, "wechat")) == [gave_up, waiting]


def test_permanent_failure_gives_up_at_once(db):
    rid = outbox.enqueue(db, "wechat", "u1", "voice")
    assert outbox.mark_failed(db, rid, "errcode=40007 invalid media_id", permanent=True) == "gave_up"


def test_held_rows_wait_for_the_users_next_message(db):
    rid = outbox.enqueue(db, "wechat", "seller", "voice", payload={"text": "新订单"})
    outbox.hold(db, rid, "reply window closed")
    assert outbox.due(db, "wechat") == []
    assert [r["id"] for r in outbox.pending_for(db, "wechat", "seller")] == [rid]  # held, not lost
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
