"""Console login under attack: concurrent guesses cannot race past the per-address limit, bursts cannot
exhaust memory (argon2 needs 64 MiB per check), and nobody can lock an operator out from elsewhere."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from console_helpers import OPERATOR, PASSWORD, Browserless, console_service

from voicebot.console import auth, login_limits
from voicebot.console.web import HASHES


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)


async def _burst(op: Browserless, passwords: list[str]) -> Counter[int]:
    """POST every password at once with one valid login form token; the statuses that came back."""
    await op.get("/console/login")
    form = {"csrf": op.csrf, "name": OPERATOR}
    results = await asyncio.gather(*(op.post("/console/login", {**form, "password": p}) for p in passwords))
    return Counter(status for status, _, _ in results)


async def test_fifty_logins_at_once_get_no_more_checks_than_the_limit(aiohttp_server, tmp_path):
    service = await console_service(aiohttp_server, tmp_path, console={"login_max_failures": 5})
    async with Browserless(service.url) as op:
        statuses = await _burst(op, ["wrong password"] * 49 + [PASSWORD])
    checked = statuses[401] + statuses[303]  # attempts whose password was actually tried
    assert checked <= 5, statuses
    # refused before any check: 429 (the address's tries are used), or 503 from a connection cap
    assert statuses[429] + statuses[503] >= 45 and sum(statuses.values()) == 50, statuses
    if statuses[303]:  # the right one may only get in as one of the five allowed tries
        assert statuses[401] <= 4


async def test_a_login_burst_waits_for_few_hash_threads_and_the_overflow_is_refused(aiohttp_server, tmp_path,
                                                                                   monkeypatch):
    service = await console_service(aiohttp_server, tmp_path, console={
        "login_max_failures": 1000, "login_hashes": 1, "login_hash_queue": 2})
    running, peak = [0], [0]
    verify = auth.verify

    def counting_verify(*args):
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        try:
            return verify(*args)
        finally:
            running[0] -= 1

    monkeypatch.setattr(auth, "verify", counting_verify)
    async with Browserless(service.url) as op:
        statuses = await _burst(op, ["wrong password"] * 20)
        assert statuses[503] >= 1 and statuses[401] >= 3, statuses
        assert set(statuses) <= {401, 503}, statuses
        # the refused ones did not count as failures: the operator still gets in at once
        assert (await op.login())[0] == 303
    assert peak[0] == 1  # never two 64 MiB hashes at once
    assert service.app[HASHES].refused == statuses[503]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


async def _wait_healthy(url: str, proc: subprocess.Popen) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            assert proc.poll() is None, "voicebot serve exited"
            try:
                async with session.get(url + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("voicebot serve did not start")


async def test_sixty_unauthenticated_logins_keep_the_services_peak_memory_bounded(tmp_path):
    """The real service in its own process; its peak RSS (VmHWM) before and after 60 logins at once."""
    port = _free_port()
    config = tmp_path / "voicebot.toml"
    config.write_text(
        f'[server]\ndata_dir = "{tmp_path / "data"}"\nhost = "127.0.0.1"\nport = {port}\n'
        '[wechat]\nenabled = false\n[web]\nenabled = false\n[asr]\nworkers = 1\n'
        "[console]\nlogin_max_failures = 1000\n"  # the address limit is not what is measured here
    )
    cli = [sys.executable, "-m", "voicebot"]
    subprocess.run([*cli, "console", "user", "add", OPERATOR, "--password-stdin", "--config", str(config)],
                   input=PASSWORD + "\n", text=True, check=True, capture_output=True)
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([*cli, "serve", "--config", str(config)], stdout=subprocess.DEVNULL, stderr=log,
                            start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        await _wait_healthy(url, proc)
        async with Browserless(url) as op:
            assert (await _burst(op, ["wrong password"]))[401] == 1  # warm: one check has run
            before = _peak_rss_mib(proc.pid)
            statuses = await _burst(op, ["wrong password"] * 60)
            after = _peak_rss_mib(proc.pid)
        print(f"peak RSS {before:.0f} -> {after:.0f} MiB; {dict(statuses)}")
        assert statuses[401] >= 2 and set(statuses) <= {401, 503}, statuses
        # two checks at a time (the default): at most 2 x 64 MiB more, plus slack for buffers
        assert after - before < 3 * 64, (before, after)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


async def test_nobody_can_lock_an_operator_out_from_another_address(aiohttp_server, tmp_path):
    service = await console_service(aiohttp_server, tmp_path, console={"login_max_failures": 3})
    async with Browserless(service.url, local_addr="127.0.0.2") as attacker:  # another machine
        for _ in range(3):
            assert (await attacker.login(OPERATOR, "wrong password"))[0] == 401
        assert (await attacker.login(OPERATOR, PASSWORD))[0] == 429  # that address has had its tries
    async with Browserless(service.url) as op:  # the operator at the station
        started = time.monotonic()
        status, _, _ = await op.login()
        assert status == 303  # slowed (login_delay_s, 1 s by default), not refused
        assert time.monotonic() - started >= 1.0
        assert (await op.get("/console/"))[0] == 200


def test_an_accounts_failures_slow_it_down_exponentially_and_never_lock_it(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(login_limits.time, "monotonic", lambda: clock[0])
    limiter = login_limits.LoginLimiter(max_failures=2, window_s=60, delay_s=1, max_delay_s=4)
    delays = [limiter.begin(f"10.0.0.{n}", "ana").delay for n in range(6)]  # six addresses, one try each
    assert delays == [0, 0, 1, 2, 4, 4]
    with pytest.raises(login_limits.LoginRefused) as refused:  # an address is limited, not the account
        for _ in range(3):
            limiter.begin("10.0.0.9", "bo")
    assert refused.value.retry_after == 60
    right = limiter.begin("10.0.0.1", "ana")
    assert right.delay == 4
    limiter.succeeded(right)  # the right password forgives the account
    assert limiter.delay("ana") == 0
    busy = limiter.begin("10.0.0.8", "cy")
    limiter.withdrawn(busy)  # never checked (the service was busy): not a failure
    assert limiter.retry_after("10.0.0.8") == 0 and limiter.delay("cy") == 0
    clock[0] += 61  # the window has passed
    assert limiter.retry_after("10.0.0.9") == 0
    limiter.MAX_KEYS = 5
    for n in range(10):  # many made-up names: idle ones are dropped
        limiter.begin(f"10.1.0.{n}", f"x{n}")
        clock[0] += 61
    assert len(limiter._failures) <= limiter.MAX_KEYS + 2
