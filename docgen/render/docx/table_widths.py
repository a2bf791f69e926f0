"""The composed tables' column widths in the Word body: the template's marked tables (caption
``docgen:...``) rewritten once, at preparation, to ask :class:`TableWidths` for them while the body
renders (:func:`_widths_in_template`), or, for a template that rewrite cannot cover, the rendered
body's XML tree fixed (:func:`fix_tables`). The rewrite shapes the prepared template, so this module
is part of the prepared-template cache key (:mod:`.template`)."""
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
_ROW_START = re.compile(r"<w:tr(?=[\s>])[^>]*>")
_EMPTY = Markup("")


class TableWidths:
    """The composed tables' column widths, handed out while the body renders: the template's marked
    tables (caption ``docgen:...``) were rewritten once, at preparation, to ask for them (see
    :func:`_widths_in_template`), so no document is parsed or edited after rendering. Same result
    as :func:`fix_tables`: a table without widths keeps its own grid, a cell beyond them its own.

    Rows and cells step on by reading ``next_row`` and ``next_cell``: an attribute a template reads
    costs a fraction of a call through Jinja, and a plan has hundreds of cells."""

    def __init__(self, widths: list[tuple[float, ...]], text_width: int):
        self._pending = iter(widths)
        self._text_width = text_width
        self.current: list[Markup] | None = None
        self._column = 0
        self.width = _EMPTY

    def begin(self) -> Markup:
        fractions = next(self._pending, None)
        # as markup: digits need no escaping, and markup passes the template's printing untouched
        self.current = None if fractions is None else [Markup(int(self._text_width * f)) for f in fractions]  # noqa: S704
        return _EMPTY

    def grid(self) -> Markup:
        return Markup("".join(f'<w:gridCol w:w="{w}"/>' for w in self.current or ()))  # noqa: S704 - digits only

    @property
    def next_row(self) -> Markup:
        """A new row: its first cell comes next."""
        self._column = 0
        return _EMPTY

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


def _widths_in_template(source: str) -> str | None:
    """The body's Jinja source with every marked table asking :class:`TableWidths` for its widths,
    or None when the body holds a table this cannot rewrite (unmarked, nested, with attributes):
    then the rendered body is fixed by :func:`fix_tables`."""
    if len(_TABLE_TAG.findall(source)) != source.count("<w:tbl>"):
        return None

    def table(match: re.Match) -> str:
        inner = match.group(1)
        if "<w:tbl>" in inner or len(_CAPTION.findall(inner)) != 1 or len(_GRID.findall(inner)) != 1:
            raise _Unusual
        inner = _CAPTION.sub("{{ docgen_table.begin() }}", inner, count=1)
        original = _GRID.search(inner).group(0)  # type: ignore[union-attr]
        inner = _GRID.sub(lambda _: "{% if docgen_table.current is not none %}<w:tblGrid>{{ docgen_table.grid() }}"
                          "</w:tblGrid>{% else %}" + original + "{% endif %}", inner, count=1)
        inner = _ROW_START.sub(lambda m: m.group(0) + "{{ docgen_table.next_row }}", inner)
        inner = _CELL_WIDTH.sub(lambda m: '{% if docgen_table.next_cell %}<w:tcW w:w="{{ docgen_table.width }}" '
                                'w:type="dxa"/>{% else %}' + m.group(0) + "{% endif %}", inner)
        return "<w:tbl>" + inner + "</w:tbl>"

    try:
        return _TABLE.sub(table, source)
    except _Unusual:
        return None


def fix_tables(body: str, widths: list[tuple[float, ...]], text_width: int) -> bytes:
    """Column widths for the composed tables (marked ``docgen:`` in the template), and a grid that
    matches the cells for any other table whose columns were looped (what docxtpl's fix_tables does).
    Only for a template whose tables :func:`_widths_in_template` could not rewrite."""
    from lxml import etree  # noqa: PLC0415 - only for bodies the template rewrite does not cover

    root = etree.fromstring(body.encode("utf-8"))
    pending = iter(widths)
    for table in root.iter(_q("tbl")):
        caption = table.find(f"{_q('tblPr')}/{_q('tblCaption')}")
        grid = table.find(_q("tblGrid"))
        if grid is None:
            continue
        if caption is not None and caption.get(_q("val"), "").startswith("docgen:"):
            caption.getparent().remove(caption)
            fractions = next(pending, None)
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
