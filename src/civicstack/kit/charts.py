"""Rates laid out as a horizontal SVG bar chart with a target line, drawn server-side by
templates/portal/services_stats_chart.html (no script). Only the layout lives here: what a rate
counts, and its target, belong to each domain (services' online rate, learning's completion)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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


def rate_chart(rates: Iterable[tuple[str, float | None, bool]], target: float) -> BarChart:
    """One bar per (label, rate, whether it meets the target, by the domain's rule); a rate of
    None (nothing to count) draws no bar."""
    bars = [Bar(label, rate, BAR_AREA * (rate or 0), 8 + i * ROW, meets)
            for i, (label, rate, meets) in enumerate(rates)]
    return BarChart(bars, 16 + len(bars) * ROW, BAR_AREA * target)
