"""Sign: certificate signatures on rendered PDFs (the stage after render), and their verification.

A signature is a PAdES baseline B-B signature (pyHanko, SHA-256, no time-stamp: there is no network)
added as an incremental update, so a document can carry several signatures (clinician, then
supervisor...) and each stays valid. It goes into the document's empty signature field
``sig_<role>`` when there is one; otherwise a visible field of that name is created at the bottom of
the last page (see :func:`docgen.sign.pades.choose_field`).

This module stays light (no pyHanko import): the CLI and the renderer import it freely, and the work
is done in :mod:`docgen.sign.pades` and :mod:`docgen.sign.verify`, imported when first needed.

    >>> from docgen.sign import load_key, sign_pdf, verify_pdf, verdict
    >>> signed = sign_pdf(pdf_bytes, Path("clinician.p12"), b"secret", role="clinician")
    >>> reports = verify_pdf(signed, trust=[Path("agency-ca.pem")])
    >>> verdict(reports)
    True

Keys and passphrases never appear in messages, logs or outputs.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .pades import Signer

# Signature roles, in the order an unnamed signature fills an empty field (the treating clinician
# first, then whoever co-signs, then the client's side).
ROLES = ("clinician", "supervisor", "psychiatrist", "guardian", "client", "other")
FIELD_PREFIX = "sig_"


from ..errors import SigningError as SigningError  # noqa: E402 - one line, safe to show (no passphrase, no key material)


def read_secret(path: str | None, option: str = "--passphrase-file") -> bytes | None:
    """A passphrase or password kept in a file, without one trailing newline; never echoed anywhere.
    An unreadable file is a :class:`docgen.errors.UsageError` naming the option."""
    if path is None:
        return None
    from pathlib import Path  # noqa: PLC0415

    from ..errors import UsageError  # noqa: PLC0415

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or 'I/O error'}", where=option) from None
    for ending in (b"\r\n", b"\n"):
        if data.endswith(ending):
            return data[: -len(ending)]
    return data


def field_name(role: str) -> str:
    """``sig_<role>``: the signature field of a role."""
    return f"{FIELD_PREFIX}{role}"


def role_of(field: str | None) -> str | None:
    """The role a field name stands for (``sig_supervisor`` -> ``supervisor``), else None."""
    if field and field.startswith(FIELD_PREFIX) and field[len(FIELD_PREFIX):] in ROLES:
        return field[len(FIELD_PREFIX):]
    return None


@dataclass(frozen=True)
class SignatureReport:
    """What :func:`verify_pdf` found out about one embedded signature."""

    field: str
    role: str | None  # from the field name sig_<role>; None for other field names
    signer: str  # the signer certificate's common name
    subject: str  # the signer certificate's full subject
    signing_time: datetime | None  # as the signer claims it (/M): no time-stamp authority vouches for it
    revision: int  # the document revision the signature covers (0 = the first)
    intact: bool  # the signed bytes are unchanged and the signature value matches them
    modified_after: bool  # later updates did more than fill signature fields or add invisible ones
    # pyHanko's modification level after this signature (NONE, LTA_UPDATES, FORM_FILLING, OTHER...), or
    # docgen's: OVERLAY (a new annotation or visible field), PROPERTIES (identifying /Info changed)
    modification: str
    trusted: bool | None  # chains to a given trust root; None when no trust roots were given
    problem: str = ""  # short, empty when the signature is fine

    @property
    def ok(self) -> bool:
        """Intact, not modified afterwards, and trusted unless trust was not checked."""
        return self.intact and not self.modified_after and self.trusted is not False

    @property
    def trust(self) -> str:
        return "not checked" if self.trusted is None else ("trusted" if self.trusted else "untrusted")

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field, "role": self.role, "signer": self.signer, "subject": self.subject,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "revision": self.revision, "intact": self.intact, "modified_after": self.modified_after,
            "modification": self.modification, "trusted": self.trusted, "trust": self.trust,
            "ok": self.ok, "problem": self.problem,
        }


def verdict(reports: list[SignatureReport]) -> bool:
    """True when there is at least one signature and every one is intact, not modified afterwards
    and (when trust roots were given) trusted."""
    return bool(reports) and all(r.ok for r in reports)


def load_key(key: str | os.PathLike, passphrase: bytes | None = None) -> Signer:
    """Load a PKCS#12 file (``.p12``/``.pfx``) once, to sign many PDFs with it. Raises
    :class:`SigningError` for an unreadable file, a wrong passphrase, and a key :func:`verify_pdf`
    would not trust: a certificate that is expired or not yet valid, an RSA key under 2048 bits, or
    a certificate without digitalSignature or nonRepudiation key usage (or without key usage)."""
    from .pades import load_key as _load  # noqa: PLC0415 - pyHanko loads only when signing

    return _load(Path(key), passphrase)


def sign_pdf(data: bytes, key: str | os.PathLike, passphrase: bytes | None, role: str | None = None,
             reason: str | None = None) -> bytes:
    """Sign a PDF with the key of a PKCS#12 file; returns the signed PDF (the input plus one
    incremental update). See :meth:`docgen.sign.pades.Signer.sign` for the field that is used."""
    return load_key(key, passphrase).sign(data, role=role, reason=reason)


def verify_pdf(data: bytes, trust: list[Path] | None = None, password: bytes | None = None) -> list[SignatureReport]:
    """One report per signature embedded in a PDF, in signing order. ``trust``: CA certificates
    (PEM or DER files) the signers must chain to; without them trust is not checked (never the
    operating system's store). Raises :class:`SigningError` when ``data`` is not a readable PDF or
    a trust file is not a certificate. ``password`` opens an encrypted PDF."""
    from .verify import verify_pdf as _verify  # noqa: PLC0415

    return _verify(data, trust, password)
