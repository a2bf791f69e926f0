"""Verify the signatures of a PDF with pyHanko's validator: integrity, later changes, trust.

* ``intact``: the bytes a signature covers hash to the value it signed, and the signature value is
  cryptographically valid for the signer's certificate.
* ``modified_after``: pyHanko's difference analysis of every revision after the signed one.
  Updates that only add or fill signature fields and form fields (another signer signing, document
  time-stamps) are allowed; anything else (content, annotations, pages, metadata) is a change.
  This is stricter than pyHanko's own DocMDP judgement for approval signatures, which lets
  annotations through. pyHanko also lets any change of the document properties (``/Info``)
  through; the ones docgen writes to identify the record (title, subject, author, keywords with the
  record's sha256, creator, creation date) count as a change here (``modification`` reads
  ``PROPERTIES``). The modification date and producer may change: signing updates them.
* ``trusted``: only when trust roots are given: the signer's certificate chains to one of them, is
  valid now, and has digitalSignature or nonRepudiation key usage. Without trust roots trust is not
  checked at all: pyHanko would otherwise fall back to the operating system's TLS store, which says
  nothing about who may sign a clinical record. A root is a CA certificate: pyHanko calls a
  self-signed signer certificate given as its own root undefined behaviour (its issue #523).
* No revocation data is fetched (there is no network): revocation is checked in soft-fail mode.
"""
from __future__ import annotations

import io
from pathlib import Path

from ..errors import SigningError
from . import SignatureReport, role_of
from .pades import common_name

ALLOWED_AFTER = ("NONE", "LTA_UPDATES", "FORM_FILLING")
IDENTIFYING = ("/Title", "/Subject", "/Author", "/Keywords", "/Creator", "/CreationDate")


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


def _problem(intact: bool, valid: bool, level: str, coverage_ok: bool, trusted: bool | None, indic) -> str:
    if not intact:  # nothing else about this signature means anything then
        return "the signed bytes were changed"
    if not valid:
        return "the signature value does not match the certificate"
    problems = []
    if level == "PROPERTIES":
        problems.append("the document properties were changed after signing")
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
        status = validate_pdf_signature(embedded, context["vc"], key_usage_settings=key_usage)
    except Exception as exc:  # noqa: BLE001 - a damaged signature is a finding, not a crash
        return SignatureReport(field, role_of(field), signer, subject, when, revision, False, True, "UNKNOWN",
                               False if context["checked"] else None, f"could not be validated ({type(exc).__name__})")
    intact = bool(status.intact and status.valid)
    level = status.modification_level
    coverage_ok = status.coverage is not None and status.coverage >= SignatureCoverageLevel.ENTIRE_REVISION
    level_name = level.name if level is not None else "UNKNOWN"
    if not coverage_ok:
        level_name = "OTHER"
    elif level_name in ALLOWED_AFTER and properties_changed(reader, revision):
        level_name = "PROPERTIES"
    trusted = bool(status.trusted) if context["checked"] else None
    when = status.signer_reported_dt or embedded.self_reported_timestamp
    problem = _problem(bool(status.intact), bool(status.valid), level_name, coverage_ok, trusted,
                       status.trust_problem_indic)
    return SignatureReport(field, role_of(field), signer, subject, when, revision, intact,
                           level_name not in ALLOWED_AFTER, level_name, trusted, problem)


def verify_pdf(data: bytes, trust: list[Path] | None = None, password: bytes | None = None) -> list[SignatureReport]:
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: PLC0415
    from pyhanko.sign.validation.settings import KeyUsageConstraints  # noqa: PLC0415
    from pyhanko_certvalidator import ValidationContext  # noqa: PLC0415

    roots = load_trust(trust) if trust else []
    if b"%PDF-" not in data[:1024]:
        raise SigningError("not a PDF")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted and password is not None:
            reader.decrypt(password)
        signatures = sorted(reader.embedded_regular_signatures, key=lambda s: s.signed_revision)
    except Exception as exc:  # noqa: BLE001 - a damaged file, whatever the parser says
        raise SigningError(f"not a readable PDF ({type(exc).__name__})") from None
    # trust_roots=[] (never None): None would mean the operating system's store
    context = {"vc": ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail"),
               "checked": bool(roots)}
    key_usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)
    return [_report(reader, embedded, context, key_usage) for embedded in signatures]

