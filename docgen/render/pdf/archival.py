"""PDF/A-2 (ISO 19005-2) and the PDF/UA-1 identification: what an archival, tagged PDF carries
beyond its pages, written with reportlab's PDF objects.

* XMP metadata (:func:`docgen.render.xmp.xmp`): the document's properties as the Info dictionary has them (dc:title,
  dc:creator, dc:description, pdf:Keywords, pdf:Producer, xmp:CreatorTool, xmp:CreateDate and
  xmp:ModifyDate), ``pdfaid:part``/``pdfaid:conformance`` and ``pdfuaid:part`` (with the PDF/A
  extension schema that declares pdfuaid, which PDF/A does not predefine);
* the output intent: sRGB (``docgen/color/sRGB.icc``, see ``tools/make_srgb_icc.py``), the colour
  space every DeviceRGB colour of the pages is taken in;
* an appearance for every widget (:func:`empty_appearance`, the empty signature fields);
* the end of line before ``endstream``, and no font mapping a code to U+0000
  (:func:`.reportlab_patches.archival_syntax`).

Every font is embedded already (:mod:`.fonts`).
"""
from __future__ import annotations

from functools import cache
from importlib import resources

from reportlab import rl_config
from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream, PDFString, PDFZCompress

from ..xmp import PART, xmp
from . import reportlab_patches
from .reportlab_patches import _Formatted


@cache
def srgb_profile() -> bytes:
    """The sRGB ICC profile (v4, LittleCMS's built-in; see ``tools/make_srgb_icc.py``)."""
    return (resources.files("docgen") / "color" / "sRGB.icc").read_bytes()


class _DeflatedOnce:
    """reportlab's Flate filter (``PDFZCompress``) for a stream every document holds (the sRGB
    profile): its deflated bytes made once per process and zlib level in effect when the file is
    written (a zlib stream of even 588 bytes costs 60 microseconds to start). The same bytes."""

    pdfname = PDFZCompress.pdfname

    def __init__(self) -> None:
        self.known: dict[tuple, bytes] = {}

    def encode(self, data: bytes) -> bytes:
        deflate = pdfdoc.zlib  # as PDFZCompress finds it (see .reportlab_patches.deflate_level)
        key = (data, type(deflate), getattr(deflate, "level", None))
        found = self.known.get(key)
        if found is None:
            if len(self.known) >= 8:
                self.known.clear()
            found = self.known[key] = PDFZCompress.encode(data)
        return found


_PROFILE_FILTER = _DeflatedOnce()


#: The names of the objects every document holds, escaped once (``PDFName`` goes character by character).
_NAMES = {name: PDFName(name) for name in ("OutputIntent", "GTS_PDFA1", "Metadata", "XML")}


def output_intent(doc) -> PDFDictionary:
    """The PDF/A output intent: sRGB IEC61966-2.1, its profile embedded."""
    deflate = _PROFILE_FILTER if reportlab_patches.FAST_PATHS else PDFZCompress
    profile = PDFStream(PDFDictionary({"N": 3}), srgb_profile(), filters=[deflate])
    return PDFDictionary({
        "Type": _NAMES["OutputIntent"], "S": _NAMES["GTS_PDFA1"],
        "OutputConditionIdentifier": PDFString("sRGB IEC61966-2.1"), "Info": PDFString("sRGB IEC61966-2.1"),
        "RegistryName": PDFString("http://www.color.org"), "DestOutputProfile": doc.Reference(profile)})


def metadata_stream(data: bytes) -> PDFStream:
    """An XMP metadata stream, unfiltered (so that any tool can find and read it)."""
    return PDFStream(PDFDictionary({"Type": _NAMES["Metadata"], "Subtype": _NAMES["XML"]}), data)


def archival(canvas, lang: str, part: int | None = PART) -> None:
    """XMP metadata from the canvas's document properties, PDF/A identification unless ``part`` is
    None (then PDF/UA only), and the sRGB output intent: into the catalog of ``canvas``'s document
    (call after the last page, before saving)."""
    doc = canvas._doc  # noqa: SLF001 - reportlab has no API for the catalog's metadata
    info = doc.info
    fixed = info._dateFormatter(None, None)  # noqa: SLF001 - the date the renderer set (the record's)
    values = {"Title": info.title, "Author": info.author, "Subject": info.subject, "Keywords": info.keywords,
              "Creator": info.creator, "Producer": info.producer, "CreationDate": fixed, "ModDate": fixed}
    catalog = doc.Catalog
    catalog.Metadata = metadata_stream(xmp(values, lang, part))
    if part is not None:
        catalog.OutputIntents = PDFArray([output_intent(doc)])
        if "OutputIntents" not in catalog.__NoDefault__:
            catalog.__NoDefault__ = [*catalog.__NoDefault__, "OutputIntents"]


def empty_appearance(canvas, rect: list[float]):
    """The normal appearance of an empty widget of ``rect``: an empty form XObject (PDF/A wants
    every annotation to have one; the page already draws the line to sign on). Its bytes depend
    only on the widget's size and the file syntax: formatted once per process (:func:`_formatted_form`)
    into a new object of each document."""
    doc = canvas._doc  # noqa: SLF001
    width, height = round(rect[2] - rect[0], 2), round(rect[3] - rect[1], 2)
    if reportlab_patches.FAST_PATHS and type(doc.encrypt) is pdfdoc.NoEncryption and doc.defaultStreamFilters is None:
        form: PDFStream | _Formatted = _formatted_form(width, height, doc)
    else:
        form = _empty_form(width, height)
    return PDFDictionary({"N": doc.Reference(form)})


def _empty_form(width: float, height: float) -> PDFStream:
    return PDFStream(PDFDictionary({"Type": PDFName("XObject"), "Subtype": PDFName("Form"),
                                    "BBox": PDFArray([0, 0, width, height]), "Resources": PDFDictionary({})}),
                     b"")


_FORMS: dict[tuple, bytes] = {}  # (BBox, file syntax) -> the form's bytes; a few sizes of signature box


def _formatted_form(width: float, height: float, doc) -> _Formatted:
    """An empty form XObject (which refers to no other object) as the bytes reportlab formats it
    into, made once per size and file syntax."""
    key = (width, height, rl_config.pdfMultiLine, pdfdoc.PDFStream.format, pdfdoc.PDFDictionary.format)
    found = _FORMS.get(key)
    if found is None:
        if len(_FORMS) >= 64:
            _FORMS.clear()
        data = pdfdoc.format(_empty_form(width, height), doc, toplevel=1)
        found = _FORMS[key] = data[:-1] if data.endswith(b"\n") else data  # the object's line break is added
    return _Formatted(found)
