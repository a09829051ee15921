"""A message is run by one process at a time; a dead process's message is taken over."""

from __future__ import annotations

import multiprocessing

from voicebot.store.db import open_db
from voicebot.store.messages import claim_message, get_message, record_inbound, update_message


def _hold_claim(path: str, message_id: int, claimed, release) -> None:
    db = open_db(path)
    assert claim_message(db, message_id) is not None
    claimed.set()
    release.wait(30)


def test_a_live_process_keeps_its_message_and_a_dead_one_loses_it(tmp_path):
    path = str(tmp_path / "shop.db")
    db = open_db(path)
    mid, _ = record_inbound(db, "wechat", "m1", "u1", "text", transcript="蜂蜜多少钱")
    ctx = multiprocessing.get_context("spawn")
    claimed, release = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold_claim, args=(path, mid, claimed, release))
    other.start()
    assert claimed.wait(60)
    assert claim_message(db, mid) is None  # the other process is alive and running it
    release.set()
    other.join(30)
    row = claim_message(db, mid)  # it exited without finishing: ours now
    assert row is not None and get_message(db, mid)["status"] == "processing"
    update_message(db, mid, status="replied")
    assert claim_message(db, mid) is None  # finished messages are never run again


def test_a_claim_from_another_machine_expires(tmp_path):
    db = open_db(tmp_path / "shop.db")
    mid, _ = record_inbound(db, "wechat", "m1", "u1", "text")
    assert claim_message(db, mid, owner="other-host:123") is not None
    assert claim_message(db, mid) is None
    assert claim_message(db, mid, lease_s=0) is not None
