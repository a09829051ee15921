"""Several ``voicebot serve`` front ends on one store, for tests and benchmarks: configured, started,
frozen, killed and stopped as whole process groups, so nothing is left behind.

The front ends share the data folder (media, voice cache and, without a ``storage.url``, the SQLite
file) and the WeChat account (emulated in the caller's process); each has its own port and ``node``
name, as it would on its own machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from voicebot.testing.process_group import ProcessGroup, free_port
from voicebot.testing.wechat_emulator import WechatEmulator

TOKEN = "cluster-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@dataclass
class FrontEnd(ProcessGroup):
    """One ``voicebot serve`` process (its own session: its workers go with it)."""

    name: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook(self) -> str:
        return self.url + "/wechat"

    async def healthy(self, timeout_s: float = 180.0) -> None:
        """Until ``/healthz`` answers 200; RuntimeError (with the log's tail) if it exits or times out."""
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession() as session:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{self.tail()}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(self.url + "/healthz", timeout=aiohttp.ClientTimeout(total=5)) as r:
                        if r.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not become healthy:\n{self.tail()}")
                await asyncio.sleep(0.3)


def front_config(folder: Path, name: str, data_dir: Path, emulator: WechatEmulator, *, port: int,
                 language: str = "ko", currency: str = "KRW", asr_servers: list[str] | None = None,
                 storage_url: str = "", lease_s: float = 8.0, concurrent_runs: int = 4, extra: str = "") -> Path:
    """A front end's config file: WeChat (customer-service replies) against ``emulator``, espeak-ng voices,
    recognition on ``asr_servers`` over Wyoming (or local Vosk when None)."""
    asr = ('engine = "wyoming"\nwyoming = [' + ", ".join(f'"{u}"' for u in asr_servers) + "]\n"
           'wyoming_timeout_s = 30.0\n') if asr_servers else "workers = 1\n"
    storage = f'[storage]\nurl = "{storage_url}"\n' if storage_url else ""
    text = (f'[server]\ndata_dir = "{data_dir}"\nport = {port}\nnode = "{name}"\nclaim_lease_s = {lease_s}\n'
            f"concurrent_runs = {concurrent_runs}\n"
            f'[shop]\nlanguage = "{language}"\ncurrency = "{currency}"\n'
            f"[asr]\n{asr}"
            f'[tts]\nengines = {{ {language} = "espeak" }}\n'
            f'[wechat]\nenabled = true\napp_id = "{emulator.account.app_id}"\napi_base = "{emulator.url}"\n'
            f'reply_mode = "customer_service"\napi_timeout_s = {lease_s / 3:g}\n'
            f"{storage}{extra}")
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def wechat_env(emulator: WechatEmulator) -> dict[str, str]:
    """The account's secrets, as a deployment passes them (environment, never the config file)."""
    return {"VOICEBOT_WECHAT__TOKEN": TOKEN, "VOICEBOT_WECHAT__ENCODING_AES_KEY": AES_KEY,
            "VOICEBOT_WECHAT__APP_SECRET": emulator.account.app_secret}


def start_front_end(folder: Path, name: str, data_dir: Path, emulator: WechatEmulator,
                    env: dict[str, str] | None = None, **config: object) -> FrontEnd:
    """``voicebot serve`` on a free loopback port (await :meth:`FrontEnd.healthy`)."""
    port = free_port()
    path = front_config(folder, name, data_dir, emulator, port=port, **config)  # type: ignore[arg-type]
    log = folder / f"{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "voicebot", "serve", "--config", str(path)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, **wechat_env(emulator), **(env or {})},
                                cwd=folder, start_new_session=True)
    return FrontEnd(proc, port, log, name)
