"""The ``voicebot`` command line: one subcommand (or group) per library area."""

from __future__ import annotations

import click

from voicebot import __version__
from voicebot.cli import asr, console, dialogue, log, nlu, outbox, serve, shop, shops, speech, weblinks


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="voicebot")
def main() -> None:
    """voicebot: run a shop by voice, offline.

    \b
    Examples:
      voicebot serve
      voicebot transcribe note.amr --lang ko
      voicebot say "两百块" --lang zh -o reply.amr
      voicebot models list
    """


for module in (serve, asr, speech, shop, shops, nlu, dialogue, log, outbox, console):
    for command in module.COMMANDS:
        main.add_command(command)
for command in weblinks.COMMANDS:  # voicebot shop seller link/unlink/links
    shop.seller.add_command(command)
shop.seller.add_command(weblinks.unlink_cmd, "revoke")
