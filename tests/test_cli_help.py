"""Every command and subcommand explains itself with an example."""

from __future__ import annotations

import click
from click.testing import CliRunner

from voicebot.cli import main


def walk(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from walk(command, (*path, name))


def test_every_command_help_has_an_example():
    runner = CliRunner()
    top = runner.invoke(main, ["--help"])
    assert top.exit_code == 0
    commands = list(walk(main))
    assert {"serve", "transcribe", "say", "models", "shop", "orders", "report", "export", "nlu",
            "grammar", "chat"} <= {path[0] for path, _ in commands}
    for path, _ in commands:
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Example" in result.output, f"voicebot {' '.join(path)} --help has no example"
