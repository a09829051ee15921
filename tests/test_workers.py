"""Worker processes fail alone and die with the service.

A stuck decode costs only its own worker (killed, replaced) and its own user (a spoken "say it
again"); other users' decodes running at that moment finish. No Vosk or TTS worker outlives a
SIGKILLed ``voicebot serve``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from console_helpers import serve_emulator
from test_wechat_e2e import KO_PRODUCTS, assert_spoken, korean_voice_note, voice_payloads
from test_wechat_restart import free_port, wait_healthy
from wechat_service import only_inbound, shop_service

from voicebot.app import ASR
from voicebot.audio.decode import decode_sync
from voicebot.dialogue.replies import say
from voicebot.testing.processes import descendants, wait_gone
from voicebot.workers import (
    STALL_ENV,
    WorkerDied,
    WorkerPool,
    WorkerStartFailed,
    WorkerTimeout,
    stall_for_tests,
    stall_name,
)

ORPHAN_SCRIPT = """
import concurrent.futures as cf, functools, multiprocessing as mp, os, time
from voicebot.workers import die_with_parent
if __name__ == "__main__":
    init = functools.partial(die_with_parent, 0.1, use_prctl=False)
    with cf.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), initializer=init) as ex:
        print(ex.submit(os.getpid).result(), flush=True)
        time.sleep(600)
"""


async def until(check, what: str, timeout_s: float = 120.0) -> None:
    """Wait until ``check()`` is true (a bound so that a broken build fails instead of hanging)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        await asyncio.sleep(0.05)


# -- the helper itself, with plain functions (stdlib and the test hook: nothing to import in the workers) ---------


async def test_a_hung_task_fails_alone_and_its_worker_is_replaced(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(STALL_ENV, str(tmp_path))
    (tmp_path / f"{stall_name(b'busy')}.hold").touch()
    pool = WorkerPool("test", 3)
    pool.start()
    try:
        await pool.wait_ready(60)
        first = pool.pids()
        assert len(first) == 3 and pool.ready
        others = [asyncio.ensure_future(pool.run(stall_for_tests, b"busy", timeout_s=120)) for _ in range(2)]
        await until(lambda: pool.status()["busy"] == 2, "two tasks running")
        with pytest.raises(WorkerTimeout):
            await pool.run(time.sleep, 3600, timeout_s=0.5)
        assert not any(t.done() for t in others)  # still running after the hung worker was killed
        (tmp_path / f"{stall_name(b'busy')}.hold").unlink()
        await asyncio.gather(*others)
        await until(lambda: pool.ready and len(pool.pids()) == 3, "the pool back to three workers")
        assert len(set(pool.pids()) & set(first)) == 2 and pool.status()["restarts"] == 1
        assert await pool.run(divmod, 7, 2, timeout_s=60) == (3, 1)
        with pytest.raises(ZeroDivisionError):  # the task's own error reaches the caller unchanged
            await pool.run(divmod, 7, 0, timeout_s=60)
    finally:
        await pool.close()
    assert pool.pids() == [] and wait_gone(first, timeout_s=10) == []


async def test_a_worker_killed_while_idle_is_replaced_and_a_failing_initializer_is_reported() -> None:
    pool = WorkerPool("test", 1)
    pool.start()
    try:
        await pool.wait_ready(60)
        (pid,) = pool.pids()
        os.kill(pid, signal.SIGKILL)
        await until(lambda: pid not in pool.pids(), "the killed worker gone")
        try:
            fresh = await pool.run(os.getpid, timeout_s=60)
        except WorkerDied:  # sent while pebble was giving up on the pool: that one call fails
            fresh = await pool.run(os.getpid, timeout_s=60)
        assert fresh not in (None, pid) and pool.pids() == [fresh]
    finally:
        await pool.close()

    broken = WorkerPool("test", 1, os.chdir, ("/nonexistent/model",))
    broken.start()
    try:
        with pytest.raises(WorkerStartFailed, match="nonexistent/model"):
            await broken.wait_ready(60)
        with pytest.raises((WorkerStartFailed, WorkerDied)):
            await broken.run(os.getpid, timeout_s=60)
    finally:
        await broken.close()


# -- through the service: three buyers, one stuck decode ------------------------------------------------------------


async def test_a_stuck_decode_fails_alone_with_a_spoken_reply(aiohttp_server, tmp_path, monkeypatch) -> None:
    stall = tmp_path / "stall"
    stall.mkdir()
    monkeypatch.setenv(STALL_ENV, str(stall))  # the workers, spawned below, see the test hook
    emulator = await serve_emulator(aiohttp_server)
    service = await shop_service(aiohttp_server, tmp_path, emulator, KO_PRODUCTS,
                                 shop={"language": "ko", "currency": "KRW"}, asr={"workers": 3})
    config, asr = service.config, service.app[ASR]
    assert asr.status()["ready"] and len(asr.status()["pids"]) == 3
    first_pids = asr.status()["pids"]

    notes = {}
    for key, text in (("held_a", "사과 얼마 예요"), ("held_b", "배 있어요"), ("stuck", "꿀 있어요")):
        (tmp_path / key).mkdir()
        notes[key] = korean_voice_note(tmp_path / key, text)
        name = stall_name(decode_sync(notes[key], config.audio).data)  # the PCM the pipeline will decode
        (stall / f"{name}.{'hang' if key == 'stuck' else 'hold'}").touch()

    async with service.client(mode="compat") as wx:
        buyers = {key: wx.user() for key in notes}
        for key in ("held_a", "held_b"):
            await buyers[key].send_voice(notes[key])
        await until(lambda: asr.status()["busy"] == 2, "two decodes running (held by the hook)")
        config.asr.decode_timeout_s = 1.0  # the decodes already running keep the timeout they started with
        await buyers["stuck"].send_voice(notes["stuck"])

        stuck = buyers["stuck"].openid
        await until(lambda: only_inbound(config, stuck)["status"] != "received"
                    and voice_payloads(emulator, stuck), "the stuck buyer's reply")
        row = only_inbound(config, stuck)
        assert row["reply_text"] == say("ko", "errors.asr") and "longer than 1 s" in row["error"]
        (audio,) = voice_payloads(emulator, stuck)
        assert_spoken(audio)
        # the other two are still decoding: nobody else failed with the stuck one
        assert asr.status()["busy"] == 2
        assert not voice_payloads(emulator, buyers["held_a"].openid)

        for hold in stall.glob("*.hold"):
            hold.unlink()
        await service.settle()

    for key in ("held_a", "held_b"):  # decoded and answered (what espeak's Korean is heard as is not the point)
        row = only_inbound(config, buyers[key].openid)
        assert row["status"] == "replied" and not row["error"] and row["transcript"], row
        (audio,) = voice_payloads(emulator, buyers[key].openid)
        assert_spoken(audio)
    await until(lambda: asr.status()["ready"] and len(asr.status()["pids"]) == 3, "three workers again")
    pids = asr.status()["pids"]
    assert len(set(pids) & set(first_pids)) == 2, (first_pids, pids)  # only the stuck one was replaced
    assert asr.status()["restarts"] == 1


# -- no worker outlives the service ---------------------------------------------------------------------------------


async def test_sigkilled_service_takes_its_workers_with_it(tmp_path):
    port = free_port()
    config = tmp_path / "voicebot.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\nport = {port}\n'
                      '[shop]\nlanguage = "ko"\n[asr]\nworkers = 1\n', encoding="utf-8")
    cmd = [sys.executable, "-m", "voicebot", "serve", "--config", str(config)]
    serve = subprocess.Popen(cmd, stderr=(tmp_path / "serve.log").open("wb"))
    try:
        # /healthz answers once every resource started (the TTS worker too); asr says the Vosk one is up
        await wait_healthy(f"http://127.0.0.1:{port}", serve)
        workers = descendants(serve.pid)
        # one Vosk worker and one TTS worker, both Python processes spawned by multiprocessing
        assert sum("multiprocessing" in p.cmdline for p in workers) >= 2, workers
    finally:
        serve.send_signal(signal.SIGKILL)
        serve.wait()
    left = wait_gone([p.pid for p in workers], timeout_s=15)
    for pid in left:  # do not leave them behind even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert left == []


def test_the_watchdog_alone_ends_an_orphaned_worker():
    parent = subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        assert worker != parent.pid and worker in [p.pid for p in descendants(parent.pid)]
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        parent.stdout.close()
    left = wait_gone([worker], timeout_s=10)
    for pid in left:  # do not leave it behind even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert left == []
