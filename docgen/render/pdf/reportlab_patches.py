"""Where docgen reaches into reportlab's PDF writer, which has no setting for any of these: the zlib
level of its deflated streams (:func:`deflate_level`), the file syntax PDF/A requires
(:func:`archival_syntax`), a PDF object whose bytes were formatted once (:class:`_Formatted`: the
structure elements of :mod:`.tagging`, the font objects of :mod:`.fonts`) and the file written with
them (:func:`_format_document`). :data:`FAST_PATHS` turns docgen's shortcuts off (for the test that
they write reportlab's very bytes)."""
from __future__ import annotations

import re
import zlib
from contextlib import contextmanager
from functools import lru_cache
from itertools import accumulate

from reportlab import rl_config
from reportlab.pdfbase import pdfdoc, ttfonts

from . import object_bytes

#: Off in the tests that check that docgen's fast paths (a plain line of text, the font objects
#: formatted once) write the very bytes of reportlab's generic ones.
FAST_PATHS = True


class _Formatted(pdfdoc.PDFObject):
    """A PDF object formatted once: its bytes as they are."""

    def __init__(self, data: bytes):
        self.data = data

    def format(self, document) -> bytes:
        return self.data


class _Run(pdfdoc.PDFObject):
    """Objects numbered one after the other, each formatted once into the bytes the file holds for
    it (``n 0 obj ... endobj``): written by :func:`_format_document` as they are, one
    cross-reference entry each, with no reportlab object, name or step apiece (the hundreds of
    structure elements of a tagged PDF). Only in a file :func:`direct` says is written so."""

    def __init__(self, count: int):
        self.count = count
        self.chunks: list[bytes] = []

    def format(self, document) -> bytes:
        raise TypeError("a run of objects is written by docgen's file writer only")


def direct(doc) -> bool:
    """Whether ``doc``'s file is written by :func:`_format_document`'s own steps (fast paths on, not
    encrypted or signed by reportlab, no per-object comments): then it may hold a :class:`_Run`."""
    return FAST_PATHS and pdfdoc.PDFDocument.format is _format_document and \
        type(doc.encrypt) is pdfdoc.NoEncryption and not getattr(doc, "_digiSigs", None) and \
        not (not rl_config.invariant and rl_config.pdfComments)


def reserve(doc, count: int) -> tuple[int, _Run]:
    """The next ``count`` object numbers of ``doc``, for a :class:`_Run` whose chunks are filled in
    later (the first number, and the run)."""
    run = _Run(count)
    first = register(doc, [run])
    doc.objectcounter = first + count - 1
    return first, run


def register(doc, objects: list) -> int:
    """Register new, unnamed ``objects`` with reportlab's document as ``doc.Reference`` would, one
    after the other; the first one's object number (the others follow it). For the hundreds of
    structure elements of a tagged PDF, whose references are formatted before the file is."""
    return register_numbered(doc, objects, doc.objectcounter + 1)


def register_numbered(doc, objects: list, first: int) -> int:
    """:func:`register` from the object number ``first`` (numbers reserved before, see :func:`reserve`)."""
    numbers, by_number, by_name = doc.idToObjectNumberAndVersion, doc.numberToId, doc.idToObject
    for number, obj in enumerate(objects, first):
        name = f"R{number}"
        obj.__InternalName__ = name
        numbers[name] = (number, 0)
        by_number[number] = name
        by_name[name] = obj
    doc.objectcounter = max(doc.objectcounter, first + len(objects) - 1)
    return first


#: How an embedded font file (TrueType or OpenType) begins.
_FONT_FILE_STARTS = (b"\x00\x01\x00\x00", b"true", b"OTTO")


class _Zlib:
    """zlib with another default compression level (everything else as zlib). Font files, met again
    in document after document (an embedded font subset, see :func:`.fonts._remember_subsets`), are
    compressed once; nothing else is kept (a page's contents hold client text, and never recur)."""

    def __init__(self, level: int):
        self.level = level

    def compress(self, data, level: int | None = None):
        level = self.level if level is None else level
        if len(data) < 8192 or bytes(data[:4]) not in _FONT_FILE_STARTS:
            return zlib.compress(data, level)
        key = (bytes(data), level)
        found = _DEFLATED.get(key)
        if found is None:
            found = _DEFLATED[key] = zlib.compress(data, level)
            while len(_DEFLATED) > 32:
                _DEFLATED.pop(next(iter(_DEFLATED)))
        return found

    def __getattr__(self, name: str):
        return getattr(zlib, name)


_DEFLATED: dict[tuple[bytes, int], bytes] = {}  # oldest first


@contextmanager
def deflate_level(level: int):
    """Streams compressed at ``level`` while the block runs. reportlab deflates page contents and
    embedded font files with zlib's default level (6) and has no setting for it. Since the font files
    are compressed once per process (:class:`_Zlib`, :meth:`.fonts._Font._formatted_once`), only page
    contents and small objects are compressed per document: level 1 saves about 3% of a PDF's time
    for about 3% more bytes (it saved a third when every font was compressed again). Output stays
    deterministic and valid; a reportlab document saved in another thread meanwhile is merely
    compressed at this level too."""
    original = pdfdoc.zlib
    pdfdoc.zlib = _Zlib(level)
    try:
        yield
    finally:
        pdfdoc.zlib = original


_FORMAT_STREAM = pdfdoc.PDFStream.format
_FORMAT_INDIRECT = pdfdoc.PDFIndirectObject.format
_TO_UNICODE = ttfonts.makeToUnicodeCMap
_NULL = re.compile(r"(?m)^<[0-9A-F]{2}> <0000>\n")
_COUNT = re.compile(r"\n\d+ beginbfchar")


def _format_stream_eol(self, document) -> bytes:
    out = _FORMAT_STREAM(self, document)
    return out[:-10] + b"\r\nendstream\n" if out.endswith(b"endstream\n") else out


def _format_indirect(self, document) -> bytes:
    content = self.content
    if type(content) is _Formatted and type(document.encrypt) is pdfdoc.NoEncryption:
        return b"%d 0 obj\n%s\nendobj\n" % (document.idToObjectNumberAndVersion[self.name][0], content.data)
    return _FORMAT_INDIRECT(self, document)


_FORMAT_DOCUMENT = pdfdoc.PDFDocument.format


def _format_document(self) -> bytes:
    """reportlab's ``PDFDocument.format`` (the file: every object in number order, the
    cross-reference table, the trailer), writing an object formatted once (:class:`_Formatted`: the
    hundreds of structure elements, the font objects) and the cross-reference table without
    reportlab's generic steps per object. The same bytes; reportlab's own for an encrypted or signed
    document, or with its per-object comments."""
    if not direct(self):
        return _FORMAT_DOCUMENT(self)
    cat, info = self.Catalog, self.info
    self.Reference(cat)
    self.Reference(info)
    numbers, objects, offsets = self.numberToId, self.idToObject, self.idToOffset
    self.__accum__ = out = pdfdoc.PDFFile(self._pdfVersion)
    write, extend, indirect = out.strings.append, out.strings.extend, pdfdoc.PDFIndirectObject
    at = out.offset
    plain = object_bytes.claimed(self)  # the renderer's document: its plain objects straight to bytes
    ids, xref = [], [b"0000000000 65535 f "]
    counter, runs = 0, 0
    while True:  # new objects may be registered while the ones before are formatted
        counter += 1
        name = numbers.get(counter)
        if name is None:
            break
        obj = objects[name]
        offsets[name] = at
        ids.append((counter, name))
        if type(obj) is _Run:
            chunks = obj.chunks
            if len(chunks) != obj.count:
                raise ValueError(f"a run of {obj.count} objects holds {len(chunks)}")
            starts = list(accumulate(map(len, chunks), initial=at))  # each chunk's offset, then the end's
            xref.extend([b"%010d 00000 n " % start for start in starts[:-1]])
            at = starts[-1]
            extend(chunks)
            counter += len(chunks) - 1
            runs += len(chunks) - 1
            continue
        if type(obj) is _Formatted:
            data = b"%d 0 obj\n%s\nendobj\n" % (counter, obj.data)
        else:
            data = (plain and object_bytes.indirect(counter, obj, self)) or indirect(name, obj).format(self)
        xref.append(b"%010d 00000 n " % at)
        write(data)
        at += len(data)
    out.offset = at
    del self.__accum__
    count = len(numbers) + runs
    number_of = self.idToObjectNumberAndVersion
    if counter - 1 != count or any(number_of[n] != (c, 0) for c, n in ids):
        raise ValueError(f"counter {counter} doesn't match number to id dictionary {count}")
    start = out.add(b"xref\n0 %d\n%s\n" % (count + 1, b"\n".join(xref)))
    if plain:  # what PDFTrailer writes: its keys sorted, one a line
        out.add(b"trailer\n<<\n/ID %s\n/Info %d 0 R\n/Root %d 0 R\n/Size %d\n>>\nstartxref\n%d\n%%%%EOF\n" % (
            self.ID(), number_of[self.Reference(info).name][0], number_of[self.Reference(cat).name][0], count + 1,
            start))
        return out.format(self)
    trailer = pdfdoc.PDFTrailer(startxref=start, Size=count + 1, Root=self.Reference(cat), Info=self.Reference(info),
                                Encrypt=None, ID=self.ID())
    out.add(trailer.format(self))
    return out.format(self)


_FORMAT_OUTLINE_ENTRY = pdfdoc.OutlineEntryObject.format
_OUTLINE_KEYS = ("Count", "Dest", "First", "Last", "Next", "Parent", "Prev", "Title")  # as reportlab sorts them
_TITLES: dict[str, bytes] = {}


def outline_title(title: str, document) -> bytes:
    """A bookmark's title as ``PDFString`` formats it in an unencrypted document, once per process
    (section titles recur)."""
    value = _TITLES.get(title)
    if value is None:
        if len(_TITLES) >= 1024:
            _TITLES.clear()
        value = _TITLES[title] = pdfdoc.PDFString(title).format(document)
    return value


def _format_outline_entry(self, document) -> bytes:
    """reportlab's ``OutlineEntryObject.format`` (a bookmark: its title, destination and neighbours)
    written straight to bytes: the same dictionary, keys in the same order, references and a
    destination showing a whole page as reportlab writes them, a title's string formatted once per
    process. reportlab's own steps for an
    encrypted document, multi-line dictionaries, per-object comments or anything unusual in it."""
    title = self.Title
    if not FAST_PATHS or type(document.encrypt) is not pdfdoc.NoEncryption or rl_config.pdfMultiLine or \
            (not rl_config.invariant and rl_config.pdfComments) or type(title) is not str or \
            self.Parent is None or self.Dest is None:
        return _FORMAT_OUTLINE_ENTRY(self, document)
    numbers, reference, generic = document.idToObjectNumberAndVersion, pdfdoc.PDFObjectReference, pdfdoc.format
    items = []
    for key in _OUTLINE_KEYS:
        if key == "Title":
            value = outline_title(title, document)
        else:
            found = getattr(self, key)
            if found is None:
                continue
            if type(found) is reference:
                value = b"%d %d R" % numbers[found.name]
            elif type(found) is pdfdoc.Destination and type(found.fmt) is pdfdoc.PDFDestinationFit and \
                    type(found.page) is reference:  # a whole page: what Destination.format writes for it
                value = b"[ %d %d R /Fit ]" % numbers[found.page.name]
            else:
                value = generic(found, document)
        items.append(b"/%s %s" % (key.encode(), value))
    for at in reversed(range(6, len(items), 6)):  # as reportlab breaks a dictionary's line
        items.insert(at, b"\n ")
    return b"<<\n" + b" ".join(items) + b"\n>>"


_PDF_NAME = pdfdoc.PDFName
_NAMES: dict[str, str] = {}


def _pdf_name(data, lo: str = "!", hi: str = "~") -> str:
    """reportlab's ``PDFName`` (a name's escaping, character by character, for every key of every
    dictionary written), made once per name: a plan's file writes a few hundred, of a few dozen."""
    if not FAST_PATHS or type(data) is not str or lo != "!" or hi != "~":
        return _PDF_NAME(data, lo, hi)
    found = _NAMES.get(data)
    if found is None:
        if len(_NAMES) >= 4096:
            _NAMES.clear()
        found = _NAMES[data] = _PDF_NAME(data)
    return found


def _to_unicode_cmap(fontname: str, subset) -> str:
    return _to_unicode_once(fontname, tuple(subset)) if FAST_PATHS else _to_unicode_made(fontname, subset)


@lru_cache(maxsize=256)
def _to_unicode_once(fontname: str, subset: tuple[int, ...]) -> str:
    """A subset's CMap made once per process (a pure function of the subset and its name)."""
    return _to_unicode_made(fontname, list(subset))


def _to_unicode_made(fontname: str, subset) -> str:
    cmap = _TO_UNICODE(fontname, subset)
    kept = _NULL.sub("", cmap)
    if kept == cmap:
        return cmap
    count = kept.count("\n<", kept.index("beginbfchar"), kept.index("endbfchar"))
    return _COUNT.sub(f"\n{count} beginbfchar", kept, count=1)


def archival_syntax() -> None:
    """What PDF/A asks of the file's syntax that reportlab does not do, for the rest of the process
    (each fix suits any PDF reportlab writes; a context manager, as :func:`deflate_level` is, would
    let one thread's render end them while another thread's PDF is being saved):

    * every stream's data followed by an end of line before ``endstream``: reportlab writes
      ``...data endstream`` and PDF/A (ISO 19005-2, 6.1.7.1) wants ``...data EOL endstream``. /Length
      stays the data's (the EOL is not part of it). The EOL is CR LF: data that ends in a CR
      (deflated data may) followed by a lone LF would read as ending one byte early;
    * no ToUnicode mapping to U+0000: reportlab maps the codes of a font subset that hold no
      character (code 0, the .notdef glyph, and the control codes below the ASCII it keeps in place)
      to U+0000, which PDF/A (6.2.11.7.2) and PDF/UA forbid. Those codes are never drawn: their
      mappings are left out;
    * an object formatted once (:class:`_Formatted`: the hundreds of structure elements of a tagged
      PDF) is written as it is, without reportlab's per-object steps (a third of their cost), in an
      unencrypted document (docgen never encrypts with reportlab); and a bookmark (an outline
      entry) straight to bytes (:func:`_format_outline_entry`)."""
    pdfdoc.PDFStream.format = _format_stream_eol
    pdfdoc.PDFIndirectObject.format = _format_indirect
    pdfdoc.PDFDocument.format = _format_document
    pdfdoc.PDFName = _pdf_name
    pdfdoc.OutlineEntryObject.format = _format_outline_entry
    ttfonts.makeToUnicodeCMap = _to_unicode_cmap
