"""Horizontal bar charts of one figure per agent, laid out for inline SVG.

The supervisor page draws each chart with plain ``<rect>`` and ``<text>``
elements from these numbers, so it needs no chart library and no script.
"""

from dataclasses import dataclass

from imflask.stats.render import format_figure

WIDTH = 640
LABEL_WIDTH = 160
VALUE_WIDTH = 80
ROW_HEIGHT = 24
BAR_HEIGHT = 16


@dataclass(frozen=True)
class Bar:
    """One agent's bar: its row position, length in pixels and the value printed after it."""

    label: str
    y: int
    width: float
    value_text: str


@dataclass(frozen=True)
class Chart:
    """A chart of one figure: its name, SVG size and bars, longest bar = largest value."""

    figure: str
    width: int
    height: int
    bars: list
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT


def build_chart(figure, rows):
    """Return the Chart of ``figure`` over ``rows`` (the dicts of compute_figures); None values get no bar."""
    values = [row[figure] for row in rows]
    largest = max((value for value in values if value is not None), default=0)
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH

    bars = []
    for index, (row, value) in enumerate(zip(rows, values)):
        length = 0.0 if not largest or value is None else span * value / largest
        bars.append(Bar(row["agent"], index * ROW_HEIGHT, round(length, 1), format_figure(figure, value)))
    return Chart(figure, WIDTH, max(ROW_HEIGHT, len(rows) * ROW_HEIGHT), bars)
