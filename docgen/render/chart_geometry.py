"""Geometry of the score-trend chart: where its severity bands, axes and points go (the PDF drawing),
and the bands' colours, shared with the DOCX chart (which puts the bands' tops where this does)."""
from __future__ import annotations

from ..compose.blocks import Chart

BAND_COLORS = ("#e3f1e3", "#f3f3d6", "#f9e6cc", "#f6d5c9", "#efc2c2")


def value_step(maximum: float) -> int:
    """The value axis' step between numbers: the first of 1, 2, 5, 10, 20, 50, ... giving at most 8 steps
    (the DOCX chart's major unit, the PDF chart's numbers: 0, 5, 10, ... for the PHQ-9's 27)."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if maximum <= 8 * step * scale:
                return step * scale
        scale *= 10


def chart_geometry(chart: Chart, width: float, height: float) -> dict:
    """Coordinates of bands, axes, the value axis' numbers (``ticks``: value, y) and points (points;
    origin bottom left)."""
    series = chart.series
    x0, y0, x1, y1 = 24.0, 18.0, width - 90.0, height - 8.0
    scale = (y1 - y0) / series.maximum
    bands = []
    for i, (low, high, name) in enumerate(series.bands):
        bottom = y0 + (low - (0.5 if low else 0)) * scale
        top = y0 + min(high + 0.5, series.maximum) * scale
        bands.append({"x": x0, "y": bottom, "w": x1 - x0, "h": top - bottom, "name": name,
                      "color": BAND_COLORS[min(i, len(BAND_COLORS) - 1)]})
    n = len(series.points)
    step = (x1 - x0 - 30) / max(n - 1, 1)
    points = [{"x": x0 + 15 + i * step, "y": y0 + value * scale, "value": value, "label": when}
              for i, (when, value) in enumerate(series.points)]
    step = value_step(series.maximum)
    ticks = [(value, y0 + value * scale) for value in range(0, int(series.maximum) + 1, step)]
    return {"x0": x0, "y0": y0, "x1": x1, "y1": y1, "bands": bands, "points": points, "ticks": ticks}
