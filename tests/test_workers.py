"""Worker processes die with the service: no Vosk or TTS worker outlives a SIGKILLed ``voicebot serve``."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import aiohttp
from test_wechat_restart import free_port

from voicebot.testing.processes import descendants, wait_gone

ORPHAN_SCRIPT = """
import concurrent.futures as cf, functools, multiprocessing as mp, os, time
from voicebot.workers import die_with_parent
if __name__ == "__main__":
    init = functools.partial(die_with_parent, 0.1, use_prctl=False)
    with cf.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), initializer=init) as ex:
        print(ex.submit(os.getpid).result(), flush=True)
        time.sleep(600)
"""


async def wait_workers_up(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert proc.poll() is None, "voicebot serve exited"
            try:
                async with session.get(url + "/healthz") as r:
                    body = await r.json()
                    if body["asr"]["ready"] and body["tts"]["ready"]:
                        return
            except (aiohttp.ClientError, ValueError):
                pass
            await asyncio.sleep(0.3)
    raise TimeoutError("voicebot's workers did not come up")


async def test_sigkilled_service_takes_its_workers_with_it(tmp_path):
    port = free_port()
    config = tmp_path / "voicebot.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\nport = {port}\n'
                      '[shop]\nlanguage = "ko"\n[asr]\nworkers = 1\n', encoding="utf-8")
    cmd = [sys.executable, "-m", "voicebot", "serve", "--config", str(config)]
    serve = subprocess.Popen(cmd, stderr=(tmp_path / "serve.log").open("wb"))
    try:
        await wait_workers_up(f"http://127.0.0.1:{port}", serve)
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
