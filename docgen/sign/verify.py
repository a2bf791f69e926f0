"""Verify the signatures of a PDF with pyHanko's validator: integrity, later changes, trust.

* ``intact``: the bytes a signature covers hash to the value it signed, and the signature value is
  cryptographically valid for the signer's certificate.
* ``modified_after``: pyHanko's difference analysis of every revision after the signed one, with a
  stricter policy than its default (:func:`diff_policy`): updates may fill signature fields (another
  signer signing into an empty field) and add invisible ones (a signature or document time-stamp
  without a place on the page); filling any other form field is a change, and so is anything else
  (content, annotations, pages, metadata). On top of that, docgen compares the annotations of every
  later revision with the signed one (:func:`overlay_after`): a new annotation, or a new widget with
  a visible appearance (a non-empty /Rect and an appearance stream that draws something), is a
  change (``modification`` reads ``OVERLAY``). pyHanko clears a new *visible* signature field as
  form filling; its appearance can be drawn over the whole page, so the page shows other content
  while the signature reads valid (the "shadow attack"). Filling an existing field draws only inside
  its /Rect, which was signed. pyHanko also lets any change of the document properties (``/Info``)
  through; the ones docgen writes to identify the record (title, subject, author, keywords with the
  record's sha256, creator, creation date) count as a change here (``modification`` reads
  ``PROPERTIES``). The modification date and producer may change: signing updates them.
* ``trusted``: only when trust roots are given: the signer's certificate chains to one of them, is
  valid now, and has digitalSignature or nonRepudiation key usage. Without trust roots trust is not
  checked at all: pyHanko would otherwise fall back to the operating system's TLS store, which says
  nothing about who may sign a clinical record. A root is a CA certificate: pyHanko calls a
  self-signed signer certificate given as its own root undefined behaviour (its issue #523).
* No revocation data is fetched (there is no network): revocation is checked in soft-fail mode.

Before any of this the file is checked against :mod:`docgen.pdfguard`'s bounds (nesting, page tree,
attachments): a hostile file is refused with one line (:class:`SigningError`, exit 2).
"""
from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any

from .. import pdfguard
from . import SignatureReport, SigningError, role_of
from .pades import common_name

ALLOWED_AFTER = ("NONE", "LTA_UPDATES", "FORM_FILLING")
IDENTIFYING = ("/Title", "/Subject", "/Author", "/Keywords", "/Creator", "/CreationDate")
APPEARANCE_LIMIT = 4 * pdfguard.MIB  # an appearance stream larger than this inflated counts as drawing


def _properties(reader, revision: int) -> dict[str, str]:
    """The identifying document properties as they stood at ``revision``."""
    view = reader.get_historical_resolver(revision)
    ref = view.trailer_view.get_value_as_reference("/Info", optional=True)
    if ref is None:
        return {}
    info = view.get_object(ref)
    return {key: str(info[key]) for key in IDENTIFYING if key in info}


def properties_changed(reader, revision: int) -> bool:
    """True when the identifying document properties differ between ``revision`` and the last one."""
    last = reader.xrefs.total_revisions - 1
    if revision >= last:
        return False
    try:
        return _properties(reader, revision) != _properties(reader, last)
    except Exception:  # noqa: BLE001 - properties that cannot be read cannot be shown unchanged
        return True


@functools.cache
def diff_policy():
    """pyHanko's default difference policy without its rule for non-signature form fields: after a
    signature, updates may only fill signature fields or add invisible ones (docgen's documents have
    no other fields). New visible signature fields are judged by :func:`overlay_after`."""
    from pyhanko.sign.diff_analysis import (  # noqa: PLC0415
        CatalogModificationRule,
        DocInfoRule,
        DSSCompareRule,
        FormUpdatingRule,
        MetadataUpdateRule,
        ModificationLevel,
        ObjectStreamRule,
        SigFieldCreationRule,
        SigFieldModificationRule,
        StandardDiffPolicy,
        XrefStreamRule,
    )

    lta = ModificationLevel.LTA_UPDATES
    return StandardDiffPolicy(
        global_rules=[CatalogModificationRule(), DocInfoRule().as_qualified(lta), XrefStreamRule().as_qualified(lta),
                      ObjectStreamRule().as_qualified(lta), DSSCompareRule().as_qualified(lta),
                      MetadataUpdateRule().as_qualified(lta)],
        form_rule=FormUpdatingRule(field_rules=[SigFieldCreationRule(), SigFieldModificationRule()]))


def _annotations(view) -> tuple[dict, list]:
    """The annotations on the pages of one revision: indirect ones by (number, generation), and the
    direct ones (dictionaries written inside /Annots)."""
    from pyhanko.pdf_utils import generic  # noqa: PLC0415

    indirect, direct = {}, []
    for page_ref in pdfguard.page_refs(view.root):
        page = page_ref.get_object() if isinstance(page_ref, generic.IndirectObject) else page_ref
        annots = pdfguard.get(page, "/Annots")
        if not isinstance(annots, generic.ArrayObject):
            continue
        for i in range(len(annots)):
            raw = annots.raw_get(i)
            if isinstance(raw, generic.IndirectObject):
                indirect[(raw.reference.idnum, raw.reference.generation)] = raw
            else:
                direct.append(raw)
    return indirect, direct


def _draws(stream) -> bool:
    """True unless the appearance stream is empty (whitespace only) once inflated."""
    try:
        content = b"".join(pdfguard.inflate(stream, APPEARANCE_LIMIT))
    except Exception:  # noqa: BLE001 - too large, unknown filter, broken data: it may draw
        return True
    return bool(content.strip(b" \t\r\n\f\x00"))


def visible(annot) -> bool:
    """A non-empty /Rect and an appearance (normal, rollover or down, any state) that draws
    something. A /Rect that cannot be read counts as non-empty."""
    from pyhanko.pdf_utils import generic  # noqa: PLC0415

    rect = pdfguard.get(annot, "/Rect")
    try:
        x1, y1, x2, y2 = (float(rect[i]) for i in range(4))
        empty = abs(x2 - x1) * abs(y2 - y1) == 0
    except Exception:  # noqa: BLE001
        empty = False
    if empty:
        return False
    appearance = pdfguard.get(annot, "/AP")
    if not isinstance(appearance, generic.DictionaryObject):
        return False
    for key in ("/N", "/R", "/D"):
        value = pdfguard.get(appearance, key)
        streams: list[Any]
        if isinstance(value, generic.StreamObject):
            streams = [value]
        elif isinstance(value, generic.DictionaryObject):  # appearance states
            streams = [pdfguard.get(value, state) for state in list(dict.keys(value))]
        else:
            streams = []
        if any(isinstance(stream, generic.StreamObject) and _draws(stream) for stream in streams):
            return True
    return False


def overlay_after(reader, revision: int) -> str:
    """Why the revisions after ``revision`` may show something over the signed content, or "": a
    new annotation (not a widget), or a new widget that is :func:`visible`, compared with the
    annotations of the signed revision."""
    from pyhanko.pdf_utils import generic  # noqa: PLC0415

    last = reader.xrefs.total_revisions - 1
    if revision >= last:
        return ""
    try:
        before, before_direct = _annotations(reader.get_historical_resolver(revision))
        for later in range(revision + 1, last + 1):
            after, after_direct = _annotations(reader.get_historical_resolver(later))
            added = [ref.get_object() for key, ref in after.items() if key not in before]
            added += [annot for annot in after_direct if annot not in before_direct]
            for annot in added:
                if not isinstance(annot, generic.DictionaryObject) or pdfguard.get(annot, "/Subtype") != "/Widget":
                    return "an annotation was added after signing"
                if visible(annot):
                    return "a visible field was added after signing (its appearance can cover the signed content)"
    except pdfguard.UnsafePdf as exc:
        return f"a later revision cannot be read safely ({exc})"
    except Exception:  # noqa: BLE001 - what cannot be read cannot be shown harmless
        return "a later revision cannot be read"
    return ""


def load_trust(paths: list[Path]) -> list:
    """asn1crypto certificates from PEM (one or more certificates) or DER files."""
    from asn1crypto import pem, x509  # noqa: PLC0415

    roots = []
    for path in map(Path, paths):
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise SigningError(f"cannot read {path.name}: {exc.strerror or 'I/O error'}") from None
        try:
            blobs = [der for _type, _headers, der in pem.unarmor(raw, multiple=True)] if pem.detect(raw) else [raw]
            certs = [x509.Certificate.load(der, strict=True) for der in blobs if der]
            for cert in certs:
                cert.native  # noqa: B018 - parse now, so a broken file fails here and not mid-validation
        except (ValueError, TypeError):
            certs = []
        if not certs:
            raise SigningError(f"{path.name} is not a certificate (PEM or DER)")
        roots.extend(certs)
    return roots


def _problem(intact: bool, valid: bool, level: str, coverage_ok: bool, trusted: bool | None, indic,
             overlay: str = "") -> str:
    if not intact:  # nothing else about this signature means anything then
        return "the signed bytes were changed"
    if not valid:
        return "the signature value does not match the certificate"
    problems = []
    if level == "PROPERTIES":
        problems.append("the document properties were changed after signing")
    elif level == "OVERLAY":
        problems.append(overlay)
    elif level not in ALLOWED_AFTER:
        problems.append("the document was changed after signing" if coverage_ok
                        else "the signature does not cover its whole revision")
    if trusted is False:
        why = indic.name.lower().replace("_", " ") if indic is not None else "no chain to a trusted root"
        problems.append(f"signer not trusted ({why})")
    return "; ".join(problems)


def _report(reader, embedded, context, key_usage) -> SignatureReport:
    from pyhanko.sign.validation import validate_pdf_signature  # noqa: PLC0415
    from pyhanko.sign.validation.status import SignatureCoverageLevel  # noqa: PLC0415

    field = embedded.field_name or "(unnamed)"
    signer = subject = "?"
    revision, when = -1, None
    try:
        revision = embedded.signed_revision
        when = embedded.self_reported_timestamp
        cert = embedded.signer_cert
        signer, subject = common_name(cert.subject), cert.subject.human_friendly
        status = validate_pdf_signature(embedded, context["vc"], diff_policy=diff_policy(),
                                        key_usage_settings=key_usage)
    except Exception as exc:  # noqa: BLE001 - a damaged signature is a finding, not a crash
        return SignatureReport(field, role_of(field), signer, subject, when, revision, False, True, "UNKNOWN",
                               False if context["checked"] else None, f"could not be validated ({type(exc).__name__})")
    intact = bool(status.intact and status.valid)
    level = status.modification_level
    coverage_ok = status.coverage is not None and status.coverage >= SignatureCoverageLevel.ENTIRE_REVISION
    level_name = level.name if level is not None else "UNKNOWN"
    overlay = ""
    if not coverage_ok:
        level_name = "OTHER"
    elif level_name in ALLOWED_AFTER:
        overlay = overlay_after(reader, revision)
        if overlay:
            level_name = "OVERLAY"
        elif properties_changed(reader, revision):
            level_name = "PROPERTIES"
    trusted = bool(status.trusted) if context["checked"] else None
    when = status.signer_reported_dt or embedded.self_reported_timestamp
    problem = _problem(bool(status.intact), bool(status.valid), level_name, coverage_ok, trusted,
                       status.trust_problem_indic, overlay)
    return SignatureReport(field, role_of(field), signer, subject, when, revision, intact,
                           level_name not in ALLOWED_AFTER, level_name, trusted, problem)


def open_reader(data: bytes, password: bytes | None = None):
    """A pyHanko reader over ``data`` (decrypted with ``password``), checked against
    :mod:`docgen.pdfguard`'s bounds. Raises :class:`SigningError`: not a PDF, not readable, unsafe."""
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415

    if b"%PDF-" not in data[:1024]:
        raise SigningError("not a PDF")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted and password is not None:
            reader.decrypt(password)
        pdfguard.scan(reader)
    except pdfguard.UnsafePdf as exc:
        raise SigningError(f"unsafe PDF: {exc}") from None
    except RecursionError:
        raise SigningError(f"unsafe PDF: objects nested deeper than {pdfguard.MAX_DEPTH} levels") from None
    except Exception as exc:  # noqa: BLE001 - a damaged file, whatever the parser says
        raise SigningError(f"not a readable PDF ({type(exc).__name__})") from None
    return reader


def signature_reports(reader, roots: list) -> list[SignatureReport]:
    """One report per signature of an opened ``reader`` (see :func:`open_reader`), in signing order;
    ``roots``: asn1crypto trust roots (:func:`load_trust`), none to leave trust unchecked."""
    from pyhanko.sign.validation.settings import KeyUsageConstraints  # noqa: PLC0415
    from pyhanko_certvalidator import ValidationContext  # noqa: PLC0415

    try:
        signatures = sorted(reader.embedded_regular_signatures, key=lambda s: s.signed_revision)
    except RecursionError:
        raise SigningError(f"unsafe PDF: objects nested deeper than {pdfguard.MAX_DEPTH} levels") from None
    except Exception as exc:  # noqa: BLE001 - a damaged file, whatever the parser says
        raise SigningError(f"not a readable PDF ({type(exc).__name__})") from None
    # trust_roots=[] (never None): None would mean the operating system's store
    context = {"vc": ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail"),
               "checked": bool(roots)}
    key_usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)
    return [_report(reader, embedded, context, key_usage) for embedded in signatures]


def verify_pdf(data: bytes, trust: list[Path] | None = None, password: bytes | None = None) -> list[SignatureReport]:
    roots = load_trust(trust) if trust else []
    return signature_reports(open_reader(data, password), roots)
