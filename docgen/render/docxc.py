"""A docxtpl Word template compiled once, rendered many times.

Stock docxtpl re-reads the package and re-parses the template for every document (about 25 plans a
second here). This keeps docxtpl's template language and its own tag clean-up (``patch_xml``), but
does that work once per template: the Jinja templates of the body, headers and footers are compiled
once, the package parts that never change are compressed once, and each document only renders its
Jinja templates, fixes table grids, and writes a zip of fresh and pre-compressed parts.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import io
import marshal
import os
import re
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape as xml_escape

from jinja2 import Environment
from jinja2.compiler import CodeGenerator
from markupsafe import Markup, escape

from ..settings import cache_folder
from .text import display

if TYPE_CHECKING:
    from ..compose.blocks import Chart

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
EMU_PER_MM = 36000


def _q(tag: str) -> str:
    return f"{{{W}}}{tag}"


# --- client text as WordprocessingML run text -------------------------------------------------------
# docxtpl turns "{_{" "}_}" "{_%" "%_}" in its output into "{{" "}}" "{%" "%}": keep client text intact.
_BRACE_GUARD = re.compile(r"(?<=\{)_(?=[{%])|(?<=\})_(?=\})|(?<=%)_(?=\})")
_BREAK = '</w:t><w:br/><w:t xml:space="preserve">'
_TAB = '</w:t><w:tab/><w:t xml:space="preserve">'
_PLAIN = re.compile(r"[\w .,:;()/'\-]*", re.ASCII)  # nothing to escape, guard, break or make visible
_markup = str.__new__  # Markup of a string known to be markup, without Markup.__new__'s checks


def text(value: str) -> Markup:
    """Client text as escaped WordprocessingML run text; line breaks and tabs become ``w:br``/``w:tab``."""
    if _PLAIN.fullmatch(value):
        return _markup(Markup, value.replace("'", "&#39;"))  # what escape() gives
    escaped = _BRACE_GUARD.sub("&#95;", str(escape(display(value))))
    return _markup(Markup, escaped.replace("\n", _BREAK).replace("\t", _TAB))


def _printed(value: object) -> Markup:
    """What a template prints: a plain string becomes run text (:func:`text`); markup made here
    (images, charts) or by the template (macros) stays as it is; anything else is escaped as Jinja
    would print it."""
    if type(value) is str:  # noqa: E721 - Markup is a str too, and must stay as it is
        return text(value)
    if hasattr(value, "__html__"):
        return value  # type: ignore[return-value]
    return escape(value)


class _PrintingGenerator(CodeGenerator):
    """Jinja's code generator with every printed expression passed through the environment's
    ``finalize`` (:func:`_printed`) alone, which escapes whatever is not markup already: the second
    ``escape()`` autoescaping wraps around it is left out, and an ``{% autoescape false %}`` block
    cannot print client text as markup either. (Jinja's own NativeCodeGenerator overrides the same
    two hooks.)"""

    def _output_child_pre(self, node, frame, finalize) -> None:  # type: ignore[no-untyped-def]
        self.write("environment.finalize(")

    def _output_child_post(self, node, frame, finalize) -> None:  # type: ignore[no-untyped-def]
        self.write(")")


def environment() -> Environment:
    """The Jinja environment of every Word template: autoescaping on, and every value a template
    prints escaped on the way out (``finalize``, see :class:`_PrintingGenerator`), so templates see
    the composed Document itself and nothing is converted that is not printed. ``safe``, ``e`` and
    ``escape`` do the same: client text never becomes markup, whatever filter a template uses."""
    env = Environment(autoescape=True, finalize=_printed)
    env.code_generator_class = _PrintingGenerator
    env.filters.update(safe=_printed, e=_printed, escape=_printed)
    return env


# --- a tiny deterministic zip writer that reuses compressed bytes -------------------------------
@dataclass(frozen=True)
class Entry:
    name: bytes
    crc: int
    size: int
    data: bytes  # raw deflate stream

    @classmethod
    def of(cls, name: str, payload: bytes, level: int = 6) -> "Entry":
        packer = zlib.compressobj(level, zlib.DEFLATED, -15)
        data = packer.compress(payload) + packer.flush()
        return cls(name.encode("utf-8"), zlib.crc32(payload), len(payload), data)


def write_zip(entries: list[Entry], day: date) -> bytes:
    """A zip (DOCX) of ``entries`` with fixed dates: the same entries give the same bytes."""
    year = max(day.year, 1980)
    dos_date = ((year - 1980) << 9) | (day.month << 5) | day.day
    out, central, offset = io.BytesIO(), [], 0
    for e in entries:
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x0800, 8, 0, dos_date, e.crc, len(e.data), e.size,
                             len(e.name), 0)
        out.write(header + e.name + e.data)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x0800, 8, 0, dos_date, e.crc,
                                   len(e.data), e.size, len(e.name), 0, 0, 0, 0, 0o600 << 16, offset) + e.name)
        offset += len(header) + len(e.name) + len(e.data)
    directory = b"".join(central)
    out.write(directory)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), offset, 0))
    return out.getvalue()


# --- images and charts ----------------------------------------------------------------------------
_RUN_BREAK = ('</w:t></w:r><w:r>', '</w:r><w:r><w:t xml:space="preserve">')  # a drawing as a run of its own
CHART_SIZE_MM = (140, 55)  # the chart's legend (the severity bands' names) needs the height


@dataclass
class Images:
    """Images and charts placed while rendering one document: relationships and parts to add."""

    items: list[tuple[str, str, bytes]] = field(default_factory=list)  # (rId, media name, bytes)
    charts: list[tuple[str, str, bytes]] = field(default_factory=list)  # (rId, part name, chart XML)

    def chart(self, chart: "Chart") -> Markup:
        """A native Word chart of the composed Chart (:mod:`.docxchart`), as run markup."""
        from .docxchart import chart_drawing, chart_part  # noqa: PLC0415

        n = len(self.charts) + 1
        rid = f"rIdDocgenChart{n}"
        self.charts.append((rid, f"word/charts/docgen-chart{n}.xml", chart_part(chart)))
        return _markup(Markup, _RUN_BREAK[0] + chart_drawing(rid, n, *CHART_SIZE_MM, chart.title) + _RUN_BREAK[1])

    def inline(self, data: bytes, width_mm: float, ext: str = "png") -> Markup:
        from PIL import Image  # noqa: PLC0415

        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
        n = len(self.items) + 1
        rid, name = f"rIdDocgen{n}", f"docgen-image{n}.{ext}"
        self.items.append((rid, name, data))
        cx = int(width_mm * EMU_PER_MM)
        cy = int(cx * h / w) if w else cx
        pid = 9000 + n
        drawing = (
            f'<w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
            f'distT="0" distB="0" distL="0" distR="0"><wp:extent cx="{cx}" cy="{cy}"/>'
            f'<wp:docPr id="{pid}" name="Picture {pid}"/><wp:cNvGraphicFramePr>'
            f'<a:graphicFrameLocks xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" noChangeAspect="1"/>'
            f'</wp:cNvGraphicFramePr><a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
            f'<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
            f'<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:nvPicPr>'
            f'<pic:cNvPr id="{pid}" name="{name}"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill>'
            f'<a:blip xmlns:r="{R}" r:embed="{rid}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
            f'<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
            f'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic>'
            f'</wp:inline></w:drawing>')
        return Markup(_RUN_BREAK[0] + drawing + _RUN_BREAK[1])

    def relationships(self, rels: bytes) -> bytes:
        """The document's relationships with this document's images and charts added."""
        if not (self.items or self.charts):
            return rels
        from .docxchart import CHART_REL  # noqa: PLC0415

        extra = "".join([*(f'<Relationship Id="{rid}" Type="{IMAGE_REL}" Target="media/{name}"/>'
                           for rid, name, _ in self.items),
                         *(f'<Relationship Id="{rid}" Type="{CHART_REL}" Target="{name[len("word/"):]}"/>'
                           for rid, name, _ in self.charts)])
        return rels.replace(b"</Relationships>", extra.encode() + b"</Relationships>")

    def content_types(self, types: bytes) -> bytes:
        """``[Content_Types].xml`` with an override for each chart part."""
        from .docxchart import CHART_TYPE  # noqa: PLC0415

        extra = "".join(f'<Override PartName="/{name}" ContentType="{CHART_TYPE}"/>' for _, name, _ in self.charts)
        return types.replace(b"</Types>", extra.encode() + b"</Types>")


# --- the compiled template -------------------------------------------------------------------------
_RELS = "word/_rels/document.xml.rels"
_BODY = re.compile(rb"<w:body>.*</w:body>|<w:body/>", re.DOTALL)


def _cache_folder() -> Path:
    return cache_folder()


class CompiledTemplate:
    """One Word template, prepared once: docxtpl's clean-up of the body, headers and footers, their
    Jinja code, and the compressed static parts. The preparation is cached on disk (``DOCGEN_CACHE``,
    default ``~/.cache/docgen``) keyed by the template's bytes, this module's code and the versions of
    docgen, docxtpl, Jinja and Python, so a process rendering one record does not import docxtpl or compile again."""

    def __init__(self, path: Path, env: Environment):
        self.path = Path(path)
        data = self.path.read_bytes()
        prepared, codes = self._cached(data, env)
        self.order: list[str] = prepared["order"]
        self.document_head, self.document_tail = prepared["head"], prepared["tail"]
        self.text_width: int = prepared["text_width"]
        self.rels: bytes = prepared["rels"]
        self.content_types: bytes = prepared["types"]
        self.static = {name: Entry(*fields) for name, fields in prepared["static"].items()}
        self.widths_in_template: bool = prepared.get("widths_in_template", False)
        make = env.template_class.from_code
        self.body = make(env, codes["word/document.xml"], env.make_globals(None), None)
        self.others = {name: make(env, codes[name], env.make_globals(None), None) for name in prepared["others"]}

    @staticmethod
    def _key(data: bytes) -> str:
        from .. import __version__  # noqa: PLC0415

        versions = "|".join([__version__, importlib.metadata.version("docxtpl"), importlib.metadata.version("jinja2"),
                             sys.version])
        this = Path(__file__).read_bytes()  # this preparation code: a change to it is a new cache entry
        return hashlib.sha256(versions.encode() + b"\0" + this + b"\0" + data).hexdigest()[:32]

    def _cached(self, data: bytes, env: Environment) -> tuple[dict, dict]:
        path = _cache_folder() / f"template-{self._key(data)}.marshal"
        try:
            prepared, codes = marshal.loads(path.read_bytes())
            if isinstance(prepared, dict) and isinstance(codes, dict):
                return prepared, codes
        except (OSError, ValueError, EOFError, TypeError):
            pass  # missing or unreadable: prepare again
        prepared, sources = _prepare(self.path, data)
        codes = {name: env.compile(source, name) for name, source in sources.items()}
        try:
            from ..write import write_atomic  # noqa: PLC0415

            write_atomic(path, marshal.dumps((prepared, codes)))
        except OSError:
            pass  # a read-only home: prepare in every process
        return prepared, codes

    @staticmethod
    def _finish(xml: str) -> str:
        """docxtpl's last step: its escaped braces become braces (client text's were guarded)."""
        if "_" not in xml:
            return xml
        return xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")

    def render(self, context: dict, widths: list[tuple[float, ...]], core_xml: bytes, images: Images,
               day: date) -> bytes:
        if self.widths_in_template:
            body = self._finish(self.body.render(context, docgen_table=TableWidths(widths, self.text_width)))
            body = body.encode("utf-8")
        else:
            body = fix_tables(self._finish(self.body.render(context)), widths, self.text_width)
        fresh: dict[str, bytes] = {
            "word/document.xml": self.document_head + body + self.document_tail,
            "docProps/core.xml": core_xml,
        }
        for name, template in self.others.items():
            fresh[name] = self._finish(template.render(context)).encode("utf-8")  # type: ignore[attr-defined]
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
        self.current = None if fractions is None else [Markup(int(self._text_width * f)) for f in fractions]
        return _EMPTY

    def grid(self) -> Markup:
        return Markup("".join(f'<w:gridCol w:w="{w}"/>' for w in self.current or ()))

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


def _prepare(path: Path, data: bytes) -> tuple[dict, dict[str, str]]:
    """docxtpl's own work on a template, done once: the cleaned-up Jinja sources of the body, headers
    and footers, the page's text width, and the static parts compressed."""
    from docxtpl import DocxTemplate  # noqa: PLC0415

    tpl = DocxTemplate(io.BytesIO(data))
    tpl.init_docx()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        order = [i.filename for i in package.infolist()]
        raw = {name: package.read(name) for name in order}
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
        raise ValueError(f"{path}: no document body")
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
                for cell, w in zip(row.iter(_q("tc")), twips):
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


def core_properties(metadata: dict[str, str], day: date) -> bytes:
    """docProps/core.xml with the document's metadata and the record's date."""
    stamp = f"{day.isoformat()}T00:00:00Z"

    def el(tag: str, key: str) -> str:
        return f"<{tag}>{xml_escape(metadata.get(key, ''))}</{tag}>"

    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'{el("dc:title", "title")}{el("dc:subject", "subject")}{el("dc:creator", "author")}'
        f'{el("cp:keywords", "keywords")}{el("cp:category", "category")}'
        f'<cp:lastModifiedBy>{xml_escape(metadata.get("creator", "docgen"))}</cp:lastModifiedBy>'
        '<cp:revision>1</cp:revision>'
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        '</cp:coreProperties>'
    ).encode("utf-8")
