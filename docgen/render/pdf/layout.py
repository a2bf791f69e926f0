"""The first pass: the text styles, and a composed Document laid out into pages, each a list of
drawing operations (text lines, table rows, rules, charts, images, signature fields) that
:mod:`.drawing` replays. Headings are kept with what follows them, a table's header row repeats on
every page it continues on, and a row taller than a page is split inside its cells."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportlab.lib import colors
from reportlab.lib.units import inch

from ...compose.blocks import Bullets, Chart, Document, Fields, Notice, Para, SignatureLine
from ...compose.blocks import Table as TableBlock
from ...errors import LayoutError
from ..style import PdfStyle
from ..visible_text import display
from .fonts import BOLD, FONT, ITALIC
from .tagging import Node, Structure, chart_alt
from .wrapping import text_width, wrap_shown

if TYPE_CHECKING:
    from .renderer import PdfRenderer

MISSING_COLOR = colors.HexColor("#8a1c1c")
COLUMN, ROW = {"Scope": "Column"}, {"Scope": "Row"}  # a header cell's scope (its attributes)


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
        self.rule_id = TextStyle(FONT, size - 2.5, (size - 2.5) * 1.25, s.muted_color)  # a notice's rule id
        #: the structure element a paragraph of a style is (tagging.py); any other style's is a P
        self.roles = {id(self.title): "H1", id(self.h1): "H2", id(self.h2): "H3", id(self.quote): "BlockQuote"}


PAD_X, PAD_TOP, PAD_BOTTOM = 4.0, 2.5, 3.0
BULLET = "\u2022"
SIG_BOX = 34.0  # height of a signature field (points)


#: More pages than any record can need: a layout that asks for more has a bug or hostile input.
MAX_PAGES = 5000


# --- layout: blocks -> pages of drawing operations ----------------------------------------------
class _Layout:
    """The cursor of the first pass: appends drawing operations to the current page."""

    def __init__(self, renderer: PdfRenderer, tree: Structure | None = None):
        s, (width, height) = renderer.style, renderer.pagesize
        margin = s.margin_inch * inch
        self.r, self.st = renderer, renderer.styles
        self.left, self.width = margin, width - 2 * margin
        self.top, self.bottom = height - margin * 1.15, margin
        self.pages: list[list[tuple]] = [[]]
        self.y = self.top
        self.fields: dict[str, int] = {}
        self.marks: list[tuple[str, str, int]] = []  # (section key, title, page index) of each heading
        self.section_title = ""  # the section being laid out: a continued table's heading without a caption
        # the structure tree (tagging.py): each drawing operation ends with the element it draws
        self.tree = tree or Structure()

    @property
    def ops(self) -> list[tuple]:
        return self.pages[-1]

    def new_page(self) -> None:
        """Start a page. A page left empty means nothing fits on any page: the record fails with a
        LayoutError instead of asking for pages forever (a page cap backs this up)."""
        if not self.pages[-1] and len(self.pages) > 1:
            raise LayoutError("the content does not fit on a page (check font_size and margin_inch in "
                              "pdf-style.toml)")
        if len(self.pages) >= MAX_PAGES:
            raise LayoutError(f"the document would run past {MAX_PAGES} pages")
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
    def lines(self, lines: list[str], st: TextStyle, x: float, node: Node | None,
              label: Node | None = None) -> None:
        """Lines of one paragraph (the element ``node``; a list item's with its ``label``), continued on
        as many pages as they need."""
        i = 0
        while i < len(lines):
            fit_ = int((self.y - self.bottom + 0.01) // st.leading)
            if fit_ <= 0:
                self.new_page()
                continue
            chunk = lines[i:i + fit_]
            baseline = self.y - st.size
            if label is not None and i == 0:  # before its item in the text layer too: read as "• item"
                self.ops.append(("text", x - st.indent + 4, baseline, st, [BULLET], label))
            self.ops.append(("text", x, baseline, st, chunk, node))
            self.y -= len(chunk) * st.leading
            i += len(chunk)
            if i < len(lines):
                self.new_page()

    def para(self, text: str, st: TextStyle, bullet: bool = False, width: float | None = None, role: str = "",
             lang: str = "") -> None:
        """A paragraph: an element of ``role`` (else the style's: H1, H2, H3, BlockQuote, P), or a list
        item; in the language ``lang`` when not the document's."""
        attrs = {"Lang": lang} if lang else None
        room = (width or self.width) - st.indent
        self.space(st.before)
        if bullet:
            with self.tree.group("LI"):
                label, node = self.tree.leaf("Lbl"), self.tree.leaf("LBody", attrs=attrs)
        else:
            label, node = None, self.tree.leaf(role or self.st.roles.get(id(st), "P"), attrs=attrs)
        self.lines(wrap_shown(text, st.font, st.size, room), st, self.left + st.indent, node, label)
        self.y -= st.after

    def notice(self, notice: Notice) -> None:
        """One item of a draft's list of what is missing (a list item), its rule id smaller and muted
        after it (on the text's last line when it fits there), part of the item's body."""
        st, small = self.st.missing, self.st.rule_id
        room = self.width - st.indent
        lines = wrap_shown(notice.text, st.font, st.size, room)
        x = self.left + st.indent
        self.space(st.before)
        with self.tree.group("LI"):
            label, node = self.tree.leaf("Lbl"), self.tree.leaf("LBody")
        self.lines(lines, st, x, node, label)
        if notice.rule:
            end = text_width(lines[-1], st.font, st.size) + text_width(" ", st.font, st.size)
            if end + text_width(notice.rule, small.font, small.size) <= room:
                self.ops.append(("text", x + end, self.y + st.leading - st.size, small, [display(notice.rule)], node))
            else:
                self.lines([display(notice.rule)], small, x, node)
        self.y -= st.after

    def heading(self, text: str, st: TextStyle, keep: float) -> None:
        self.need(keep)
        self.para(text, st)

    # tables ----------------------------------------------------------------------------------
    def table(self, header: list[str] | None, rows: list[list[str]], widths: list[float],
              label_column: bool = False, caption: str = "") -> None:
        """A table (with its caption). Its heading is kept with its first two rows (with all three of
        a three-row table), its last row never stands alone at the top of a page (the second-to-last
        goes with it), and on every page it continues on it starts with "<heading> (continued)" (its
        caption, else its section's title) and its header row. A row taller than a page is split
        inside its cells; a table starts on a new page unless what must stay with its heading fits
        (or a few lines of a first row taller than a page)."""
        st, s = self.st, self.r.style
        xs = [self.left]
        for w in widths:
            xs.append(xs[-1] + w)
        styles = [st.label if label_column and c == 0 else st.cell for c in range(len(widths))]
        backgrounds = [s.label_background if label_column and c == 0 else None for c in range(len(widths))]

        def cells(texts: list[str], row_styles: list[TextStyle]) -> list[list[str]]:
            return [wrap_shown(t, rs.font, rs.size, w - 2 * PAD_X) if t else [""]
                    for t, rs, w in zip(texts, row_styles, widths, strict=False)]

        def height(lines: list[list[str]], row_styles: list[TextStyle]) -> float:
            return PAD_TOP + max(len(c) * rs.leading for c, rs in zip(lines, row_styles, strict=False)) + PAD_BOTTOM

        head_styles = [st.head] * len(widths)
        head = cells(header, head_styles) if header else None
        head_h = height(head, head_styles) if head else 0.0
        head_bg = [s.table_header_background] * len(widths)
        h2 = self.st.h2
        continued: list[list[str]] = []  # the heading of the pages it continues on, wrapped when first needed
        on_page = [0]  # rows of this table on the current page

        def continued_lines() -> list[str]:
            if not continued:
                continued.append(wrap_shown(f"{caption or self.section_title} (continued)", h2.font, h2.size,
                                      self.width))
            return continued[0]

        def draw_row(lines: list[list[str]], row_styles: list[TextStyle], h: float, bgs: list,
                     cells: list[Node] | None) -> None:
            """A row, its cells the elements ``cells`` (None: a header repeated, an artifact)."""
            self.ops.append(("row", xs, self.y, h, lines, row_styles, bgs, cells))
            self.y -= h

        def row_cells(head_row: bool = False) -> list[Node]:
            row = self.tree.node("TR", table)
            return [self.tree.node("TH", row, "Table", COLUMN) if head_row else
                    self.tree.node("TH", row, "Table", ROW) if label_column and c == 0 else
                    self.tree.node("TD", row) for c in range(len(widths))]

        def page_break() -> None:
            self.new_page()
            self.lines(continued_lines(), h2, self.left, None)  # repeated on a page it continues on: an artifact
            self.y -= h2.after
            if head:
                draw_row(head, head_styles, head_h, head_bg, None)
            on_page[0] = 0

        lead = max(rs.leading for rs in styles)
        laid = [cells(row, styles) for row in rows]
        heights = [height(lines, styles) for lines in laid]
        # room for rows on a page it continues on (the continued heading taken as one line: wrapped when
        # it is drawn, a longer one only makes a row that just fits split inside)
        full = self.top - self.bottom - head_h - h2.leading - h2.after
        # what stays with the heading: two rows (three of three: no last row alone), when they fit a page
        keep = sum(heights[:len(heights) if len(heights) <= 3 else 2])
        if keep > self.top - self.bottom - head_h:
            keep = heights[0] if heights and heights[0] <= self.top - self.bottom - head_h else 0.0
        above = head_h + (h2.before + len(wrap_shown(caption, h2.font, h2.size, self.width)) * h2.leading +
                          h2.after if caption else 0.0)
        room = self.y - self.bottom
        if self.y < self.top and (room < above + max(keep, min(heights[0] if heights else 0.0,
                                                               PAD_TOP + 2 * lead + PAD_BOTTOM))):
            self.new_page()
        if caption:
            self.heading(caption, h2, 0.8 * inch)
        table = self.tree.leaf("Table")
        if head:
            draw_row(head, head_styles, head_h, head_bg, row_cells(head_row=True))
        last = len(laid) - 1
        for index, (lines, h) in enumerate(zip(laid, heights, strict=True)):
            row_nodes = row_cells()
            fits = self.y - h >= self.bottom - 0.01
            if fits and index == last - 1 and on_page[0] >= 2 and heights[last] <= full \
                    and self.y - h - heights[last] < self.bottom - 0.01:
                fits = False  # the last row would stand alone on the next page: the two go together
            if fits:
                draw_row(lines, styles, h, backgrounds, row_nodes)
                on_page[0] += 1
                continue
            if h <= full:
                page_break()
                if self.y - h >= self.bottom - 0.01:  # (unless a long continued heading took more room)
                    draw_row(lines, styles, h, backgrounds, row_nodes)
                    on_page[0] += 1
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
                draw_row(part, styles, PAD_TOP + max(len(c) for c in part) * lead + PAD_BOTTOM, backgrounds,
                         row_nodes)
                offset += fit_
                if offset < total:
                    page_break()
            on_page[0] += 1
        self.y -= 6

    # other blocks ----------------------------------------------------------------------------
    def chart(self, chart: Chart) -> None:
        st = self.st
        self.need(st.h2.before + st.h2.leading + st.h2.after + 150)
        self.para(chart.title, st.h2)
        width = self.width * 0.8
        figure = self.tree.leaf("Figure", "Layout", {
            "Alt": chart_alt(chart), "Placement": "Block",
            "BBox": [round(v, 2) for v in (self.left, self.y - 150, self.left + width, self.y)]})
        self.ops.append(("chart", self.left, self.y - 150, width, chart, figure))
        self.y -= 150

    def field_name(self, key: str) -> str:
        base = f"sig_{key or 'other'}"
        count = self.fields[base] = self.fields.get(base, 0) + 1
        return base if count == 1 else f"{base}_{count}"

    def signature(self, sig: SignatureLine) -> None:
        st, width = self.st, self.width
        text_room = width * 0.64
        if sig.signed:
            text = wrap_shown(sig.text, st.body.font, st.body.size, text_room)
            image_h = 0.6 * inch if sig.image and Path(sig.image).is_file() else 0.0
            block = st.label.leading + max(image_h + len(text) * st.body.leading, SIG_BOX) + 8
        else:
            block = st.label.leading + SIG_BOX + st.small.leading + 8
        self.need(block)
        leaf = self.tree.leaf
        self.lines(wrap_shown(sig.role, st.label.font, st.label.size, width), st.label, self.left, leaf("P"))
        top = self.y
        name = self.field_name(sig.key)
        form = leaf("Form", attrs={"Alt": display(f"{sig.role} signature")})
        if sig.signed:
            if sig.image and Path(sig.image).is_file():
                image = leaf("Figure", attrs={"Alt": display(f"{sig.role}'s handwritten signature")})
                self.ops.append(("image", sig.image, self.left, self.y - 0.6 * inch, 1.8 * inch, 0.6 * inch, image))
                self.y -= 0.6 * inch
            self.lines(text, st.body, self.left, leaf("P"))
            self.ops.append(("field", name, self.left + width * 0.66, top - SIG_BOX, width * 0.34, SIG_BOX, form))
            self.y = min(self.y, top - SIG_BOX) - 8
        else:
            line_y = top - SIG_BOX
            self.ops.append(("field", name, self.left, line_y, width * 0.55, SIG_BOX, form))
            self.ops.append(("rule", self.left, line_y, self.left + width * 0.55, 0.8))
            self.ops.append(("rule", self.left + width * 0.6, line_y, self.left + width * 0.9, 0.8))
            caption = line_y - st.small.size - 1.5
            self.ops.append(("text", self.left, caption, st.small, [display(f"{sig.role} signature")], leaf("P")))
            self.ops.append(("text", self.left + width * 0.6, caption, st.small, ["Date / time"], leaf("P")))
            self.y = line_y - st.small.leading - 8

    def block(self, block) -> None:
        st, width = self.st, self.width
        if isinstance(block, Para):
            if block.label:
                self.heading(block.label, st.h2, 0.8 * inch)
            quote = block.style == "quote"
            self.para(block.text, st.quote if quote else st.body, lang=self.tree.words(block.text) if quote else "")
        elif isinstance(block, Fields):
            self.table(None, [list(row) for row in block.rows], [width * 0.28, width * 0.72], label_column=True,
                       caption=block.label)
        elif isinstance(block, Bullets):
            self.heading(block.label, st.h2, 0.8 * inch)
            self.tree.enter("L")
            for item in block.entries:
                self.para(item, st.bullet, bullet=True)
            self.tree.leave()
        elif isinstance(block, TableBlock):
            self.table(list(block.columns), [list(row) for row in block.rows], [width * w for w in block.widths],
                       caption=block.caption)
        elif isinstance(block, Chart):
            self.chart(block)
        elif isinstance(block, SignatureLine):
            self.tree.enter("Div")
            self.signature(block)
            self.tree.leave()
        else:
            raise TypeError(type(block).__name__)

    def document(self, doc: Document) -> list[list[tuple]]:
        st = self.st
        self.para(doc.title, st.title)
        self.para(doc.date_line, st.date)
        if doc.draft:
            self.para("DRAFT \u2014 not final. Missing before this document can be final:", st.h2, role="H2")
            self.tree.enter("L")
            for notice in doc.missing:
                self.notice(notice)
            self.tree.leave()
            self.y -= 6
        for section in doc.sections:
            self.tree.enter("Sect")
            self.heading(section.title, st.h1, 1.2 * inch)
            self.section_title = section.title
            self.marks.append((section.key, section.title, len(self.pages) - 1))
            for block in section.blocks:
                self.block(block)
            self.tree.leave()
        return self.pages
