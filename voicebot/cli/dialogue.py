"""``voicebot chat``: one dialogue turn from the command line (the CLI twin of ``handle_turn``)."""

from __future__ import annotations

import time
import uuid

import click

from voicebot.cli.options import print_json, with_config
from voicebot.cli.shop import shop_option
from voicebot.config import SELLERS_CHANNEL, Config
from voicebot.dialogue import handle_turn
from voicebot.lang.packs import available_languages
from voicebot.pipeline.failures import DIALOGUE_FAILED
from voicebot.shop import ShopError, customers, shops
from voicebot.shop.facade import Shop


@click.command("chat")
@click.argument("text")
@click.option(
    "--user", "user_id", default="console", show_default=True, help="Channel user id of the speaker."
)
@click.option("--channel", default="console", show_default=True, help="Channel the user is on.")
@click.option("--role", type=click.Choice(["seller", "buyer"]), default="seller", show_default=True)
@click.option("--lang", type=click.Choice(available_languages()), default=None, help="Default: shop.language.")
@click.option("--confidence", type=float, default=None, help="ASR confidence (default: typed text, trusted).")
@click.option(
    "--db", "db_path", type=click.Path(dir_okay=False), default=None, help="SQLite file (overrides config)."
)
@shop_option
@click.option("--json", "as_json", is_flag=True, help="Print the whole turn result as one JSON line.")
@click.option(
    "--new-seller", is_flag=True,
    help="With --role seller: register USER as a seller first (else USER must already be one).",
)  # fmt: skip
@with_config
def chat(
    text: str,
    user_id: str,
    channel: str,
    role: str,
    lang: str | None,
    confidence: float | None,
    db_path: str | None,
    shop_name: str | None,
    as_json: bool,
    new_seller: bool,
    config: Config,
) -> None:
    """Say TEXT to the shop as USER and print the spoken reply (state is kept between calls).

    \b
    Example:
      voicebot chat --role seller "上架绿松石手链十条"      # -> 多少钱？
      voicebot chat --role seller "两百块"                  # -> 好的，绿松石手链，两百块，十条。
      voicebot chat --role buyer --user b1 --json "有什么卖的"
      voicebot chat --role seller --user guo --new-seller "今天卖了多少"   # guo becomes a seller
    """


    village = Shop.open(config, db_path)
    try:
        shop = village.other(shops.pick_shop(village.village, shop_name)["id"])
    except ShopError as e:
        village.close()
        raise click.ClickException(str(e)) from None
    db, log, config = shop.db, shop.log, shop.config
    try:
        if role == "seller" and not _may_sell(db, config, channel, user_id, new_seller):
            raise click.UsageError(
                f"{channel}:{user_id} is not a seller. Add --new-seller to make them one "
                f"(they will then hear the shop's seller messages), or use --role buyer."
            )
        # logged like any inbound message, so operators see chat turns in the console too
        mid, _ = log.record_inbound(channel, f"chat-{uuid.uuid4().hex}", user_id, "text",
                                    transcript=text, status="processing")
        start = time.perf_counter()
        result = handle_turn(
            db,
            config,
            channel=channel,
            user_id=user_id,
            role=role,
            lang=lang or config.shop.language,
            text=text,
            confidence=confidence,
            turn_id=str(mid),
        )
        failed = result.error_code == "internal_error"  # as the pipeline logs it: a turn's answer is no error
        log.update(
            mid, language=lang or config.shop.language, intent=result.intent.to_public(),
            action_id=result.action_id, reply_text=result.reply, status="failed" if failed else "replied",
            error=DIALOGUE_FAILED.logged if failed else None,
            timings={"dialogue": round((time.perf_counter() - start) * 1000, 1)},
        )
    finally:
        db.close()
    if as_json:
        print_json(result.to_dict())
    else:
        click.echo(result.reply)
        for to_channel, to_user, message in result.notify:
            click.echo(f"  -> {to_channel}:{to_user}: {message}")


def _may_sell(db: object, config: Config, channel: str, user_id: str, register: bool) -> bool:
    """A seller already (or the terminal's own default user); with ``register``, made one now."""

    if register:
        customers.add_seller(db, user_id, channel)  # type: ignore[arg-type]
        return True
    if (channel, user_id) == ("console", "console"):  # the operator at this terminal
        return True
    if channel == SELLERS_CHANNEL and user_id in config.shop.sellers:
        return True
    return customers.is_seller(db, channel, user_id)  # type: ignore[arg-type]


COMMANDS: list[click.Command] = [chat]
