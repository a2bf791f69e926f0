"""Signature rules: who signs, how, and when (sig-*). Their sources are in docgen/check/sources.toml
(``docgen rules --sources``)."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, time

from ...model import SignatureMethod, SignerRole
from ..registry import ADDENDUM, NOTE, PLAN, rule

BOTH = (PLAN, NOTE)
SIGNED = (PLAN, NOTE, ADDENDUM)  # an addendum is signed by its author like the document it amends
STAFF = {SignerRole.clinician, SignerRole.supervisor, SignerRole.psychiatrist}
#: sig-present's parameter listing the roles that sign each kind of document.
ROLE_LISTS = {PLAN: "plan_roles", NOTE: "note_roles", ADDENDUM: "addendum_roles"}


def _signatures(doc, *roles: SignerRole):
    return [(i, s) for i, s in enumerate(doc.signatures) if s.role in roles]


def author_signature(doc):
    """The author's own signature: role clinician, by id (or by name when no id is given)."""
    author = doc.author
    for index, sig in _signatures(doc, SignerRole.clinician):
        if sig.signer_id == author.id or (sig.signer_id is None and sig.name == author.name):
            return index, sig
    return None


def credentials_of(text: str) -> set[str]:
    """The credentials written in ``text``, compared without case, periods, hyphens or inner spaces:
    "M.D., Psychiatrist" holds MD and PSYCHIATRIST, "Ph. D." holds PHD, "LPC-Associate, QMHP CS" holds
    LPCASSOCIATE and QMHPCS. A hyphenated credential stays one credential: LPC-S is not LPC."""
    found: set[str] = set()
    for part in re.split(r"[,;/|()]+", text.upper().replace(".", "").replace("-", "")):
        tokens = part.split()
        found.update(tokens)
        if tokens:
            found.add("".join(tokens))  # "PH D" written with a space is PHD
    return found


def has_credential(text: str, allowed: Iterable[str]) -> bool:
    """Whether ``text`` holds one of the ``allowed`` credentials (see :func:`credentials_of`)."""
    return not credentials_of(text).isdisjoint(c for a in allowed for c in credentials_of(a))


def needs_cosign(clinician, params) -> bool:
    if clinician.requires_cosign is not None:
        return clinician.requires_cosign
    text = clinician.credentials.upper()
    creds = credentials_of(text)
    listed = {c for item in params["credentials"] for c in credentials_of(item)}
    # whole words only: INTERN is not INTERNIST or INTERNAL
    words = [re.compile(rf"(?<![A-Z0-9]){re.escape(w.upper())}(?![A-Z0-9])") for w in params["credential_words"]]
    return any(c in listed for c in creds) or any(w.search(text) for w in words)


def is_minor(doc, adult_age: int) -> bool:
    return doc.client.age_on(doc.service_date) < adult_age


def required_signers(doc, params: dict) -> list[SignerRole]:
    """The signers a document must carry, from ``sig-present``'s parameters: the roles its kind
    lists, the client's line a guardian's while the client is a minor (``adult_age``)."""
    roles = params[ROLE_LISTS.get(doc.kind, "addendum_roles")]
    minor = is_minor(doc, params["adult_age"])
    return [SignerRole.guardian if role == "client" and minor else SignerRole(role) for role in roles]


def _sig_present_params(params: dict) -> None:
    """sig-present's parameters as a profile sets them: role lists of known roles, and ``roles`` a table
    of role -> {credentials = [...], kinds = [...]}."""
    known = {role.value for role in SignerRole}
    for name in ROLE_LISTS.values():
        bad = [r for r in params[name] if not isinstance(r, str) or r not in known]
        if bad:
            raise ValueError(f"{name}: unknown role(s) {', '.join(map(str, bad))} (roles: {', '.join(sorted(known))})")
    for role, spec in params["roles"].items():
        where = f"roles.{role}"
        if role not in known:
            raise ValueError(f"{where}: no role '{role}' (roles: {', '.join(sorted(known))})")
        if not isinstance(spec, dict):
            raise ValueError(f"{where} must be a table with credentials = [...]")
        if set(spec) - {"credentials", "kinds"}:
            raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(set(spec) - {'credentials', 'kinds'}))} "
                             "(credentials, kinds)")
        creds = spec.get("credentials")
        if not isinstance(creds, list) or not creds or not all(isinstance(c, str) and c.strip() for c in creds):
            raise ValueError(f"{where}.credentials must be a list of credentials, e.g. [\"MD\", \"DO\"]")
        kinds = spec.get("kinds", list(ROLE_LISTS))
        bad = [k for k in kinds if k not in ROLE_LISTS] if isinstance(kinds, list) else [kinds]
        if bad:
            raise ValueError(f"{where}.kinds: {', '.join(map(str, bad))} is not a document kind "
                             f"({', '.join(ROLE_LISTS)})")


def _signer_credentials(doc, sig) -> str:
    """A signature's credentials, else those of the clinician it names."""
    if (sig.credentials or "").strip():
        return sig.credentials
    clinician = doc.clinician(sig.signer_id) if sig.signer_id else None
    return clinician.credentials if clinician is not None else ""


def _role_credentials(doc, role: SignerRole, found, allowed) -> Iterable[tuple[str, str]]:
    """The role's signatures ``found`` (index, signature): one finding when none carries an allowed
    credential."""
    if not found or any(has_credential(_signer_credentials(doc, sig), allowed) for _, sig in found):
        return
    index, sig = found[0]
    shown = _signer_credentials(doc, sig).strip() or "none"
    yield (f"signatures[{index}].credentials",
           f"the {role.value} line is signed with credentials {shown}; this profile accepts "
           f"{', '.join(allowed)}")


@rule("sig-present", applies_to=SIGNED, severity="blocker",
      source=["Medicare PIM ch. 3 §3.3.2.4: services are authenticated by their author [cms-pim-3]",
              "CGS, Signature and Attestation Guidelines: printed name, credentials, date [cgs-signatures]"],
      summary="Required signatures are present: the author's with printed name, and the client's (or guardian's) "
              "where the profile requires it; a role with credentials in the profile (roles.<role>.credentials) "
              "is signed by someone holding one of them",
      plan_roles=["clinician", "client"], note_roles=["clinician"], addendum_roles=["clinician"], adult_age=18,
      roles={"psychiatrist": {"credentials": ["MD", "DO"]}}, check_params=_sig_present_params)
def sig_present(doc, ctx):
    roles = ctx.params[ROLE_LISTS.get(doc.kind, "addendum_roles")]
    credentials = {role: spec["credentials"] for role, spec in ctx.params["roles"].items()
                   if doc.kind in spec.get("kinds", ROLE_LISTS)}
    if "clinician" in roles:
        found = author_signature(doc)
        if found is None:
            yield "signatures", f"no signature of the author ({doc.author_id}, {doc.author.credentials})"
        elif "clinician" in credentials:
            yield from _role_credentials(doc, SignerRole.clinician, [found], credentials["clinician"])
    for role in (SignerRole.supervisor, SignerRole.psychiatrist):
        if role.value not in roles:
            continue
        signed = _signatures(doc, role)
        if not signed:
            yield "signatures", f"no {role.value} signature"
        elif role.value in credentials:
            yield from _role_credentials(doc, role, signed, credentials[role.value])
    if "client" in roles:
        accepted = [SignerRole.client]
        if is_minor(doc, ctx.params["adult_age"]):
            accepted.append(SignerRole.guardian)
        waived = bool((getattr(doc, "client_signature_waiver_reason", None) or "").strip())
        if not _signatures(doc, *accepted) and not waived:
            yield "signatures", "no client signature (or documented reason the client did not sign)"


@rule("sig-dated", applies_to=SIGNED, severity="blocker",
      source=["Medicare PIM ch. 3 §3.3.2.4 [cms-pim-3]",
              "CGS, Signature and Attestation Guidelines: the signature is dated [cgs-signatures]"],
      summary="Every signature is dated")
def sig_dated(doc, ctx):
    for index, sig in enumerate(doc.signatures):
        if sig.date is None:
            yield f"signatures[{index}].date", f"{sig.role.value} signature is not dated"


@rule("sig-credentials", applies_to=SIGNED, severity="blocker",
      source=["CGS, Signature and Attestation Guidelines: the signature includes the signer's credentials "
              "[cgs-signatures]",
              "26 TAC 301.361(a)(13): signature with a notation of the credential [tac-26-301.361]"],
      summary="Staff signatures carry the signer's credentials")
def sig_credentials(doc, ctx):
    for index, sig in enumerate(doc.signatures):
        if sig.role in STAFF and not (sig.credentials or "").strip():
            yield f"signatures[{index}].credentials", f"{sig.role.value} signature has no credentials"


@rule("sig-no-stamp", applies_to=SIGNED, severity="blocker",
      source="Medicare PIM ch. 3 §3.3.2.4: no stamped signatures, except for an author with a disability under "
             "the Rehabilitation Act of 1973 [cms-pim-3]",
      summary="No rubber-stamp signatures, unless a documented disability permits one")
def sig_no_stamp(doc, ctx):
    for index, sig in enumerate(doc.signatures):
        if sig.method is SignatureMethod.stamp and not sig.disability_exception:
            yield f"signatures[{index}].method", f"{sig.role.value} signature is a stamp, which is not accepted"


@rule("sig-electronic", applies_to=SIGNED, severity="blocker",
      source=["Medicare PIM ch. 3 §3.3.2.4: handwritten or electronic signatures [cms-pim-3]",
              "CGS, Signatures: an electronic signature reads \"electronically signed by\" [cgs-signatures]",
              "42 CFR 482.24(c)(1): entries dated, timed and authenticated [cfr-42-482.24]"],
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


@rule("sig-order", applies_to=SIGNED, severity="blocker",
      source=["docgen policy: a co-signature follows the signature it reviews",
              "26 TAC 564.804(e): a QCC reviews and signs the plan an intern prepared [tac-26-564.804]"],
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


@rule("sig-cosign", applies_to=SIGNED, severity="blocker",
      source=["26 TAC 564.804(e): an intern's or graduate's plan is reviewed and signed by a QCC [tac-26-564.804]",
              "Centene behavioral health record policy: co-signature of supervised clinicians [centene-bh-records]"],
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
      source=["42 CFR 441.155: the plan is developed with the parents or legal guardians [cfr-42-441.155]",
              "docgen policy: a minor's plan names the guardian and carries the guardian's signature"],
      summary="For a minor, a guardian is named and signs the plan", adult_age=18)
def sig_guardian(doc, ctx):
    if not is_minor(doc, ctx.params["adult_age"]):
        return
    if doc.client.guardian is None:
        yield "client.guardian", "client is a minor: no guardian recorded"
    if not _signatures(doc, SignerRole.guardian):
        yield "signatures", "client is a minor: no guardian signature"


# --- attestations: names and dates matched as a reader would, not as substrings -----------------------

def words(text: str) -> list[str]:
    """``text`` as comparable words: accents dropped, case folded, apostrophes removed (O'Brien is
    obrien), hyphens and other punctuation separating words (Ortiz-Lopez is ortiz lopez)."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    plain = plain.casefold().replace("'", "").replace("\u2019", "")
    return re.findall(r"[^\W_]+", plain)


def names(text: str, name: str) -> bool:
    """Whether ``text`` names the person ``name`` (first, middle names, last), whole words only and
    ignoring case and punctuation: "Maria Elena Ortiz" is named by "MARIA E. ORTIZ", "Maria Ortiz" and
    "Ortiz, Maria Elena"; not by "Maria T. Ortiz" (another middle initial), "JoAnn Leeds" for "Ann Lee",
    or "M. Ortiz" (an initial is not a first name)."""
    parts, found = words(name), words(text)
    if not parts:
        return False
    if len(parts) == 1:
        return parts[0] in found
    first, last, middles = parts[0], parts[-1], parts[1:-1]

    def middle(word: str) -> bool:
        # a middle name the record has, or its initial (any single letter when the record has none)
        return word in middles or (len(word) == 1 and (not middles or any(m.startswith(word) for m in middles)))

    for i, word in enumerate(found):
        if word == last and found[i + 1:i + 2] == [first]:  # Last, First [Middle]
            return True
        if word != first:
            continue
        for j in range(i + 1, min(i + 5, len(found))):  # First [up to three middle names or initials] Last
            if found[j] == last:
                return True
            if not middle(found[j]):
                break
    return False


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_NUMERIC = re.compile(r"(?<!\d)(\d{1,4})[-/.](\d{1,2})[-/.](\d{2,4})(?!\d)")
_MONTH_FIRST = re.compile(r"\b([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_DAY_FIRST = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]{3,9})\.?,?\s+(\d{4})\b")


def _month(word: str) -> int | None:
    """1-12 for a month's name or abbreviation (sep, sept., september), else None."""
    for number, full in enumerate(_MONTHS, start=1):
        if full.startswith(word) and len(word) >= 3:
            return number
    return None


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def dates_in(text: str) -> set[date]:
    """Every date written in ``text``: 2026-09-22, 2026/09/22, 09/22/2026, 9/22/26, 9-22-2026 (month
    first, as in the US; day first only when the first number cannot be a month), September 22, 2026,
    Sept. 22 2026, 22 September 2026."""
    found: set[date | None] = set()
    lower = text.casefold()
    for a, b, c in _NUMERIC.findall(lower):
        if len(a) == 4:  # year first
            found.add(_day(int(a), int(b), int(c)))
        elif len(c) in (2, 4):
            year = int(c) + (2000 if len(c) == 2 else 0)
            first, second = int(a), int(b)
            found.add(_day(year, first, second) if first <= 12 else _day(year, second, first))
    for word, day, year in _MONTH_FIRST.findall(lower):
        if (month := _month(word)) is not None:
            found.add(_day(int(year), month, int(day)))
    for day, word, year in _DAY_FIRST.findall(lower):
        if (month := _month(word)) is not None:
            found.add(_day(int(year), month, int(day)))
    return {d for d in found if d is not None}


@rule("sig-attestation", applies_to=BOTH, severity="blocker",
      source=["Medicare PIM ch. 3 §3.3.2.4: an attestation by the author remedies a missing or illegible "
              "signature [cms-pim-3]",
              "Palmetto GBA signature attestation FAQ: signed and dated by the author, identifies the "
              "beneficiary [palmetto-attestation]"],
      summary="An attestation on a staff signature (made when a reviewer finds it missing or illegible) is by the "
              "signer, dated no earlier than the date of service, and names the beneficiary and the date of service "
              "(names and dates matched ignoring case, punctuation, middle names or initials, and date format). "
              "When a signature is late is the profile's timeliness rule (note-timeliness), not this one")
def sig_attestation(doc, ctx):
    service = doc.service_date
    for index, sig in enumerate(doc.signatures):
        att = sig.attestation
        if sig.role not in STAFF or att is None:
            continue
        where = f"signatures[{index}].attestation"
        if not names(att.by, sig.name):
            yield f"{where}.by", "an attestation must be made by the signer themself"
        if att.date < service:
            yield f"{where}.date", f"attestation dated {att.date.isoformat()}, before the date of service"
        if not names(att.text, doc.client.name):
            yield f"{where}.text", "attestation does not name the beneficiary"
        if service not in dates_in(att.text):
            yield f"{where}.text", f"attestation does not name the date of service ({service.isoformat()})"
