"""Options and helpers shared by every subcommand."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from voicebot.config import Config, ConfigError, load_config

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    envvar="VOICEBOT_CONFIG",
    help="TOML configuration file (default: the embedded configuration).",
)


class ConfigProblem(click.ClickException):
    """A configuration that cannot be used: a usage error, so the exit code is 2."""

    exit_code = 2


def load_or_exit(config_path: str | None, overrides: dict[str, Any] | None = None) -> Config:
    """Load the configuration, turning a ConfigError into a clear message and exit code 2."""
    try:
        return load_config(config_path, overrides=overrides)
    except ConfigError as e:
        raise ConfigProblem(f"configuration error: {e}") from None


def with_config(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--config`` and pass a loaded ``config`` to the command instead of the path."""

    @config_option
    @functools.wraps(func)
    def wrapper(*args: Any, config_path: str | None, **kwargs: Any) -> Any:
        return func(*args, config=load_or_exit(config_path), **kwargs)

    return wrapper


def print_json(obj: Any) -> None:
    """One JSON object on one line, UTF-8 kept readable."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
