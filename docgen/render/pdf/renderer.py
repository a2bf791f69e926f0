"""The PDF renderer: fonts and styles prepared once, then for each document the layout pass, the
drawing pass with the page furniture (header, footer, "Page X of Y", the DRAFT watermark), and
the document's properties, with the record's date for every date in the file. The PDF is tagged
(PDF/UA-1, :mod:`.tagging`) and archival (PDF/A-2a, :mod:`.archival`)."""
from __future__ import annotations

import io
import zlib
from functools import cached_property

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from ...compose.blocks import Document
from ..language import DEFAULT, tags
from ..style import PdfStyle
from ..visible_text import display
from . import object_bytes
from .archival import archival
from .bookmarks import bookmarks
from .drawing import Recorded, _draw_page, draw_string, draw_text
from .fonts import BOLD, FONT, register_fonts
from .layout import _Layout, _Styles
from .outlines import draw_outline, outline_width
from .reportlab_patches import archival_syntax, deflate_level
from .tagging import END, PAGINATION, Marker, Structure
from .wrapping import fit, text_width


class PdfRenderer:
    """Reusable: fonts and styles are prepared once; :meth:`render` makes one PDF."""

    def __init__(self, style: PdfStyle | None = None, pdfa: bool = True):
        """``pdfa``: PDF/A-2a (XMP identification, sRGB output intent); else tagged PDF/UA-1 only."""
        register_fonts()
        archival_syntax()
        self.pdfa = pdfa
        rl_config.useA85 = 0  # binary (deflated) streams: smaller files, less work than ASCII85
        self.style = style or PdfStyle()
        self.styles = _Styles(self.style)
        self.pagesize = LETTER if self.style.page_size.lower() == "letter" else A4

    @cached_property
    def logo(self) -> tuple[ImageReader, float] | None:
        """The style's logo (checked when the style was loaded) read once, and its width over its height."""
        if not self.style.logo:
            return None
        reader = ImageReader(self.style.logo)
        width, height = reader.getSize()
        return reader, width / height

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
        logo = self.logo
        top = height - margin * 0.55
        # the logo, when the style names one: as tall as the agency's name and its line under it, on the
        # left margin; the agency's name and line start right of it
        logo_h = s.font_size * 2.1
        logo_w = min(logo_h * logo[1], room * 0.3) if logo else 0.0
        indent = logo_w + 6 if logo else 0.0
        reserve = min(text_width(title, FONT, small), room * 0.25)
        header, header_size = fit(display(doc.agency), BOLD, s.font_size + 1, room - indent - reserve - 12)
        title, title_size = fit(title, FONT, small, room - indent - text_width(header, BOLD, header_size) - 12)
        sub, sub_size = fit(" \u00b7 ".join(display(x) for x in doc.agency_lines), FONT, small, room - indent)
        footer_text = display(doc.footer)
        draft = doc.draft
        bold_file = pdfmetrics.getFont(BOLD).face.filename

        recorded = Recorded()  # the same on every page: drawn on the first, then written as drawn

        def head(canvas: Canvas) -> None:
            canvas.setFillColor(s.accent_color)
            draw_text(canvas, margin + indent, top, header, BOLD, header_size)
            canvas.setFillColor(s.muted_color)
            if sub:
                draw_text(canvas, margin + indent, top - s.font_size, sub, FONT, sub_size)
            draw_text(canvas, width - margin, top, title, FONT, title_size, align="right")
            canvas.setStrokeColor(s.rule_color)
            canvas.setLineWidth(1)
            canvas.lines([(margin, top - s.font_size - 4, width - margin, top - s.font_size - 4),
                          (margin, margin * 0.75, width - margin, margin * 0.75)])

        def foot(canvas: Canvas, footer: str, footer_size: float) -> None:
            canvas.setFillColor(s.text_color)
            draw_text(canvas, margin, margin * 0.5, footer, FONT, footer_size)

        def draw(canvas: Canvas, number: int, total: int) -> None:
            canvas.saveState()
            if logo:
                canvas.drawImage(logo[0], margin, top - s.font_size - 2.5, logo_w, logo_h, preserveAspectRatio=True,
                                 anchor="sw", mask="auto")
            recorded.draw(canvas, "head", lambda: head(canvas))
            page = f"Page {number} of {total}"
            footer, footer_size = fit(footer_text, FONT, small, room - pdfmetrics.stringWidth(page, FONT, small) - 12)
            recorded.draw(canvas, (footer, footer_size), lambda: foot(canvas, footer, footer_size))
            canvas.setFont(FONT, small)
            draw_string(canvas, width - margin, margin * 0.5, page, align="right")
            if draft:  # outlines, not text: seen on the page, never in its text layer (copy, extraction)
                canvas.setFillColor(colors.Color(0.75, 0.1, 0.1, alpha=0.18))
                canvas.translate(width / 2, height / 2)
                canvas.rotate(45)
                draw_outline(canvas, "DRAFT", bold_file, 110, -outline_width("DRAFT", bold_file, 110) / 2, -35)
            canvas.restoreState()

        return draw

    def render(self, doc: Document, metadata: dict[str, str], record_date: str) -> bytes:
        """One PDF as bytes. ``record_date``: YYYYMMDD used as the PDF's creation date."""
        return self.render_with_sections(doc, metadata, record_date)[0]

    def render_with_sections(self, doc: Document, metadata: dict[str, str],
                             record_date: str) -> tuple[bytes, list[tuple[str, str, int]]]:
        """:meth:`render`, and where each section starts: (section key, title, 0-based page index),
        in document order (for bookmarks when documents are assembled into a packet).
        ``metadata["language"]``: the client's preferred language(s), for the /Lang of their own words."""
        tree = Structure(DEFAULT, tags(metadata.get("language")))
        layout = _Layout(self, tree)
        pages = layout.document(doc)
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=self.pagesize, invariant=1, initialFontName=FONT,
                        initialFontSize=self.style.font_size)
        object_bytes.claim(canvas._doc)  # noqa: SLF001 - its plain objects written straight to bytes
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
        marker = Marker(tree)
        sections: dict[int, list[tuple[str, str]]] = {}  # a bookmark per section, on its page (WCAG 2.4.5)
        for n, (_key, section_title, index) in enumerate(layout.marks):
            sections.setdefault(index, []).append((f"section{n}", section_title))
        outline = bookmarks(canvas)
        with deflate_level(1 if self.style.compression == "fast" else zlib.Z_DEFAULT_COMPRESSION):
            for number, ops in enumerate(pages, 1):
                marker.start_page(number - 1)
                for name, section_title in sections.get(number - 1, ()):
                    if outline is not None:
                        outline.add(section_title, number)
                        continue
                    canvas.bookmarkPage(name)
                    canvas.addOutlineEntry(section_title, name, level=0)
                _draw_page(canvas, ops, self.style, fields=not doc.draft, marker=marker)  # a draft is not for signing
                canvas._code.append(PAGINATION)  # noqa: SLF001 - the page furniture is an artifact
                furniture(canvas, number, total)
                canvas._code.append(END)  # noqa: SLF001
                canvas.showPage()
            marker.write(canvas)
            archival(canvas, tree.lang, part=2 if self.pdfa else None)
            canvas.save()
        return buffer.getvalue(), layout.marks
