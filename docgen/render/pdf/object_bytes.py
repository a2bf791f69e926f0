"""A docgen document's plain reportlab objects formatted straight to the bytes reportlab writes for
them: the catalog, the document information, the page tree and every page (with its resources),
the outline's root, plain dictionaries (the fonts' dictionary, the signature widgets, /MarkInfo...),
arrays, and plain streams (page contents, the widgets' appearances, XMP, the sRGB profile).

reportlab formats each through its generic steps: a dictionary's every key and value through
``pdfdoc.format`` (type checks, a name's escaping, the pdfdoc codec for ASCII, a reference's
lookup). Here the same dictionaries are built by reportlab's own rules (the same keys, in the same
order, the same references registered in the same order, so the same object numbers) and written
with a key's bytes made once per process, and a string of printable ASCII (a date, a section
title, most properties) escaped as reportlab escapes it; anything else (other strings, an image, a
subclass with its own format) is left to reportlab. Only for a document the renderer claims
(:func:`claim`) and reportlab_patches writes itself (:func:`.reportlab_patches.direct`): never
encrypted, no per-object comments."""
from __future__ import annotations

from collections import OrderedDict

from reportlab import rl_config
from reportlab.lib.rl_accel import escapePDF
from reportlab.pdfbase import pdfdoc

from .numbers import number

_CLAIMED = "docgen_object_bytes"


def claim(doc) -> None:
    """Have ``doc``'s plain objects formatted by this module (the renderer's documents only)."""
    setattr(doc, _CLAIMED, True)


def claimed(doc) -> bool:
    return doc.__dict__.get(_CLAIMED, False)


_KEYS: dict[str, bytes] = {}  # a dictionary key -> its name's bytes (a few dozen keys)


def _key(name: str) -> bytes:
    """A dictionary key as ``PDFName`` escapes it (printable ASCII), made once per key."""
    found = _KEYS.get(name)
    if found is None:
        if len(_KEYS) >= 1024:
            _KEYS.clear()
        found = _KEYS[name] = pdfdoc.PDFName(name).encode("ascii")
    return found


def _multiline(multiline) -> bool:
    """Whether reportlab writes a dictionary or array one entry a line."""
    return bool(multiline and rl_config.pdfMultiLine) or multiline == "forced"


def value(element, document) -> bytes:
    """``pdfdoc.format(element, document)`` for an element inside another."""
    kind = type(element)
    if kind is pdfdoc.PDFObjectReference:
        found = document.idToObjectNumberAndVersion.get(element.name)
        if found is not None:
            return b"%d %d R" % found
    elif kind is str and element.isascii() and element.isprintable():  # a name or keyword: /Page, true
        return element.encode("ascii")  # printable ASCII is itself in the pdfdoc encoding
    elif kind is int or kind is float:
        return number(element).encode("ascii")
    elif kind is bytes:
        return element
    elif kind is pdfdoc.PDFDictionary and not hasattr(element, "__RefOnly__"):
        return dictionary(element.dict, document, element.multiline)
    elif kind is pdfdoc.PDFArray and not hasattr(element, "__RefOnly__"):
        return array(element.sequence, document, element.multiline)
    elif kind is pdfdoc.PDFResourceDictionary and not hasattr(element, "__RefOnly__"):
        return _resources(element, document)
    elif kind is pdfdoc.PDFString:
        return string(element, document)
    elif kind is pdfdoc.PDFDate and element.dateFormatter is not None:  # what PDFDate.format writes
        return string(pdfdoc.PDFString(element.dateFormatter(*element.date)), document)
    return pdfdoc.format(element, document)


def string(element, document) -> bytes:
    """``PDFString.format``: a string of printable ASCII (the pdfdoc encoding's own bytes) escaped and
    in parentheses; anything else (other characters, raw bytes, other escaping) by reportlab."""
    text = element.s
    if type(text) is str and getattr(element, "enc", "auto") == "auto" and getattr(element, "escape", 1) == 1 and \
            text.isascii() and text.isprintable():
        return b"(" + escapePDF(text.encode("ascii")).encode("ascii") + b")"
    return element.format(document)


def dictionary(entries: dict, document, multiline=True) -> bytes:
    """``PDFDictionary(entries).format(document)``: keys sorted (unless ordered), six to a line."""
    keys = list(entries)
    if not isinstance(entries, OrderedDict):
        keys.sort()
    items = []
    for key in keys:
        name = _key(key) if type(key) is str else pdfdoc.format(pdfdoc.PDFName(key), document)
        items.append(name + b" " + value(entries[key], document))
    return b"<<\n" + _lines(items, multiline, 6) + b"\n>>"


def array(sequence, document, multiline=True) -> bytes:
    """``PDFArray(sequence).format(document)``: ten elements to a line."""
    return b"[ " + _lines([value(element, document) for element in sequence], multiline, 10) + b" ]"


def _lines(items: list[bytes], multiline, per_line: int) -> bytes:
    """The entries of a dictionary or array joined as reportlab joins them: one a line, or
    ``per_line`` to a line."""
    if _multiline(multiline):
        return b"\n ".join(items)
    for at in reversed(range(per_line, len(items), per_line)):
        items.insert(at, b"\n ")
    return b" ".join(items)


def _resources(resources, document) -> bytes:
    """``PDFResourceDictionary.format``: a page's fonts, images, transparencies and procedure sets."""
    entries = {}
    for name in resources.dict_attributes:
        found = getattr(resources, name)
        if isinstance(found, dict):
            if found:
                entries[name] = pdfdoc.PDFDictionary(found)
        else:
            entries[name] = found
    procs = resources.ProcSet
    if isinstance(procs, (tuple, list)):
        if procs:
            entries["ProcSet"] = pdfdoc.PDFArray(procs)
    else:
        entries["ProcSet"] = procs
    return dictionary(entries, document)


def _catalog(obj, document) -> bytes:
    """``PDFCatalog.format`` (the catalog, the page tree, a page): its defaults, the entries set on
    it, and the ones that must be references registered as such, in reportlab's order."""
    obj.check_format(document)
    entries = {}
    for key, default in obj.__Defaults__.items():
        found = getattr(obj, key, default)
        if found is not None:
            entries[key] = found
    for key in obj.__NoDefault__:
        found = getattr(obj, key, None)
        if found is not None:
            entries[key] = found
    for key in obj.__Refs__:
        if key in entries:
            entries[key] = document.Reference(entries[key])
    return dictionary(entries, document)


def _info(info, document) -> bytes:
    """``PDFInfo.format``: the document's properties."""
    date = pdfdoc.PDFDate(ts=document._timeStamp, dateFormatter=info._dateFormatter)  # noqa: SLF001
    return dictionary({
        "Title": pdfdoc.PDFString(info.title), "Author": pdfdoc.PDFString(info.author),
        "ModDate": date, "CreationDate": date, "Producer": pdfdoc.PDFString(info.producer),
        "Creator": pdfdoc.PDFString(info.creator), "Subject": pdfdoc.PDFString(info.subject),
        "Keywords": pdfdoc.PDFString(info.keywords), "Trapped": pdfdoc.PDFName(info.trapped)}, document)


def _outlines(outlines, document) -> bytes:
    """``PDFOutlines.format``: the bookmarks' root."""
    return dictionary({"Type": pdfdoc.PDFName("Outlines"), "Count": outlines.count, "First": outlines.first,
                       "Last": outlines.last}, document)


def _stream(stream, document) -> bytes | None:
    """``PDFStream.format``, with the end of line before ``endstream`` that PDF/A asks for (see
    :func:`.reportlab_patches.archival_syntax`)."""
    content = stream.content
    if content is None:
        return None  # reportlab's own error
    entries = stream.dictionary.dict.copy()
    filters = stream.filters if stream.filters is not None else document.defaultStreamFilters
    if filters is not None and "Filter" not in entries:
        names: list[str] = []
        for found in reversed(list(filters)):
            content = found.encode(content)
            names.insert(0, pdfdoc.PDFName(found.pdfname))
        entries["Filter"] = pdfdoc.PDFArray(names)
    data = content if type(content) is bytes else pdfdoc.format(content, document)
    entries["Length"] = len(content)
    return dictionary(entries, document) + b"\nstream\n" + data + b"\r\nendstream\n"


_WRITERS = {
    pdfdoc.PDFCatalog: _catalog, pdfdoc.PDFPages: _catalog, pdfdoc.PDFPage: _catalog,
    pdfdoc.PDFInfo: _info, pdfdoc.PDFOutlines: _outlines, pdfdoc.PDFStream: _stream,
    pdfdoc.PDFDictionary: lambda obj, document: dictionary(obj.dict, document, obj.multiline),
}


def indirect(number: int, obj, document) -> bytes | None:
    """The bytes of ``obj`` as object ``number`` of the file (``n 0 obj ... endobj``), as
    ``PDFIndirectObject.format`` writes them; None for an object left to reportlab."""
    writer = _WRITERS.get(type(obj))
    if writer is None:
        return None
    body = writer(obj, document)
    if body is None:
        return None
    return b"%d 0 obj\n%s%sendobj\n" % (number, body, b"" if body.endswith(b"\n") else b"\n")
