"""Read a packet back: documents (manifest attachment and outline), attachments, signatures and
encryption. Works on any PDF; a packet's manifest adds the documents' ids, dates and hashes."""
from __future__ import annotations

import hashlib
import io
import json
from typing import Any

from ..errors import SigningError
from . import MANIFEST_JSON, PacketError


def _encryption(reader) -> dict:
    if not reader.is_encrypted:
        return {"encrypted": False, "algorithm": None, "password_required": False}
    enc = reader.trailer["/Encrypt"].get_object()
    v, r = int(enc.get("/V", 0)), int(enc.get("/R", 0))
    cfm = ""
    if "/CF" in enc:
        std = enc["/CF"].get_object().get(str(enc.get("/StmF", "/StdCF")))
        cfm = str(std.get_object().get("/CFM", "")) if std is not None else ""
    if cfm == "/AESV3":
        algorithm = "AES-256" if r >= 6 else "AES-256-R5"
    elif cfm == "/AESV2":
        algorithm = "AES-128"
    else:
        algorithm = f"RC4-{int(enc.get('/Length', 40))}"
    return {"encrypted": True, "algorithm": algorithm, "V": v, "R": r, "password_required": True}


def inspect_packet(data: bytes, password: bytes | None = None) -> dict:
    """What a packet holds. Raises :class:`PacketError` when ``data`` is not a PDF or the password is
    wrong. Encrypted without a password: only the encryption is reported (``opened`` is False)."""
    from pypdf import PdfReader  # noqa: PLC0415
    from pypdf.errors import PdfReadError  # noqa: PLC0415

    try:
        reader = PdfReader(io.BytesIO(data))
        encryption = _encryption(reader)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise PacketError(f"not a readable PDF ({type(exc).__name__})") from None
    report: dict[str, Any] = {"encryption": encryption, "opened": True, "pages": None, "documents": [], "outline": [],
              "attachments": [], "signatures": [], "manifest": None}
    if reader.is_encrypted:
        if password is None:
            report["opened"] = False
            return report
        from pypdf import PasswordType  # noqa: PLC0415

        if reader.decrypt(password.decode("utf-8")) == PasswordType.NOT_DECRYPTED:
            raise PacketError("wrong password")
    report["pages"] = len(reader.pages)
    for name, blobs in sorted(reader.attachments.items()):
        for blob in blobs:
            report["attachments"].append({"name": name, "size": len(blob), "sha256": hashlib.sha256(blob).hexdigest()})
            if name == MANIFEST_JSON and report["manifest"] is None:
                try:
                    report["manifest"] = json.loads(blob)
                except ValueError:
                    pass
    for item in reader.outline:
        if not isinstance(item, list):
            index = reader.get_destination_page_number(item)  # None: a bookmark to a page not in the file
            report["outline"].append({"title": str(item.title), "page": None if index is None else index + 1})
    manifest = report["manifest"] or {}
    report["documents"] = [{k: d.get(k) for k in ("id", "kind", "date", "status", "first_page", "pages",
                                                   "content_sha256")} for d in manifest.get("documents", [])]
    from ..sign import verify_pdf  # noqa: PLC0415

    try:
        report["signatures"] = [r.as_dict() for r in verify_pdf(data, password=password)]
    except SigningError as exc:
        report["signatures_problem"] = str(exc)
    return report
