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


def readme_command_table() -> list[str]:
    """The first cells of the README's command table ("## Command line")."""
    from pathlib import Path

    text = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = text.split("## Command line", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| `voicebot")]
    return [row.split(" | ")[0] for row in rows]


def documented(row: str) -> set[tuple[str, ...]]:
    """Command paths a table cell names: `voicebot shop add/list`, `voicebot shop seller add`."""
    import re

    paths: set[tuple[str, ...]] = set()
    for snippet in re.findall(r"`voicebot ([^`]*)`", row):
        words = [w for w in snippet.split() if re.fullmatch(r"[a-z][a-z/-]*", w)]
        prefix: list[str] = []
        for word in words:
            if "/" in word:
                paths |= {(*prefix, alt) for alt in word.split("/")}
                break
            prefix.append(word)
            paths.add(tuple(prefix))
    return paths


def test_readme_command_table_matches_the_cli():
    leaves = {path for path, command in walk(main) if not isinstance(command, click.Group)}
    named = set().union(*(documented(cell) for cell in readme_command_table()))
    missing = {" ".join(p) for p in leaves if p not in named}
    assert not missing, f"CLI commands missing from README's command table: {sorted(missing)}"
    tops = {p[0] for p in named}
    assert tops <= set(main.commands), f"README names unknown commands: {sorted(tops - set(main.commands))}"


def test_a_configuration_error_exits_2_and_names_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[nonsense]\nx = 1\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["grammar", "--lang", "zh", "--config", str(bad)])
    assert result.exit_code == 2
    assert "configuration error" in result.output and "nonsense" in result.output
