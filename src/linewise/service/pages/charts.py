"""Charts as inline SVG: the geometry of bars, computed here and drawn by a template; no script, no library.

A chart's coordinates are those of its ``viewBox``; the SVG scales to the width it is
given, so one chart serves a phone and a desktop. Each chart also comes as a table of
its figures for screen readers and for reading the exact numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Bar", "Chart", "bar_chart", "column_chart"]

# A horizontal bar chart: labels on the left, bars, then the figure.
_ROW_HEIGHT = 30
_LABEL_WIDTH = 120
_BAR_SPACE = 200
_WIDTH = 400
# A column chart: a column per item over a baseline, labels under it.
_COLUMN_HEIGHT = 150
_COLUMN_TOP = 10
_LABEL_BAND = 24


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its figure as shown, and its rectangle in the chart's coordinates."""

    label: str
    shown: str
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    shown_x: float
    shown_y: float


@dataclass(frozen=True)
class Chart:
    """A chart's bars, its size (``width`` x ``height`` in its own coordinates) and its baseline."""

    bars: tuple[Bar, ...]
    width: int
    height: int
    baseline: float


def _scale(values: Sequence[int], space: float) -> list[float]:
    top = max([*values, 0])
    return [0.0 if top <= 0 else space * max(value, 0) / top for value in values]


def bar_chart(items: Sequence[tuple[str, int, str]]) -> Chart:
    """Horizontal bars for ``(label, value, value as shown)``, longest for the largest value."""
    lengths = _scale([value for _, value, _ in items], _BAR_SPACE)
    bars = tuple(
        Bar(
            label=label,
            shown=shown,
            x=_LABEL_WIDTH,
            y=i * _ROW_HEIGHT + 6,
            width=round(max(length, 1.0), 1),
            height=_ROW_HEIGHT - 12,
            label_x=_LABEL_WIDTH - 8,
            label_y=i * _ROW_HEIGHT + _ROW_HEIGHT / 2 + 5,
            shown_x=round(_LABEL_WIDTH + max(length, 1.0) + 6, 1),
            shown_y=i * _ROW_HEIGHT + _ROW_HEIGHT / 2 + 5,
        )
        for i, ((label, _, shown), length) in enumerate(zip(items, lengths, strict=True))
    )
    return Chart(bars, _WIDTH, max(len(items), 1) * _ROW_HEIGHT, baseline=_LABEL_WIDTH)


def column_chart(items: Sequence[tuple[str, int, str]]) -> Chart:
    """Vertical columns for ``(label, value, value as shown)`` over a baseline, labels under it."""
    heights = _scale([value for _, value, _ in items], _COLUMN_HEIGHT)
    slot = _WIDTH / max(len(items), 1)
    baseline = _COLUMN_TOP + _COLUMN_HEIGHT
    bars = tuple(
        Bar(
            label=label,
            shown=shown,
            x=round(i * slot + slot * 0.15, 1),
            y=round(baseline - height, 1),
            width=round(slot * 0.7, 1),
            height=round(height, 1),
            label_x=round(i * slot + slot / 2, 1),
            label_y=baseline + 16,
            shown_x=round(i * slot + slot / 2, 1),
            shown_y=round(baseline - height - 4, 1),
        )
        for i, ((label, _, shown), height) in enumerate(zip(items, heights, strict=True))
    )
    return Chart(bars, _WIDTH, int(baseline + _LABEL_BAND), baseline=baseline)
