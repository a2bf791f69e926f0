"""PAdES B-B signatures with pyHanko: load a PKCS#12 key once, sign many PDFs with it.

Which field a signature goes into (:func:`choose_field`):

* with a role: the field ``sig_<role>``. When the document has it empty (the renderer places one on
  each signature block), the signature fills it; when it is already signed, that is an error; when
  the document has no such field, a visible one is created at the bottom of the last page.
* without a role: the first still-empty field of ``sig_clinician``, ``sig_supervisor``,
  ``sig_psychiatrist``, ``sig_guardian``, ``sig_client``, ``sig_other`` (in that order); when none is
  empty, a new field for the first of those roles the document has no field for; when all six are
  signed, an error.

A new field on a document that carries no signature yet sits in a grid of two columns just above the
bottom margin of the last page, filled left to right and then upwards, skipping any place an
existing widget already covers, so signatures never overlap. On a document that is already signed a
new field is invisible: a new visible field after a signature is what the shadow attack adds (an
appearance drawn over the signed content), and :mod:`docgen.sign.verify` counts it as a change after
the earlier signatures. Co-signers sign visibly into the empty fields the renderer placed.
"""
from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.utils import CryptographyDeprecationWarning

from . import FIELD_PREFIX, ROLES, SigningError, field_name

if TYPE_CHECKING:  # pyHanko and cryptography load only when signing
    from cryptography.x509 import Certificate
    from pyhanko.sign.signers import SimpleSigner

# the new-field grid, in points
SLOT_WIDTH = 240.0
SLOT_HEIGHT = 54.0
SLOT_GAP = 8.0
BOTTOM = 60.0  # above the footer of docgen's pages (0.8 inch margin, footer rule below it)
SIDE = 57.6

STAMP_TEXT = "Signed by %(signer)s\nRole: %(role)s\nDate: %(ts)s"
TIME_FORMAT = "%Y-%m-%d %H:%M %Z"
MIN_RSA_BITS = 2048  # pyhanko-certvalidator's default policy: shorter RSA keys make untrusted signatures
INVISIBLE = (0, 0, 0, 0)  # the box of a new field once the document is signed (see choose_field)

# pyHanko reports some problems through logging as well as by raising; the raised error is what we
# show (one line). A NullHandler keeps Python's last-resort handler from printing its records on
# stderr when the application configured no logging (an application that did still gets them).
for _name in ("pyhanko", "pyhanko_certvalidator", "fontTools"):  # fontTools: subsetting the stamp's font
    logging.getLogger(_name).addHandler(logging.NullHandler())
# pyHanko 0.38's sign/signers/pdf_cms.py imports cryptography's DSAPrivateKey at import time (it is used
# only to sign with a DSA key), and recent cryptography (51 here) warns on that name that DSA is
# deprecated: every signing or verifying process printed a CryptographyDeprecationWarning on stderr,
# which an admin reading cron mail takes for an error. The warning is about pyHanko's import, not
# about the key in use. That one warning, attributed to pyHanko's modules, is silenced; any other
# warning (another of cryptography's, or this one raised elsewhere) still shows. It must be set
# before pyHanko is first imported: every import of pyHanko is in this module, or in verify.py,
# which imports this module first.
warnings.filterwarnings("ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning,
                        module=r"pyhanko\.")


def _is_pkcs12(raw: bytes) -> bool:
    from asn1crypto import pkcs12  # noqa: PLC0415

    try:
        pfx = pkcs12.Pfx.load(raw, strict=True)
        return pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native in ("data", "signed_data")
    except (ValueError, TypeError, KeyError):
        return False


def _read_pkcs12(raw: bytes, name: str, passphrase: bytes | None):
    from cryptography.hazmat.primitives.serialization import pkcs12  # noqa: PLC0415

    try:
        return pkcs12.load_key_and_certificates(raw, passphrase)
    except ValueError:
        pass
    if not _is_pkcs12(raw):
        raise SigningError(f"{name} is not a PKCS#12 (.p12/.pfx) file")
    if passphrase:
        try:  # a passphrase given for a file that has none is not worth refusing
            return pkcs12.load_key_and_certificates(raw, None)
        except ValueError:
            raise SigningError(f"wrong passphrase for {name}") from None
    raise SigningError(f"{name} is protected by a passphrase: give it with --passphrase-file")


def _same_key(private_key, cert) -> bool:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private_key.public_key().public_bytes(*fmt) == cert.public_key().public_bytes(*fmt)


def _check_certificate(cert, name: str, now: datetime) -> None:
    """pyHanko signs with any certificate; one that ``docgen verify`` would not trust makes a
    signature nobody can rely on, so it is refused before signing: expired or not yet valid, an RSA
    key under :data:`MIN_RSA_BITS` bits (pyHanko's validator rejects such signatures as too weak),
    no key usage extension, or one without digitalSignature and nonRepudiation (the validator
    requires one of them)."""
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415

    if now < cert.not_valid_before_utc:
        raise SigningError(f"the certificate in {name} is not valid before "
                           f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    if now > cert.not_valid_after_utc:
        raise SigningError(f"the certificate in {name} expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise SigningError(f"the certificate in {name} has a {key.key_size}-bit RSA key "
                           f"(at least {MIN_RSA_BITS} bits are needed)")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise SigningError(f"the certificate in {name} has no key usage "
                           "(a signing certificate has digitalSignature or nonRepudiation)") from None
    if not (usage.digital_signature or usage.content_commitment):
        raise SigningError(f"the certificate in {name} is not a signing certificate "
                           "(key usage has neither digitalSignature nor nonRepudiation)")


def common_name(subject) -> str:
    """The common name of an asn1crypto x509.Name (else its organisation, else the whole subject)."""
    native = subject.native
    return str(native.get("common_name") or native.get("organization_name") or subject.human_friendly)


@dataclass
class Signer:
    """A signing key and its certificate, loaded once; :meth:`sign` is called once per PDF."""

    name: str  # the key file's name, for messages
    cms_signer: SimpleSigner = field(repr=False)
    certificate: Certificate = field(repr=False)

    @property
    def signer_name(self) -> str:
        cert = self.cms_signer.signing_cert  # always there: load_key gives the signer its certificate
        return common_name(cert.subject) if cert is not None else self.name

    @property
    def fingerprint(self) -> str:
        """sha256 of the signing certificate (public): what identifies this signer in a fingerprint."""
        from cryptography.hazmat.primitives import hashes  # noqa: PLC0415

        return self.certificate.fingerprint(hashes.SHA256()).hex()

    def check_valid(self, now: datetime | None = None) -> None:
        _check_certificate(self.certificate, self.name, now or datetime.now(UTC))

    def sign(self, data: bytes, role: str | None = None, reason: str | None = None,
             password: bytes | None = None) -> bytes:
        """``data`` plus an incremental update holding a PAdES B-B signature in the field
        :func:`choose_field` picks, with a visible stamp: signer, role and time. ``password``: opens
        an encrypted PDF (the update is encrypted with the same security handler)."""
        return self.sign_field(data, role, reason, password)[0]

    def sign_field(self, data: bytes, role: str | None = None, reason: str | None = None,
                   password: bytes | None = None) -> tuple[bytes, str]:
        """:meth:`sign`, and the name of the field that holds the new signature."""
        from pyhanko.pdf_utils.misc import PdfError  # noqa: PLC0415
        from pyhanko.sign import fields, signers  # noqa: PLC0415
        from pyhanko.sign.general import SigningError as HankoSigningError  # noqa: PLC0415

        from ..render.pdf import stream_ends  # noqa: PLC0415
        from .archival import keep_xmp, name_new_field, stamp_style, tag_new_field  # noqa: PLC0415

        stream_ends.install()  # pyHanko's streams ending with CR read one byte short (PDF/A)

        if role is not None and role not in ROLES:
            raise SigningError(f"unknown role {role!r} (use {', '.join(ROLES)})")
        self.check_valid()  # a long batch may run past the certificate's end
        writer = open_pdf(data, password)
        try:
            target, box = choose_field(writer, role)
        except SigningError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged form or page tree
            raise SigningError(f"not a readable PDF ({type(exc).__name__})") from None
        role_label = (target[len(FIELD_PREFIX):] if target.startswith(FIELD_PREFIX) else target).capitalize()
        meta = signers.PdfSignatureMetadata(
            field_name=target, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason or f"Signed as {role_label}")
        spec = fields.SigFieldSpec(target, on_page=-1, box=box) if box else None
        style = stamp_style(STAMP_TEXT, TIME_FORMAT)  # DejaVu Sans, embedded (PDF/A, PDF/UA)
        keep_xmp(writer)
        try:
            if spec is not None and box != INVISIBLE:  # a new field on a document not signed yet: tagged
                fields.append_signature_field(writer, spec)
                tag_new_field(writer, target, f"{role_label} signature")
                spec = None
            elif spec is not None:
                fields.append_signature_field(writer, spec)
                name_new_field(writer, target, f"{role_label} signature")
                spec = None
            pdf_signer = signers.PdfSigner(meta, signer=self.cms_signer, stamp_style=style, new_field_spec=spec)
            out = pdf_signer.sign_pdf(writer, existing_fields_only=spec is None,
                                      appearance_text_params={"role": role_label})
        except (HankoSigningError, PdfError) as exc:  # about fields and structure, never about content
            raise SigningError(f"could not sign: {str(exc).splitlines()[0][:200]}") from None
        except Exception as exc:  # noqa: BLE001 - whatever else a damaged file makes pyHanko raise
            raise SigningError(f"could not sign ({type(exc).__name__})") from None
        return out.getvalue(), target


def open_pdf(data: bytes, password: bytes | None = None):
    """An incremental writer over ``data``, or :class:`SigningError` when it is not a readable PDF.
    An encrypted PDF needs its ``password``."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: PLC0415

    if b"%PDF-" not in data[:1024]:
        raise SigningError("not a PDF")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    except Exception as exc:  # noqa: BLE001 - a damaged file, whatever the parser says
        raise SigningError(f"not a readable PDF ({type(exc).__name__})") from None
    if writer.prev.encrypted:
        if password is None:
            raise SigningError("encrypted PDFs cannot be signed without their password")
        try:
            writer.encrypt(password)
        except Exception as exc:  # noqa: BLE001 - wrong password or an unsupported handler
            raise SigningError(f"cannot open the encrypted PDF ({type(exc).__name__})") from None
    return writer


def _signature_fields(handler) -> dict[str, bool]:
    """Signature field name -> already signed."""
    from pyhanko.sign.fields import enumerate_sig_fields  # noqa: PLC0415

    return {name: value is not None for name, value, _ref in enumerate_sig_fields(handler)}


def choose_field(writer, role: str | None) -> tuple[str, tuple[int, int, int, int] | None]:
    """The field to sign and, when it must be created, its box on the last page (else None):
    :data:`INVISIBLE` when the document already carries a signature."""
    existing = _signature_fields(writer.prev)
    if role is not None:
        target = field_name(role)
        if existing.get(target):
            raise SigningError(f"field {target} is already signed")
    else:
        empty = [field_name(r) for r in ROLES if existing.get(field_name(r)) is False]
        missing = [field_name(r) for r in ROLES if field_name(r) not in existing]
        if empty:
            return empty[0], None
        if not missing:
            raise SigningError("every signature field (" + ", ".join(field_name(r) for r in ROLES)
                               + ") is already signed")
        target = missing[0]
    if target in existing:
        return target, None
    if any(existing.values()):
        return target, INVISIBLE
    return target, free_slot(writer)


def _rect(annot) -> tuple[float, float, float, float] | None:
    try:
        x1, y1, x2, y2 = (float(v) for v in annot["/Rect"])
    except (KeyError, TypeError, ValueError):
        return None
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def free_slot(writer) -> tuple[int, int, int, int]:
    """The first place of the new-field grid on the last page that no widget covers."""
    page_ref, _resources = writer.find_page_for_modification(-1)
    page = page_ref.get_object()
    # page[...] rather than page.get(...): only the former decrypts the values of an encrypted file
    x0, y0, x1, y1 = (float(v) for v in (page["/MediaBox"] if "/MediaBox" in page else (0, 0, 612, 792)))
    taken = []
    for annot in (page["/Annots"] if "/Annots" in page else ()):
        rect = _rect(annot.get_object())
        if rect is not None:
            taken.append(rect)
    columns = max(1, int((x1 - x0 - 2 * SIDE + SLOT_GAP) // (SLOT_WIDTH + SLOT_GAP)))
    row = 0
    while True:
        y = y0 + BOTTOM + row * (SLOT_HEIGHT + SLOT_GAP)
        if y + SLOT_HEIGHT > y1:  # the page is full of fields: stack on the last place
            y = y0 + BOTTOM
            return (int(x0 + SIDE), int(y), int(x0 + SIDE + SLOT_WIDTH), int(y + SLOT_HEIGHT))
        for col in range(columns):
            x = x0 + SIDE + col * (SLOT_WIDTH + SLOT_GAP)
            box = (x, y, x + SLOT_WIDTH, y + SLOT_HEIGHT)
            if not any(_overlaps(box, other) for other in taken):
                left, bottom, right, top = (round(v) for v in box)
                return (left, bottom, right, top)
        row += 1


def load_key(path: Path, passphrase: bytes | None) -> Signer:
    from asn1crypto import keys, x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from pyhanko.sign.signers import SimpleSigner  # noqa: PLC0415
    from pyhanko_certvalidator.registry import SimpleCertificateStore  # noqa: PLC0415

    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read {name}: {exc.strerror or 'I/O error'}") from None
    private_key, cert, others = _read_pkcs12(raw, name, passphrase)
    if private_key is None:
        raise SigningError(f"{name} holds no private key")
    if cert is None:
        raise SigningError(f"{name} holds a key without a signing certificate")
    if not _same_key(private_key, cert):
        raise SigningError(f"the certificate in {name} does not belong to its private key")
    _check_certificate(cert, name, datetime.now(UTC))
    der = serialization.Encoding.DER
    try:
        key_info = keys.PrivateKeyInfo.load(private_key.private_bytes(
            der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        chain = SimpleCertificateStore.from_certs([x509.Certificate.load(c.public_bytes(der)) for c in others])
        cms_signer = SimpleSigner(signing_cert=x509.Certificate.load(cert.public_bytes(der)),
                                  signing_key=key_info, cert_registry=chain)
    except (ValueError, TypeError) as exc:  # e.g. a key type pyHanko cannot sign with
        raise SigningError(f"cannot use the key in {name} ({type(exc).__name__})") from None
    return Signer(name, cms_signer, cert)
