"""Render a composed Document to DOCX through a docxtpl Word template.

Autoescaping is on and every value is passed as already-escaped text, so client text is data,
never markup: ``&``, ``<``, ``{{`` and the like come out exactly as typed; line breaks and tabs are
kept. The zip is written deterministically (fixed entry dates taken from the record).
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from docx.oxml.ns import qn
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import Environment
from markupsafe import Markup, escape

from ..compose.blocks import Bullets, Chart, Document, Fields, Para, SignatureLine, Table
from .chart import chart_png
from .text import display

BLOCK_TYPES = {Para: "para", Fields: "fields", Bullets: "bullets", Table: "table", Chart: "chart",
               SignatureLine: "signature"}
# docxtpl turns "{_{" "}_}" "{_%" "%_}" in its output into "{{" "}}" "{%" "%}": keep client text intact.
_BRACE_GUARD = re.compile(r"(?<=\{)_(?=[{%])|(?<=\})_(?=\})|(?<=%)_(?=\})")


class TemplateError(ValueError):
    pass


def text(value: str) -> Markup:
    """Client text as escaped WordprocessingML text (docxtpl turns \\n and \\t into breaks and tabs)."""
    return Markup(_BRACE_GUARD.sub("&#95;", str(escape(display(value)))))


class DocxRenderer:
    def __init__(self, templates: Path):
        self.templates = Path(templates)
        self.env = Environment(autoescape=True)

    def template_path(self, name: str) -> Path:
        path = self.templates / f"{name}.docx"
        if not path.is_file():
            raise TemplateError(f"no Word template {path}")
        return path

    def _context(self, value: Any, tpl: DocxTemplate) -> Any:
        if isinstance(value, str):
            return text(value)
        if isinstance(value, (tuple, list)):
            return [self._context(v, tpl) for v in value]
        if isinstance(value, Chart):
            return {"type": "chart", "title": text(value.title),
                    "image": InlineImage(tpl, io.BytesIO(chart_png(value)), width=Mm(140))}
        if isinstance(value, SignatureLine):
            image = ""
            if value.image and Path(value.image).is_file():
                image = InlineImage(tpl, value.image, width=Mm(45))
            return {"type": "signature", "role": text(value.role), "text": text(value.text), "signed": value.signed,
                    "image": image}
        if is_dataclass(value):
            out = {f.name: self._context(getattr(value, f.name), tpl) for f in fields(value)}
            if type(value) in BLOCK_TYPES:
                out["type"] = BLOCK_TYPES[type(value)]
            return out
        return value

    def render(self, doc: Document, metadata: dict[str, str], record_date: date) -> bytes:
        tpl = DocxTemplate(self.template_path(doc.template))
        context = self._context(doc, tpl)
        context["footer"] = text(doc.footer)
        context["agency_line"] = text(" \u00b7 ".join(doc.agency_lines))
        tpl.render({"doc": context}, jinja_env=self.env, autoescape=True)
        _apply_widths(tpl, doc)
        _set_properties(tpl, metadata, record_date)
        raw = io.BytesIO()
        tpl.save(raw)
        return normalise_zip(raw.getvalue(), record_date)


def _block_widths(doc: Document) -> list[tuple[float, ...]]:
    widths = []
    for section in doc.sections:
        for block in section.blocks:
            if isinstance(block, Fields):
                widths.append((0.28, 0.72))
            elif isinstance(block, Table):
                widths.append(block.widths)
    return widths


def _apply_widths(tpl: DocxTemplate, doc: Document) -> None:
    """Give each block table the composed column widths (docxtpl spreads looped columns evenly)."""
    document = tpl.docx
    section = document.sections[0]
    total = int((section.page_width - section.left_margin - section.right_margin) / 635)  # EMU -> twips
    tables = [t for t in document.element.body.iter(qn("w:tbl"))
              if (cap := t.find(f"{qn('w:tblPr')}/{qn('w:tblCaption')}")) is not None
              and cap.get(qn("w:val"), "").startswith("docgen:")]
    for table, widths in zip(tables, _block_widths(doc)):
        caption = table.find(f"{qn('w:tblPr')}/{qn('w:tblCaption')}")
        caption.getparent().remove(caption)
        twips = [str(int(total * w)) for w in widths]
        grid = table.find(qn("w:tblGrid"))
        for col in list(grid):
            grid.remove(col)
        for w in twips:
            col = grid.makeelement(qn("w:gridCol"), {qn("w:w"): w})
            grid.append(col)
        for row in table.iter(qn("w:tr")):
            for cell, w in zip(row.iter(qn("w:tc")), twips):
                tc_pr = cell.find(qn("w:tcPr"))
                if tc_pr is None:
                    continue
                tc_w = tc_pr.find(qn("w:tcW"))
                if tc_w is not None:
                    tc_w.set(qn("w:w"), w)
                    tc_w.set(qn("w:type"), "dxa")


def _set_properties(tpl: DocxTemplate, metadata: dict[str, str], record_date: date) -> None:
    core = tpl.docx.core_properties
    when = datetime(record_date.year, record_date.month, record_date.day)
    for name, element in (("title", "title"), ("subject", "subject"), ("author", "creator"),
                          ("keywords", "keywords"), ("category", "category")):
        # python-docx refuses text over 255 characters (a limit of Word's dialog, not of OOXML); ids
        # may be 128 characters long, so the keywords of a long id are written to the element itself.
        getattr(core._element, f"get_or_add_{element}")().text = metadata.get(name, "")
    core.comments = ""
    core.last_modified_by = metadata.get("creator", "docgen")
    core.created = core.modified = when
    core.last_printed = when
    core.revision = 1


def normalise_zip(data: bytes, record_date: date) -> bytes:
    """Re-pack a DOCX with fixed entry dates and attributes, so the same input gives the same bytes."""
    stamp = (max(record_date.year, 1980), record_date.month, record_date.day, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            info.create_system = 0
            dst.writestr(info, src.read(item.filename))
    return out.getvalue()
