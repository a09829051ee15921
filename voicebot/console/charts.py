"""Small server-side SVG charts (no JavaScript, no external assets)."""

from __future__ import annotations

from markupsafe import Markup, escape

W, ROW, LABEL = 640, 22, 150


def _svg(height: int, body: list[str], title: str) -> Markup:
    return Markup(
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}"'
        f' viewBox="0 0 {W} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def columns(points: list[tuple[str, float]], title: str, height: int = 180) -> Markup:
    """Vertical bars, one per (label, value), value written on top."""
    top = max((v for _, v in points), default=0) or 1
    n = max(len(points), 1)
    step = (W - 20) / n
    plot = height - 40
    body = []
    for i, (label, value) in enumerate(points):
        h = plot * value / top
        x = 10 + i * step
        body.append(f'<rect x="{x + 2:.1f}" y="{20 + plot - h:.1f}" width="{step - 4:.1f}" height="{h:.1f}" fill="#3b7d6e"/>')
        body.append(f'<text x="{x + step / 2:.1f}" y="{16 + plot - h:.1f}" font-size="10" text-anchor="middle">'
                    f"{escape(f'{value:g}')}</text>")
        body.append(f'<text x="{x + step / 2:.1f}" y="{height - 6}" font-size="10" text-anchor="middle">'
                    f"{escape(label)}</text>")
    return _svg(height, body, title)


def bars(rows: list[tuple[str, list[float]]], series: list[str], title: str, unit: str = "") -> Markup:
    """Horizontal grouped bars: one group per row label, one bar per series (e.g. median and p95)."""
    colours = ("#3b7d6e", "#d08c2e", "#7a4fa0")
    top = max((v for _, values in rows for v in values), default=0) or 1
    group = ROW * len(series) + 8
    height = 30 + group * max(len(rows), 1)
    body = [f'<text x="{LABEL + 10 + i * 90}" y="14" font-size="11" fill="{colours[i % 3]}">{escape(s)}</text>'
            for i, s in enumerate(series)]
    for r, (label, values) in enumerate(rows):
        y0 = 24 + r * group
        body.append(f'<text x="{LABEL}" y="{y0 + group / 2:.1f}" font-size="12" text-anchor="end">{escape(label)}</text>')
        for i, value in enumerate(values):
            w = (W - LABEL - 80) * value / top
            y = y0 + i * ROW
            body.append(f'<rect x="{LABEL + 6}" y="{y}" width="{w:.1f}" height="{ROW - 4}" fill="{colours[i % 3]}"/>')
            body.append(f'<text x="{LABEL + 10 + w:.1f}" y="{y + ROW - 8}" font-size="11">'
                        f"{escape(f'{value:g}{unit}')}</text>")
    return _svg(height, body, title)
