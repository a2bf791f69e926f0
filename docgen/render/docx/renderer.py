"""The DOCX renderer: a composed Document as what its Word template sees (``doc``: the Document
itself, with charts and signature images as objects that hold their markup), rendered through the
template compiled once (:mod:`.template`), with the document's core properties and the record's date.
"""
from __future__ import annotations

from dataclasses import fields
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from markupsafe import Markup

from ...compose.blocks import (
    Block,
    Bullets,
    Chart,
    Document,
    Fields,
    Notice,
    Para,
    Section,
    Series,
    SignatureLine,
    Table,
)
from ...errors import TemplateError
from .core_properties import core_properties
from .escaping import environment
from .images import Images
from .table_widths import TableWidths, row_rules
from .template import CompiledTemplate

SIGNATURE_IMAGE_TYPES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}
_DOCUMENT_FIELDS = tuple(f.name for f in fields(Document))
#: What a template is given (:meth:`DocxRenderer._context`): plain data, read without the sandbox's
#: per-access checks (see :class:`.escaping.Sandbox`).
_PLAIN_TYPES = (SimpleNamespace, TableWidths, Document, Section, Para, Fields, Bullets, Table, Chart, Series,
                SignatureLine, Notice)


class DocxRenderer:
    """Renders Documents with the Word templates of one folder; each template is compiled once."""

    def __init__(self, templates: Path):
        self.templates = Path(templates)
        self.env = environment(_PLAIN_TYPES)
        self._compiled: dict[str, CompiledTemplate] = {}
        self._refused: dict[str, TemplateError] = {}  # a template that cannot be used fails each record at once

    def template_path(self, name: str) -> Path:
        path = self.templates / f"{name}.docx"
        if not path.is_file():
            raise TemplateError(f"no Word template {path.name} in {self.templates}")
        return path

    def compiled(self, name: str) -> CompiledTemplate:
        if name in self._refused:
            raise TemplateError(str(self._refused[name]))
        if name not in self._compiled:
            try:
                self._compiled[name] = CompiledTemplate(self.template_path(name), self.env)
            except TemplateError as exc:
                self._refused[name] = exc
                raise
        return self._compiled[name]

    def _context(self, doc: Document, images: Images) -> SimpleNamespace:
        """What a template sees as ``doc``: the composed Document itself (its strings are escaped as
        they are printed, see :func:`~docgen.render.docx.escaping.environment`), with ``footer`` and
        ``agency_line``, and each chart and signed signature line with an image as an object that
        also holds the image. (Objects, not mappings: Jinja reads ``doc.title`` as an attribute first.)"""
        context = SimpleNamespace(**{name: getattr(doc, name) for name in _DOCUMENT_FIELDS})
        context.sections = [self._section(section, images) for section in doc.sections]
        context.footer, context.agency_line = doc.footer, " \u00b7 ".join(doc.agency_lines)
        return context

    def _section(self, section: Section, images: Images) -> Any:
        if not any(isinstance(b, Chart) or (isinstance(b, SignatureLine) and b.image) for b in section.blocks):
            return section
        return SimpleNamespace(key=section.key, title=section.title,
                               blocks=[self._block(b, images) for b in section.blocks])

    @staticmethod
    def _block(block: Block, images: Images) -> Any:
        if isinstance(block, Chart):  # a native Word chart, placed where a template prints b.image
            return SimpleNamespace(type="chart", title=block.title, series=block.series, image=images.chart(block))
        if isinstance(block, SignatureLine) and block.image:
            image: Markup | str = ""
            kind = SIGNATURE_IMAGE_TYPES.get(Path(block.image).suffix.lower())
            if kind and Path(block.image).is_file():
                image = images.inline(Path(block.image).read_bytes(), 45, "png" if kind == "png" else "jpeg")
            return SimpleNamespace(type="signature", role=block.role, text=block.text, signed=block.signed,
                                   key=block.key, image=image)
        return block

    def render(self, doc: Document, metadata: dict[str, str], record_date: date) -> bytes:
        template = self.compiled(doc.template)
        images = Images()
        context = self._context(doc, images)
        return template.render({"doc": context}, _block_widths(doc), core_properties(metadata, record_date),
                               images, record_date, _block_rows(doc))


def _block_widths(doc: Document) -> list[tuple[float, ...]]:
    widths: list[tuple[float, ...]] = []
    for section in doc.sections:
        for block in section.blocks:
            if isinstance(block, Fields):
                widths.append((0.28, 0.72))
            elif isinstance(block, Table):
                widths.append(block.widths)
    return widths


def _block_rows(doc: Document) -> list[tuple[tuple[bool, bool], ...]]:
    """The rules of each composed table's rows as the PDF lays them out (:func:`.table_widths.row_rules`)."""
    rows: list[tuple[tuple[bool, bool], ...]] = []
    for section in doc.sections:
        for block in section.blocks:
            if isinstance(block, Fields):
                rows.append(row_rules(block.rows, header=False))
            elif isinstance(block, Table):
                rows.append(row_rules(block.rows, header=True))
    return rows
