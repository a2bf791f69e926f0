"""Render a composed Document to PDF with reportlab platypus (not a DOCX conversion).

Fonts, styles and page furniture are built once per process and reused. The output is
deterministic: reportlab's invariant mode, dates taken from the record.
"""
from __future__ import annotations

import io
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (BaseDocTemplate, CondPageBreak, Frame, Image, KeepTogether, PageTemplate,
                                Paragraph, Spacer, Table, TableStyle)

from ..compose.blocks import Bullets, Chart, Document, Fields, Para, SignatureLine
from ..compose.blocks import Table as TableBlock
from .style import PdfStyle
from .text import display

FONT, BOLD, ITALIC = "DocgenSans", "DocgenSans-Bold", "DocgenSans-Oblique"
#: Chinese and Japanese (and more) for characters DejaVu Sans lacks: Droid Sans Fallback, Apache-2.0.
FALLBACK = "DocgenFallback"
_COVERAGE: dict[str, frozenset[int]] = {}


def _register(name: str, file: str) -> None:
    font = TTFont(name, str(resources.files("docgen") / "fonts" / file))
    pdfmetrics.registerFont(font)
    _COVERAGE[name] = frozenset(font.face.charToGlyph)


@cache
def register_fonts() -> None:
    for name, file in ((FONT, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf"), (ITALIC, "DejaVuSans-Oblique.ttf")):
        _register(name, file)
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=ITALIC, boldItalic=BOLD)


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


def markup(text: str, font: str = FONT) -> str:
    """Client text -> reportlab paragraph markup that shows exactly the text (never interpreted)."""
    pieces = []
    for used, chunk in runs(display(text), font):
        shown = escape(chunk).replace("\t", "&nbsp;" * 4).replace("\n", "<br/>")
        pieces.append(shown if used == font else f'<font name="{used}">{shown}</font>')
    return "".join(pieces)


def text_width(text: str, font: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(chunk, used, size) for used, chunk in runs(text, font))


def draw_text(canvas: Canvas, x: float, y: float, text: str, font: str, size: float, align: str = "left") -> None:
    """Draw one line of text, switching to the fallback font where needed."""
    if align == "right":
        x -= text_width(text, font, size)
    parts = runs(text, font)
    if len(parts) == 1:
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


class _Styles:
    def __init__(self, s: PdfStyle):
        size = s.font_size
        base = ParagraphStyle("body", fontName=FONT, bulletFontName=FONT, fontSize=size, leading=size * 1.3,
                              textColor=s.text_color, splitLongWords=1, spaceAfter=3)
        self.body = base
        self.small = ParagraphStyle("small", parent=base, fontSize=size - 1.5, leading=(size - 1.5) * 1.3, spaceAfter=0)
        self.cell = ParagraphStyle("cell", parent=base, fontSize=size - 1, leading=(size - 1) * 1.25, spaceAfter=0)
        self.head = ParagraphStyle("head", parent=self.cell, fontName=BOLD, textColor=s.table_header_text)
        self.label = ParagraphStyle("label", parent=self.cell, fontName=BOLD)
        self.quote = ParagraphStyle("quote", parent=base, fontName=ITALIC, leftIndent=14, textColor=s.muted_color)
        self.title = ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=size + 8, leading=(size + 8) * 1.2,
                                    textColor=s.accent_color, spaceAfter=2)
        self.date = ParagraphStyle("date", parent=base, fontName=BOLD, fontSize=size + 1, spaceAfter=8)
        self.h1 = ParagraphStyle("h1", parent=base, fontName=BOLD, fontSize=size + 3, leading=(size + 3) * 1.3,
                                 textColor=s.accent_color, spaceBefore=10, spaceAfter=4)
        self.h2 = ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=size + 0.5, spaceBefore=4, spaceAfter=2)
        self.bullet = ParagraphStyle("bullet", parent=base, leftIndent=14, bulletIndent=4, spaceAfter=1)
        self.missing = ParagraphStyle("missing", parent=self.cell, textColor=colors.HexColor("#8a1c1c"))
        self.right = ParagraphStyle("right", parent=self.small, alignment=TA_RIGHT)


class _PagedCanvas(Canvas):
    """Defers page furniture to the end so every page can say 'Page X of Y'."""

    furniture: Any = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self):  # noqa: N802 - reportlab API
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for number, state in enumerate(self._pages, 1):
            self.__dict__.update(state)
            self.furniture(self, number, total)
            super().showPage()
        super().save()


def _canvas_class(furniture) -> type[_PagedCanvas]:
    return type("DocgenCanvas", (_PagedCanvas,), {"furniture": staticmethod(furniture)})


class PdfRenderer:
    """Reusable: fonts and styles are prepared once; :meth:`render` makes one PDF."""

    def __init__(self, style: PdfStyle | None = None):
        register_fonts()
        rl_config.useA85 = 0  # binary (deflated) streams: smaller files, less work than ASCII85
        self.style = style or PdfStyle()
        self.styles = _Styles(self.style)
        self.pagesize = LETTER if self.style.page_size.lower() == "letter" else A4

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
        draft = doc.draft

        def draw(canvas: Canvas, number: int, total: int) -> None:
            canvas.saveState()
            canvas.setFillColor(s.accent_color)
            draw_text(canvas, margin, height - margin * 0.55, header, BOLD, header_size)
            canvas.setFillColor(s.muted_color)
            if sub:
                draw_text(canvas, margin, height - margin * 0.55 - s.font_size, sub, FONT, sub_size)
            draw_text(canvas, width - margin, height - margin * 0.55, title, FONT, title_size, align="right")
            canvas.setStrokeColor(s.rule_color)
            canvas.line(margin, height - margin * 0.55 - s.font_size - 4, width - margin, height - margin * 0.55 - s.font_size - 4)
            canvas.line(margin, margin * 0.75, width - margin, margin * 0.75)
            canvas.setFillColor(s.text_color)
            page = f"Page {number} of {total}"
            footer, footer_size = fit(display(doc.footer), FONT, small,
                                      room - pdfmetrics.stringWidth(page, FONT, small) - 12)
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

    # blocks ---------------------------------------------------------------------------------
    def _p(self, text: str, style) -> Paragraph:
        return Paragraph(markup(text, style.fontName), style)

    def _label(self, text: str) -> list:
        """A block's label, never left alone at the foot of a page (Word's 'keep with next')."""
        return [CondPageBreak(0.8 * inch), self._p(text, self.styles.h2)]

    def _cell(self, text: str, style: ParagraphStyle, width: float):
        """A table cell: short one-line text as a plain string (drawn as is, no markup, no wrapping
        work), anything longer as a wrapping Paragraph."""
        shown = display(text)
        if "\n" not in shown and "\t" not in shown and not needs_fallback(shown, style.fontName) and \
                stringWidth(shown, style.fontName, style.fontSize) <= width - 9:
            return shown
        return Paragraph(markup(text, style.fontName), style)

    def _table(self, header: list, rows: list[list], widths: list[float], header_row: bool) -> Table:
        s, st = self.style, self.styles
        table = Table([header, *rows] if header_row else rows, colWidths=widths, repeatRows=1 if header_row else 0,
                      splitInRow=1, hAlign="LEFT")
        commands = [
            ("FONTNAME", (0, 0), (-1, -1), FONT),  # cells set a font even when empty: never Helvetica
            ("FONTSIZE", (0, 0), (-1, -1), st.cell.fontSize), ("LEADING", (0, 0), (-1, -1), st.cell.leading),
            ("TEXTCOLOR", (0, 0), (-1, -1), s.text_color),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.4, s.rule_color),
            ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
        if header_row:
            commands += [("BACKGROUND", (0, 0), (-1, 0), s.table_header_background),
                         ("FONTNAME", (0, 0), (-1, 0), BOLD), ("TEXTCOLOR", (0, 0), (-1, 0), s.table_header_text)]
        else:
            commands += [("BACKGROUND", (0, 0), (0, -1), s.label_background), ("FONTNAME", (0, 0), (0, -1), BOLD)]
        table.setStyle(TableStyle(commands))
        return table

    def _block(self, block, width: float) -> list:
        st = self.styles
        if isinstance(block, Para):
            out = self._label(block.label) if block.label else []
            return out + [self._p(block.text, st.quote if block.style == "quote" else st.body)]
        if isinstance(block, Fields):
            rows = [[self._cell(k, st.label, width * 0.28), self._cell(v, st.cell, width * 0.72)] for k, v in block.rows]
            return [self._table([], rows, [width * 0.28, width * 0.72], header_row=False), Spacer(1, 6)]
        if isinstance(block, Bullets):
            return self._label(block.label) + [Paragraph(markup(item, st.bullet.fontName), st.bullet, bulletText="\u2022")
                                               for item in block.entries]
        if isinstance(block, TableBlock):
            out = self._label(block.caption) if block.caption else []
            cols = [width * w for w in block.widths]
            header = [self._cell(c, st.head, w) for c, w in zip(block.columns, cols)]
            rows = [[self._cell(cell, st.cell, w) for cell, w in zip(row, cols)] for row in block.rows]
            return out + [self._table(header, rows, [width * w for w in block.widths], header_row=True), Spacer(1, 6)]
        if isinstance(block, Chart):
            return [KeepTogether([self._p(block.title, st.h2), chart_drawing(block, width * 0.8, self.style)])]
        if isinstance(block, SignatureLine):
            return [self._signature(block, width)]
        raise TypeError(type(block).__name__)

    def _signature(self, sig: SignatureLine, width: float):
        st = self.styles
        parts: list = [self._p(sig.role, st.label)]
        if sig.signed:
            if sig.image and Path(sig.image).is_file():
                parts.append(Image(sig.image, width=1.8 * inch, height=0.6 * inch, kind="proportional", hAlign="LEFT"))
            parts.append(self._p(sig.text, st.body))
        else:
            line = Table([["", "", ""], [self._p(f"{sig.role} signature", st.small), "",
                                         self._p("Date / time", st.small)]],
                         colWidths=[width * 0.55, width * 0.05, width * 0.3], hAlign="LEFT")
            line.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT),
                                      ("LINEBELOW", (0, 0), (0, 0), 0.8, colors.black),
                                      ("LINEBELOW", (2, 0), (2, 0), 0.8, colors.black),
                                      ("TOPPADDING", (0, 0), (-1, 0), 16), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
            parts.append(line)
        return KeepTogether(parts + [Spacer(1, 8)])

    # document -------------------------------------------------------------------------------
    def story(self, doc: Document, width: float) -> list:
        st = self.styles
        story: list = [self._p(doc.title, st.title), self._p(doc.date_line, st.date)]
        if doc.draft:
            story.append(self._p("DRAFT \u2014 not final. Missing before this document can be final:", st.h2))
            story += [Paragraph(markup(m, st.missing.fontName), st.missing, bulletText="\u2022") for m in doc.missing]
            story.append(Spacer(1, 6))
        for section in doc.sections:
            story.append(CondPageBreak(1.2 * inch))
            story.append(self._p(section.title, st.h1))
            for block in section.blocks:
                story += self._block(block, width)
        return story

    def render(self, doc: Document, metadata: dict[str, str], record_date: str) -> bytes:
        """One PDF as bytes. ``record_date``: YYYYMMDD used as the PDF's creation date."""
        s = self.style
        margin = s.margin_inch * inch
        buffer = io.BytesIO()
        template = BaseDocTemplate(
            buffer, pagesize=self.pagesize, leftMargin=margin, rightMargin=margin, topMargin=margin * 1.15,
            bottomMargin=margin, title=metadata.get("title", doc.title), author=metadata.get("author", doc.agency),
            subject=metadata.get("subject", ""), keywords=metadata.get("keywords", ""),
            creator=metadata.get("creator", "docgen"), producer=metadata.get("creator", "docgen"), invariant=1,
        )
        frame = Frame(template.leftMargin, template.bottomMargin, template.width, template.height, id="body")
        template.addPageTemplates([PageTemplate("page", [frame])])
        fixed = f"D:{record_date}000000+00'00'"

        def canvasmaker(*args, **kwargs):
            kwargs.update(initialFontName=FONT, initialFontSize=self.style.font_size)
            canvas = _canvas_class(self._furniture(doc))(*args, **kwargs)
            canvas.setDateFormatter(lambda *_: fixed)
            return canvas

        template.build(self.story(doc, template.width), canvasmaker=canvasmaker)
        return buffer.getvalue()


def chart_drawing(chart: Chart, width: float, style: PdfStyle):
    """Scores over time on the instrument's severity bands (vector, for the PDF)."""
    from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String  # noqa: PLC0415 - charts only

    geo = chart_geometry(chart, width, 150)
    drawing = Drawing(width, 150, initialFontName=FONT)  # not the default Helvetica, which is never embedded
    for band in geo["bands"]:
        drawing.add(Rect(band["x"], band["y"], band["w"], band["h"], fillColor=colors.HexColor(band["color"]),
                         strokeColor=None))
        drawing.add(String(band["x"] + band["w"] + 4, band["y"] + band["h"] / 2 - 3, band["name"],
                           fontName=FONT, fontSize=6.5, fillColor=colors.HexColor("#555555")))
    drawing.add(Line(geo["x0"], geo["y0"], geo["x0"], geo["y1"], strokeColor=colors.HexColor("#777777")))
    drawing.add(Line(geo["x0"], geo["y0"], geo["x1"], geo["y0"], strokeColor=colors.HexColor("#777777")))
    points = geo["points"]
    drawing.add(PolyLine([c for p in points for c in (p["x"], p["y"])], strokeColor=style.accent_color, strokeWidth=1.6))
    for p in points:
        drawing.add(Rect(p["x"] - 2.5, p["y"] - 2.5, 5, 5, fillColor=style.accent_color, strokeColor=None))
        drawing.add(String(p["x"], p["y"] + 5, str(p["value"]), fontName=BOLD, fontSize=7, textAnchor="middle"))
        drawing.add(String(p["x"], geo["y0"] - 10, p["label"], fontName=FONT, fontSize=6.5, textAnchor="middle"))
    return drawing


BAND_COLORS = ("#e3f1e3", "#f3f3d6", "#f9e6cc", "#f6d5c9", "#efc2c2")


def chart_geometry(chart: Chart, width: float, height: float) -> dict:
    """Coordinates shared by the PDF drawing and the DOCX image (origin bottom left)."""
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
