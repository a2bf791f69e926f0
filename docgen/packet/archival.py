"""A packet as a tagged (PDF/UA-1) and archival (PDF/A-3a) PDF of its own.

pypdf copies pages, not the structure tree: :func:`merge_structure` rebuilds it. The packet's
Document holds one Part per bundled document (its /T the document's bookmark title), and each Part
the elements of that document's own tree, in order, with their attributes (/Alt, /Lang, /A...), on
the packet's pages: every page's marked content keeps its MCIDs, its /StructParents becomes its page
index in the packet and the ParentTree is made anew. What is not kept: each document's Form elements
(the packet drops the documents' empty signature fields) and each document's own XMP packet and
PDF/A identification (one file has one: the packet's).

:func:`identify` gives the packet its XMP (dc:title..., PDF/A-3 level A, PDF/UA-1), the sRGB output
intent, /Lang, /DisplayDocTitle and a trailer /ID made from its content; :func:`associate` makes the
JSON attachments associated files (/AF, /AFRelationship /Data, MIME type, /UF), as PDF/A-3 asks of
embedded files (PDF/A-2 allows only PDF/A files as attachments, hence part 3).
"""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from ..render.xmp import xmp

PART, CONFORMANCE = 3, "A"


def _name(value: str):
    from pypdf.generic import NameObject  # noqa: PLC0415

    return NameObject(value)


def merge_structure(writer, parts: list[tuple[Any, int, str]], lang: str = "en-US") -> None:
    """The structure tree of the packet in ``writer`` from ``parts``: (reader of a bundled document,
    index in the packet of its first page, its title)."""
    from pypdf.generic import (  # noqa: PLC0415
        ArrayObject,
        DictionaryObject,
        IndirectObject,
        NullObject,
        NumberObject,
        TextStringObject,
    )

    tree = DictionaryObject({_name("/Type"): _name("/StructTreeRoot")})
    tree_ref = writer._add_object(tree)  # noqa: SLF001 - pypdf's way to add an object is private
    top = DictionaryObject({_name("/Type"): _name("/StructElem"), _name("/S"): _name("/Document"),
                            _name("/P"): tree_ref})
    top_ref = writer._add_object(top)  # noqa: SLF001
    top_kids = ArrayObject()
    nums = ArrayObject()
    for reader, start, title in parts:
        pages = {page.indirect_reference.idnum: writer.pages[start + i].indirect_reference
                 for i, page in enumerate(reader.pages)}
        copied: dict[int, IndirectObject] = {}
        part = DictionaryObject({_name("/Type"): _name("/StructElem"), _name("/S"): _name("/Part"),
                                 _name("/P"): top_ref, _name("/T"): TextStringObject(title)})
        part_ref = writer._add_object(part)  # noqa: SLF001
        top_kids.append(part_ref)

        def copy(ref, parent_ref, pages=pages, copied=copied):
            element = ref.get_object()
            if element.get("/S") == "/Form":  # the documents' signature fields are not in the packet
                return None
            new = DictionaryObject()
            new_ref = writer._add_object(new)  # noqa: SLF001
            copied[ref.idnum] = new_ref
            for key, value in element.items():
                if key not in ("/P", "/K", "/Pg"):
                    new[_name(key)] = value.clone(writer)
            new[_name("/P")] = parent_ref
            if "/Pg" in element:
                new[_name("/Pg")] = pages[element.raw_get("/Pg").idnum]
            kids = element.raw_get("/K") if "/K" in element else ArrayObject()
            out = ArrayObject()
            for kid in (kids if isinstance(kids, ArrayObject) else [kids]):
                if isinstance(kid, IndirectObject):
                    made = copy(kid, new_ref)
                    if made is not None:
                        out.append(made)
                elif isinstance(kid, int):
                    out.append(NumberObject(kid))
                elif kid.get("/Type") == "/MCR":
                    out.append(DictionaryObject({_name("/Type"): _name("/MCR"),
                                                 _name("/MCID"): NumberObject(kid["/MCID"]),
                                                 _name("/Pg"): pages[kid.raw_get("/Pg").idnum]}))
            if out:
                new[_name("/K")] = out[0] if len(out) == 1 else out
            return new_ref

        root = reader.trailer["/Root"]
        if "/StructTreeRoot" not in root:
            continue
        source = root["/StructTreeRoot"]
        document = source["/K"]
        kids = document.raw_get("/K") if "/K" in document else ArrayObject()
        kids = kids.get_object() if isinstance(kids, IndirectObject) else kids
        made_kids = ArrayObject()
        for kid in kids if isinstance(kids, ArrayObject) else [kids]:
            made = copy(kid, part_ref) if isinstance(kid, IndirectObject) else None
            if made is not None:
                made_kids.append(made)
        part[_name("/K")] = made_kids
        flat = source["/ParentTree"]["/Nums"]
        old = {int(flat[i]): flat[i + 1].get_object() for i in range(0, len(flat), 2)}
        for i, page in enumerate(reader.pages):
            key = page.get("/StructParents")
            entry = old.get(int(key)) if key is not None else None
            if not isinstance(entry, ArrayObject):
                continue
            refs = ArrayObject(copied.get(r.idnum, NullObject()) if isinstance(r, IndirectObject) else NullObject()
                               for r in entry)
            nums += [NumberObject(start + i), refs]
            writer.pages[start + i][_name("/StructParents")] = NumberObject(start + i)
    top[_name("/K")] = top_kids
    tree[_name("/K")] = top_ref
    tree[_name("/ParentTree")] = writer._add_object(DictionaryObject({_name("/Nums"): nums}))  # noqa: SLF001
    tree[_name("/ParentTreeNextKey")] = NumberObject(len(writer.pages))
    catalog = writer.root_object
    catalog[_name("/StructTreeRoot")] = tree_ref
    catalog[_name("/MarkInfo")] = DictionaryObject({_name("/Marked"): _bool(True)})
    catalog[_name("/Lang")] = TextStringObject(lang)


def _bool(value: bool):
    from pypdf.generic import BooleanObject  # noqa: PLC0415

    return BooleanObject(value)


#: What each attachment is (its /Desc, which PDF/UA asks for).
DESCRIPTIONS = {"records.json": "The disclosed records, as structured data (JSON)",
                "manifest.json": "What the packet holds: its documents, pages, sections and hashes (JSON)",
                "records.fhir.json": "The disclosed records as a FHIR R4 Bundle (JSON)"}


def associate(writer, attachment, relationship: str = "/Data", mime: str = "/application/json",
              modified: datetime | None = None) -> None:
    """Make ``attachment`` (pypdf's EmbeddedFile) an associated file of the packet (PDF/A-3, 6.8),
    with its names (/F, /UF) and description (/Desc)."""
    from pypdf.generic import ArrayObject, DictionaryObject, TextStringObject  # noqa: PLC0415

    attachment.alternative_name = TextStringObject(attachment.name)  # /F and /UF
    attachment.description = TextStringObject(DESCRIPTIONS.get(attachment.name, attachment.name))
    attachment.associated_file_relationship = _name(relationship)
    attachment.subtype = _name(mime)
    if modified is not None:
        attachment.modification_date = modified
    stream = attachment.pdf_object["/EF"]["/F"].get_object()
    stream.setdefault(_name("/Params"), DictionaryObject())
    catalog = writer.root_object
    catalog.setdefault(_name("/AF"), ArrayObject()).append(attachment.pdf_object.indirect_reference)


def identify(writer, info: dict[str, str], lang: str = "en-US", part: int | None = PART) -> None:
    """XMP (from ``info``, the Info dictionary's entries with their slashes), PDF/A-``part`` level A
    and PDF/UA-1 identification (PDF/UA only when ``part`` is None: an encrypted packet is no PDF/A),
    the sRGB output intent, /DisplayDocTitle, and a trailer /ID from the file's content so far."""
    from pypdf.generic import (  # noqa: PLC0415
        ArrayObject,
        ByteStringObject,
        DecodedStreamObject,
        DictionaryObject,
        NumberObject,
        TextStringObject,
    )

    from ..render.pdf.archival import srgb_profile  # noqa: PLC0415 - reportlab is loaded already

    values = {key.lstrip("/"): value for key, value in info.items()}
    metadata = DecodedStreamObject()
    metadata.set_data(xmp(values, lang, part, CONFORMANCE))
    metadata.update({_name("/Type"): _name("/Metadata"), _name("/Subtype"): _name("/XML")})
    catalog = writer.root_object
    catalog[_name("/Metadata")] = writer._add_object(metadata)  # noqa: SLF001
    catalog[_name("/ViewerPreferences")] = DictionaryObject({_name("/DisplayDocTitle"): _bool(True)})
    if part is not None:
        profile = DecodedStreamObject()
        profile.set_data(srgb_profile())
        profile[_name("/N")] = NumberObject(3)
        catalog[_name("/OutputIntents")] = ArrayObject([DictionaryObject({
            _name("/Type"): _name("/OutputIntent"), _name("/S"): _name("/GTS_PDFA1"),
            _name("/OutputConditionIdentifier"): TextStringObject("sRGB IEC61966-2.1"),
            _name("/Info"): TextStringObject("sRGB IEC61966-2.1"),
            _name("/RegistryName"): TextStringObject("http://www.color.org"),
            _name("/DestOutputProfile"): writer._add_object(profile)})])  # noqa: SLF001
    digest = hashlib.md5(repr(sorted(values.items())).encode(), usedforsecurity=False).digest()
    writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])  # noqa: SLF001


def day(pdf_date: str) -> datetime:
    """``D:YYYYMMDD...`` as a UTC datetime (the attachments' modification date)."""
    d = pdf_date.removeprefix("D:")
    return datetime(int(d[0:4]), int(d[4:6]), int(d[6:8]), tzinfo=UTC)
