"""The second pass: a page's drawing operations (from :mod:`.layout`) onto the reportlab canvas:
backgrounds, then table rules and charts, then all the page's text in one text object; the chart
of scores over time; empty signature fields; and one line of text in the fallback font where needed."""
from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any

from reportlab.lib import colors
from reportlab.lib.rl_accel import escapePDF
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFString
from reportlab.pdfgen.canvas import PATH_OPS, Canvas

from ...compose.blocks import Chart
from ..chart_geometry import chart_geometry
from ..style import PdfStyle
from . import reportlab_patches
from .fonts import BOLD, FONT, needs_fallback
from .layout import PAD_TOP, PAD_X, TextStyle
from .numbers import number, pair
from .shaping import draw_line
from .tagging import END, LAYOUT, PAGINATION, Marker
from .wrapping import text_width


def draw_text(canvas: Canvas, x: float, y: float, text: str, font: str, size: float, align: str = "left") -> None:
    """Draw one line of text, switching to the fallback font where needed."""
    if align == "right":
        x -= text_width(text, font, size)
    if not needs_fallback(text, font):
        canvas.setFont(font, size)
        draw_string(canvas, x, y, text)
        return
    line = canvas.beginText(x, y)  # one text object, so the text layer reads as one line
    line.setFont(font, size)
    draw_line(line, text, font, size, size, newline=False)
    canvas.drawText(line)


def draw_string(canvas: Canvas, x: float, y: float, text: str, align: str = "left") -> None:
    """reportlab's ``drawString`` (``align`` "right": ``drawRightString``, "centre":
    ``drawCentredString``) in the canvas's font and size. A line whose characters all have codes in
    the font's first subset already (printable ASCII the subset holds as itself, and characters such
    as the running header's middle dot once drawn) is written as reportlab writes it, without its
    text object and per-character subset split (the chart's labels, the page numbers, the header)."""
    font = canvas._fontname  # noqa: SLF001
    state = _canvas_state(canvas, font) if reportlab_patches.FAST_PATHS and text else None
    data = None
    if state is not None:
        if text.isascii():
            if text.isprintable() and _ascii_in_place(state):
                data = text.encode("ascii")
        elif not needs_fallback(text, font):
            data = _first_subset(state, text)
    if data is None:
        draw = canvas.drawRightString if align == "right" else canvas.drawCentredString if align == "centre" else \
            canvas.drawString
        draw(x, y, text)
        return
    size, leading = canvas._fontsize, canvas._leading  # noqa: SLF001
    if align != "left":  # as reportlab measures it (bidiShapedText: no direction, no shaping)
        width = pdfmetrics.stringWidth(text, font, size)
        x = x - width if align == "right" else x - 0.5 * width
    name = pdfmetrics.getFont(font).getSubsetInternalName(0, canvas._doc)  # noqa: SLF001
    canvas._code.append(f"BT 1 0 0 1 {pair(x, y)} Tm {name} {number(size)} Tf {number(leading)} TL "  # noqa: SLF001
                        f"({escapePDF(data)}) Tj T* ET")


def _canvas_state(canvas: Canvas, font: str):
    """reportlab's subsetting state of the TrueType ``font`` in the canvas's document, once the font
    has been drawn with in it, on a canvas drawn bottom up; else None."""
    found = pdfmetrics.getFont(font)
    states = getattr(found, "state", None)
    if states is None or not getattr(found, "_dynamicFont", False) or not canvas.bottomup:
        return None
    return states.get(canvas._doc)  # noqa: SLF001


class Recorded:
    """Operators that come out the same on every page of one document (the running header, a footer
    of one fitted text), recorded on the page where first drawn and written as they are on the
    next pages instead of being drawn again (reportlab's text objects, its per-character subset
    split, the colours' and coordinates' numbers): the same bytes, since a character's code in a
    font subset is fixed once given. Not kept when drawing them changed anything but the page's
    operators (a transparency, a form or image, an annotation): those are drawn on every page."""

    def __init__(self) -> None:
        self.known: dict[Any, list[str]] = {}

    def draw(self, canvas: Canvas, key: Any, paint: Callable[[], None]) -> None:
        """``paint()`` the operators known by ``key``, or write them as recorded."""
        code = canvas._code  # noqa: SLF001 - reportlab's operators of the page
        found = self.known.get(key)
        if found is not None and reportlab_patches.FAST_PATHS:
            code.extend(found)
            return
        start, before = len(code), _side_effects(canvas)
        paint()
        if _side_effects(canvas) == before:
            self.known[key] = code[start:]


def _side_effects(canvas: Canvas) -> tuple:
    """What drawing may change on a canvas beyond its page's operators and the graphics state a
    restoreState puts back."""
    return (dict(canvas._extgstate._d), len(canvas._formsinuse), len(canvas._annotationrefs),  # noqa: SLF001
            len(canvas._colorsUsed), len(canvas._shadingUsed), canvas._currentPageHasImages)  # noqa: SLF001


class _Text:
    """One text object for a whole page: font and colour are set only when they change."""

    def __init__(self, canvas: Canvas):
        self.t = canvas.beginText()
        self.font: tuple | None = None
        self.style: TextStyle | None = None  # the style of the last lines: its font is the text object's
        self.color: Any = None
        self.selects: dict[tuple, str] = {}  # (font, size, leading) -> the operators selecting its first subset
        self.states: dict[str, Any] = {}  # font -> its subsetting state in the document, once it has one
        # the text origin and an RGB colour written as reportlab's text object writes them, without its
        # generic steps (a colour's transparency: none, and none in effect), on a canvas drawn bottom up
        self.direct = reportlab_patches.FAST_PATHS and canvas.bottomup and self.t._enforceColorSpace is None  # noqa: SLF001

    def lines(self, x: float, y: float, st: TextStyle, lines: list[str], mark: str = "") -> None:
        """``lines`` from (x, y) down, inside the marked-content sequence ``mark`` opens (if any)."""
        t = self.t
        code = t._code  # noqa: SLF001 - no API for marked content in a text object
        if self.direct:  # what setTextOrigin does
            code.append(f"1 0 0 1 {pair(x, y)} Tm")
            t._x0 = t._x = x  # noqa: SLF001
            t._y0 = t._y = y  # noqa: SLF001
        else:
            t.setTextOrigin(x, y)
        if self.style is not st and self.font != (st.font, st.size, st.leading):  # a style is never changed
            t.setFont(st.font, st.size, st.leading)
            self.font = (st.font, st.size, st.leading)
        self.style = st
        color = st.color
        if self.color is not color:
            canvas = t._canvas  # noqa: SLF001
            if self.direct and type(color) is colors.Color and color.alpha == 1 and \
                    canvas._extgstate._d.get("ca", 1) == 1:  # noqa: SLF001 - what setFillColor does then
                code.append(f"{number(color.red)} {number(color.green)} {number(color.blue)} rg")
                t._fillColorObj = color  # noqa: SLF001
                canvas._doc.ensureMinPdfVersion("transparency")  # noqa: SLF001
            else:
                t.setFillColor(color)
            self.color = color
        if mark:
            code.append(mark)
        state = self.states.get(st.font)
        if state is None and reportlab_patches.FAST_PATHS:
            state = _state(t, st.font)
            if state is None and lines and type(lines[0]) is str and lines[0].isascii() and lines[0].isprintable():
                state = _first_state(t, st.font)
            if state is not None:
                self.states[st.font] = state
        in_place = None  # whether the font keeps printable ASCII as itself: asked at the first such line
        for line in lines:
            data = None
            if state is not None and line and type(line) is str:
                if line.isascii():
                    if line.isprintable():
                        if in_place is None:
                            in_place = _ascii_in_place(state)
                        if in_place:
                            data = line.encode("ascii")
                elif not needs_fallback(line, st.font):
                    data = _first_subset(state, line)
            if data is not None:
                # what textLine writes for it, without reportlab's character by character split into
                # subsets: every character is in the font's first subset already
                t._x = t._x0  # noqa: SLF001
                t._y = t._y0 = t._y - t._leading  # noqa: SLF001
                if t._curSubset == 0:  # noqa: SLF001
                    code.append(f"({escapePDF(data)}) Tj T*")
                else:
                    key = (st.font, t._fontsize, t._leading)  # noqa: SLF001
                    select = self.selects.get(key) or self.selects.setdefault(key, _select(t, st.font))
                    code.append(f"{select} ({escapePDF(data)}) Tj T*")
                    t._curSubset = 0  # noqa: SLF001
            elif line.isascii() and type(line) is str:
                t.textLine(line)
            else:  # other fonts, shaping, right to left (lines of a right-to-left paragraph are Lines)
                draw_line(t, line, st.font, st.size, st.leading)
        if mark:
            code.append(END)


def _select(t, font: str) -> str:
    """The operators selecting ``font``'s first subset at the text object's size and leading, as
    reportlab writes them when a line changes subset."""
    name = pdfmetrics.getFont(font).getSubsetInternalName(0, t._canvas._doc)  # noqa: SLF001
    return f"{name} {number(t._fontsize)} Tf {number(t._leading)} TL"  # noqa: SLF001


def _state(t, font: str):
    """reportlab's subsetting state of ``font`` in the text object's document (the characters given
    codes so far), once the font has been drawn with in it; else None."""
    canvas = t._canvas  # noqa: SLF001
    states = getattr(pdfmetrics.getFont(font), "state", None)
    return states.get(canvas._doc) if states is not None and canvas.bottomup else None  # noqa: SLF001


def _first_state(t, font: str):
    """The subsetting state of ``font`` in the text object's document that reportlab's first split of
    a line of printable ASCII would make (its split of no text makes the same one, and no code is
    given to a character of ASCII, kept in place), so that the line is written as the lines after it
    are; None for a font reportlab does not subset."""
    found = pdfmetrics.getFont(font)
    if not getattr(found, "_dynamicFont", False) or getattr(found, "state", None) is None:
        return None
    found.splitString("", t._canvas._doc)  # noqa: SLF001
    return _state(t, font)


def _ascii_in_place(state) -> bool:
    """Whether every printable ASCII character is drawn as itself in the first subset: as reportlab's
    TrueType fonts keep ASCII (``asciiReadable``). Checked once per font and document."""
    known = state.__dict__.get("docgen_ascii")
    if known is None:
        assignments = state.assignments
        known = state.docgen_ascii = all(assignments.get(n) == n for n in range(32, 127))
    return known


_MARK = 0xF0000  # a code of the first subset, n, is translated to chr(_MARK + n): never a typed character


def _first_subset(state, line: str) -> bytes | None:
    """``line`` as the codes reportlab gave its characters in the font's first subset, when every one
    has one there already (else None: reportlab assigns codes, or another subset is needed)."""
    assignments = state.assignments
    table = state.__dict__.get("docgen_codes")
    if table is None:
        table = state.docgen_codes = {}
        state.docgen_seen = 0
    if state.docgen_seen != len(assignments):  # codes given since: assignments only grow
        for char, code in islice(assignments.items(), state.docgen_seen, None):
            if code < 256:
                table[char] = chr(_MARK + code)
        if 32 in table:
            table[0xA0] = table[32]  # reportlab draws NO-BREAK SPACE as a space
        state.docgen_seen = len(assignments)
    mapped = line.translate(table)
    if min(mapped) < _MARK_CHAR:
        return None
    return mapped.encode("utf-32-le")[::4]


_MARK_CHAR = chr(_MARK)


def _draw_page(canvas: Canvas, ops: list[tuple], style: PdfStyle, fields: bool, marker: Marker) -> None:
    """Backgrounds, then lines and charts, then all the text of the page in one text object. Each
    operation's content is marked as its structure element's (``marker``); the rest as artifacts."""
    code = canvas._code  # noqa: SLF001 - marked content has no API in reportlab
    fills: dict[Any, list[tuple]] = {}
    grid: dict[tuple, None] = {}  # row edges, in order, shared edges of adjacent rows once
    verticals: dict[float, list[list[float]]] = {}  # column edges: x -> [top, bottom] runs
    text = _Text(canvas)
    later: list[tuple] = []
    for op in ops:
        kind = op[0]
        if kind == "text":
            later.append(op)
        elif kind == "row":
            _, xs, top, h, lines, styles, backgrounds, nodes = op
            bottom = top - h
            for c, bg in enumerate(backgrounds):
                if bg is not None:
                    fills.setdefault(bg, []).append((xs[c], bottom, xs[c + 1] - xs[c], h))
            grid[(xs[0], top, xs[-1], top)] = None
            grid[(xs[0], bottom, xs[-1], bottom)] = None
            for x in xs:  # a column edge continues down from the row above: one longer line
                runs_ = verticals.setdefault(x, [])
                if runs_ and abs(runs_[-1][1] - top) < 0.01:
                    runs_[-1][1] = bottom
                else:
                    runs_.append([top, bottom])
            for c, (cell, st) in enumerate(zip(lines, styles, strict=False)):
                if any(cell):
                    later.append(("text", xs[c] + PAD_X, top - PAD_TOP - st.size, st, cell, nodes and nodes[c]))
        else:
            later.append(op)
    if fills or grid:
        code.append(LAYOUT)
    direct = reportlab_patches.FAST_PATHS  # paths written as reportlab's drawPath and lines write them
    for color, rects in fills.items():
        canvas.setFillColor(color)
        if direct:
            code.append(" ".join(["n", *(f"{pair(x, y)} {pair(w, h)} re" for x, y, w, h in rects)]))
            code.append(PATH_OPS[0, 1, canvas._fillMode])  # noqa: SLF001
            continue
        path = canvas.beginPath()
        for rect in rects:
            path.rect(*rect)
        canvas.drawPath(path, stroke=0, fill=1)
    if grid:
        canvas.setStrokeColor(style.rule_color)
        canvas.setLineWidth(0.4)
        rules = list(grid) + [(x, top, x, bottom) for x, runs_ in verticals.items() for top, bottom in runs_]
        if direct:
            code.append("n")
            code.extend(f"{pair(x1, y1)} m {pair(x2, y2)} l" for x1, y1, x2, y2 in rules)
            code.append("S")
        else:
            canvas.lines(rules)
    if fills or grid:
        code.append(END)
    for op in later:
        kind = op[0]
        if kind == "text":  # a table header row repeated on a continued page has no element: an artifact
            text.lines(op[1], op[2], op[3], op[4], marker.begin(op[5]) if op[5] is not None else PAGINATION)
        elif kind == "rule":
            code.append(LAYOUT)
            canvas.setStrokeColor(colors.black)
            canvas.setLineWidth(op[4])
            canvas.line(op[1], op[2], op[3], op[2])
            code.append(END)
        elif kind == "chart":  # after the text before it, in the text layer too
            canvas.drawText(text.t)
            text = _Text(canvas)
            code.append(marker.begin(op[5]))
            _draw_chart(canvas, op[1], op[2], op[3], op[4], style)
            code.append(END)
        elif kind == "image":
            from reportlab.lib.utils import ImageReader  # noqa: PLC0415 - signature images only

            # named by its pixels, not its path: the same bytes wherever the record's folder is
            code.append(marker.begin(op[6]))
            canvas.drawImage(ImageReader(op[1]), op[2], op[3], op[4], op[5], preserveAspectRatio=True, anchor="sw",
                             mask="auto")
            code.append(END)
        elif kind == "field" and fields:
            _signature_field(canvas, op[1], op[2], op[3], op[4], op[5], marker, op[6])
    canvas.drawText(text.t)


def _draw_chart(canvas: Canvas, x: float, y: float, width: float, chart: Chart, style: PdfStyle) -> None:
    """Scores over time on the instrument's severity bands (vector)."""
    geo = chart_geometry(chart, width, 150)
    canvas.saveState()
    canvas.translate(x, y)
    grey = colors.HexColor("#555555")
    for band in geo["bands"]:
        canvas.setFillColor(colors.HexColor(band["color"]))
        canvas.rect(band["x"], band["y"], band["w"], band["h"], stroke=0, fill=1)
        canvas.setFillColor(grey)
        canvas.setFont(FONT, 6.5)
        draw_string(canvas, band["x"] + band["w"] + 4, band["y"] + band["h"] / 2 - 3, band["name"])
    canvas.setStrokeColor(colors.HexColor("#777777"))
    canvas.setLineWidth(1)
    canvas.lines([(geo["x0"], geo["y0"], geo["x0"], geo["y1"]), (geo["x0"], geo["y0"], geo["x1"], geo["y0"]),
                  *((geo["x0"] - 3, tick, geo["x0"], tick) for _value, tick in geo["ticks"])])
    canvas.setFillColor(grey)
    canvas.setFont(FONT, 6.5)
    for value, tick in geo["ticks"]:  # the value axis' numbers, as the DOCX chart's: 0, 5, 10, ...
        draw_string(canvas, geo["x0"] - 5, tick - 2.3, str(value), align="right")
    points = geo["points"]
    canvas.setStrokeColor(style.accent_color)
    canvas.setLineWidth(1.6)
    path = canvas.beginPath()
    path.moveTo(points[0]["x"], points[0]["y"])
    for p in points[1:]:
        path.lineTo(p["x"], p["y"])
    canvas.drawPath(path, stroke=1, fill=0)
    canvas.setFillColor(style.accent_color)
    for p in points:
        canvas.rect(p["x"] - 2.5, p["y"] - 2.5, 5, 5, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    for p in points:
        canvas.setFont(BOLD, 7)
        draw_string(canvas, p["x"], p["y"] + 5, str(p["value"]), align="centre")
        canvas.setFont(FONT, 6.5)
        draw_string(canvas, p["x"], geo["y0"] - 10, p["label"], align="centre")
    canvas.restoreState()


_SIG, _ANNOT, _WIDGET = PDFName("Sig"), PDFName("Annot"), PDFName("Widget")  # escaped once


def _signature_field(canvas: Canvas, name: str, x: float, y: float, w: float, h: float, marker: Marker,
                     node) -> None:
    """An empty signature form field: where a certificate signature (``docgen sign``, or any PDF
    signing tool) goes for this signer. Its description (/TU) is its Form element's text, and it
    has an (empty) appearance, as PDF/A asks of every widget."""
    from .archival import empty_appearance  # noqa: PLC0415 - final documents only

    form = canvas.acroForm
    rect = [round(x, 2), round(y, 2), round(x + w, 2), round(y + h, 2)]
    field = PDFDictionary({"FT": _SIG, "Type": _ANNOT, "Subtype": _WIDGET,
                           "T": PDFString(name), "TU": PDFString(node.attrs.get("Alt") or name.replace("_", " ")),
                           "F": 4, "Rect": PDFArray(rect), "AP": empty_appearance(canvas, rect),
                           "P": canvas._doc.thisPageRef()})  # noqa: SLF001 - no public API for this
    canvas._addAnnotation(field, name=name)  # noqa: SLF001
    form.fields.append(form.getRef(field))
    marker.widget(node, name, field)
