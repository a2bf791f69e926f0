"""Assemble rendered PDFs into one packet with pypdf: pages in order (the documents' own empty
signature fields dropped), bookmarks per document and section, "Packet page N of M" and the client id
stamped on every page (an artifact), JSON attachments, fixed metadata; the documents' structure trees
merged into the packet's, and the packet's own PDF/A-3a and PDF/UA-1 identification (:mod:`.archival`).
Encryption (AES-256 only) is a separate last pypdf step; signing comes after all of it (any later
pypdf edit would break a signature)."""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen.canvas import Canvas

ENCRYPTION = "AES-256"  # V5 R6; never RC4 (pypdf's default without `algorithm`)


@dataclass
class Part:
    """A rendered document and its bookmarks: (title, page index within the document) per section."""

    title: str
    pdf: bytes
    sections: list[tuple[str, int]]


def _stamps(count: int, client_id: str, pagesize: tuple[float, float], margin: float) -> PdfReader:
    """One overlay page per packet page: "Packet page N of M · Client ID X" in the top margin."""
    from ..render.pdf.fonts import FONT, register_fonts  # noqa: PLC0415
    from ..render.pdf.reportlab_patches import archival_syntax  # noqa: PLC0415
    from ..render.pdf.tagging import END, PAGINATION  # noqa: PLC0415

    register_fonts()
    archival_syntax()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=pagesize, invariant=1)
    width, height = pagesize
    for number in range(1, count + 1):
        canvas._code.append(PAGINATION)  # noqa: SLF001 - page furniture: an artifact (PDF/UA)
        canvas.setFont(FONT, 7)
        canvas.setFillGray(0.25)
        canvas.drawRightString(width - margin, height - margin * 0.25,
                               f"Packet page {number} of {count} \u00b7 Client ID {client_id}")
        canvas._code.append(END)  # noqa: SLF001
        canvas.showPage()
    canvas.save()
    return PdfReader(io.BytesIO(buffer.getvalue()))


def assemble(parts: list[Part], client_id: str, attachments: dict[str, bytes], info: dict[str, str],
             margin: float) -> bytes:
    """The packet: ``parts`` in order, bookmarks, page stamps, ``attachments`` (name -> bytes), ``info``."""
    from ..render.pdf import stream_ends  # noqa: PLC0415
    from .archival import associate, day, identify, merge_structure  # noqa: PLC0415

    stream_ends.install()  # pypdf's streams ending with CR read one byte short (PDF/A)
    writer = PdfWriter()
    starts, readers = [], []
    for part in parts:
        starts.append(len(writer.pages))
        # "/Annots" excluded: the documents' empty sig_<role> fields would clash between documents;
        # the packet gets one new signature field when it is signed
        readers.append(PdfReader(io.BytesIO(part.pdf)))
        writer.append(readers[-1], import_outline=False, excluded_fields=("/Annots", "/B"))
    if "/AcroForm" in writer._root_object:  # noqa: SLF001 - emptied by the exclusion above
        del writer._root_object["/AcroForm"]  # noqa: SLF001
    first = writer.pages[0]
    pagesize = (float(first.mediabox.width), float(first.mediabox.height))
    overlay = _stamps(len(writer.pages), client_id, pagesize, margin)
    for page, stamp in zip(writer.pages, overlay.pages, strict=True):
        page.merge_page(stamp)
    for part, start in zip(parts, starts, strict=True):
        parent = writer.add_outline_item(title=part.title, page_number=start)
        for title, index in part.sections:
            writer.add_outline_item(title=title, page_number=start + index, parent=parent)
    merge_structure(writer, [(reader, start, part.title) for reader, start, part in zip(readers, starts, parts,
                                                                                         strict=True)])
    for name, data in attachments.items():
        associate(writer, writer.add_attachment(name, data), modified=day(info["/CreationDate"]))
    writer.add_metadata(info)
    identify(writer, info)
    writer.page_mode = "/UseOutlines"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypt(data: bytes, password: bytes) -> bytes:
    """``data`` encrypted with AES-256 (PDF 2.0 security handler, V5 R6): the password opens it."""
    if not password:
        raise ValueError("the password is empty")
    from ..render.pdf import stream_ends  # noqa: PLC0415
    from .archival import identify  # noqa: PLC0415

    stream_ends.install()
    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    # PDF/A forbids encryption: the encrypted packet's XMP claims PDF/UA-1 only (its tags stay)
    identify(writer, {key: str(value) for key, value in (reader.metadata or {}).items()}, part=None)
    secret = password.decode("utf-8")
    # owner password: the same secret, so whoever may open the packet may also print and copy it
    writer.encrypt(user_password=secret, owner_password=secret, algorithm=ENCRYPTION)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
