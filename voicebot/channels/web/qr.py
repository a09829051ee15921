"""QR codes for chat links (segno): SVG for the front page, PNG and terminal text for the CLI."""

from __future__ import annotations

import functools
import io
import re
from pathlib import Path

import segno


@functools.lru_cache(maxsize=1024)  # the market page draws the same few codes for every visitor
def qr_svg(url: str) -> str:
    """An inline ``<svg>`` (no XML declaration) that scales with its container."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=6, border=2, xmldecl=False, svgns=True,
                                    svgclass="qr", lineclass=None, title="QR code")
    svg = out.getvalue().decode("utf-8")
    # segno writes a fixed width and height only: without a viewBox, a smaller box crops the code
    size = re.search(r'<svg [^>]*?width="(\d+)" height="(\d+)"', svg)
    if size and "viewBox" not in svg[:size.end()]:
        svg = svg.replace("<svg ", f'<svg viewBox="0 0 {size.group(1)} {size.group(2)}" ', 1)
    return svg


def qr_png(url: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    segno.make(url, error="m").save(str(path), kind="png", scale=8, border=4)
    return path


def qr_terminal(url: str) -> str:
    """The code as text with half-block characters, for printing in a terminal."""
    out = io.StringIO()
    segno.make(url, error="m").terminal(out, compact=True, border=2)
    return out.getvalue()
