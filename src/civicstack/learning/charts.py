"""Completion rates laid out as a horizontal SVG bar chart with the 100 % target line (drawn by
templates/learning_chart.html with the statistics dashboard's CSS classes)."""

from __future__ import annotations

from dataclasses import dataclass

from civicstack.learning.service import TARGET, Rate

BAR_AREA = 360  # SVG units of the bar area; labels sit to its left
ROW = 28


@dataclass(frozen=True)
class Bar:
    label: str
    rate: float | None
    width: float  # SVG units
    y: int
    meets_target: bool


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: int
    target_x: float  # from the start of the bar area
    area: int = BAR_AREA


def rate_chart(rates: list[Rate]) -> BarChart:
    bars = [Bar(r.label, r.rate, BAR_AREA * (r.rate or 0), 8 + i * ROW, r.meets_target)
            for i, r in enumerate(rates)]
    return BarChart(bars, 16 + len(bars) * ROW, BAR_AREA * TARGET)
