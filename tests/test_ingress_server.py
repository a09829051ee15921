"""The HTTP front: connection cap, silent connections, aiohttp's own log lines, /healthz, config errors."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from aiohttp import web

from voicebot.app import create_app
from voicebot.config import ConfigError, load_config
from voicebot.logs import JsonFormatter, RateLimiter
from voicebot.server import start_site


def tiny_app() -> web.Application:
    app = web.Application()

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("boom\nwith a second line")

    app.router.add_get("/", hello)
    app.router.add_get("/boom", boom)
    return app


async def status_of(port: int, request: bytes = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    return line.split(b" ")[1] if line else b""


async def test_connections_past_the_cap_get_503_at_once_and_the_service_recovers(tmp_path):
    config = load_config(overrides={"server": {"max_connections": 2, "data_dir": str(tmp_path)}}, environ={})
    runner, site = await start_site(tiny_app(), config, "127.0.0.1", 0)
    held = []
    try:
        for _ in range(2):  # two clients that sent half a request and then nothing
            reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
            await writer.drain()
            held.append(writer)
        await asyncio.sleep(0.1)
        assert await status_of(site.port) == b"503"
        assert site.refused == 1
        for writer in held:
            writer.close()
        for _ in range(100):  # the server notices the closed connections
            if not runner.server.connections:
                break
            await asyncio.sleep(0.05)
        assert await status_of(site.port) == b"200"
    finally:
        await runner.cleanup()


async def test_a_connection_that_never_sends_a_request_is_closed(tmp_path):
    config = load_config(overrides={"server": {"data_dir": str(tmp_path), "body_timeout_s": 0.3}},
                         environ={})
    runner, site = await start_site(tiny_app(), config, "127.0.0.1", 0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed by the server, not by us
        writer.close()
        assert await status_of(site.port) == b"200"  # a prompt client is served as usual
    finally:
        await runner.cleanup()


async def test_aiohttp_errors_are_one_json_line_without_traceback(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr("voicebot.logs.LIMITER", RateLimiter())
    config = load_config(overrides={"server": {"data_dir": str(tmp_path)}}, environ={})
    runner, site = await start_site(tiny_app(), config, "127.0.0.1", 0)
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    try:
        bad = b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"
        assert await status_of(site.port, bad) == b"400"
        assert await status_of(site.port, b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n") == b"500"
        for i in range(20):  # the same error again within the second, other bytes: not written again
            await status_of(site.port, f"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: x{i}\r\n\r\n".encode())
    finally:
        await runner.cleanup()
    records = [r for r in caplog.records if r.name.startswith("aiohttp") and r.name != "aiohttp.access"]
    assert 1 <= len(records) <= 3
    for record in records:
        line = JsonFormatter().format(record)
        assert "\n" not in line and "Traceback" not in line
        assert json.loads(line)["event"] == "http.server_log"


async def test_healthz_details_only_for_local_or_token_holders(aiohttp_client, tmp_path):
    config = load_config(
        overrides={"server": {"data_dir": str(tmp_path), "health_token": "op-secret"}, "shop": {"language": "zh"},
                   "asr": {"workers": 1}},
        environ={},
    )
    client = await aiohttp_client(create_app(config))

    anonymous = await client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    body = await anonymous.json()
    assert anonymous.status == 200
    assert set(body) == {"status", "languages"}
    assert body["status"] == "degraded"  # the zh model is not installed here
    assert body["languages"]["zh"]["asr"] is False and body["languages"]["zh"]["tts"] is True
    text = json.dumps(body)
    assert "pid" not in text and "/" not in text  # no PIDs, no paths

    wrong = await client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer no"})
    assert set(await wrong.json()) == {"status", "languages"}

    for headers in ({"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer op-secret"}, {}):
        full = await (await client.get("/healthz", headers=headers)).json()
        assert "worker_pid" in full["tts"] and "pids" in full["asr"] and "runs" in full


@pytest.mark.parametrize("key", ["token", "app_secret", "encoding_aes_key"])
def test_a_mistyped_secret_is_named_but_not_echoed(tmp_path, key):
    path = tmp_path / "config.toml"
    path.write_text(f"[wechat]\n{key} = 98765432123\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path, environ={})
    assert f"wechat.{key}" in str(e.value) and "98765432123" not in str(e.value)
    path.write_text("[wechat]\nmax_body_bytes = \"lots\"\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'lots'"):  # ordinary values are still shown
        load_config(path, environ={})


async def test_serve_logs_only_json_lines_refuses_garbage_and_stops_cleanly_on_sigterm(tmp_path):
    import os
    import signal
    import socket
    import subprocess
    import sys

    import aiohttp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\nport = {port}\n[asr]\nworkers = 1\n'
                      '[wechat]\nenabled = true\ntoken = "t0k3n"\n', encoding="utf-8")
    log = tmp_path / "serve.log"
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "voicebot", "serve", "--config", str(config)],
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                assert proc.poll() is None, log.read_text()
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.2)
            async with session.post(f"http://127.0.0.1:{port}/wechat?signature=x", data=b"<xml/>") as r:
                assert r.status == 403
            async with session.get(f"http://127.0.0.1:{port}/healthz") as r:
                assert r.status == 200
        for garbage in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"):
            assert await status_of(port, garbage) == b"400"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    lines = log.read_text(encoding="utf-8").splitlines()
    events = [json.loads(line)["event"] for line in lines]  # every line is one JSON object
    assert {"serve.listening", "wechat.rejected", "serve.stopping"} <= set(events)
    assert "t0k3n" not in log.read_text(encoding="utf-8")
