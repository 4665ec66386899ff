"""Bar charts as inline SVG, drawn on the server: no script, no style attribute (the
Content-Security-Policy allows neither), colours as SVG presentation attributes. Every
chart sits beside a table of the same numbers, so the SVG itself is decoration for
screen readers (it has a title, and the table carries the data)."""

from __future__ import annotations

from markupsafe import Markup, escape

# Colour-blind-safe palette (Okabe & Ito), then greys.
PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#000000",
    "#999999",
    "#cccccc",
)
HEIGHT = 220
LEFT = 36
BOTTOM = 46
TOP = 10


def colour(index: int) -> str:
    """The palette's colour for a series."""
    return PALETTE[index % len(PALETTE)]


def _scale_max(value: int) -> int:
    """A round top for the axis."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value <= step * 4:
            return step * 4 if value > 0 else 4
    return value


def stacked_bars(
    title: str,
    labels: list[str],
    series: dict[str, list[int]],
    colours: dict[str, str] | None = None,
    bar_width: int = 40,
) -> Markup:
    """A vertical bar per label, stacked by series; a legend below."""
    names = list(series)
    fills = colours or {name: colour(i) for i, name in enumerate(names)}
    totals = [sum(series[n][i] for n in names) for i in range(len(labels))]
    top = _scale_max(max(totals, default=0))
    gap = bar_width // 2
    width = max(LEFT + len(labels) * (bar_width + gap) + gap, LEFT + 200 * min(3, len(names)))
    plot = HEIGHT - BOTTOM - TOP
    legend_rows = -(-len(names) // 3)
    total_height = HEIGHT + legend_rows * 18 + 6
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {total_height}" width="{width}" '
        f'height="{total_height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(5):
        value = top * tick // 4
        y = HEIGHT - BOTTOM - plot * tick / 4
        out.append(
            f'<line x1="{LEFT}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#475569">{value}</text>'
        )
    for i, label in enumerate(labels):
        x = LEFT + gap + i * (bar_width + gap)
        y = float(HEIGHT - BOTTOM)
        for name in names:
            value = series[name][i]
            if not value:
                continue
            h = plot * value / top
            y -= h
            out.append(
                f'<rect x="{x}" y="{y:.1f}" width="{bar_width}" height="{h:.1f}" '
                f'fill="{fills[name]}"><title>{escape(label)}: {escape(name)} {value}</title>'
                "</rect>"
            )
        if totals[i]:
            out.append(
                f'<text x="{x + bar_width / 2}" y="{y - 3:.1f}" text-anchor="middle" '
                f'font-size="11" fill="#0f172a">{totals[i]}</text>'
            )
        out.append(
            f'<text x="{x + bar_width / 2}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" '
            f'font-size="11" fill="#334155">{escape(label)}</text>'
        )
    for j, name in enumerate(names):
        lx = LEFT + (j % 3) * 200
        ly = HEIGHT - 16 + (j // 3) * 18
        out.append(
            f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{fills[name]}"/>'
            f'<text x="{lx + 16}" y="{ly + 10}" font-size="11" fill="#334155">'
            f"{escape(name[:32])}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))
