"""Named leases on the shared store: one holder at a time, taken over when it lapses or its process dies."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from voicebot.store import leases
from voicebot.store.db import open_db

pytestmark = pytest.mark.both_engines


def test_a_periodic_job_gets_one_turn_per_period_whoever_asks(tmp_path):
    db = open_db(tmp_path / "shop.db")
    t0 = datetime.now(UTC)
    assert leases.take_turn(db, "retention", "a:1", 3600, now=t0)
    assert not leases.take_turn(db, "retention", "b:2", 3600, now=t0 + timedelta(minutes=5))
    assert not leases.take_turn(db, "retention", "a:1", 3600, now=t0 + timedelta(minutes=5))  # not twice either
    assert leases.take_turn(db, "retention", "b:2", 3600, now=t0 + timedelta(hours=1, seconds=1))
    assert leases.take_turn(db, "expiry", "a:1", 3600, now=t0)  # another job has its own turns


def test_a_lease_is_renewed_by_its_owner_only_until_it_lapses(tmp_path):
    db = open_db(tmp_path / "shop.db")
    t0 = datetime.now(UTC)
    assert leases.renew(db, "process:a:1", "a:1", 60, now=t0)
    assert not leases.renew(db, "process:a:1", "b:2", 60, now=t0 + timedelta(seconds=30))
    assert leases.renew(db, "process:a:1", "a:1", 60, now=t0 + timedelta(seconds=50))
    assert leases.holder(db, "process:a:1", now=t0 + timedelta(seconds=100)) == "a:1"
    assert leases.holder(db, "process:a:1", now=t0 + timedelta(seconds=111)) is None
    assert leases.renew(db, "process:a:1", "b:2", 60, now=t0 + timedelta(seconds=111))


def test_a_dead_process_on_this_machine_loses_its_lease_at_once(tmp_path):
    db = open_db(tmp_path / "shop.db")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # its pid is gone now
    dead = f"{leases.node()}:{child.pid}"
    alive = leases.process_owner()
    for owner in (dead, alive, "elsewhere:1"):
        assert leases.renew(db, leases.PROCESS + owner, owner, 600)
    assert not leases.owner_alive(db, dead) and leases.owner_alive(db, alive)
    assert leases.owner_alive(db, "elsewhere:1")  # another machine: its fresh lease says so
    assert leases.renew(db, leases.PROCESS + "gone:2", "gone:2", 1, now=datetime.now(UTC) - timedelta(hours=1))
    assert leases.reap_dead(db) == [dead]
    assert leases.holder(db, leases.PROCESS + alive) == alive
    assert leases.holder(db, leases.PROCESS + "elsewhere:1") == "elsewhere:1"
    names = {r[0] for r in db.execute("SELECT name FROM leases").fetchall()}
    assert names == {leases.PROCESS + alive, leases.PROCESS + "elsewhere:1"}  # the lapsed one is gone too
