"""The score-trend chart as a PNG image for DOCX, drawn from the same geometry as the PDF chart."""
from __future__ import annotations

import io
from functools import cache
from importlib import resources

from PIL import Image, ImageDraw, ImageFont

from ..compose.blocks import Chart
from .chartgeo import chart_geometry

SCALE = 2  # pixels per point: 144 dpi, crisp at print size
ACCENT = (31, 78, 121)


@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(resources.files("docgen") / "fonts" / name), size * SCALE)


def _hex(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _pixels(height: float):
    """PDF coordinates (points, origin bottom left) -> pixels (origin top left)."""
    return lambda x, y: (x * SCALE, (height - y) * SCALE)


@cache
def _background(bands: tuple, maximum: int, width: float, height: float) -> Image.Image:
    """The severity bands with their names and the axes: the same for every chart of an instrument
    at a size, drawn once (each chart draws its scores on a copy)."""
    from ..compose.blocks import Series  # noqa: PLC0415

    geo = chart_geometry(Chart("", Series("", (), maximum, bands)), width, height)
    image = Image.new("RGB", (int(width * SCALE), int(height * SCALE)), "white")
    draw = ImageDraw.Draw(image)

    xy = _pixels(height)
    for band in geo["bands"]:
        left, top = xy(band["x"], band["y"] + band["h"])
        right, bottom = xy(band["x"] + band["w"], band["y"])
        draw.rectangle([left, top, right, bottom], fill=_hex(band["color"]))
        draw.text(xy(band["x"] + band["w"] + 4, band["y"] + band["h"] / 2 + 4), band["name"], fill=(85, 85, 85),
                  font=_font(6))
    grey = (119, 119, 119)
    draw.line([xy(geo["x0"], geo["y0"]), xy(geo["x0"], geo["y1"])], fill=grey, width=SCALE)
    draw.line([xy(geo["x0"], geo["y0"]), xy(geo["x1"], geo["y0"])], fill=grey, width=SCALE)
    return image


@cache
def _palette() -> Image.Image:
    """A 64-colour palette fitted once to a reference chart (every band colour, the line, grey and
    black text, their anti-aliased blends): mapping to a fixed palette is five times faster than
    fitting one per chart, and the same for every chart."""
    from ..compose.blocks import Series  # noqa: PLC0415
    from ..model.assessments import PHQ9_BANDS  # noqa: PLC0415

    spans = tuple((low, (PHQ9_BANDS[i + 1][0] - 1) if i + 1 < len(PHQ9_BANDS) else 27, name)
                  for i, (low, name) in enumerate(PHQ9_BANDS))
    reference = Chart("reference", Series("PHQ-9", (("01/01/2026", 25), ("02/01/2026", 3), ("03/01/2026", 14)),
                                          27, spans))
    return _draw(reference, 400.0, 150.0).quantize(64, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)


def chart_png(chart: Chart, width: float = 400.0, height: float = 150.0) -> bytes:
    """PNG bytes of the chart; ``width``/``height`` in points. Deterministic for the same chart."""
    image = _draw(chart, width, height)
    out = io.BytesIO()
    # flat colours and anti-aliased edges fit a 64-colour palette: half the bytes, faster to encode
    image.quantize(palette=_palette(), dither=Image.Dither.NONE).save(out, format="PNG", optimize=False,
                                                                       compress_level=3)
    return out.getvalue()


def _draw(chart: Chart, width: float, height: float) -> Image.Image:
    geo = chart_geometry(chart, width, height)
    image = _background(chart.series.bands, chart.series.maximum, width, height).copy()
    draw = ImageDraw.Draw(image)

    xy = _pixels(height)
    points = geo["points"]
    draw.line([xy(p["x"], p["y"]) for p in points], fill=ACCENT, width=int(1.6 * SCALE))
    for p in points:
        cx, cy = xy(p["x"], p["y"])
        draw.rectangle([cx - 2.5 * SCALE, cy - 2.5 * SCALE, cx + 2.5 * SCALE, cy + 2.5 * SCALE], fill=ACCENT)
        draw.text(xy(p["x"], p["y"] + 13), str(p["value"]), fill=(0, 0, 0), font=_font(7, True), anchor="mm")
        draw.text(xy(p["x"], geo["y0"] - 6), p["label"], fill=(0, 0, 0), font=_font(6), anchor="mt")
    return image
