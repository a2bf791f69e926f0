"""Render a composed Document to PDF, laid out and drawn straight onto a reportlab canvas.

Two passes. Layout breaks text into lines (greedy, at spaces; words longer than a line at
characters) and blocks into pages, giving each page a display list; drawing then replays the lists
with the page furniture, so every page can say "Page X of Y". Headings are kept with what follows
them, table header rows repeat on every page a table continues on, and a row taller than a page is
split inside its cells. Client text is only ever drawn as text (never parsed as markup).

Fonts and styles are prepared once per process. The output is deterministic: reportlab's
invariant mode, dates taken from the record.
"""
from __future__ import annotations

import io
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFString
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from ..compose.blocks import Bullets, Chart, Document, Fields, Para, SignatureLine
from ..compose.blocks import Table as TableBlock
from .chartgeo import chart_geometry
from .style import PdfStyle
from .text import display

FONT, BOLD, ITALIC = "DocgenSans", "DocgenSans-Bold", "DocgenSans-Oblique"
#: Chinese and Japanese (and more) for characters DejaVu Sans lacks: Droid Sans Fallback, Apache-2.0.
FALLBACK = "DocgenFallback"
_COVERAGE: dict[str, frozenset[int]] = {}
MISSING_COLOR = colors.HexColor("#8a1c1c")
TAB = "    "


class _Formatted(pdfdoc.PDFObject):
    """A PDF object formatted once: its bytes as they are."""

    def __init__(self, data: bytes):
        self.data = data

    def format(self, document) -> bytes:  # type: ignore[no-untyped-def]
        return self.data


_WIDTHS: dict[tuple, _Formatted] = {}  # oldest first


class _Font(TTFont):
    """A TrueType font whose subsets' width arrays are formatted once per process: a subset's
    widths depend only on its characters, and formatting hundreds of numbers into every PDF was a
    tenth of a note's rendering. The bytes are the same as reportlab writes."""

    def addObjects(self, doc) -> None:  # type: ignore[no-untyped-def]
        fonts = doc.idToObject["BasicFonts"].dict
        before = set(fonts)
        super().addObjects(doc)
        for name in fonts.keys() - before:
            widths = fonts[name].Widths
            key = (rl_config.pdfMultiLine, *widths.sequence)
            found = _WIDTHS.get(key)
            if found is None:
                found = _WIDTHS[key] = _Formatted(widths.format(doc))
                while len(_WIDTHS) > 256:
                    _WIDTHS.pop(next(iter(_WIDTHS)))
            fonts[name].Widths = found


def _register(name: str, file: str) -> None:
    font = _Font(name, str(resources.files("docgen") / "fonts" / file))
    _remember_subsets(font.face)
    pdfmetrics.registerFont(font)
    _COVERAGE[name] = frozenset(font.face.charToGlyph)


def _remember_subsets(face) -> None:
    """Subsetting a font is a pure function of the characters in the subset. reportlab puts ASCII at
    fixed codes of the first subset, so documents in the same language and template often embed the
    very same subset: build each distinct one once per process (its bytes are the same either way)."""
    original = face.makeSubset
    built = face.docgen_subsets = lru_cache(maxsize=64)(lambda key: original(list(key)))
    face.makeSubset = lambda subset: built(tuple(subset))


@cache
def register_fonts() -> None:
    for name, file in ((FONT, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf")):
        _register(name, file)
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=ITALIC, boldItalic=BOLD)


@cache
def _italic() -> None:
    """The oblique face, loaded on first need (quotes in the person's own words)."""
    _register(ITALIC, "DejaVuSans-Oblique.ttf")


@cache
def _fallback() -> frozenset[int]:
    """The fallback font, loaded on first need (4 MB: most records never need it)."""
    _register(FALLBACK, "DroidSansFallbackFull.ttf")
    return _COVERAGE[FALLBACK]


def needs_fallback(text: str, font: str) -> bool:
    covered = _COVERAGE[font]
    return not text.isascii() and any(ord(c) not in covered for c in set(text) if c not in "\n\t")


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """``text`` as (font, chunk) runs: the fallback font for the characters ``font`` lacks and the
    fallback has (reportlab has no per-glyph fallback of its own)."""
    if not needs_fallback(text, font):
        return [(font, text)]
    covered, spare = _COVERAGE[font], _fallback()
    out: list[tuple[str, str]] = []
    for char in text:
        code = ord(char)
        if char.isspace() and out:  # spaces stay in the run they follow: fewer font switches
            out[-1] = (out[-1][0], out[-1][1] + char)
            continue
        use = FALLBACK if code not in covered and code in spare else font
        if out and out[-1][0] == use:
            out[-1] = (use, out[-1][1] + char)
        else:
            out.append((use, char))
    return out


def text_width(text: str, font: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(chunk, used, size) for used, chunk in runs(text, font))


def draw_text(canvas: Canvas, x: float, y: float, text: str, font: str, size: float, align: str = "left") -> None:
    """Draw one line of text, switching to the fallback font where needed."""
    if align == "right":
        x -= text_width(text, font, size)
    parts = runs(text, font)
    if len(parts) == 1 and parts[0][0] == font:
        canvas.setFont(font, size)
        canvas.drawString(x, y, text)
        return
    line = canvas.beginText(x, y)  # one text object, so the text layer reads as one line
    for used, chunk in parts:
        line.setFont(used, size)
        line.textOut(chunk)
    canvas.drawText(line)


def fit(text: str, font: str, size: float, room: float, smallest: float = 6.0) -> tuple[str, float]:
    """``text`` and the largest font size from ``size`` down to ``smallest`` at which it fits ``room``
    points. Text too long even then is cut with an ellipsis (page furniture: the body has it whole)."""
    while size > smallest and text_width(text, font, size) > room:
        size = max(smallest, size - 0.5)
    if text_width(text, font, size) > room:
        while text and text_width(text.rstrip() + "\u2026", font, size) > room:
            text = text[:-1]
        text = text.rstrip() + "\u2026"
    return text, size


class _Zlib:
    """zlib with another default compression level (everything else as zlib). Large inputs met
    again (an embedded font subset, see :func:`_remember_subsets`) are compressed once."""

    def __init__(self, level: int):
        self.level = level

    def compress(self, data, level: int | None = None):
        level = self.level if level is None else level
        if len(data) < 8192:
            return zlib.compress(data, level)
        key = (bytes(data), level)
        found = _DEFLATED.get(key)
        if found is None:
            found = _DEFLATED[key] = zlib.compress(data, level)
            while len(_DEFLATED) > 32:
                _DEFLATED.pop(next(iter(_DEFLATED)))
        return found

    def __getattr__(self, name: str):
        return getattr(zlib, name)


_DEFLATED: dict[tuple[bytes, int], bytes] = {}  # oldest first


@contextmanager
def deflate_level(level: int):
    """Streams compressed at ``level`` while the block runs. reportlab deflates page contents and
    embedded font files with zlib's default level (6) and has no setting for it; level 1 makes the
    whole PDF about a third faster for about 5% more bytes. Output stays deterministic and valid; a
    reportlab document saved in another thread meanwhile is merely compressed at this level too."""
    original = pdfdoc.zlib
    pdfdoc.zlib = _Zlib(level)  # type: ignore[assignment]
    try:
        yield
    finally:
        pdfdoc.zlib = original


# --- line breaking ------------------------------------------------------------------------------
def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` (already through :func:`display`) broken into lines no wider than ``width`` points:
    at its own line breaks, then greedily at spaces (runs of spaces are kept as typed), and a word
    wider than a line at characters. Tabs become four spaces."""
    if font == ITALIC:
        _italic()
    fallback = needs_fallback(text, font)
    measure = (lambda t: text_width(t, font, size)) if fallback else \
        (lambda t, _f=pdfmetrics.getFont(font): _f.stringWidth(t, size))
    space = measure(" ")
    out: list[str] = []
    for raw in text.split("\n"):
        if "\t" in raw:
            raw = raw.replace("\t", TAB)
        if measure(raw) <= width:
            out.append(raw)
            continue
        line: list[str] = []
        used = 0.0
        for word in raw.split(" "):
            w = measure(word)
            if w > width:  # a word longer than the line: on lines of its own, cut at characters
                if line:
                    out.append(" ".join(line))
                pieces = _cut(word, font, size, width, fallback)
                out.extend(pieces[:-1])
                line, used = [pieces[-1]], measure(pieces[-1])
                continue
            if line and used + space + w > width:
                out.append(" ".join(line))
                line, used = [word], w
            else:
                used = used + space + w if line else w
                line.append(word)
        out.append(" ".join(line))
    return out


def _cut(word: str, font: str, size: float, width: float, fallback: bool) -> list[str]:
    pieces: list[str] = []
    start, used = 0, 0.0
    if fallback:
        widths = [text_width(c, font, size) for c in word]
    else:
        face = pdfmetrics.getFont(font).face
        table, default, scale = face.charWidths, face.defaultWidth, size / 1000.0
        widths = [table.get(ord(c), default) * scale for c in word]
    for index, w in enumerate(widths):
        if used + w > width and index > start:
            pieces.append(word[start:index])
            start, used = index, 0.0
        used += w
    pieces.append(word[start:])
    return pieces


# --- styles -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TextStyle:
    font: str
    size: float
    leading: float
    color: Any
    indent: float = 0.0
    before: float = 0.0
    after: float = 0.0


class _Styles:
    def __init__(self, s: PdfStyle):
        size = s.font_size
        text = s.text_color
        self.body = TextStyle(FONT, size, size * 1.3, text, after=3)
        self.small = TextStyle(FONT, size - 1.5, (size - 1.5) * 1.3, text)
        self.cell = TextStyle(FONT, size - 1, (size - 1) * 1.25, text)
        self.head = TextStyle(BOLD, size - 1, (size - 1) * 1.25, s.table_header_text)
        self.label = TextStyle(BOLD, size - 1, (size - 1) * 1.25, text)
        self.quote = TextStyle(ITALIC, size, size * 1.3, s.muted_color, indent=14, after=3)
        self.title = TextStyle(BOLD, size + 8, (size + 8) * 1.2, s.accent_color, after=2)
        self.date = TextStyle(BOLD, size + 1, (size + 1) * 1.3, text, after=8)
        self.h1 = TextStyle(BOLD, size + 3, (size + 3) * 1.3, s.accent_color, before=10, after=4)
        self.h2 = TextStyle(BOLD, size + 0.5, (size + 0.5) * 1.3, text, before=4, after=2)
        self.bullet = TextStyle(FONT, size, size * 1.3, text, indent=14, after=1)
        self.missing = TextStyle(FONT, size - 1, (size - 1) * 1.25, MISSING_COLOR, indent=14)


PAD_X, PAD_TOP, PAD_BOTTOM = 4.0, 2.5, 3.0
BULLET = "\u2022"
SIG_BOX = 34.0  # height of a signature field (points)


# --- layout: blocks -> pages of drawing operations ----------------------------------------------
class _Layout:
    """The cursor of the first pass: appends drawing operations to the current page."""

    def __init__(self, renderer: "PdfRenderer"):
        s, (width, height) = renderer.style, renderer.pagesize
        margin = s.margin_inch * inch
        self.r, self.st = renderer, renderer.styles
        self.left, self.width = margin, width - 2 * margin
        self.top, self.bottom = height - margin * 1.15, margin
        self.pages: list[list[tuple]] = [[]]
        self.y = self.top
        self.fields: dict[str, int] = {}
        self.marks: list[tuple[str, str, int]] = []  # (section key, title, page index) of each heading

    @property
    def ops(self) -> list[tuple]:
        return self.pages[-1]

    def new_page(self) -> None:
        self.pages.append([])
        self.y = self.top

    def need(self, height: float) -> None:
        """A new page unless ``height`` points are left (headings are kept with what follows)."""
        if self.y - height < self.bottom and self.y < self.top:
            self.new_page()

    def space(self, height: float) -> None:
        if self.y < self.top:  # space before a block is dropped at the top of a page
            self.y -= height

    # text ------------------------------------------------------------------------------------
    def lines(self, lines: list[str], st: TextStyle, x: float, bullet: bool = False) -> None:
        """Lines of one paragraph, continued on as many pages as they need."""
        i = 0
        while i < len(lines):
            fit_ = int((self.y - self.bottom + 0.01) // st.leading)
            if fit_ <= 0:
                self.new_page()
                continue
            chunk = lines[i:i + fit_]
            baseline = self.y - st.size
            if bullet and i == 0:  # before its item in the text layer too: read as "• item"
                self.ops.append(("text", x - st.indent + 4, baseline, st, [BULLET]))
            self.ops.append(("text", x, baseline, st, chunk))
            self.y -= len(chunk) * st.leading
            i += len(chunk)
            if i < len(lines):
                self.new_page()

    def para(self, text: str, st: TextStyle, bullet: bool = False, width: float | None = None) -> None:
        room = (width or self.width) - st.indent
        self.space(st.before)
        self.lines(wrap(display(text), st.font, st.size, room), st, self.left + st.indent, bullet)
        self.y -= st.after

    def heading(self, text: str, st: TextStyle, keep: float) -> None:
        self.need(keep)
        self.para(text, st)

    # tables ----------------------------------------------------------------------------------
    def table(self, header: list[str] | None, rows: list[list[str]], widths: list[float],
              label_column: bool = False, caption: str = "") -> None:
        """A table (with its caption) starts on a new page unless its header and first row fit (or a
        few lines of a first row taller than a page): neither caption nor header is left alone."""
        st, s = self.st, self.r.style
        xs = [self.left]
        for w in widths:
            xs.append(xs[-1] + w)
        styles = [st.label if label_column and c == 0 else st.cell for c in range(len(widths))]
        backgrounds = [s.label_background if label_column and c == 0 else None for c in range(len(widths))]

        def cells(texts: list[str], row_styles: list[TextStyle]) -> list[list[str]]:
            return [wrap(display(t), rs.font, rs.size, w - 2 * PAD_X) if t else [""]
                    for t, rs, w in zip(texts, row_styles, widths)]

        def height(lines: list[list[str]], row_styles: list[TextStyle]) -> float:
            return PAD_TOP + max(len(c) * rs.leading for c, rs in zip(lines, row_styles)) + PAD_BOTTOM

        head_styles = [st.head] * len(widths)
        head = cells(header, head_styles) if header else None
        head_h = height(head, head_styles) if head else 0.0
        head_bg = [s.table_header_background] * len(widths)

        def draw_row(lines: list[list[str]], row_styles: list[TextStyle], h: float, bgs: list) -> None:
            self.ops.append(("row", xs, self.y, h, lines, row_styles, bgs))
            self.y -= h

        def page_break() -> None:
            self.new_page()
            if head:
                draw_row(head, head_styles, head_h, head_bg)

        lead = max(rs.leading for rs in styles)
        laid = [cells(row, styles) for row in rows]
        first = height(laid[0], styles) if laid else 0.0
        h2 = self.st.h2
        above = head_h + (h2.before + len(wrap(display(caption), h2.font, h2.size, self.width)) * h2.leading +
                          h2.after if caption else 0.0)
        room = self.y - self.bottom
        if self.y < self.top and (room < above + min(first, PAD_TOP + 2 * lead + PAD_BOTTOM) or
                                  (room < above + first and first <= self.top - self.bottom - head_h)):
            self.new_page()
        if caption:
            self.heading(caption, h2, 0.8 * inch)
        if head:
            draw_row(head, head_styles, head_h, head_bg)
        full = self.top - self.bottom - head_h
        for lines in laid:
            h = height(lines, styles)
            if self.y - h >= self.bottom - 0.01:
                draw_row(lines, styles, h, backgrounds)
                continue
            if h <= full:
                page_break()
                draw_row(lines, styles, h, backgrounds)
                continue
            # taller than a page: split inside the row, line by line
            total = max(len(c) for c in lines)
            offset = 0
            while offset < total:
                fit_ = int((self.y - self.bottom - PAD_TOP - PAD_BOTTOM + 0.01) // lead)
                if fit_ < 1:
                    page_break()
                    continue
                part = [c[offset:offset + fit_] or [""] for c in lines]
                draw_row(part, styles, PAD_TOP + max(len(c) for c in part) * lead + PAD_BOTTOM, backgrounds)
                offset += fit_
                if offset < total:
                    page_break()
        self.y -= 6

    # other blocks ----------------------------------------------------------------------------
    def chart(self, chart: Chart) -> None:
        st = self.st
        self.need(st.h2.before + st.h2.leading + st.h2.after + 150)
        self.para(chart.title, st.h2)
        width = self.width * 0.8
        self.ops.append(("chart", self.left, self.y - 150, width, chart))
        self.y -= 150

    def field_name(self, key: str) -> str:
        base = f"sig_{key or 'other'}"
        count = self.fields[base] = self.fields.get(base, 0) + 1
        return base if count == 1 else f"{base}_{count}"

    def signature(self, sig: SignatureLine) -> None:
        st, width = self.st, self.width
        text_room = width * 0.64
        if sig.signed:
            text = wrap(display(sig.text), st.body.font, st.body.size, text_room)
            image_h = 0.6 * inch if sig.image and Path(sig.image).is_file() else 0.0
            block = st.label.leading + max(image_h + len(text) * st.body.leading, SIG_BOX) + 8
        else:
            block = st.label.leading + SIG_BOX + st.small.leading + 8
        self.need(block)
        self.lines(wrap(display(sig.role), st.label.font, st.label.size, width), st.label, self.left)
        top = self.y
        name = self.field_name(sig.key)
        if sig.signed:
            if sig.image and Path(sig.image).is_file():
                self.ops.append(("image", sig.image, self.left, self.y - 0.6 * inch, 1.8 * inch, 0.6 * inch))
                self.y -= 0.6 * inch
            self.lines(text, st.body, self.left)
            self.ops.append(("field", name, self.left + width * 0.66, top - SIG_BOX, width * 0.34, SIG_BOX))
            self.y = min(self.y, top - SIG_BOX) - 8
        else:
            line_y = top - SIG_BOX
            self.ops.append(("field", name, self.left, line_y, width * 0.55, SIG_BOX))
            self.ops.append(("rule", self.left, line_y, self.left + width * 0.55, 0.8))
            self.ops.append(("rule", self.left + width * 0.6, line_y, self.left + width * 0.9, 0.8))
            caption = line_y - st.small.size - 1.5
            self.ops.append(("text", self.left, caption, st.small, [display(f"{sig.role} signature")]))
            self.ops.append(("text", self.left + width * 0.6, caption, st.small, ["Date / time"]))
            self.y = line_y - st.small.leading - 8

    def block(self, block) -> None:
        st, width = self.st, self.width
        if isinstance(block, Para):
            if block.label:
                self.heading(block.label, st.h2, 0.8 * inch)
            self.para(block.text, st.quote if block.style == "quote" else st.body)
        elif isinstance(block, Fields):
            self.table(None, [list(row) for row in block.rows], [width * 0.28, width * 0.72], label_column=True)
        elif isinstance(block, Bullets):
            self.heading(block.label, st.h2, 0.8 * inch)
            for item in block.entries:
                self.para(item, st.bullet, bullet=True)
        elif isinstance(block, TableBlock):
            self.table(list(block.columns), [list(row) for row in block.rows], [width * w for w in block.widths],
                       caption=block.caption)
        elif isinstance(block, Chart):
            self.chart(block)
        elif isinstance(block, SignatureLine):
            self.signature(block)
        else:
            raise TypeError(type(block).__name__)

    def document(self, doc: Document) -> list[list[tuple]]:
        st = self.st
        self.para(doc.title, st.title)
        self.para(doc.date_line, st.date)
        if doc.draft:
            self.para("DRAFT \u2014 not final. Missing before this document can be final:", st.h2)
            for missing in doc.missing:
                self.para(missing, st.missing, bullet=True)
            self.y -= 6
        for section in doc.sections:
            self.heading(section.title, st.h1, 1.2 * inch)
            self.marks.append((section.key, section.title, len(self.pages) - 1))
            for block in section.blocks:
                self.block(block)
        return self.pages


# --- drawing ------------------------------------------------------------------------------------
class _Text:
    """One text object for a whole page: font and colour are set only when they change."""

    def __init__(self, canvas: Canvas):
        self.t = canvas.beginText()
        self.font: tuple | None = None
        self.color: Any = None

    def lines(self, x: float, y: float, st: TextStyle, lines: list[str]) -> None:
        t = self.t
        t.setTextOrigin(x, y)
        if self.font != (st.font, st.size, st.leading):
            t.setFont(st.font, st.size, st.leading)
            self.font = (st.font, st.size, st.leading)
        if self.color is not st.color:
            t.setFillColor(st.color)
            self.color = st.color
        for line in lines:
            parts = None if line.isascii() else runs(line, st.font)
            if parts is None or (len(parts) == 1 and parts[0][0] == st.font):
                t.textLine(line)
                continue
            for used, chunk in parts:
                t.setFont(used, st.size, st.leading)
                t.textOut(chunk)
            t.setFont(st.font, st.size, st.leading)
            t.textLine("")


def _draw_page(canvas: Canvas, ops: list[tuple], style: PdfStyle, fields: bool) -> None:
    """Backgrounds, then lines and charts, then all the text of the page in one text object."""
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
            _, xs, top, h, lines, styles, backgrounds = op
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
            for c, (cell, st) in enumerate(zip(lines, styles)):
                if any(cell):
                    later.append(("text", xs[c] + PAD_X, top - PAD_TOP - st.size, st, cell))
        else:
            later.append(op)
    for color, rects in fills.items():
        canvas.setFillColor(color)
        path = canvas.beginPath()
        for rect in rects:
            path.rect(*rect)
        canvas.drawPath(path, stroke=0, fill=1)
    if grid:
        canvas.setStrokeColor(style.rule_color)
        canvas.setLineWidth(0.4)
        canvas.lines(list(grid) + [(x, top, x, bottom) for x, runs_ in verticals.items() for top, bottom in runs_])
    for op in later:
        kind = op[0]
        if kind == "text":
            text.lines(op[1], op[2], op[3], op[4])
        elif kind == "rule":
            canvas.setStrokeColor(colors.black)
            canvas.setLineWidth(op[4])
            canvas.line(op[1], op[2], op[3], op[2])
        elif kind == "chart":  # after the text before it, in the text layer too
            canvas.drawText(text.t)
            text = _Text(canvas)
            _draw_chart(canvas, op[1], op[2], op[3], op[4], style)
        elif kind == "image":
            from reportlab.lib.utils import ImageReader  # noqa: PLC0415 - signature images only

            # named by its pixels, not its path: the same bytes wherever the record's folder is
            canvas.drawImage(ImageReader(op[1]), op[2], op[3], op[4], op[5], preserveAspectRatio=True, anchor="sw",
                             mask="auto")
        elif kind == "field" and fields:
            _signature_field(canvas, *op[1:])
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
        canvas.drawString(band["x"] + band["w"] + 4, band["y"] + band["h"] / 2 - 3, band["name"])
    canvas.setStrokeColor(colors.HexColor("#777777"))
    canvas.setLineWidth(1)
    canvas.lines([(geo["x0"], geo["y0"], geo["x0"], geo["y1"]), (geo["x0"], geo["y0"], geo["x1"], geo["y0"])])
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
        canvas.drawCentredString(p["x"], p["y"] + 5, str(p["value"]))
        canvas.setFont(FONT, 6.5)
        canvas.drawCentredString(p["x"], geo["y0"] - 10, p["label"])
    canvas.restoreState()


def _signature_field(canvas: Canvas, name: str, x: float, y: float, w: float, h: float) -> None:
    """An empty signature form field: where a certificate signature (``docgen sign``, or any PDF
    signing tool) goes for this signer."""
    form = canvas.acroForm
    field = PDFDictionary({"FT": PDFName("Sig"), "Type": PDFName("Annot"), "Subtype": PDFName("Widget"),
                           "T": PDFString(name), "TU": PDFString(name.replace("_", " ")), "F": 4,
                           "Rect": PDFArray([round(x, 2), round(y, 2), round(x + w, 2), round(y + h, 2)]),
                           "P": canvas._doc.thisPageRef()})  # noqa: SLF001 - no public API for this
    canvas._addAnnotation(field, name=name)  # noqa: SLF001
    form.fields.append(form.getRef(field))


class PdfRenderer:
    """Reusable: fonts and styles are prepared once; :meth:`render` makes one PDF."""

    def __init__(self, style: PdfStyle | None = None):
        register_fonts()
        rl_config.useA85 = 0  # binary (deflated) streams: smaller files, less work than ASCII85
        self.style = style or PdfStyle()
        self.styles = _Styles(self.style)
        self.pagesize = LETTER if self.style.page_size.lower() == "letter" else A4

    def layout(self, doc: Document) -> list[list[tuple]]:
        """The first pass: each page's drawing operations."""
        return _Layout(self).document(doc)

    # page furniture -------------------------------------------------------------------------
    def _furniture(self, doc: Document):
        s, (width, height) = self.style, self.pagesize
        margin = s.margin_inch * inch
        room = width - 2 * margin
        small = s.font_size - 2
        # long agency names, record ids and client names shrink (and at worst are cut) to their room
        # instead of running off the page or over the text beside them
        title = f"{doc.title} \u00b7 {doc.record_id}"
        reserve = min(text_width(title, FONT, small), room * 0.25)
        header, header_size = fit(display(doc.agency), BOLD, s.font_size + 1, room - reserve - 12)
        title, title_size = fit(title, FONT, small, room - text_width(header, BOLD, header_size) - 12)
        sub, sub_size = fit(" \u00b7 ".join(display(x) for x in doc.agency_lines), FONT, small, room)
        footer_text = display(doc.footer)
        draft = doc.draft
        top = height - margin * 0.55

        def draw(canvas: Canvas, number: int, total: int) -> None:
            canvas.saveState()
            canvas.setFillColor(s.accent_color)
            draw_text(canvas, margin, top, header, BOLD, header_size)
            canvas.setFillColor(s.muted_color)
            if sub:
                draw_text(canvas, margin, top - s.font_size, sub, FONT, sub_size)
            draw_text(canvas, width - margin, top, title, FONT, title_size, align="right")
            canvas.setStrokeColor(s.rule_color)
            canvas.setLineWidth(1)
            canvas.lines([(margin, top - s.font_size - 4, width - margin, top - s.font_size - 4),
                          (margin, margin * 0.75, width - margin, margin * 0.75)])
            canvas.setFillColor(s.text_color)
            page = f"Page {number} of {total}"
            footer, footer_size = fit(footer_text, FONT, small, room - pdfmetrics.stringWidth(page, FONT, small) - 12)
            draw_text(canvas, margin, margin * 0.5, footer, FONT, footer_size)
            canvas.setFont(FONT, small)
            canvas.drawRightString(width - margin, margin * 0.5, page)
            if draft:
                canvas.setFillColor(colors.Color(0.75, 0.1, 0.1, alpha=0.18))
                canvas.setFont(BOLD, 110)
                canvas.translate(width / 2, height / 2)
                canvas.rotate(45)
                canvas.drawCentredString(0, -35, "DRAFT")
            canvas.restoreState()

        return draw

    def render(self, doc: Document, metadata: dict[str, str], record_date: str) -> bytes:
        """One PDF as bytes. ``record_date``: YYYYMMDD used as the PDF's creation date."""
        return self.render_with_sections(doc, metadata, record_date)[0]

    def render_with_sections(self, doc: Document, metadata: dict[str, str],
                             record_date: str) -> tuple[bytes, list[tuple[str, str, int]]]:
        """:meth:`render`, and where each section starts: (section key, title, 0-based page index),
        in document order (for bookmarks when documents are assembled into a packet)."""
        layout = _Layout(self)
        pages = layout.document(doc)
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=self.pagesize, invariant=1, initialFontName=FONT,
                        initialFontSize=self.style.font_size)
        fixed = f"D:{record_date}000000+00'00'"
        canvas.setDateFormatter(lambda *_: fixed)
        canvas.setTitle(metadata.get("title", doc.title))
        canvas.setAuthor(metadata.get("author", doc.agency))
        canvas.setSubject(metadata.get("subject", ""))
        canvas.setKeywords(metadata.get("keywords", ""))
        canvas.setCreator(metadata.get("creator", "docgen"))
        canvas.setProducer(metadata.get("creator", "docgen"))
        furniture = self._furniture(doc)
        total = len(pages)
        with deflate_level(1 if self.style.compression == "fast" else zlib.Z_DEFAULT_COMPRESSION):
            for number, ops in enumerate(pages, 1):
                _draw_page(canvas, ops, self.style, fields=not doc.draft)  # a draft is not for signing
                furniture(canvas, number, total)
                canvas.showPage()
            canvas.save()
        return buffer.getvalue(), layout.marks
