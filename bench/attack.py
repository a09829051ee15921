"""Unauthenticated exhaustion: slow bodies, silent connections and forged floods against `voicebot serve`.

Starts the service as bench/load.py does, then for DURATION seconds keeps CONNECTIONS attacking
connections open (a third send a request head with a forged signature and then dribble a body, a
third say nothing at all, a third send forged requests back to back) while a prompt client asks
/healthz every 100 ms and a genuine buyer sends a message a second. Prints the /healthz and genuine
message outcomes, connections refused, the service's open file descriptors, RSS and log volume.
All traffic goes to 127.0.0.1; every loop is bounded; the service is stopped at the end.

With ``--web`` the attack is on the public browser chat instead: from one address (127.0.0.2) it
opens SOCKETS buyer WebSockets with made-up cookies and SLOW_LOGINS ``POST /console/login``
connections that send their body a byte a second, while from 127.0.0.1 a prompt client asks
/healthz, a genuine buyer (page, socket, a question every 3 s) and WeChat (a message a second) go on.

Run: .venv/bin/python bench/attack.py --connections 1100 --duration 20
     .venv/bin/python bench/attack.py --web --sockets 500 --slow-logins 20 --duration 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

sys.path.insert(0, str(Path(__file__).parent))
from load import (  # noqa: E402
    AES_KEY,
    TOKEN,
    log_health,
    percentile,
    rss_mb,
    start_service,
    stop_service,
    wait_healthy,
)

from voicebot.testing.wechat_client import WechatClient  # noqa: E402

BUYER_PAUSE_S = 3.0  # a person's pace, within the chat's 12 messages in 30 s per identity
ATTACKER = "127.0.0.2"  # Linux routes all of 127/8 to the loopback device: "one other client"


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


async def attacker(n: int, port: int, until: float, outcome: Counter[str]) -> None:
    """One hostile client, reconnecting until ``until``."""
    forged = urlencode({"signature": "f" * 40, "timestamp": str(int(time.time())), "nonce": str(n)})
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
        except (OSError, TimeoutError):
            outcome["connect_failed"] += 1
            await asyncio.sleep(0.2)
            continue
        try:
            if n % 3 == 0:  # slow body
                writer.write(f"POST /wechat?{forged} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n".encode())
                while time.monotonic() < until and not reader.at_eof():
                    writer.write(b"<")
                    await writer.drain()
                    try:
                        line = await asyncio.wait_for(reader.readline(), 1.0)
                    except TimeoutError:
                        continue
                    outcome[f"slow:{line.split(b' ')[1].decode() if line else 'closed'}"] += 1
                    break
            elif n % 3 == 1:  # silent
                try:
                    data = await asyncio.wait_for(reader.read(100), max(0.1, until - time.monotonic()))
                    outcome[f"silent:{data.split(b' ')[1].decode() if data else 'closed'}"] += 1
                except TimeoutError:
                    outcome["silent:still_open"] += 1
            else:  # forged flood on one connection
                writer.write(f"POST /wechat?{forged} HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n<xml/>".encode())
                await writer.drain()
                line = await asyncio.wait_for(reader.readline(), 5)
                outcome[f"forged:{line.split(b' ')[1].decode() if line else 'closed'}"] += 1
        except (OSError, TimeoutError, IndexError):
            outcome["error"] += 1
        finally:
            writer.close()


async def forged_socket(session: aiohttp.ClientSession, url: str, outcome: Counter[str]) -> Any:
    cookie = "vb_buyer=" + secrets.token_urlsafe(32)
    try:
        ws = await session.ws_connect(url, headers={"Cookie": cookie}, timeout=aiohttp.ClientWSTimeout(ws_close=5))
    except aiohttp.WSServerHandshakeError as e:
        outcome[f"refused:{e.status}"] += 1
    except (aiohttp.ClientError, OSError, TimeoutError):
        outcome["failed"] += 1
    else:
        outcome["opened"] += 1
        return ws
    return None


async def slow_login(port: int, until: float, closed_after: list[float], outcome: Counter[str]) -> None:
    started = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(ATTACKER, 0))
    except OSError:
        outcome["connect_failed"] += 1
        return
    try:
        writer.write(b"POST /console/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
                     b"\r\nContent-Length: 100000\r\n\r\n")
        while time.monotonic() < until:
            try:
                writer.write(b"a")
                await writer.drain()
                data = await asyncio.wait_for(reader.read(100), 1.0)
            except TimeoutError:
                continue
            except OSError:
                data = b""
            outcome[f"answered:{data.split(b' ')[1].decode() if len(data.split(b' ')) > 1 else 'closed'}"] += 1
            closed_after.append(time.monotonic() - started)
            return
        outcome["still_open_at_end"] += 1
    finally:
        writer.close()


async def genuine_buyer(url: str, link: str, until: float, outcome: Counter[str]) -> None:
    """A real buyer from 127.0.0.1: the page, its socket, a question every few seconds."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        while time.monotonic() < until:
            try:
                async with session.get(f"{url}/chat/{link}", timeout=aiohttp.ClientTimeout(total=5)) as r:
                    outcome[f"page:{r.status}"] += 1
                    if r.status != 200:
                        await asyncio.sleep(1)
                        continue
                ws = await session.ws_connect(f"{url}/chat/{link}/ws", timeout=aiohttp.ClientWSTimeout(ws_close=5))
            except aiohttp.WSServerHandshakeError as e:
                outcome[f"socket:{e.status}"] += 1
                await asyncio.sleep(1)
                continue
            except (aiohttp.ClientError, OSError, TimeoutError):
                outcome["page:failed"] += 1
                await asyncio.sleep(1)
                continue
            n = 0
            try:
                while time.monotonic() < until:
                    n += 1
                    await ws.send_json({"type": "text", "id": f"g-{time.monotonic_ns()}", "text": "사과 얼마 예요"})
                    deadline = time.monotonic() + 5
                    while time.monotonic() < deadline:
                        msg = await asyncio.wait_for(ws.receive(), max(0.1, deadline - time.monotonic()))
                        if msg.type != aiohttp.WSMsgType.TEXT:
                            raise ConnectionError("socket closed")
                        event = json.loads(msg.data)
                        if event["type"] in ("received", "error"):
                            outcome[f"message:{event.get('code', 'received')}"] += 1
                            break
                    await asyncio.sleep(BUYER_PAUSE_S)
            except (ConnectionError, TimeoutError, aiohttp.ClientError):
                outcome["message:lost"] += 1
            finally:
                await ws.close()


async def web_attack(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="voicebot-attack-web-"))
    args.concurrent_runs = 4
    emulator, emu_runner, proc, url, log = await start_service(folder, args)
    port = int(url.rsplit(":", 1)[1])
    try:
        await wait_healthy(url, proc)
        from voicebot.channels.web import links
        from voicebot.config import load_config
        from voicebot.shop.facade import Shop

        with Shop.open(load_config(folder / "config.toml", environ={})) as shop:
            link = links.shop_link(shop.db)
        rss_before = rss_mb(proc.pid)
        until = time.monotonic() + args.duration
        sockets_outcome: Counter[str] = Counter()
        slow_outcome: Counter[str] = Counter()
        closed_after: list[float] = []
        buyer: Counter[str] = Counter()
        attacker = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(ATTACKER, 0), limit=0))
        slow = [asyncio.create_task(slow_login(port, until, closed_after, slow_outcome))
                for _ in range(args.slow_logins)]
        sockets = await asyncio.gather(*(forged_socket(attacker, f"{url}/chat/{link}/ws", sockets_outcome)
                                         for _ in range(args.sockets)))
        buyer_task = asyncio.create_task(genuine_buyer(url, link, until, buyer))
        health: Counter[str] = Counter()
        webhook: Counter[str] = Counter()
        async with aiohttp.ClientSession() as session:
            wx = WechatClient(url + "/wechat", TOKEN, app_id=emulator.account.app_id, mode="safe",
                              encoding_aes_key=AES_KEY, emulator=emulator, timeout_s=5.0, session=session)
            user = wx.user()
            next_webhook = time.monotonic()
            while time.monotonic() < until:
                try:
                    async with session.get(url + "/healthz", timeout=aiohttp.ClientTimeout(total=5)) as r:
                        await r.read()
                        health[str(r.status)] += 1
                except (aiohttp.ClientError, TimeoutError):
                    health["failed"] += 1
                if time.monotonic() >= next_webhook:
                    next_webhook += 1.0
                    attempt = await wx.post_once(wx.prepare(user.text("사과 얼마 예요")))
                    webhook["timeout" if attempt.timed_out else str(attempt.status)] += 1
                await asyncio.sleep(0.1)
        await asyncio.gather(buyer_task, *slow)
        await asyncio.gather(*(ws.close() for ws in sockets if ws is not None), return_exceptions=True)
        await attacker.close()
        print(f"web attack from one address for {args.duration:g} s: {args.sockets} buyer sockets with made-up "
              f"cookies, {args.slow_logins} slow POST /console/login; load average {os.getloadavg()[0]:.1f}")
        print(f"attacker sockets: {dict(sorted(sockets_outcome.items()))}")
        median = statistics.median(closed_after) if closed_after else float("nan")
        print(f"slow login bodies: {dict(sorted(slow_outcome.items()))}  closed after median {median:.1f} s")
        print(f"/healthz during the attack: {dict(health)}")
        print(f"genuine buyer (page, socket, messages): {dict(sorted(buyer.items()))}")
        print(f"genuine WeChat messages: {dict(webhook)}")
        print(f"service RSS {rss_before:.0f} -> {rss_mb(proc.pid):.0f} MB")
    finally:
        await stop_service(proc, log, emu_runner)


async def main(args: argparse.Namespace) -> None:
    if args.web:
        await web_attack(args)
        return
    folder = Path(tempfile.mkdtemp(prefix="voicebot-attack-"))
    args.concurrent_runs = 4
    emulator, emu_runner, proc, url, log = await start_service(folder, args)
    port = int(url.rsplit(":", 1)[1])
    try:
        await wait_healthy(url, proc)
        rss_before, fds_before = rss_mb(proc.pid), open_fds(proc.pid)
        log_before = (folder / "serve.log").stat().st_size
        until = time.monotonic() + args.duration
        outcome: Counter[str] = Counter()
        attackers = [asyncio.create_task(attacker(n, port, until, outcome)) for n in range(args.connections)]
        health: list[float] = []
        health_status: Counter[str] = Counter()
        genuine: Counter[str] = Counter()
        max_fds = 0
        async with aiohttp.ClientSession() as session:
            wx = WechatClient(url + "/wechat", TOKEN, app_id=emulator.account.app_id, mode="safe",
                              encoding_aes_key=AES_KEY, emulator=emulator, timeout_s=5.0, session=session)
            buyer = wx.user()
            next_genuine = time.monotonic()
            while time.monotonic() < until:
                started = time.perf_counter()
                try:
                    async with session.get(url + "/healthz", timeout=aiohttp.ClientTimeout(total=5)) as r:
                        await r.read()
                        health_status[str(r.status)] += 1
                        if r.status == 200:
                            health.append(time.perf_counter() - started)
                except (aiohttp.ClientError, TimeoutError):
                    health_status["failed"] += 1
                if time.monotonic() >= next_genuine:
                    next_genuine += 1.0
                    attempt = await wx.post_once(wx.prepare(buyer.text("사과 얼마 예요")))
                    genuine["timeout" if attempt.timed_out else str(attempt.status)] += 1
                max_fds = max(max_fds, open_fds(proc.pid))
                await asyncio.sleep(0.1)
        await asyncio.gather(*attackers)
        await asyncio.sleep(1)
        log_bytes = (folder / "serve.log").stat().st_size - log_before
        lines = (folder / "serve.log").read_bytes().splitlines()
        print(f"attack: {args.connections} hostile connections for {args.duration} s "
              f"(slow bodies, silent, forged floods), load average {os.getloadavg()[0]:.1f}")
        print(f"attacker outcomes: {dict(sorted(outcome.items()))}")
        p99 = percentile(health, 0.99) * 1000 if health else float("nan")
        p50 = statistics.median(health) * 1000 if health else float("nan")
        print(f"/healthz during the attack: {dict(health_status)}  p50 {p50:.0f} ms  p99 {p99:.0f} ms")
        print(f"genuine messages during the attack: {dict(genuine)}")
        print(f"service fds: {fds_before} -> max {max_fds} -> {open_fds(proc.pid)}   "
              f"RSS {rss_before:.0f} -> {rss_mb(proc.pid):.0f} MB")
        not_json, tracebacks = log_health(lines)
        print(f"service log during the attack: {log_bytes / 1e3:.0f} kB ({not_json} lines that are not one "
              f"JSON object, {tracebacks} with a traceback)")
    finally:
        await stop_service(proc, log, emu_runner)


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1100)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--web", action="store_true", help="attack the browser chat and console login instead")
    parser.add_argument("--sockets", type=int, default=500, help="--web: buyer sockets with made-up cookies")
    parser.add_argument("--slow-logins", type=int, default=20, help="--web: slow POST /console/login bodies")
    signal.signal(signal.SIGTERM, _terminated)
    asyncio.run(main(parser.parse_args()))
