"""Geometry of the score-trend chart: where its severity bands, axes and points go (the PDF drawing),
and the bands' colours, shared with the DOCX chart (which puts the bands' tops where this does)."""
from __future__ import annotations

from ..compose.blocks import Chart

BAND_COLORS = ("#e3f1e3", "#f3f3d6", "#f9e6cc", "#f6d5c9", "#efc2c2")


def chart_geometry(chart: Chart, width: float, height: float) -> dict:
    """Coordinates of bands, axes and points (points; origin bottom left)."""
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
    return {"x0": x0, "y0": y0, "x1": x1, "y1": y1, "bands": bands, "points": points}
