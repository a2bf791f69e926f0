"""A DOCX's core properties (``docProps/core.xml``): the document's metadata and the record's date."""
from __future__ import annotations

from datetime import date

from ..visible_text import xml_text


def core_properties(metadata: dict[str, str], day: date) -> bytes:
    """docProps/core.xml with the document's metadata and the record's date."""
    stamp = f"{day.isoformat()}T00:00:00Z"

    def el(tag: str, key: str) -> str:
        return f"<{tag}>{xml_text(metadata.get(key, ''))}</{tag}>"

    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'{el("dc:title", "title")}{el("dc:subject", "subject")}{el("dc:creator", "author")}'
        f'{el("cp:keywords", "keywords")}{el("cp:category", "category")}'
        f'<cp:lastModifiedBy>{xml_text(metadata.get("creator", "docgen"))}</cp:lastModifiedBy>'
        '<cp:revision>1</cp:revision>'
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        '</cp:coreProperties>'
    ).encode()
