"""``voicebot console user add/list`` (operator accounts) and ``voicebot export corrections``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from voicebot.cli.shop import _emit, export, json_option, with_village
from voicebot.console.access import ADMIN, HELPER
from voicebot.console.auth import AccountError, add_user, find_user, list_users
from voicebot.console.corrections import labelled, to_jsonl
from voicebot.shop import shops
from voicebot.shop.facade import Shop


@click.group("console")
def console() -> None:
    """The operator console at /console/: its accounts.

    \b
    Example:
      voicebot console user add ana
      echo "$PASSWORD" | voicebot console user add ana --password-stdin
    """


@console.group("user")
def user() -> None:
    """Operator accounts (argon2-hashed passwords in the shop's database).

    \b
    Example:
      voicebot console user add ana
      voicebot console user list
    """


def _shop_ids(shop: Shop, names: tuple[str, ...]) -> list[int]:
    ids = []
    for name in names:
        row = shops.find_shop(shop.village, name)
        if row is None:
            known = ", ".join(f"{s['name']} [{s['code']}]" for s in shops.list_shops(shop.village)) or "none"
            raise click.ClickException(f"no shop called {name!r}; shops: {known}")
        ids.append(row["id"])
    return ids


@user.command("add")
@click.argument("name")
@click.option("--shop", "shop_names", multiple=True, metavar="SHOP",
              help="A shop (name or code) this helper sees; repeat for several. Replaces her shops.")
@click.option("--admin", is_flag=True, help="A station admin: sees every shop.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@json_option
@with_village
def user_add(shop: Shop, name: str, shop_names: tuple[str, ...], admin: bool, password_stdin: bool,
             as_json: bool) -> None:
    """Create operator NAME (or give NAME a new password, ending her sessions).

    A helper (--shop) sees only her shops; an admin (--admin) every shop. A new account needs one of
    them once the village has several shops; with one shop it is an admin.

    \b
    Example:
      voicebot console user add ana --admin             # asks for the password twice
      voicebot console user add mei --shop 郭姐 --shop lihoney
      printf '%s\\n' "$PW" | voicebot console user add ana --password-stdin
    """
    if admin and shop_names:
        raise click.UsageError("--admin already sees every shop; give --shop only for a helper")
    shop_ids = _shop_ids(shop, shop_names)
    role = ADMIN if admin else HELPER if shop_names else None
    if role is None and find_user(shop.village, name) is None:
        open_shops = shops.list_shops(shop.village)
        if len(open_shops) > 1:
            raise click.ClickException(
                f"there are {len(open_shops)} shops: give --shop NAME (a helper sees only those) or --admin")
        role = ADMIN
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        row = add_user(shop.village, name, password, role=role, shop_ids=shop_ids if shop_names else None)
    except AccountError as e:
        raise click.ClickException(str(e)) from None
    (found,) = [u for u in list_users(shop.village) if u["id"] == row["id"]]
    _emit(as_json, {"user": found}, f"operator {row['name']} ({found['role']}: {', '.join(found['shops'])})"
          " can log in at /console/")


@user.command("list")
@json_option
@with_village
def user_list(shop: Shop, as_json: bool) -> None:
    """The operator accounts: each one's role and the shops she sees.

    \b
    Example:
      voicebot console user list --json
    """
    rows = list_users(shop.village)
    _emit(as_json, {"users": rows}, "\n".join(
        f"{r['name']}  {r['role']}: {', '.join(r['shops']) or 'no shop yet'}  (since {r['created_at'][:10]})"
        for r in rows) or "no operators yet: voicebot console user add NAME")


@export.command("corrections")
@click.option("--out", "out_file", default="-", type=click.Path(dir_okay=False, allow_dash=True),
              help="JSONL file to write (default: stdout).")
@click.option("--shop", "shop_names", multiple=True, metavar="SHOP",
              help="Only this shop's corrections (name or code; repeat for several). Default: every shop's.")
@with_village
def export_corrections(shop: Shop, out_file: str, shop_names: tuple[str, ...]) -> None:
    """Operators' corrections as NLU test cases, one JSON line each (the form of nlu_dev.jsonl).

    \b
    Example:
      voicebot export corrections --out corrections.jsonl
      voicebot export corrections --shop lihoney --out li.jsonl
    """
    ids = _shop_ids(shop, shop_names) if shop_names else [
        r[0] for r in shop.village.execute("SELECT id FROM shops ORDER BY id")]
    text = to_jsonl(labelled(shop.village, ids))
    if out_file == "-":
        sys.stdout.write(text)
    else:
        Path(out_file).write_text(text, encoding="utf-8")
        click.echo(f"{out_file}  ({text.count(chr(10))} corrections)", err=True)


COMMANDS: list[click.Command] = [console]
