"""Wyoming server addresses (kept apart from the client so the config can check them without the package)."""

from __future__ import annotations

from urllib.parse import urlparse


def check_uri(uri: str) -> str:
    """``tcp://host:port`` or ``unix:///path``; ValueError otherwise."""
    parsed = urlparse(uri)
    try:
        port = parsed.port
    except ValueError:
        port = None
    if parsed.scheme == "tcp" and parsed.hostname and port:
        return uri
    if parsed.scheme == "unix" and parsed.path:
        return uri
    raise ValueError(f"{uri!r} is not a Wyoming address (tcp://host:port or unix:///path)")
