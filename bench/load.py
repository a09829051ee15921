"""Webhook load benchmark: does the ack path hold while the pipeline is far behind?

Starts ``voicebot serve`` in its own process (ko, one ASR worker, the WeChat channel in safe
mode), with the WeChat API emulated in this process on 127.0.0.1. Then it delivers RATE messages
per second for DURATION seconds (text questions, with a share of real AMR voice notes), each
signed and encrypted as WeChat does, on a fixed schedule whatever the answers. Every request's
ack time is measured. Afterwards it waits for the backlog to drain and checks the database and
the emulator: every accepted message finished once, each got its reply once.

Prints ack p50/p99/max, acks over 5 s (WeChat would redeliver), errors, dropped (sent but never
finished), duplicates (replies beyond one per message), backlog drain time, and the service's RSS
before and after (main process, and with its workers). All traffic goes to 127.0.0.1; every loop
is bounded; the service is stopped at the end.

Run: .venv/bin/python bench/load.py --rate 200 --duration 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import IO

import aiohttp
from aiohttp import web

from voicebot.testing.speech import convert, espeak_wav
from voicebot.testing.wechat_client import WechatClient
from voicebot.testing.wechat_emulator import EmulatorAccount, WechatEmulator

TOKEN = "bench-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
PRODUCTS = [("사과", 3000, 1_000_000, "개"), ("배", 5000, 1_000_000, "개")]
QUESTIONS = ["사과 얼마 예요", "배 얼마 예요", "사과 있어요", "배 있어요"]
USERS = 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_rss_mb(pid: int) -> float:
    """RSS of ``pid`` and its child processes (the ASR and TTS workers)."""
    total = rss_mb(pid)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return total + sum(tree_rss_mb(int(c)) for c in children)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def write_config(folder: Path, port: int, api: str, app_id: str, app_secret: str, args: argparse.Namespace) -> Path:
    path = folder / "config.toml"
    path.write_text(
        f'[server]\ndata_dir = "{folder / "data"}"\nport = {port}\nconcurrent_runs = {args.concurrent_runs}\n'
        '[shop]\nlanguage = "ko"\ncurrency = "KRW"\n'
        "[asr]\nworkers = 1\n"
        f'[wechat]\nenabled = true\ntoken = "{TOKEN}"\napp_id = "{app_id}"\napp_secret = "{app_secret}"\n'
        f'encoding_aes_key = "{AES_KEY}"\napi_base = "{api}"\nreply_mode = "customer_service"\n'
        "window_quota = 1000000\n",
        encoding="utf-8",
    )
    return path


def seed(config_path: Path) -> None:
    from voicebot.config import load_config
    from voicebot.shop.facade import Shop

    with Shop.open(load_config(config_path, environ={})) as shop:
        for name, price, stock, unit in PRODUCTS:
            shop.add_product(name, price, stock, unit=unit)


async def wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("voicebot serve exited during start-up")
            try:
                async with session.get(url + "/healthz") as r:
                    if r.status == 200 and (await r.json())["asr"]["ready"]:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.3)
    raise TimeoutError("voicebot did not become healthy")


def finished_counts(db_path: Path) -> Counter[str]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30) as db:
        rows = db.execute("SELECT status, count(*) FROM messages WHERE direction = 'in' GROUP BY status").fetchall()
    return Counter({status: n for status, n in rows})


async def start_service(
    folder: Path, args: argparse.Namespace
) -> tuple[WechatEmulator, web.AppRunner, subprocess.Popen, str, IO[bytes]]:
    """The WeChat API emulated on 127.0.0.1 and ``voicebot serve`` in its own process (log in ``folder``)."""
    emulator = WechatEmulator(EmulatorAccount(window_quota=10**6))  # one reply per message; no quota here
    emu_runner = web.AppRunner(emulator.app, access_log=None)
    await emu_runner.setup()
    emu_port = free_port()
    await web.TCPSite(emu_runner, "127.0.0.1", emu_port).start()
    port = free_port()
    config_path = write_config(folder, port, f"http://127.0.0.1:{emu_port}", emulator.account.app_id,
                               emulator.account.app_secret, args)
    seed(config_path)
    log = (folder / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "voicebot", "serve", "--config", str(config_path)],
                            stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    return emulator, emu_runner, proc, f"http://127.0.0.1:{port}", log


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="voicebot-load-"))
    notes = []
    for i, text in enumerate(QUESTIONS):
        wav = espeak_wav(text, "ko", folder / f"q{i}.wav", rate=130)
        notes.append(convert(wav, "amr-nb", folder / f"q{i}.amr").read_bytes())

    emulator, emu_runner, proc, url, log = await start_service(folder, args)
    try:
        await wait_healthy(url, proc)
        rss_before, tree_before = rss_mb(proc.pid), tree_rss_mb(proc.pid)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            wx = WechatClient(url + "/wechat", TOKEN, app_id=emulator.account.app_id, mode=args.mode,
                              encoding_aes_key=AES_KEY, emulator=emulator, timeout_s=args.ack_timeout,
                              session=session)
            users = [wx.user() for _ in range(USERS)]
            total = int(args.rate * args.duration)
            voice_every = max(1, round(1 / args.voice_share)) if args.voice_share > 0 else 0
            acks: list[float] = []
            timeline: list[tuple[float, float]] = []  # (seconds since start, ack seconds)
            statuses: Counter[str] = Counter()
            sent_ids: list[str] = []
            voices = 0

            async def deliver(n: int) -> None:
                nonlocal voices
                user = users[n % USERS]
                if voice_every and n % voice_every == 0:
                    inbound = user.voice(emulator.put_media(notes[n % len(notes)], "voice"), "amr")
                    voices += 1
                else:
                    inbound = user.text(QUESTIONS[n % len(QUESTIONS)])
                emulator.user_message(user.openid)
                attempt = await wx.post_once(wx.prepare(inbound))
                sent_ids.append(inbound.msg_id or "")
                statuses["timeout" if attempt.timed_out else str(attempt.status)] += 1
                if not attempt.timed_out:
                    acks.append(attempt.seconds)
                    timeline.append((n / args.rate, attempt.seconds))

            started = time.monotonic()
            tasks = []
            for n in range(total):  # a fixed schedule: the offered load does not slow down with the service
                delay = started + n / args.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(deliver(n)))
            await asyncio.gather(*tasks)
            sent_done = time.monotonic()
            offered_s = sent_done - started

            db_path = folder / "data" / "voicebot.db"
            deadline = sent_done + args.drain_timeout
            accepted = statuses["200"]
            counts: Counter[str] = Counter()
            while time.monotonic() < deadline:
                counts = finished_counts(db_path)
                if counts["replied"] + counts["failed"] >= accepted and not counts["received"] + counts["processing"]:
                    break
                await asyncio.sleep(0.5)
            drained_s = time.monotonic() - sent_done
            while time.monotonic() < deadline + 60:  # let the outbox send the last replies
                with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30) as db:
                    (pending,) = db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()
                if not pending:
                    break
                await asyncio.sleep(0.5)
            sent_s = time.monotonic() - sent_done
            rss_after, tree_after = rss_mb(proc.pid), tree_rss_mb(proc.pid)

        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30) as db:
            stored = {r[0] for r in db.execute("SELECT channel_msg_id FROM messages WHERE direction = 'in'")}
            finished = {r[0] for r in db.execute(
                "SELECT channel_msg_id FROM messages WHERE direction = 'in' AND status IN ('replied', 'failed')")}
        per_user = Counter(s.touser for s in emulator.sent if s.msgtype == "voice")
        sent_per_user = Counter(users[n % USERS].openid for n in range(total))
        duplicates = sum(max(0, per_user[u] - sent_per_user[u]) for u in per_user)
        dropped_acked = sum(1 for m in sent_ids if m not in finished)
        late = sum(1 for a in acks if a > 5.0)
        print(f"offered: {total} messages ({voices} voice notes) at {args.rate}/s for {args.duration} s "
              f"(sending took {offered_s:.1f} s), mode {args.mode}, concurrent_runs {args.concurrent_runs}, "
              f"load average before {os.getloadavg()[0]:.1f}")
        print(f"acks: n={len(acks)} p50 {statistics.median(acks) * 1000:.0f} ms  p99 {percentile(acks, 0.99) * 1000:.0f} ms"
              f"  max {max(acks) * 1000:.0f} ms   acks > 5 s: {late}   statuses: {dict(statuses)}")
        print(f"dropped (sent, never finished): {dropped_acked}   not stored: {len(set(sent_ids) - stored)}   "
              f"duplicates (extra replies): {duplicates}   finished: {dict(counts)}")
        print(f"replies sent by the API: {sum(per_user.values())} voice for {total} messages "
              f"(outbox empty {sent_s:.1f} s after the last send)")
        worst = sorted(timeline, key=lambda t: -t[1])[:5]
        print("slowest acks (sent at s: ack ms): " + ", ".join(f"{t:.1f}: {a * 1000:.0f}" for t, a in worst))
        print(f"backlog drain after the last send: {drained_s:.1f} s "
              f"({'drained' if not counts['received'] + counts['processing'] else 'NOT drained'})")
        print(f"RSS service: {rss_before:.0f} -> {rss_after:.0f} MB   with workers: {tree_before:.0f} -> {tree_after:.0f} MB")
    finally:
        await stop_service(proc, log, emu_runner)
        lines = (folder / "serve.log").read_bytes().splitlines()
        print(f"service log: {len(lines)} lines ({log_health(lines)[0]} not one JSON object), "
              f"{sum(len(ln) + 1 for ln in lines) / 1e6:.1f} MB, in {folder / 'serve.log'}")


async def stop_service(proc: subprocess.Popen, log: IO[bytes], emu_runner: web.AppRunner) -> None:
    """SIGTERM ``voicebot serve`` (SIGKILL its process group after 60 s), close its log, stop the emulator."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    log.close()
    await emu_runner.cleanup()


def log_health(lines: list[bytes]) -> tuple[int, int]:
    """(lines that are not one JSON object, lines with a traceback) among the service's log lines."""
    return sum(1 for ln in lines if not _is_json(ln)), sum(1 for ln in lines if b"Traceback" in ln)


def _is_json(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that `finally` stops the service when the bench itself is stopped


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminated)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=50.0, help="messages per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of offered load")
    parser.add_argument("--voice-share", type=float, default=0.05, help="share of voice notes (0 to 1)")
    parser.add_argument("--mode", choices=["plain", "compat", "safe"], default="safe")
    parser.add_argument("--concurrent-runs", type=int, default=4)
    parser.add_argument("--ack-timeout", type=float, default=15.0, help="client timeout per request (s)")
    parser.add_argument("--drain-timeout", type=float, default=900.0, help="give up waiting for the backlog (s)")
    asyncio.run(main(parser.parse_args()))
