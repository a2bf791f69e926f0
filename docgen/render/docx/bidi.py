"""Right-to-left text marked as such in a rendered part, so Word and LibreOffice lay it out as
typed: a body paragraph whose first strong character is Arabic or Hebrew gets ``w:bidi`` (right to
left, so aligned right); a run with Arabic or Hebrew text gets ``w:lang w:bidi`` (its language, for
fonts and spelling), its bold, italic and size for complex scripts too (``w:bCs``, ``w:iCs``,
``w:szCs``: what Arabic and Hebrew are drawn with) and, when it has no left-to-right letter,
``w:rtl``. Headers and footers keep their paragraphs left to right (the template's line with client
text in it, as in the PDF). A paragraph's own alignment (``w:jc``) is kept. Parts with no such
character are returned as they are, unparsed."""
from __future__ import annotations

import re
import unicodedata

from ..visible_text import right_to_left

_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe]")
# the same characters' UTF-8 lead bytes, give or take a neighbour (Armenian): a quick look at the bytes
_RTL_UTF8 = re.compile(rb"[\xd6-\xdf][\x80-\xbf]|\xe0[\xa0-\xa3]|\xef[\xac-\xb7\xb9-\xbb]")
_LEADS = (*(bytes([lead]) for lead in range(0xD6, 0xE0)), b"\xe0", b"\xef")
_HEBREW = re.compile("[\u0590-\u05ff\ufb1d-\ufb4f]")
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
# the children of w:pPr and w:rPr in their schema order (ECMA-376 Part 1, 17.3.1.26 and 17.3.2.28)
_PPR = ("pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd "
        "tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
        "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection "
        "textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange").split()
_RPR = ("rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof "
        "snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText "
        "vertAlign rtl cs em lang eastAsianLayout specVanish oMath").split()


def mark(xml: bytes, paragraphs: bool = True) -> bytes:
    """``xml`` (one WordprocessingML part) with its right-to-left runs marked, and with
    ``paragraphs`` its right-to-left paragraphs (the body's; a header or footer is the template's
    line with client text in it, laid out left to right as in the PDF)."""
    if not any(lead in xml for lead in _LEADS) or _RTL_UTF8.search(xml) is None:  # byte scans first: fast
        return xml
    from lxml import etree  # noqa: PLC0415 - only parts with right-to-left text are parsed

    root = etree.fromstring(xml)
    for paragraph in root.iter(f"{{{W}}}p"):
        runs = [r for r in paragraph.iter(f"{{{W}}}r") if _owner(r) is paragraph]
        text = "".join(t.text or "" for r in runs for t in r.iter(f"{{{W}}}t"))
        if _RTL.search(text) is None:
            continue
        if paragraphs and right_to_left(text):
            props = _child(paragraph, "pPr", 0, ())
            _child(props, "bidi", None, _PPR)
        for run in runs:
            said = "".join(t.text or "" for t in run.iter(f"{{{W}}}t"))
            if _RTL.search(said) is None:
                continue
            props = _child(run, "rPr", 0, ())
            for plain, complex_ in (("b", "bCs"), ("i", "iCs"), ("sz", "szCs")):  # Arabic and Hebrew are drawn
                own = props.find(f"{{{W}}}{plain}")  # with the complex-script properties: the run's own
                if own is not None and props.find(f"{{{W}}}{complex_}") is None:
                    _child(props, complex_, None, _RPR).attrib.update(own.attrib)
            if not any(unicodedata.bidirectional(c) == "L" for c in said):
                _child(props, "rtl", None, _RPR)
            lang = _child(props, "lang", None, _RPR)
            lang.set(f"{{{W}}}bidi", "he-IL" if _HEBREW.search(said) else "ar-SA")
    head = xml[:xml.index(b"?>") + 2] if xml.startswith(b"<?xml") else b""
    return head + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def _owner(run):
    """The paragraph a run is in (its nearest w:p ancestor: not one of a text box's inside it)."""
    node = run.getparent()
    while node is not None and node.tag != f"{{{W}}}p":
        node = node.getparent()
    return node


def _child(parent, name: str, index: int | None, order: tuple[str, ...] | list[str]):
    """``parent``'s child ``w:name``, made where the schema puts it if it has none: at ``index``
    (first, for a properties element), or before the first child that comes after it in ``order``."""
    tag = f"{{{W}}}{name}"
    found = parent.find(tag)
    if found is not None:
        return found
    from lxml import etree  # noqa: PLC0415

    element = etree.Element(tag)
    if index is not None:
        parent.insert(index, element)
        return element
    rank = order.index(name)
    for position, child in enumerate(parent):
        local = etree.QName(child).localname if isinstance(child.tag, str) else ""
        if local in order and order.index(local) > rank:
            parent.insert(position, element)
            return element
    parent.append(element)
    return element
