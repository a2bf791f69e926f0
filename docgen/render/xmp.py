"""XMP metadata packets: a document's properties as its Info dictionary has them, with its PDF/A
and PDF/UA identification. No reportlab here: signing (:mod:`docgen.sign`) rewrites the packet of a
document it signs, and packets (:mod:`docgen.packet`) write their own."""
from __future__ import annotations

import re

from .visible_text import xml_text

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
        return xml_text(info.get(key, ""))

    lang_attr = xml_text(lang, quote=True)
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



def identification(packet: bytes) -> tuple[int | None, str, bool]:
    """The PDF/A part and conformance (None, "" when it claims none) and whether it claims PDF/UA,
    of an XMP packet, in either of the forms RDF allows (element or attribute)."""
    text = packet.decode("utf-8", "replace")

    def value(prefix: str, name: str) -> str:
        found = re.search(rf"<{prefix}:{name}>\s*([^<\s]+)\s*<|{prefix}:{name}=\"([^\"]*)\"", text)
        return (found.group(1) or found.group(2)) if found else ""

    part = value("pdfaid", "part")
    return (int(part) if part.isdigit() else None), value("pdfaid", "conformance"), bool(value("pdfuaid", "part"))
