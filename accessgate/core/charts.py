"""Bar charts drawn on the server as SVG geometry (no JavaScript, no CDN).

`bar_chart` turns rows of numbers into rectangles the template `components/bar_chart.html`
draws. Series are told apart by fill pattern as well as colour, and every bar carries a
`<title>` with its numbers; the page shows the same numbers in a table beside the chart.
"""

import math
from dataclasses import dataclass, field
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _

# Fill per series: a solid, a hatch and a dot pattern (ids defined in the template), so the
# series stay distinct without colour.
FILLS = ("url(#chart-solid)", "url(#chart-hatch)", "url(#chart-dots)", "url(#chart-cross)")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 220, 44, 36, 12


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass
class Chart:
    title: str
    series: list[dict[str, str]]
    bars: list[Bar] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    ticks: list[dict[str, Any]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    base: int = HEIGHT - BOTTOM


def _nice_max(value: float) -> float:
    """A round top for the axis, so that its five ticks (0, ¼, ½, ¾, top) are whole numbers."""
    quarter = max(value, 1) / 4
    unit = 10 ** max(0, math.floor(math.log10(quarter))) if quarter >= 1 else 1
    return math.ceil(quarter / unit) * unit * 4


def _number(value: float) -> str:
    """A whole number grouped the active language's way ("1,234" in English); rounded first,
    half to even as `f"{value:,.0f}"` did, since number_format cuts the decimals off."""
    return formats.number_format(round(value), 0, force_grouping=True)


def bar_chart(title: str, rows: list[tuple[str, list[float]]], series: list[str], *, unit: str = "") -> Chart:
    """Stacked bars, one per row (`label`, one value per series)."""
    chart = Chart(title=title, series=[{"name": name, "fill": FILLS[i % len(FILLS)]} for i, name in enumerate(series)])
    top = _nice_max(max((sum(values) for _label, values in rows), default=0))
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - 8) / max(len(rows), 1)
    bar_w = max(min(slot * 0.7, 48), 2)
    for i in range(5):
        value = top * i / 4
        chart.ticks.append({"y": chart.base - plot_h * i / 4, "label": _number(value)})
    label_every = max(1, round(len(rows) / 8))
    for index, (label, values) in enumerate(rows):
        x = LEFT + index * slot + (slot - bar_w) / 2
        y: float = chart.base
        for s, value in enumerate(values):
            if not value:
                continue
            h = plot_h * value / top
            y -= h
            # Translators: a bar's tooltip, e.g. "07 Nov: Files 1,234" (the unit, if any, follows the number).
            title = _("%(label)s: %(series)s %(value)s%(unit)s") % {
                "label": label,
                "series": series[s],
                "value": _number(value),
                "unit": unit,
            }
            chart.bars.append(Bar(x, y, bar_w, h, FILLS[s % len(FILLS)], title))
        if index % label_every == 0:
            chart.labels.append({"x": x + bar_w / 2, "text": label})
    return chart
