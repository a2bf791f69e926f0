"""PDF/A-2 (ISO 19005-2) and the PDF/UA-1 identification: what an archival, tagged PDF carries
beyond its pages, written with reportlab's PDF objects.

* XMP metadata (:func:`xmp`): the document's properties as the Info dictionary has them (dc:title,
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
from xml.sax.saxutils import escape

from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream, PDFString, PDFZCompress

#: PDF/A-2 level A: the tagged structure and Unicode text of level U, and level B's appearance.
PART, CONFORMANCE = 2, "A"

_EXTENSION = """\
  <rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
      xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
   <pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
    <pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
    <pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
    <pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
    <pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
     <pdfaProperty:name>part</pdfaProperty:name>
     <pdfaProperty:valueType>Integer</pdfaProperty:valueType>
     <pdfaProperty:category>internal</pdfaProperty:category>
     <pdfaProperty:description>Indicates, which part of ISO 14289 standard is followed</pdfaProperty:description>
    </rdf:li></rdf:Seq></pdfaSchema:property>
   </rdf:li></rdf:Bag></pdfaExtension:schemas>
  </rdf:Description>
"""


def xmp_date(pdf_date: str) -> str:
    """``D:YYYYMMDDHHmmSS+HH'mm'`` as XMP writes it (``YYYY-MM-DDTHH:mm:SS+HH:mm``)."""
    d = pdf_date.removeprefix("D:")
    zone = d[14:].replace("'", "")
    zone = "Z" if zone in ("", "Z") else f"{zone[:3]}:{zone[3:5] or '00'}"
    return f"{d[0:4]}-{d[4:6]}-{d[6:8]}T{d[8:10]}:{d[10:12]}:{d[12:14]}{zone}"


def xmp(info: dict[str, str], lang: str, part: int | None = PART, conformance: str = CONFORMANCE,
        ua: bool = True) -> bytes:
    """The XMP packet of a document: ``info`` as the Info dictionary has it (Title, Author, Subject,
    Keywords, Creator, Producer, CreationDate, ModDate); the PDF/A identification unless ``part`` is
    None; the PDF/UA one when ``ua``."""
    def text(key: str) -> str:
        return escape(info.get(key, ""))

    lang_attr = escape(lang, {'"': "&quot;"})
    body = [f'  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
            f'   <dc:format>application/pdf</dc:format>\n'
            f'   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{text("Title")}</rdf:li></rdf:Alt></dc:title>\n']
    if info.get("Author"):
        body.append(f"   <dc:creator><rdf:Seq><rdf:li>{text('Author')}</rdf:li></rdf:Seq></dc:creator>\n")
    if info.get("Subject"):
        body.append('   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
                    f"{text('Subject')}</rdf:li></rdf:Alt></dc:description>\n")
    body.append(f"   <dc:language><rdf:Bag><rdf:li>{lang_attr}</rdf:li></rdf:Bag></dc:language>\n")
    body.append("  </rdf:Description>\n")
    body.append('  <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">\n'
                f"   <pdf:Producer>{text('Producer')}</pdf:Producer>\n")
    if info.get("Keywords"):
        body.append(f"   <pdf:Keywords>{text('Keywords')}</pdf:Keywords>\n")
    body.append("  </rdf:Description>\n")
    body.append('  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">\n'
                f"   <xmp:CreatorTool>{text('Creator')}</xmp:CreatorTool>\n")
    for key, name in (("CreationDate", "CreateDate"), ("ModDate", "ModifyDate")):
        if info.get(key):
            body.append(f"   <xmp:{name}>{xmp_date(info[key])}</xmp:{name}>\n")
    body.append("  </rdf:Description>\n")
    if part is not None:
        body.append('  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">\n'
                    f"   <pdfaid:part>{part}</pdfaid:part>\n"
                    f"   <pdfaid:conformance>{conformance}</pdfaid:conformance>\n"
                    "  </rdf:Description>\n")
    if ua:
        body.append('  <rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">\n'
                    "   <pdfuaid:part>1</pdfuaid:part>\n"
                    "  </rdf:Description>\n")
        if part is not None:
            body.append(_EXTENSION)
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
            ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            + "".join(body) +
            " </rdf:RDF>\n"
            "</x:xmpmeta>\n"
            '<?xpacket end="w"?>').encode("utf-8")


@cache
def srgb_profile() -> bytes:
    """The sRGB ICC profile (v4, LittleCMS's built-in; see ``tools/make_srgb_icc.py``)."""
    return (resources.files("docgen") / "color" / "sRGB.icc").read_bytes()


def output_intent(doc) -> PDFDictionary:
    """The PDF/A output intent: sRGB IEC61966-2.1, its profile embedded."""
    profile = PDFStream(PDFDictionary({"N": 3}), srgb_profile(), filters=[PDFZCompress])
    return PDFDictionary({
        "Type": PDFName("OutputIntent"), "S": PDFName("GTS_PDFA1"),
        "OutputConditionIdentifier": PDFString("sRGB IEC61966-2.1"), "Info": PDFString("sRGB IEC61966-2.1"),
        "RegistryName": PDFString("http://www.color.org"), "DestOutputProfile": doc.Reference(profile)})


def metadata_stream(data: bytes) -> PDFStream:
    """An XMP metadata stream, unfiltered (so that any tool can find and read it)."""
    return PDFStream(PDFDictionary({"Type": PDFName("Metadata"), "Subtype": PDFName("XML")}), data)


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
    every annotation to have one; the page already draws the line to sign on)."""
    width, height = round(rect[2] - rect[0], 2), round(rect[3] - rect[1], 2)
    form = PDFStream(PDFDictionary({"Type": PDFName("XObject"), "Subtype": PDFName("Form"),
                                    "BBox": PDFArray([0, 0, width, height]), "Resources": PDFDictionary({})}),
                     b"")
    return PDFDictionary({"N": canvas._doc.Reference(form)})  # noqa: SLF001
