"""Read a packet back: documents (manifest attachment and outline), attachments, signatures and
encryption. A PDF that is not a docgen packet (no ``manifest.json`` attachment, or one that is not a
packet manifest) raises :class:`NotAPacket`.

Everything is read with pyHanko's reader, once, within :mod:`docgen.pdfguard`'s bounds: a hostile
file (a page tree that loops, arrays nested 200,000 deep, an attachment that inflates to gigabytes)
raises :class:`PacketError` with one line, in bounded time and memory.
"""
from __future__ import annotations

import io
import json
from typing import Any

from .. import pdfguard
from ..errors import NotAPacket
from . import MANIFEST_JSON, PacketError

MAX_OUTLINE = 10_000  # top-level bookmarks read

#: what each entry of the manifest's "documents" must be (the CLI prints them)
DOCUMENT_FIELDS = {"id": str, "kind": str, "date": str, "status": str, "first_page": int, "pages": int,
                   "content_sha256": str}


def _encryption(reader) -> dict:
    if not reader.encrypted:
        return {"encrypted": False, "algorithm": None, "password_required": False}
    enc = reader.trailer["/Encrypt"]

    def value(key, default):
        return enc[key] if key in enc else default

    v, r = int(value("/V", 0)), int(value("/R", 0))
    cfm = ""
    if "/CF" in enc:
        filters = enc["/CF"]
        std = str(value("/StmF", "/StdCF"))
        cfm = str(filters[std]["/CFM"]) if std in filters and "/CFM" in filters[std] else ""
    if cfm == "/AESV3":
        algorithm = "AES-256" if r >= 6 else "AES-256-R5"
    elif cfm == "/AESV2":
        algorithm = "AES-128"
    else:
        algorithm = f"RC4-{int(value('/Length', 40))}"
    return {"encrypted": True, "algorithm": algorithm, "V": v, "R": r, "password_required": True}


def _manifest(found: pdfguard.Scan) -> dict:
    """The packet manifest among the attachments; :class:`NotAPacket` when there is none."""
    blobs = [a.data for a in found.attachments if a.name == MANIFEST_JSON and a.data is not None]
    if not blobs:
        raise NotAPacket("not a docgen packet: no manifest.json attachment")
    try:
        manifest = json.loads(blobs[0])
    except ValueError:
        manifest = None
    documents = manifest.get("documents") if isinstance(manifest, dict) else None
    if not (isinstance(manifest, dict) and isinstance(manifest.get("packet_id"), str) and isinstance(documents, list)
            and all(isinstance(d, dict) and all(type(d.get(k)) is t for k, t in DOCUMENT_FIELDS.items())
                    for d in documents)):
        raise NotAPacket("not a docgen packet: its manifest.json is not a packet manifest")
    return manifest


def _outline(reader, pages: list) -> list[dict]:
    """The top-level bookmarks: title and page number (0 when the destination is not a page)."""
    from pyhanko.pdf_utils import generic  # noqa: PLC0415

    numbers = {(p.reference.idnum, p.reference.generation): n for n, p in enumerate(pages, 1)
               if isinstance(p, generic.IndirectObject)}
    outlines = pdfguard.get(reader.root, "/Outlines")
    has_first = isinstance(outlines, generic.DictionaryObject) and "/First" in outlines
    item = outlines.raw_get("/First") if has_first else None
    found: list[dict] = []
    seen: set[tuple[int, int]] = set()
    while item is not None and len(found) < MAX_OUTLINE:
        if isinstance(item, generic.IndirectObject):
            key = (item.reference.idnum, item.reference.generation)
            if key in seen:
                raise pdfguard.UnsafePdf("the outline loops back on itself")
            seen.add(key)
            item = item.get_object()
        if not isinstance(item, generic.DictionaryObject):
            break
        dest = pdfguard.get(item, "/Dest")
        if dest is None:
            dest = pdfguard.get(pdfguard.get(item, "/A"), "/D")
        page = 0
        if isinstance(dest, generic.ArrayObject) and len(dest) and isinstance(dest.raw_get(0), generic.IndirectObject):
            target = dest.raw_get(0).reference
            page = numbers.get((target.idnum, target.generation), 0)
        found.append({"title": str(pdfguard.get(item, "/Title", "")), "page": page})
        item = item.raw_get("/Next") if "/Next" in item else None
    return found


def inspect_packet(data: bytes, password: bytes | None = None) -> dict:
    """What a packet holds. Raises :class:`PacketError` when ``data`` is not a readable PDF, is a
    hostile one, or the password is wrong, and :class:`NotAPacket` when it is a PDF but not a docgen
    packet. Encrypted without a password: only the encryption is reported (``opened`` is False)."""
    from pyhanko.pdf_utils.crypt import AuthStatus  # noqa: PLC0415
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415

    if b"%PDF-" not in data[:1024]:
        raise PacketError("not a PDF")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        encryption = _encryption(reader)
    except RecursionError:
        raise PacketError(f"unsafe PDF: objects nested deeper than {pdfguard.MAX_DEPTH} levels") from None
    except Exception as exc:  # noqa: BLE001 - a damaged file, whatever the parser says
        raise PacketError(f"not a readable PDF ({type(exc).__name__})") from None
    report: dict[str, Any] = {"encryption": encryption, "opened": True, "pages": None, "documents": [], "outline": [],
              "attachments": [], "signatures": [], "manifest": None}
    if reader.encrypted:
        if password is None:
            report["opened"] = False
            return report
        try:
            status = reader.decrypt(password).status
        except Exception:  # noqa: BLE001 - an unsupported security handler
            status = AuthStatus.FAILED
        if status == AuthStatus.FAILED:
            raise PacketError("wrong password")
    try:
        found = pdfguard.scan(reader, keep=frozenset({MANIFEST_JSON}))
        manifest = _manifest(found)
        outline = _outline(reader, found.pages)
    except pdfguard.UnsafePdf as exc:
        raise PacketError(f"unsafe PDF: {exc}") from None
    except RecursionError:
        raise PacketError(f"unsafe PDF: objects nested deeper than {pdfguard.MAX_DEPTH} levels") from None
    except NotAPacket:
        raise
    except Exception as exc:  # noqa: BLE001
        raise PacketError(f"not a readable PDF ({type(exc).__name__})") from None
    report["pages"] = len(found.pages)
    report["attachments"] = [{"name": a.name, "size": a.size, "sha256": a.sha256} for a in found.attachments]
    report["manifest"] = manifest
    report["outline"] = outline
    report["documents"] = [{k: d.get(k) for k in DOCUMENT_FIELDS} for d in manifest["documents"]]
    from ..sign import SigningError  # noqa: PLC0415
    from ..sign.verify import signature_reports  # noqa: PLC0415

    try:
        report["signatures"] = [r.as_dict() for r in signature_reports(reader, [])]
    except SigningError as exc:
        report["signatures_problem"] = str(exc)
    return report
