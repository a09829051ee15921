"""A message is run by one process at a time; a dead process's message is taken over."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta

import pytest

from voicebot.store import leases
from voicebot.store.claims import claim_backlog, claim_orphans
from voicebot.store.db import open_db
from voicebot.store.leases import process_owner
from voicebot.store.messages import claim_message, get_message, record_inbound, update_message

pytestmark = pytest.mark.both_engines  # the other process opens the same store: db_target is a URL on PostgreSQL


def _hold_claim(path: str, message_id: int, claimed, release) -> None:
    db = open_db(path)
    assert claim_message(db, message_id) is not None
    claimed.set()
    release.wait(30)


def test_a_live_process_keeps_its_message_and_a_dead_one_loses_it(db_target):
    path = db_target
    db = open_db(path)
    mid, _ = record_inbound(db, "wechat", "m1", "u1", "text", transcript="蜂蜜多少钱")
    db.execute("UPDATE messages SET claimed_by = NULL")  # accepted by a process that is gone
    db.conn.commit()
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


def test_a_claim_from_another_machine_lasts_while_its_lease_is_renewed(tmp_path):
    db = open_db(tmp_path / "shop.db")
    mid, _ = record_inbound(db, "wechat", "m1", "u1", "text")
    db.execute("UPDATE messages SET claimed_by = NULL")  # accepted by a process that is gone
    other = "other-host:123"
    assert leases.renew(db, leases.PROCESS + other, other, lease_s=60)
    assert claim_message(db, mid, owner=other) is not None
    assert claim_message(db, mid) is None  # its lease is fresh: still running there
    later = datetime.now(UTC) + timedelta(seconds=50)
    assert leases.renew(db, leases.PROCESS + other, other, lease_s=60, now=later)  # a long run's heartbeat
    assert claim_message(db, mid, now=later + timedelta(seconds=30)) is None
    assert claim_message(db, mid, now=later + timedelta(seconds=61)) is not None  # it stopped renewing
    assert get_message(db, mid)["claimed_by"] == process_owner()


def test_an_accepted_message_belongs_to_the_accepting_process(tmp_path):
    db = open_db(tmp_path / "shop.db")
    mid, _ = record_inbound(db, "wechat", "m1", "u1", "text")
    assert get_message(db, mid)["claimed_by"] == process_owner()
    assert claim_orphans(db, 10, owner="other-host:9") == []  # we are alive: not an orphan
    assert claim_message(db, mid, owner="other-host:9") is None


def test_orphans_are_claimed_in_batches_each_by_one_process(tmp_path):
    db = open_db(tmp_path / "shop.db")
    ids = [record_inbound(db, "wechat", f"m{n}", "u1", "text")[0] for n in range(5)]
    db.execute("UPDATE messages SET claimed_by = 'far-host:77'")  # died on another machine: no lease
    for owner in ("a-host:1", "b-host:2", "c-host:3"):
        assert leases.renew(db, leases.PROCESS + owner, owner, lease_s=60)
    assert claim_orphans(db, 3, owner="a-host:1") == ids[:3]
    assert claim_orphans(db, 3, owner="b-host:2") == ids[3:]
    assert claim_orphans(db, 3, owner="c-host:3") == []  # a and b are alive
    update_message(db, ids[0], status="replied")
    assert claim_backlog(db, 10, owner="a-host:1") == ids[1:3]
    leases.release(db, leases.PROCESS + "a-host:1", "a-host:1")  # a stopped: c takes what a left
    assert claim_backlog(db, 10, owner="c-host:3") == ids[1:3]
    assert claim_message(db, ids[1], owner="a-host:1") is None  # a's late run finds it taken


def _claim_many(path: str, owner: str, out) -> None:
    db = open_db(path)
    assert leases.renew(db, leases.PROCESS + owner, owner, lease_s=600)  # alive: its claims are its own
    got: list[int] = []
    while batch := claim_orphans(db, 4, owner=owner):
        got += batch
    out.put(got)


def test_two_processes_sweeping_at_once_never_take_one_row(db_target):
    path = db_target
    db = open_db(path)
    ids = [record_inbound(db, "wechat", f"m{n}", "u1", "text")[0] for n in range(200)]
    db.execute("UPDATE messages SET claimed_by = 'far-host:77'")
    db.conn.commit()
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claim_many, args=(path, f"host-{n}:1", out)) for n in range(2)]
    for p in procs:
        p.start()
    got = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    assert sorted(got[0] + got[1]) == ids  # every orphan taken, none twice
