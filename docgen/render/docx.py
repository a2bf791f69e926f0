"""Render a composed Document to DOCX through a docxtpl Word template.

The template is compiled once (see :mod:`docgen.render.docxc`) and rendered for every document with
autoescaping on. Every value is passed as already-escaped text, so client text is data, never
markup: ``&``, ``<``, ``{{`` and the like come out exactly as typed; line breaks and tabs become
Word breaks and tabs. The zip is written deterministically (fixed entry dates taken from the record).
"""
from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup, escape

from ..compose.blocks import Bullets, Chart, Document, Fields, Para, SignatureLine, Table
from .docxc import CompiledTemplate, Images, core_properties
from .text import display

BLOCK_TYPES = {Para: "para", Fields: "fields", Bullets: "bullets", Table: "table", Chart: "chart",
               SignatureLine: "signature"}
# docxtpl turns "{_{" "}_}" "{_%" "%_}" in its output into "{{" "}}" "{%" "%}": keep client text intact.
_BRACE_GUARD = re.compile(r"(?<=\{)_(?=[{%])|(?<=\})_(?=\})|(?<=%)_(?=\})")
_BREAK = '</w:t><w:br/><w:t xml:space="preserve">'
_TAB = '</w:t><w:tab/><w:t xml:space="preserve">'
SIGNATURE_IMAGE_TYPES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}
_FIELDS: dict[type, tuple[str, ...]] = {}


class TemplateError(ValueError):
    pass


_PLAIN = re.compile(r"[\w .,:;()/'\-]*", re.ASCII)  # nothing to escape, guard, break or make visible


def text(value: str) -> Markup:
    """Client text as escaped WordprocessingML run text; line breaks and tabs become ``w:br``/``w:tab``."""
    if _PLAIN.fullmatch(value):
        return Markup(value.replace("'", "&#39;"))  # what escape() gives
    escaped = _BRACE_GUARD.sub("&#95;", str(escape(display(value))))
    return Markup(escaped.replace("\n", _BREAK).replace("\t", _TAB))


class DocxRenderer:
    """Renders Documents with the Word templates of one folder; each template is compiled once."""

    def __init__(self, templates: Path):
        self.templates = Path(templates)
        self.env = Environment(autoescape=True)
        self._compiled: dict[str, CompiledTemplate] = {}

    def template_path(self, name: str) -> Path:
        path = self.templates / f"{name}.docx"
        if not path.is_file():
            raise TemplateError(f"no Word template {path}")
        return path

    def compiled(self, name: str) -> CompiledTemplate:
        if name not in self._compiled:
            self._compiled[name] = CompiledTemplate(self.template_path(name), self.env)
        return self._compiled[name]

    def _context(self, value: Any, images: Images) -> Any:
        if isinstance(value, str):
            return text(value)
        if isinstance(value, (tuple, list)):
            return [self._context(v, images) for v in value]
        if isinstance(value, Chart):
            from .chart import chart_png  # noqa: PLC0415 - Pillow only when a record has a chart

            return {"type": "chart", "title": text(value.title), "image": images.inline(chart_png(value), 140)}
        if isinstance(value, SignatureLine):
            image = ""
            kind = SIGNATURE_IMAGE_TYPES.get(Path(value.image).suffix.lower()) if value.image else None
            if kind and Path(value.image).is_file():
                image = images.inline(Path(value.image).read_bytes(), 45, "png" if kind == "png" else "jpeg")
            return {"type": "signature", "role": text(value.role), "text": text(value.text), "signed": value.signed,
                    "image": image}
        if is_dataclass(value):
            names = _FIELDS.get(type(value))
            if names is None:
                names = _FIELDS[type(value)] = tuple(f.name for f in fields(value))
            out = {name: self._context(getattr(value, name), images) for name in names}
            if type(value) in BLOCK_TYPES:
                out["type"] = BLOCK_TYPES[type(value)]
            return out
        return value

    def render(self, doc: Document, metadata: dict[str, str], record_date: date) -> bytes:
        template = self.compiled(doc.template)
        images = Images()
        context = self._context(doc, images)
        context["footer"] = text(doc.footer)
        context["agency_line"] = text(" \u00b7 ".join(doc.agency_lines))
        return template.render({"doc": context}, _block_widths(doc), core_properties(metadata, record_date),
                               images, record_date)


def _block_widths(doc: Document) -> list[tuple[float, ...]]:
    widths = []
    for section in doc.sections:
        for block in section.blocks:
            if isinstance(block, Fields):
                widths.append((0.28, 0.72))
            elif isinstance(block, Table):
                widths.append(block.widths)
    return widths
