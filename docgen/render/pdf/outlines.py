"""Text drawn as vector outlines, not as text: the glyphs' TrueType contours, read from the embedded
font file, as a path. What is drawn so is seen but never extracted, copied or read out as text (the
DRAFT watermark: its letters no longer mix into the page's text layer). Only simple glyphs (no
composites: DejaVu Sans Bold's capital letters are simple) are read; others are left out."""
from __future__ import annotations

import struct
from functools import lru_cache

#: A path: ("move", x, y), ("line", x, y), ("curve", x1, y1, x2, y2, x3, y3), ("close",); font units.
Path = tuple[tuple, ...]

_ON_CURVE, _X_SHORT, _Y_SHORT, _REPEAT, _X_SAME, _Y_SAME = 1, 2, 4, 8, 16, 32


def _contours(glyf: bytes) -> list[list[tuple[float, float, bool]]]:
    """The contours of one simple glyph: (x, y, on curve) points in font units."""
    if len(glyf) < 10:
        return []
    count = struct.unpack(">h", glyf[:2])[0]
    if count <= 0:  # a composite glyph (or none)
        return []
    at = 10
    ends = struct.unpack(f">{count}H", glyf[at:at + 2 * count])
    at += 2 * count
    at += 2 + struct.unpack(">H", glyf[at:at + 2])[0]  # skip the instructions
    total = ends[-1] + 1
    flags: list[int] = []
    while len(flags) < total:
        flag = glyf[at]
        at += 1
        flags.append(flag)
        if flag & _REPEAT:
            flags.extend([flag] * glyf[at])
            at += 1
    coords = []
    for short, same in ((_X_SHORT, _X_SAME), (_Y_SHORT, _Y_SAME)):
        value, values = 0, []
        for flag in flags[:total]:
            if flag & short:
                delta = glyf[at]
                at += 1
                value += delta if flag & same else -delta
            elif not flag & same:
                value += struct.unpack(">h", glyf[at:at + 2])[0]
                at += 2
            values.append(value)
        coords.append(values)
    points = [(float(x), float(y), bool(f & _ON_CURVE)) for x, y, f in zip(coords[0], coords[1], flags, strict=False)]
    out, start = [], 0
    for end in ends:
        out.append(points[start:end + 1])
        start = end + 1
    return out


def _contour_path(points: list[tuple[float, float, bool]], dx: float) -> list[tuple]:
    """One closed contour of quadratic B-spline points as moves, lines and cubic curves."""
    if not points:
        return []
    # start on an on-curve point (or the midpoint of two off-curve ones)
    first = next((i for i, p in enumerate(points) if p[2]), None)
    if first is None:
        a, b = points[0], points[1 % len(points)]
        points = [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, True), *points]
        first = 0
    ring = points[first:] + points[:first]
    x0, y0 = ring[0][0], ring[0][1]
    ops: list[tuple] = [("move", x0 + dx, y0)]
    current: tuple[float, float] = (x0, y0)
    control: tuple[float, float] | None = None
    for x, y, on in [*ring[1:], ring[0]]:
        if on:
            if control is None:
                ops.append(("line", x + dx, y))
            else:
                ops.append(_quad(current, control, (x, y), dx))
                control = None
            current = (x, y)
        elif control is None:
            control = (x, y)
        else:  # two off-curve points: an implied on-curve point between them
            middle = ((control[0] + x) / 2, (control[1] + y) / 2)
            ops.append(_quad(current, control, middle, dx))
            current, control = middle, (x, y)
    ops.append(("close",))
    return ops


def _quad(start, control, end, dx: float) -> tuple:
    """A quadratic Bézier segment as the cubic one PDF draws."""
    c1 = (start[0] + 2 / 3 * (control[0] - start[0]), start[1] + 2 / 3 * (control[1] - start[1]))
    c2 = (end[0] + 2 / 3 * (control[0] - end[0]), end[1] + 2 / 3 * (control[1] - end[1]))
    return ("curve", c1[0] + dx, c1[1], c2[0] + dx, c2[1], end[0] + dx, end[1])


@lru_cache(maxsize=8)
def text_outline(text: str, font_file: str) -> tuple[Path, float, float]:
    """``text`` set in the TrueType font ``font_file`` as one path in font units, its advance width
    and the font's units per em (scale by size / units per em to draw)."""
    from reportlab.pdfbase.ttfonts import TTFontFile  # noqa: PLC0415 - the watermark of a draft only

    font = TTFontFile(font_file)
    glyf = font.get_table("glyf")
    ops: list[tuple] = []
    x = 0.0
    for char in text:
        gid = font.charToGlyph.get(ord(char), 0)
        start, end = font.glyphPos[gid], font.glyphPos[gid + 1]
        for contour in _contours(glyf[start:end]):
            ops.extend(_contour_path(contour, x))
        x += font.hmetrics[gid][0]
    return tuple(ops), x, float(font.unitsPerEm)


def draw_outline(canvas, text: str, font_file: str, size: float, x: float, y: float) -> None:
    """``text`` at ``size`` points, its baseline's start at (x, y), filled with the current fill colour
    as a path: seen, never text."""
    ops, _width, units = text_outline(text, font_file)
    scale = size / units
    path = canvas.beginPath()
    for op in ops:
        kind = op[0]
        if kind == "move":
            path.moveTo(x + op[1] * scale, y + op[2] * scale)
        elif kind == "line":
            path.lineTo(x + op[1] * scale, y + op[2] * scale)
        elif kind == "curve":
            path.curveTo(*(x + v * scale if i % 2 == 0 else y + v * scale for i, v in enumerate(op[1:])))
        else:
            path.close()
    canvas.drawPath(path, stroke=0, fill=1)


def outline_width(text: str, font_file: str, size: float) -> float:
    """The advance width of ``text`` at ``size`` points."""
    _ops, width, units = text_outline(text, font_file)
    return width * size / units
