"""Rate limits counted in the store: exact sliding windows, one allowance for every process."""

from __future__ import annotations

import pytest

from voicebot.store.db import open_db
from voicebot.store.rates import Limit, admit

pytestmark = pytest.mark.both_engines

PER_ADDRESS = Limit("address", 3, 60.0)
OVERALL = Limit("all", 5, 60.0)


def test_two_processes_share_one_allowance_in_an_exact_sliding_window(db_target):
    one, two = open_db(db_target), open_db(db_target)  # two processes' connections to one store
    t = 1_000_000.0
    results = [admit(db, [(PER_ADDRESS, "1.2.3.4")], now=t + n) for n, db in enumerate([one, two, one, two])]
    assert results == [None, None, None, PER_ADDRESS]
    assert admit(one, [(PER_ADDRESS, "1.2.3.4")], now=t + 59.5) is PER_ADDRESS  # the first is still in the window
    assert admit(two, [(PER_ADDRESS, "1.2.3.4")], now=t + 60.0) is None  # now it has left it
    assert admit(one, [(PER_ADDRESS, "5.6.7.8")], now=t + 61) is None  # another address has its own


def test_an_event_refused_by_one_limit_is_counted_by_none(db_target):
    db = open_db(db_target)
    t = 2_000_000.0
    for n in range(3):
        assert admit(db, [(PER_ADDRESS, "a"), (OVERALL, "")], now=t + n) is None
    assert admit(db, [(PER_ADDRESS, "a"), (OVERALL, "")], now=t + 3) is PER_ADDRESS
    assert admit(db, [(PER_ADDRESS, "b"), (OVERALL, "")], now=t + 4) is None
    assert admit(db, [(PER_ADDRESS, "c"), (OVERALL, "")], now=t + 5) is None
    assert admit(db, [(PER_ADDRESS, "d"), (OVERALL, "")], now=t + 6) is OVERALL  # 5 counted: a's refusal was not
