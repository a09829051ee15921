"""``voicebot shop seller link/unlink/links``: private browser-chat links for sellers."""

from __future__ import annotations

import re
from pathlib import Path

import click

from voicebot.channels.web import links
from voicebot.channels.web.qr import qr_png, qr_terminal
from voicebot.channels.web.routes import chat_url
from voicebot.cli.options import print_json
from voicebot.cli.shop import json_option, with_shop
from voicebot.shop import Shop


def _emit(as_json: bool, obj: dict, text: str) -> None:
    print_json(obj) if as_json else click.echo(text)


@click.command("link")
@click.argument("name")
@click.option("--png", "png_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write the QR code PNG (default: <data_dir>/links/seller-<name>.png).")
@json_option
@with_shop
def link_cmd(shop: Shop, name: str, png_path: str | None, as_json: bool) -> None:
    """Make a private chat link that gives NAME seller rights; prints it as a URL and a QR code.

    The link is the only copy of its secret (only a hash is stored): give it to the seller, and
    revoke it with `voicebot shop seller unlink NAME`.

    \b
    Example:
      voicebot shop seller link Guo
    """
    token, seller = links.create_seller_link(shop.db, name)
    url = chat_url(shop.config, token)
    safe = re.sub(r"[^\w-]+", "_", name).strip("_") or "seller"
    png = qr_png(url, Path(png_path) if png_path else shop.config.data_dir / "links" / f"seller-{safe}.png")
    obj = {"link": {"name": " ".join(name.split()), "url": url, "png": str(png), "customer_id": seller["id"],
                    "channel": links.CHANNEL, "channel_user_id": seller["channel_user_id"]}}
    _emit(as_json, obj, f"{qr_terminal(url)}\nseller link for {name}: {url}\nQR code: {png}")


@click.command("unlink")
@click.argument("name")
@json_option
@with_shop
def unlink_cmd(shop: Shop, name: str, as_json: bool) -> None:
    """Revoke every chat link of seller NAME (open chats stop working at their next message).

    \b
    Example:
      voicebot shop seller unlink Guo
    """
    n = links.revoke_seller_links(shop.db, name)
    if n == 0:
        raise click.ClickException(f"no live link for seller {name!r}")
    _emit(as_json, {"revoked": {"name": name, "links": n}}, f"revoked {n} link(s) of {name}")


@click.command("links")
@json_option
@with_shop
def links_cmd(shop: Shop, as_json: bool) -> None:
    """List seller chat links (never their secrets) and the shop's public buyer link.

    \b
    Example:
      voicebot shop seller links
    """
    rows = links.list_seller_links(shop.db)
    buyer = chat_url(shop.config, links.shop_link(shop.db))
    lines = [f"buyer link: {buyer}"] + [
        f"#{r['id']}  {r['name']}  created {r['created_at'][:16]}Z" + (f"  revoked {r['revoked_at'][:16]}Z"
                                                                        if r["revoked_at"] else "")
        for r in rows
    ]
    _emit(as_json, {"buyer_url": buyer, "links": rows}, "\n".join(lines))


COMMANDS = [link_cmd, unlink_cmd, links_cmd]
