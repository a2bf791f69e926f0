"""The composed tables' column widths and row rules in the Word body: the template's marked tables
(caption ``docgen:...``) rewritten once, at preparation, to ask :class:`TableWidths` for them while
the body renders (:func:`_widths_in_template`), or, for a template that rewrite cannot cover, the
rendered body's XML tree fixed (:func:`fix_tables`). The row rules are the PDF's (render/pdf/layout.py):
a row that cannot be taller than a page is never split (``cantSplit``), a table's first row is kept
with the next (with its heading and header row: never one row alone under them) and so is its
second-to-last (its last row never alone at the top of a page); a header row is kept whole with the
first row. Being added here, they hold for an agency's own templates too, even once Word has saved
them. The rewrite shapes the prepared template, so this module is part of the prepared-template
cache key (:mod:`.template`)."""
from __future__ import annotations

import re

from markupsafe import Markup

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _q(tag: str) -> str:
    return f"{{{W}}}{tag}"


_TABLE = re.compile(r"<w:tbl>(.*?)</w:tbl>", re.DOTALL)
_TABLE_TAG = re.compile(r"<w:tbl[\s>/]")
_CAPTION = re.compile(r'<w:tblCaption w:val="docgen:[^"]*"/>')
_GRID = re.compile(r"<w:tblGrid>.*?</w:tblGrid>|<w:tblGrid/>", re.DOTALL)
_CELL_WIDTH = re.compile(r"<w:tcW [^>]*/>")
_ROW_START = re.compile(r"(<w:tr(?=[\s>])[^>]*>)(<w:trPr>|<w:trPr/>)?")
_PARAGRAPH = re.compile(r"(<w:p(?=[\s>])[^>]*>)(?:(<w:pPr>)(<w:pStyle [^>]*/>)?|<w:pPr/>)?")
_EMPTY = Markup("")
_CANT_SPLIT, _KEEP_NEXT = Markup("<w:cantSplit/>"), Markup("<w:keepNext/>")
#: A row of fewer characters than this is never split across pages: it cannot be taller than a page.
SPLIT_ROW_CHARS = 800


def row_rules(rows, header: bool) -> tuple[tuple[bool, bool], ...]:
    """(kept whole, kept with the next row) for each row of a composed table as Word gets it: its
    header row first when it has one."""
    n = len(rows)
    body = tuple((len("".join(row)) < SPLIT_ROW_CHARS, i < n - 1 and (i == 0 or i == n - 2))
                 for i, row in enumerate(rows))
    return (((True, True),) if header else ()) + body


class TableWidths:
    """The composed tables' column widths, handed out while the body renders: the template's marked
    tables (caption ``docgen:...``) were rewritten once, at preparation, to ask for them (see
    :func:`_widths_in_template`), so no document is parsed or edited after rendering. Same result
    as :func:`fix_tables`: a table without widths keeps its own grid, a cell beyond them its own.

    Rows and cells step on by reading ``next_row`` and ``next_cell``: an attribute a template reads
    costs a fraction of a call through Jinja, and a plan has hundreds of cells."""

    def __init__(self, widths: list[tuple[float, ...]], text_width: int,
                 rows: list[tuple[tuple[bool, bool], ...]] | None = None):
        self._pending = iter(widths)
        self._rules = iter(rows or ())
        self._text_width = text_width
        self.current: list[Markup] | None = None
        self._column = 0
        self.width = _EMPTY
        self._table_rules: tuple[tuple[bool, bool], ...] = ()
        self._row = 0
        self.keep = _EMPTY  # the current row's paragraphs' <w:keepNext/>

    def begin(self) -> Markup:
        fractions = next(self._pending, None)
        # as markup: digits need no escaping, and markup passes the template's printing untouched
        self.current = None if fractions is None else [Markup(int(self._text_width * f)) for f in fractions]  # noqa: S704
        self._table_rules = next(self._rules, ())
        self._row = 0
        return _EMPTY

    def grid(self) -> Markup:
        return Markup("".join(f'<w:gridCol w:w="{w}"/>' for w in self.current or ()))  # noqa: S704 - digits only

    @property
    def next_row(self) -> Markup:
        """A new row: its first cell comes next; ``keep`` says whether its paragraphs keep with the next
        row. Printed in the row's properties: ``<w:cantSplit/>`` when the row is kept whole."""
        self._column = 0
        rules = self._table_rules
        index, self._row = self._row, self._row + 1
        whole, keep = rules[index] if index < len(rules) else (False, False)
        self.keep = _KEEP_NEXT if keep else _EMPTY
        return _CANT_SPLIT if whole else _EMPTY

    @property
    def next_cell(self) -> bool:
        """Moves to the next cell; True when the composition gives it a width (in ``width``)."""
        index, self._column = self._column, self._column + 1
        current = self.current
        if current is None or index >= len(current):
            return False
        self.width = current[index]
        return True


class _Unusual(Exception):
    """A table :func:`_widths_in_template` does not rewrite."""


def _row_start(match: re.Match) -> str:
    """A row's start asking for its rules: ``cantSplit`` first in its properties (made when it has none);
    one print, the next row's."""
    row, props = match.groups()
    if props == "<w:trPr>":
        return row + "<w:trPr>{{ docgen_table.next_row }}"
    return row + "<w:trPr>{{ docgen_table.next_row }}</w:trPr>"


def _paragraph_start(match: re.Match) -> str:
    """A paragraph's start in a row asking for ``keepNext`` (after its style, as CT_PPr orders them)."""
    paragraph, opened, style = match.groups()
    if opened:
        return paragraph + opened + (style or "") + "{{ docgen_table.keep }}"
    return paragraph + "<w:pPr>{{ docgen_table.keep }}</w:pPr>"


def _widths_in_template(source: str) -> str | None:
    """The body's Jinja source with every marked table asking :class:`TableWidths` for its widths,
    or None when the body holds a table this cannot rewrite (unmarked, nested, with attributes):
    then the rendered body is fixed by :func:`fix_tables`."""
    if len(_TABLE_TAG.findall(source)) != source.count("<w:tbl>"):
        return None

    def table(match: re.Match) -> str:
        inner = match.group(1)
        if "<w:tbl>" in inner or len(_CAPTION.findall(inner)) != 1 or len(_GRID.findall(inner)) != 1 \
                or "<w:cantSplit" in inner or "<w:keepNext" in inner or "<w:tblPrEx" in inner:
            raise _Unusual
        inner = _CAPTION.sub("{{ docgen_table.begin() }}", inner, count=1)
        original = _GRID.search(inner).group(0)  # type: ignore[union-attr]
        inner = _GRID.sub(lambda _: "{% if docgen_table.current is not none %}<w:tblGrid>{{ docgen_table.grid() }}"
                          "</w:tblGrid>{% else %}" + original + "{% endif %}", inner, count=1)
        inner = _ROW_START.sub(_row_start, inner)
        inner = _PARAGRAPH.sub(_paragraph_start, inner)
        inner = _CELL_WIDTH.sub(lambda m: '{% if docgen_table.next_cell %}<w:tcW w:w="{{ docgen_table.width }}" '
                                'w:type="dxa"/>{% else %}' + m.group(0) + "{% endif %}", inner)
        return "<w:tbl>" + inner + "</w:tbl>"

    try:
        return _TABLE.sub(table, source)
    except _Unusual:
        return None


def _row_rules_in_tree(table, rules: tuple[tuple[bool, bool], ...]) -> None:
    """The rows' rules (see :func:`row_rules`) in a marked table's XML tree, as the rewrite asks for them."""
    from lxml import etree  # noqa: PLC0415

    for row, (whole, keep) in zip(table.iterchildren(_q("tr")), rules, strict=False):
        props = row.find(_q("trPr"))
        if props is None:
            props = etree.Element(_q("trPr"))
            at = 1 if len(row) and row[0].tag == _q("tblPrEx") else 0
            row.insert(at, props)
        if whole and props.find(_q("cantSplit")) is None:
            props.insert(0, etree.Element(_q("cantSplit")))
        for paragraph in row.iter(_q("p")):
            ppr = paragraph.find(_q("pPr"))
            if ppr is None:
                ppr = etree.Element(_q("pPr"))
                paragraph.insert(0, ppr)
            if keep and ppr.find(_q("keepNext")) is None:
                style = ppr.find(_q("pStyle"))
                ppr.insert(0 if style is None else ppr.index(style) + 1, etree.Element(_q("keepNext")))


def fix_tables(body: str, widths: list[tuple[float, ...]], text_width: int,
               rows: list[tuple[tuple[bool, bool], ...]] | None = None) -> bytes:
    """Column widths and row rules for the composed tables (marked ``docgen:`` in the template), and a
    grid that matches the cells for any other table whose columns were looped (what docxtpl's
    fix_tables does). Only for a template whose tables :func:`_widths_in_template` could not rewrite."""
    from lxml import etree  # noqa: PLC0415 - only for bodies the template rewrite does not cover

    root = etree.fromstring(body.encode("utf-8"))
    pending = iter(widths)
    pending_rules = iter(rows or ())
    for table in root.iter(_q("tbl")):
        caption = table.find(f"{_q('tblPr')}/{_q('tblCaption')}")
        grid = table.find(_q("tblGrid"))
        if grid is None:
            continue
        if caption is not None and caption.get(_q("val"), "").startswith("docgen:"):
            caption.getparent().remove(caption)
            fractions = next(pending, None)
            _row_rules_in_tree(table, next(pending_rules, ()))
            if fractions is None:
                continue
            twips = [str(int(text_width * f)) for f in fractions]
            for col in list(grid):
                grid.remove(col)
            for w in twips:
                etree.SubElement(grid, _q("gridCol"), {_q("w"): w})
            for row in table.iter(_q("tr")):
                for cell, w in zip(row.iter(_q("tc")), twips, strict=False):
                    width = cell.find(f"{_q('tcPr')}/{_q('tcW')}")
                    if width is not None:
                        width.set(_q("w"), w)
                        width.set(_q("type"), "dxa")
            continue
        cells = max((len(row.findall(_q("tc"))) for row in table.iter(_q("tr"))), default=0)
        columns = grid.findall(_q("gridCol"))
        if cells and len(columns) != cells:
            total = sum(int(c.get(_q("w"), "0")) for c in columns) or text_width
            for col in columns:
                grid.remove(col)
            for _ in range(cells):
                etree.SubElement(grid, _q("gridCol"), {_q("w"): str(total // cells)})
    return etree.tostring(root, encoding="utf-8")
