"""``voicebot console user add/list`` (operator accounts) and ``voicebot export corrections``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from voicebot.cli.shop import _emit, export, json_option, with_village
from voicebot.console.auth import AccountError, add_user, list_users
from voicebot.console.corrections import labelled, to_jsonl
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


@user.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@json_option
@with_village
def user_add(shop: Shop, name: str, password_stdin: bool, as_json: bool) -> None:
    """Create operator NAME (or give NAME a new password, ending her sessions).

    \b
    Example:
      voicebot console user add ana                     # asks for the password twice
      printf '%s\\n' "$PW" | voicebot console user add ana --password-stdin
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        row = add_user(shop.village, name, password)
    except AccountError as e:
        raise click.ClickException(str(e)) from None
    _emit(as_json, {"user": row}, f"operator {row['name']} can log in at /console/")


@user.command("list")
@json_option
@with_village
def user_list(shop: Shop, as_json: bool) -> None:
    """The operator accounts.

    \b
    Example:
      voicebot console user list --json
    """
    rows = list_users(shop.village)
    _emit(as_json, {"users": rows}, "\n".join(f"{r['name']}  (since {r['created_at'][:10]})" for r in rows)
          or "no operators yet: voicebot console user add NAME")


@export.command("corrections")
@click.option("--out", "out_file", default="-", type=click.Path(dir_okay=False, allow_dash=True),
              help="JSONL file to write (default: stdout).")
@with_village
def export_corrections(shop: Shop, out_file: str) -> None:
    """Operators' corrections as NLU test cases, one JSON line each (the form of nlu_dev.jsonl).

    \b
    Example:
      voicebot export corrections --out corrections.jsonl
    """
    text = to_jsonl(labelled(shop.village))
    if out_file == "-":
        sys.stdout.write(text)
    else:
        Path(out_file).write_text(text, encoding="utf-8")
        click.echo(f"{out_file}  ({text.count(chr(10))} corrections)", err=True)


COMMANDS: list[click.Command] = [console]
