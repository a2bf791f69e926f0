"""A docxtpl Word template compiled once, rendered many times.

Stock docxtpl re-reads the package and re-parses the template for every document (about 25 plans a
second here). This keeps docxtpl's template language and its own tag clean-up (``patch_xml``), but
does that work once per template: the Jinja templates of the body, headers and footers are compiled
once, the package parts that never change are compressed once, and each document only renders its
Jinja templates, fixes table grids, and writes a zip of fresh and pre-compressed parts. The
preparation is cached on disk, keyed by the code of every module that shapes it (:data:`PREPARED_BY`).
The cache holds compiled code (compiling on load would cost 40-90 ms a template a process), so an entry
is used only when its HMAC (per-user key) checks out and it has the preparation's shape
(:mod:`docgen.cache`, :func:`_checked`); anything else is prepared again.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import io
import marshal
import re
import sys
from datetime import date
from pathlib import Path
from types import CodeType
from typing import cast

from jinja2 import Environment
from jinja2.exceptions import SecurityError

from ... import cache
from ...errors import TemplateError
from . import bidi, escaping, limits, package, table_widths, zip_writer
from .images import Images
from .table_widths import TableWidths, _widths_in_template, fix_tables
from .zip_writer import Entry, write_zip

_RELS = "word/_rels/document.xml.rels"
#: What :func:`_prepare` gives, field by field: an entry read from the cache must have this shape.
_PREPARED = {"order": list, "head": bytes, "tail": bytes, "text_width": int, "rels": bytes, "static": dict,
             "types": bytes, "others": list, "widths_in_template": bool}
_ENTRY_FIELDS = (bytes, int, int, bytes)  # zip_writer.Entry
_BODY = re.compile(rb"<w:body>.*</w:body>|<w:body/>", re.DOTALL)
_SAFE_NAME = re.compile(r"[^\w./-]")  # a part's name as Jinja's template name (it goes into generated code)

#: The modules whose code shapes a prepared (and cached) template: the Jinja environment and its code
#: generator, the archive's limits and checks, the table-widths rewrite, the zip entries of the static
#: parts, and this preparation.
#: Their source is part of the cache key: a change to any of them is a new cache entry.
PREPARED_BY = (escaping, limits, package, table_widths, zip_writer, sys.modules[__name__])


class CompiledTemplate:
    """One Word template, prepared once: docxtpl's clean-up of the body, headers and footers, their
    Jinja code, and the compressed static parts. The preparation is cached on disk (``DOCGEN_CACHE``,
    default ``~/.cache/docgen``; sealed entries, :mod:`docgen.cache`) keyed by the template's bytes, the
    code of the modules that prepare it (:data:`PREPARED_BY`) and the versions of docgen, docxtpl, Jinja
    and Python, so a process rendering one record does not import docxtpl or compile again."""

    def __init__(self, path: Path, env: Environment):
        self.path = Path(path)
        data = package.read(self.path)
        package.check_directory(self.path.name, data)  # refused at once, even when prepared before
        cache.cached(self._entry_name(data), lambda: self._use(env, *self._prepared(data, env)), marshal.dumps,
                     lambda payload: self._use(env, *_checked(marshal.loads(payload))))  # noqa: S302 - sealed

    def _use(self, env: Environment, prepared: dict, codes: dict[str, CodeType]) -> tuple[dict, dict[str, CodeType]]:
        """Take a preparation (fresh, or from the cache: then anything raised here means it is prepared
        again) and return it as it is cached."""
        self.order: list[str] = prepared["order"]
        self.document_head, self.document_tail = prepared["head"], prepared["tail"]
        self.text_width: int = prepared["text_width"]
        self.rels: bytes = prepared["rels"]
        self.content_types: bytes = prepared["types"]
        self.static = {name: Entry(*fields) for name, fields in prepared["static"].items()}
        self.widths_in_template: bool = prepared["widths_in_template"]
        make = env.template_class.from_code
        self.body = make(env, codes["word/document.xml"], env.make_globals(None), None)
        self.others = {name: make(env, codes[name], env.make_globals(None), None) for name in prepared["others"]}
        return prepared, codes

    @staticmethod
    def _key(data: bytes) -> str:
        from ... import __version__  # noqa: PLC0415

        versions = "|".join([__version__, importlib.metadata.version("docxtpl"), importlib.metadata.version("jinja2"),
                             sys.version])
        # the preparing modules' code (modules of this package: each has its file): a change is a new entry
        code = b"\0".join(Path(cast(str, module.__file__)).read_bytes() for module in PREPARED_BY)
        return hashlib.sha256(versions.encode() + b"\0" + code + b"\0" + data).hexdigest()[:32]

    @classmethod
    def _entry_name(cls, data: bytes) -> str:
        """The template's entry in the cache (:mod:`docgen.cache`)."""
        return f"template-{cls._key(data)}.cache"

    def _prepared(self, data: bytes, env: Environment) -> tuple[dict, dict[str, CodeType]]:
        """The preparation (:func:`_prepare`) and the Jinja code of the body, headers and footers. A
        template docxtpl or Jinja cannot read is a :class:`~docgen.errors.TemplateError` naming the file
        and the error's type (their messages may quote the template)."""
        try:
            prepared, sources = _prepare(self.path, data)
            return prepared, {name: env.compile(source, _SAFE_NAME.sub("_", name)) for name, source in sources.items()}
        except TemplateError:
            raise
        except SecurityError as exc:  # refused as it compiles (a recursive loop)
            raise TemplateError(f"unsafe template {self.path.name}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - python-docx, docxtpl, lxml and Jinja raise many kinds
            raise TemplateError(f"template {self.path.name} cannot be prepared: {type(exc).__name__}") from None

    @staticmethod
    def _finish(xml: str) -> str:
        """docxtpl's last step: its escaped braces become braces (client text's were guarded)."""
        if "_" not in xml:
            return xml
        return xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")

    def render(self, context: dict, widths: list[tuple[float, ...]], core_xml: bytes, images: Images,
               day: date, rows: list[tuple[tuple[bool, bool], ...]] | None = None) -> bytes:
        """The document's DOCX bytes. A template that reaches for what the sandbox forbids (Python
        internals, changing what it is given: :class:`.escaping.Sandbox`) raises
        :class:`~docgen.errors.TemplateError` naming the template file."""
        try:
            return self._render(context, widths, core_xml, images, day, rows)
        except SecurityError as exc:
            raise TemplateError(f"unsafe template {self.path.name}: {exc}") from None

    def _render(self, context: dict, widths: list[tuple[float, ...]], core_xml: bytes, images: Images,
                day: date, rows: list[tuple[tuple[bool, bool], ...]] | None) -> bytes:
        if self.widths_in_template:
            asked = TableWidths(widths, self.text_width, rows)
            body = self._finish(escaping.render(self.body, {**context, "docgen_table": asked})).encode("utf-8")
        else:
            body = fix_tables(self._finish(escaping.render(self.body, context)), widths, self.text_width, rows)
        fresh: dict[str, bytes] = {
            "word/document.xml": bidi.mark(self.document_head + body + self.document_tail),
            "docProps/core.xml": core_xml,
        }
        for name, template in self.others.items():
            fresh[name] = bidi.mark(self._finish(escaping.render(template, context)).encode("utf-8"), paragraphs=False)
        if images.items or images.charts:
            fresh[_RELS] = images.relationships(self.rels)
        if images.charts:
            fresh["[Content_Types].xml"] = images.content_types(self.content_types)
        # parts made for this document: deflated fast (level 1; a few percent larger than level 6,
        # the static parts were compressed at level 6 once)
        entries = [Entry.of(name, fresh[name], level=1) if name in fresh else self.static[name]
                   for name in self.order if name in self.static or name in fresh]
        entries += [Entry.of(f"word/media/{name}", data, level=1) for _, name, data in images.items]
        entries += [Entry.of(name, data, level=1) for _, name, data in images.charts]
        return write_zip(entries, day)


def _checked(value: object) -> tuple[dict, dict[str, CodeType]]:
    """A cache entry's ``(prepared, codes)`` when it has the shape :meth:`CompiledTemplate._prepared`
    gives, field by field; raises ValueError otherwise (the entry is then prepared again)."""
    if not (type(value) is tuple and len(value) == 2):
        raise ValueError("not a prepared template")
    prepared, codes = value
    if not (type(prepared) is dict and prepared.keys() == _PREPARED.keys()
            and all(type(prepared[field]) is kind for field, kind in _PREPARED.items())
            and all(type(name) is str for name in prepared["order"] + prepared["others"])
            and all(type(name) is str and type(fields) is tuple and tuple(map(type, fields)) == _ENTRY_FIELDS
                    for name, fields in prepared["static"].items())
            and type(codes) is dict and codes.keys() == {"word/document.xml", *prepared["others"]}
            and all(type(code) is CodeType for code in codes.values())):
        raise ValueError("not a prepared template")
    return prepared, codes


def _prepare(path: Path, data: bytes) -> tuple[dict, dict[str, str]]:
    """docxtpl's own work on a template, done once: the cleaned-up Jinja sources of the body, headers
    and footers, the page's text width, and the static parts compressed."""
    from docxtpl import DocxTemplate  # noqa: PLC0415

    checked = package.parts(path.name, data)  # within limits, or refused (see .package)
    order = [name for name, _ in checked]
    raw = dict(checked)
    if "word/document.xml" not in raw or "[Content_Types].xml" not in raw:
        raise package.refused(path.name, "not a Word document (no word/document.xml or [Content_Types].xml)")
    tpl = DocxTemplate(io.BytesIO(package.repacked(checked)))  # docxtpl never reads the archive as given
    tpl.init_docx()
    sources: dict[str, str] = {}
    # the body: docxtpl's own clean-up of Word's split tags, then the composed tables' widths asked
    # for by the template itself when its tables allow (see TableWidths)
    # (docxtpl also puts each paragraph on a line of its own before rendering and joins them after:
    # nothing a template can say depends on that line break, so neither is done here)
    body = tpl.patch_xml(tpl.get_xml())
    injected = _widths_in_template(body)
    sources["word/document.xml"] = injected if injected is not None else body
    document = raw["word/document.xml"]
    match = _BODY.search(document)
    if match is None:
        raise package.refused(path.name, "word/document.xml has no document body")
    others = []
    for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
        for _, part in tpl.get_headers_footers(uri):
            name = str(part.partname).lstrip("/")
            sources[name] = tpl.patch_xml(tpl.get_part_xml(part))
            others.append(name)
    # page text width for table columns, in twips
    section = tpl.docx.sections[0]
    text_width = int((section.page_width - section.left_margin - section.right_margin) / 635)
    # content types: make sure chart and signature images are declared; everything else is static
    types = raw["[Content_Types].xml"]
    for ext, mime in ((b"png", b"image/png"), (b"jpeg", b"image/jpeg")):
        if b'Extension="' + ext + b'"' not in types:
            types = types.replace(b"</Types>", b'<Default Extension="' + ext + b'" ContentType="' + mime
                                  + b'"/></Types>')
    raw["[Content_Types].xml"] = types
    dynamic = {"word/document.xml", "docProps/core.xml", *others}  # and the relationships when a document adds to them
    static = {name: tuple(vars(Entry.of(name, part)).values()) for name, part in raw.items() if name not in dynamic}
    prepared = {"order": order, "head": document[:match.start()], "tail": document[match.end():],
                "text_width": text_width, "rels": raw.get(_RELS, b""), "static": static,
                "types": types,
                "others": others, "widths_in_template": injected is not None}
    return prepared, sources

