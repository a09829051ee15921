"""``voicebot serve``: run the aiohttp service."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from voicebot.app import create_app
from voicebot.asr.engines import Recognizers
from voicebot.channels.web.links import shop_link
from voicebot.channels.web.routes import base_url, chat_url
from voicebot.cli.options import config_option, load_or_exit, print_json
from voicebot.config import Config
from voicebot.logs import log_event, setup_logging
from voicebot.server import serve_until_signalled
from voicebot.shop.facade import Shop
from voicebot.speech_check import configured_languages, language_summary
from voicebot.tts.errors import TtsError
from voicebot.tts.service import TtsService


@click.command()
@config_option
@click.option("--host", default=None, help="Override server.host.")
@click.option("--port", type=int, default=None, help="Override server.port.")
@click.option("--check", is_flag=True,
              help="Start every configured recogniser and voice, print one JSON line per language, and exit "
                   "(non-zero when an engine cannot start or falls back).")
def serve(config_path: str | None, host: str | None, port: int | None, check: bool) -> None:
    """Start the voicebot service (webhook, health check, engines).

    \b
    Example:
      voicebot serve --config config.toml --port 8080
      voicebot serve --config /etc/voicebot/config.toml --check
    """
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    config = load_or_exit(config_path, {"server": overrides} if overrides else None)
    setup_logging(config.server.log_level)
    if check:
        lines = asyncio.run(_check(config))
        for line in lines:
            print_json(line)
        if not all(line["ok"] for line in lines):
            raise SystemExit(1)
        return
    log_event("serve.start", host=config.server.host, port=config.server.port, config=config.source,
              language=config.shop.language, data_dir=str(config.data_dir))
    if config.web.enabled:
        _print_urls(config)
    if config.console.enabled:
        host = "127.0.0.1" if config.server.host in ("0.0.0.0", "::", "") else config.server.host
        url = f"http://{host}:{config.server.port}/console/"
        log_event("console.url", url=url)  # stderr carries only JSON log lines; people read stdout
        click.echo(f"operator console: {url}  (add an account: voicebot console user add NAME)")

    asyncio.run(serve_until_signalled(create_app(config), config))


async def _check(config: Config) -> list[dict[str, Any]]:
    """Start the engines as ``serve`` would, say what runs per language, stop them."""
    asr = Recognizers(config, configured_languages(config))
    tts = TtsService(config)
    try:
        await asr.start()
        try:
            await tts.start()
        except TtsError as e:
            return [{"language": None, "ok": False, "problems": [f"voice: {e}"]}]
        return language_summary(config, asr, tts)
    finally:
        await asyncio.gather(asr.close(), tts.close())


def _print_urls(config: Config) -> None:
    """Tell a newcomer where to go: the front page, the buyer link, the console."""
    with Shop.open(config) as shop:
        buyer = chat_url(config, shop_link(shop.db))
    base = base_url(config)
    # one JSON log line like every other (stderr stays machine-readable), with the addresses to open
    log_event("serve.urls", open=f"{base}/", buyer_chat=buyer, console=f"{base}/console/",
              seller_link="voicebot shop seller link NAME")


COMMANDS = [serve]
