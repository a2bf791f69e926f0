"""Signature rules (rules.md sig-*, S1-S3, S35, S40)."""
from __future__ import annotations

import re
from datetime import datetime, time

from ...model import SignatureMethod, SignerRole
from ..registry import ADDENDUM, NOTE, PLAN, rule

BOTH = (PLAN, NOTE)
SIGNED = (PLAN, NOTE, ADDENDUM)  # an addendum is signed by its author like the document it amends
STAFF = {SignerRole.clinician, SignerRole.supervisor, SignerRole.psychiatrist}


def _signatures(doc, *roles: SignerRole):
    return [(i, s) for i, s in enumerate(doc.signatures) if s.role in roles]


def author_signature(doc):
    """The author's own signature: role clinician, by id (or by name when no id is given)."""
    author = doc.author
    for index, sig in _signatures(doc, SignerRole.clinician):
        if sig.signer_id == author.id or (sig.signer_id is None and sig.name == author.name):
            return index, sig
    return None


def needs_cosign(clinician, params) -> bool:
    if clinician.requires_cosign is not None:
        return clinician.requires_cosign
    text = clinician.credentials.upper()
    creds = text.replace(",", " ").split()
    listed = {c.upper() for c in params["credentials"]}
    # whole words only: INTERN is not INTERNIST or INTERNAL
    words = [re.compile(rf"(?<![A-Z0-9]){re.escape(w.upper())}(?![A-Z0-9])") for w in params["credential_words"]]
    return any(c in listed for c in creds) or any(w.search(text) for w in words)


def is_minor(doc, adult_age: int) -> bool:
    return doc.client.age_on(doc.service_date) < adult_age


def required_signers(doc, params: dict) -> list[SignerRole]:
    """The signers a document must carry, from ``sig-present``'s parameters: the roles its kind
    lists, the client's line a guardian's while the client is a minor (``adult_age``)."""
    roles = params[{PLAN: "plan_roles", NOTE: "note_roles"}.get(doc.kind, "addendum_roles")]
    minor = is_minor(doc, params["adult_age"])
    return [SignerRole.guardian if role == "client" and minor else SignerRole(role) for role in roles]


@rule("sig-present", applies_to=SIGNED, severity="blocker", source="CGS, NGS, Palmetto signature guidance (S1 S2 S3)",
      summary="Required signatures are present: the author's with printed name, and the client's (or guardian's) "
              "where the profile requires it",
      plan_roles=["clinician", "client"], note_roles=["clinician"], addendum_roles=["clinician"], adult_age=18)
def sig_present(doc, ctx):
    roles = ctx.params[{PLAN: "plan_roles", NOTE: "note_roles"}.get(doc.kind, "addendum_roles")]
    if "clinician" in roles and author_signature(doc) is None:
        yield "signatures", f"no signature of the author ({doc.author_id}, {doc.author.credentials})"
    if "supervisor" in roles and not _signatures(doc, SignerRole.supervisor):
        yield "signatures", "no supervisor signature"
    if "psychiatrist" in roles and not _signatures(doc, SignerRole.psychiatrist):
        yield "signatures", "no psychiatrist signature"
    if "client" in roles:
        accepted = [SignerRole.client]
        if is_minor(doc, ctx.params["adult_age"]):
            accepted.append(SignerRole.guardian)
        waived = bool((getattr(doc, "client_signature_waiver_reason", None) or "").strip())
        if not _signatures(doc, *accepted) and not waived:
            yield "signatures", "no client signature (or documented reason the client did not sign)"


@rule("sig-dated", applies_to=SIGNED, severity="blocker", source="S1 S2 S3",
      summary="Every signature is dated")
def sig_dated(doc, ctx):
    for index, sig in enumerate(doc.signatures):
        if sig.date is None:
            yield f"signatures[{index}].date", f"{sig.role.value} signature is not dated"


@rule("sig-credentials", applies_to=SIGNED, severity="blocker", source="S1 S2 (printed name and credentials)",
      summary="Staff signatures carry the signer's credentials")
def sig_credentials(doc, ctx):
    for index, sig in enumerate(doc.signatures):
        if sig.role in STAFF and not (sig.credentials or "").strip():
            yield f"signatures[{index}].credentials", f"{sig.role.value} signature has no credentials"


@rule("sig-no-stamp", applies_to=SIGNED, severity="blocker", source="S1 S2",
      summary="No rubber-stamp signatures, unless a documented disability permits one")
def sig_no_stamp(doc, ctx):
    for index, sig in enumerate(doc.signatures):
        if sig.method is SignatureMethod.stamp and not sig.disability_exception:
            yield f"signatures[{index}].method", f"{sig.role.value} signature is a stamp, which is not accepted"


@rule("sig-electronic", applies_to=SIGNED, severity="blocker", source="NGS signature requirements (S2)",
      summary="An electronic signature is marked as such, with date and time; a bare typed name is no signature")
def sig_electronic(doc, ctx):
    for index, sig in enumerate(doc.signatures):
        if sig.method is SignatureMethod.typed:
            yield (f"signatures[{index}].method",
                   f"{sig.role.value} signature is a bare typed name; use an electronic signature record")
        elif sig.method is SignatureMethod.electronic and sig.time is None:
            yield (f"signatures[{index}].time",
                   f"electronic {sig.role.value} signature has no time of signing")


def _when(sig) -> datetime:
    """When a dated signature was made (its day's midnight without a time)."""
    return datetime.combine(sig.date, sig.time or time(0, 0))


def _earlier(a, b) -> bool:
    """Signature ``a`` was certainly made before ``b``: by date, and by time only when both have one
    (a signature dated the same day without a time cannot be ordered)."""
    if a.date != b.date:
        return a.date < b.date
    return a.time is not None and b.time is not None and a.time < b.time


@rule("sig-order", applies_to=SIGNED, severity="blocker", source="S35 S40 (co-signature follows the author's)",
      summary="Signatures are in the profile's order (default: the author, then the supervisor co-signing)",
      order=["clinician", "supervisor"])
def sig_order(doc, ctx):
    order = [SignerRole(r) for r in ctx.params["order"]]
    latest = None  # (role, signature): the last signature of the roles before
    for role in order:
        dated = [(i, s) for i, s in _signatures(doc, role) if s.date is not None]
        if not dated:
            continue
        if latest is not None:
            early = [(i, s) for i, s in dated if _earlier(s, latest[1])]
            if early:
                index, _ = min(early, key=lambda t: _when(t[1]))
                yield (f"signatures[{index}].date",
                       f"{role.value} signed before the {latest[0].value}; required order is "
                       f"{' -> '.join(r.value for r in order)}")
        last = max((s for _, s in dated), key=_when)
        if latest is None or _earlier(latest[1], last):
            latest = (role, last)


@rule("sig-cosign", applies_to=SIGNED, severity="blocker", source="1 TAC 354.2609 (S35); Centene BH policy (S40)",
      summary="An author whose credential needs supervision has a dated supervisor co-signature with credentials",
      credentials=["LMSW", "LSW", "LPC-ASSOCIATE", "LPC-A", "LMFT-ASSOCIATE", "LMFT-A", "LCSW-A", "LCDC-I",
                   "CSI", "APCC", "AMFT", "ASW"],
      credential_words=["INTERN", "ASSOCIATE", "TRAINEE", "STUDENT", "PRE-LICENSED"])
def sig_cosign(doc, ctx):
    author = doc.author
    if not needs_cosign(author, ctx.params):
        return
    supervisors = _signatures(doc, SignerRole.supervisor)
    if not supervisors:
        yield "signatures", f"author credential {author.credentials} requires a supervisor co-signature"
        return
    for index, sig in supervisors:
        if sig.signer_id == author.id or sig.name == author.name:
            yield f"signatures[{index}]", "the author cannot co-sign their own document"
        if author.supervisor_id and sig.signer_id and sig.signer_id != author.supervisor_id:
            yield f"signatures[{index}].signer_id", f"co-signer is not the author's supervisor ({author.supervisor_id})"


@rule("sig-guardian", applies_to=[PLAN], severity="blocker",
      source="treatment-plans.md (Consents, Signatures); 42 CFR 441.155 (S13)",
      summary="For a minor, a guardian is named and signs the plan", adult_age=18)
def sig_guardian(doc, ctx):
    if not is_minor(doc, ctx.params["adult_age"]):
        return
    if doc.client.guardian is None:
        yield "client.guardian", "client is a minor: no guardian recorded"
    if not _signatures(doc, SignerRole.guardian):
        yield "signatures", "client is a minor: no guardian signature"


@rule("sig-attestation", applies_to=BOTH, severity="blocker", source="CMS PIM ch.3 3.3.2.4 via FCSO/Palmetto (S3)",
      summary="A staff signature added late carries an attestation by the signer naming the beneficiary "
              "and date of service",
      late_after_days=30)
def sig_attestation(doc, ctx):
    service = doc.service_date
    for index, sig in enumerate(doc.signatures):
        if sig.role not in STAFF or sig.date is None:
            continue
        if (sig.date - service).days <= ctx.params["late_after_days"]:
            continue
        att = sig.attestation
        if att is None:
            yield (f"signatures[{index}].attestation",
                   f"{sig.role.value} signed {(sig.date - service).days} days after the date of service "
                   "without an attestation")
            continue
        if att.by.strip() != sig.name.strip():
            yield f"signatures[{index}].attestation.by", "an attestation must be made by the signer themself"
        text = att.text
        dates = (service.isoformat(), service.strftime("%m/%d/%Y"))
        if doc.client.name not in text:
            yield f"signatures[{index}].attestation.text", "attestation does not name the beneficiary"
        if not any(d in text for d in dates):
            yield f"signatures[{index}].attestation.text", "attestation does not name the date of service"
