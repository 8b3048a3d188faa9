"""Completion rates as a bar chart (kit/charts) with the 100 % target line, drawn by
templates/learning_chart.html."""

from __future__ import annotations

from civicstack.kit.charts import BarChart
from civicstack.kit.charts import rate_chart as _rate_chart
from civicstack.learning.service import TARGET, Rate


def rate_chart(rates: list[Rate]) -> BarChart:
    return _rate_chart(((r.label, r.rate, r.meets_target) for r in rates), TARGET)
