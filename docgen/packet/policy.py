"""What a packet may hold and when it must be refused: purposes, minimum necessary, psychotherapy
notes, 42 CFR Part 2 and HIPAA authorizations. Parameters come from the profile's ``[packet]`` table
(``docgen/profiles/default.toml``); nothing here knows a regulation's wording.

Every check returns :class:`Refusal` rows: record id, field path, rule id and a message written from
ids, dates and rule names only (never client names or clinical text).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..model import Addendum, ConsentSigner, ConsentType, ProgressNote, TreatmentPlan

#: Composed section key -> the record fields it shows (left out of the attached JSON with the section).
PLAN_FIELDS = {
    "history": ("history",), "concerns": ("presenting_concerns", "presenting_concerns_client_words"),
    "diagnoses": ("diagnoses",),
    "person": ("strengths", "needs", "barriers", "client_vision", "preferences", "supports"),
    "goals": ("goals",), "measures": ("assessments",), "risk": ("risk_assessment",), "safety": ("safety_plan",),
    "necessity": ("medical_necessity",), "consents": ("consents",),
    "discharge": ("discharge_criteria", "projected_length_of_stay"),
}
NOTE_FIELDS = {
    "diagnoses": ("diagnoses",), "evaluation": ("evaluation",), "prognosis": ("prognosis",),
    "safety": ("safety_plan",),
    "goals": ("goals_addressed",), "measures": ("assessments",), "risk": ("risk_update", "risk_assessment"),
    **{name: (name,) for name in ("subjective", "objective", "behavior", "data", "goal", "intervention", "response",
                                  "assessment", "plan")},
}
#: Never in a packet, whatever the purpose (45 CFR 164.501: psychotherapy notes).
PROCESS_NOTES = "psychotherapy_notes"
#: An addendum's own sections: what it amends, what changed, why, who signed. Always kept with the
#: document it amends; its changes follow the purpose as the original's sections do (:func:`changes_kept`).
ADDENDUM_SECTIONS = ("addendum", "original", "changes", "reason", "signatures")
#: The title of each composed section a change may name, for the cover's list of what was left out.
SECTION_TITLES = {
    "history": "History", "concerns": "Presenting concerns", "diagnoses": "Diagnoses",
    "person": "Strengths, needs and preferences", "goals": "Goals", "measures": "Measures", "risk": "Risk",
    "safety": "Safety plan", "necessity": "Medical necessity", "consents": "Consents", "discharge": "Discharge",
    "evaluation": "Diagnostic evaluation", "prognosis": "Prognosis", "psychotherapy_notes": "Psychotherapy notes",
}
TPO = ("treatment", "payment", "operations")


from ..errors import PolicyError  # noqa: E402 - packet settings missing or wrong, unknown purpose


@dataclass(frozen=True)
class Refusal:
    record: str  # record id, or "packet" for the request itself
    field: str
    rule: str
    message: str

    def line(self) -> str:
        return f"record {self.record}: {self.field}: {self.message} [{self.rule}]"

    def as_dict(self) -> dict[str, str]:
        return {"record": self.record, "field": self.field, "rule": self.rule, "message": self.message}


@dataclass(frozen=True)
class Purpose:
    name: str
    tpo: str  # treatment | payment | operations | "" (needs an authorization)
    description: str
    consent_terms: tuple[str, ...]
    plan_sections: tuple[str, ...]
    note_sections: tuple[str, ...]

    def sections(self, kind: str) -> tuple[str, ...]:
        if kind == "addendum":
            return ADDENDUM_SECTIONS
        return self.plan_sections if kind == "treatment_plan" else self.note_sections


@dataclass(frozen=True)
class Notice:
    version: str
    text: str


@dataclass(frozen=True)
class Policy:
    purposes: dict[str, Purpose]
    part2_program_types: tuple[str, ...]
    notices: tuple[tuple[date, Notice], ...]

    def purpose(self, name: str) -> Purpose:
        if name not in self.purposes:
            raise PolicyError(f"unknown purpose '{name}' (the profile has: {', '.join(self.purposes)})")
        return self.purposes[name]

    def notice(self, day: date) -> Notice:
        """p2-version: the notice in force on the disclosure date (the last one starting on or before it)."""
        chosen = self.notices[0][1]
        for start, notice in self.notices:
            if start <= day:
                chosen = notice
        return chosen


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"profile: {where} must be a list of strings")
    return tuple(value)


def load_policy(profile) -> Policy:
    """The packet settings of a :class:`docgen.check.Profile` (inherited from ``default``)."""
    data = profile.packet or {}
    raw = data.get("purposes")
    if not isinstance(raw, dict) or not raw:
        raise PolicyError(f"profile {profile.name}: no [packet.purposes] table")
    purposes = {}
    for name, table in raw.items():
        where = f"packet.purposes.{name}"
        tpo = table.get("tpo", "")
        if tpo not in (*TPO, ""):
            raise PolicyError(f"profile {profile.name}: {where}.tpo must be one of {', '.join(TPO)} or \"\"")
        purposes[name] = Purpose(name, tpo, str(table.get("description", "")),
                                 tuple(t.casefold() for t in _strings(table.get("consent_terms", []), where)),
                                 _strings(table.get("plan_sections", []), f"{where}.plan_sections"),
                                 _strings(table.get("note_sections", []), f"{where}.note_sections"))
    part2 = data.get("part2", {})
    notices = []
    for entry in part2.get("notices", []):
        start = entry.get("from")
        if not isinstance(start, date) or not entry.get("text"):
            raise PolicyError(f"profile {profile.name}: each [[packet.part2.notices]] needs a from date and a text")
        notices.append((start, Notice(str(entry.get("version", start.isoformat())), " ".join(entry["text"].split()))))
    if not notices:
        raise PolicyError(f"profile {profile.name}: no [[packet.part2.notices]]")
    return Policy(purposes, _strings(part2.get("program_types", []), "packet.part2.program_types"),
                  tuple(sorted(notices, key=lambda n: n[0])))


# --- psychotherapy notes and minimum necessary --------------------------------------------------
def is_psychotherapy_note(record) -> bool:
    """hipaa-pn-split: a note flagged as a psychotherapy note (45 CFR 164.501) never enters a packet."""
    return isinstance(record, ProgressNote) and record.psychotherapy_note


#: The section every purpose keeps, where a record's other top-level fields are shown.
ALWAYS_KEPT = {"treatment_plan": "identifying", "progress_note": "session"}
#: First words a clinician may name a section by (singular or plural, or a title's first word).
SECTION_WORDS = {
    "history": "history", "presenting": "concerns", "concern": "concerns", "concerns": "concerns",
    "diagnosis": "diagnoses", "diagnoses": "diagnoses", "strengths": "person", "needs": "person",
    "preferences": "person", "barriers": "person", "supports": "person", "goal": "goals", "goals": "goals",
    "objective": "goals", "objectives": "goals", "intervention": "goals", "interventions": "goals",
    "measure": "measures", "measures": "measures", "measurement": "measures", "risk": "risk",
    "safety": "safety", "medical": "necessity", "necessity": "necessity", "consent": "consents",
    "consents": "consents", "discharge": "discharge", "evaluation": "evaluation", "diagnostic": "evaluation",
    "prognosis": "prognosis", "identifying": "identifying", "session": "session", "signatures": "signatures",
    "psychotherapy": PROCESS_NOTES,
}
_FIRST = re.compile(r"[a-z_][a-z0-9_]*")
UNNAMED = "an unnamed section"


def changed_section(kind: str, path: str | None) -> str | None:
    """The section of the original (of ``kind``) an addendum's change names, by its field path
    ("goals[G2].objectives[G2.O1]" -> "goals"; "next_review_date", a field shown with the identifying
    data -> "identifying") or in words ("History and assessment" -> "history"; "Goal G2" -> "goals").
    Invisible characters, case and width do not count. None: it names no section docgen knows."""
    text = "".join(c for c in unicodedata.normalize("NFKC", path or "") if unicodedata.category(c) != "Cf")
    text = text.strip().casefold()
    found = _FIRST.match(text)
    if found is None:
        return None
    name = found.group(0)
    if name == PROCESS_NOTES:
        return PROCESS_NOTES
    fields = PLAN_FIELDS if kind == "treatment_plan" else NOTE_FIELDS
    for section, names in fields.items():
        if name == section or name in names:
            return section
    if name in SECTION_WORDS:
        return SECTION_WORDS[name]
    model = TreatmentPlan if kind == "treatment_plan" else ProgressNote
    if name in model.model_fields:
        return ALWAYS_KEPT[kind]
    return None


def changes_kept(record: Addendum, purpose: Purpose) -> tuple[Addendum, tuple[str, ...]]:
    """Minimum necessary for an addendum: the changes to sections of the original the purpose leaves
    out (and any to psychotherapy notes) are withheld. When the purpose leaves any section out, a
    change naming no section docgen knows (or none) is withheld too: what it touches cannot be told,
    and minimum necessary fails closed. Returns the addendum as disclosed and the titles of the
    sections whose changes were withheld."""
    kind = record.original.kind.value
    keep = set(purpose.sections(kind))
    omits = bool(set(PLAN_FIELDS if kind == "treatment_plan" else NOTE_FIELDS) - keep)
    kept, withheld = [], []
    for change in record.changes:
        section = changed_section(kind, change.section)
        if section is None and omits:
            withheld.append(UNNAMED)
        elif section is not None and (section == PROCESS_NOTES or section not in keep):
            withheld.append(SECTION_TITLES.get(section, section))
        else:
            kept.append(change)
    if not withheld:
        return record, ()
    return record.model_copy(update={"changes": kept}), tuple(dict.fromkeys(withheld))


def record_json(record, purpose: Purpose) -> dict:
    """The record as attached to the packet: validated JSON without process notes and without the
    fields of the sections the purpose leaves out (so the JSON discloses no more than the pages)."""
    if isinstance(record, Addendum):
        record = changes_kept(record, purpose)[0]
    data = record.model_dump(mode="json")
    data.pop(PROCESS_NOTES, None)
    fields = PLAN_FIELDS if isinstance(record, TreatmentPlan) else NOTE_FIELDS
    keep = set(purpose.sections(record.kind))
    for section, names in fields.items():
        if section not in keep:
            for name in names:
                data.pop(name, None)
    return data


# --- 42 CFR Part 2 ------------------------------------------------------------------------------
def is_part2(record, policy: Policy) -> bool:
    """p2-flag: the record comes from a Part 2 program (flagged, or a program type the profile lists)."""
    agency = record.agency
    return bool(agency.part2_program) or agency.program_type.value in policy.part2_program_types


def _norm(text: str | None) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", (text or "").casefold()).split())


def recipient_matches(named: str | None, recipient: str) -> bool:
    """The consent names this recipient: one name contains the other, ignoring case and punctuation."""
    a, b = _norm(named), _norm(recipient)
    return bool(a and b) and (f" {b} " in f" {a} " or f" {a} " in f" {b} ")


def purpose_matches(stated: str | None, purpose: Purpose) -> bool:
    text = f" {_norm(stated)} "
    return any(f" {_norm(term)}" in text for term in purpose.consent_terms)


@dataclass(frozen=True)
class ConsentRef:
    """A consent found in a plan of the client: where it is and what it says."""

    plan_id: str
    index: int
    consent: Any

    @property
    def path(self) -> str:
        return f"consents[{self.index}]"

    @property
    def label(self) -> str:
        return self.consent.id or f"{self.plan_id} {self.path}"


def consents_of(plans: list[TreatmentPlan], kind: ConsentType) -> list[ConsentRef]:
    return [ConsentRef(p.id, i, c) for p in plans for i, c in enumerate(p.consents) if c.type is kind]


def _common_problems(ref: ConsentRef, recipient: str, day: date) -> list[tuple[str, str]]:
    """(field, message) for what a Part 2 consent and a HIPAA authorization both need."""
    c = ref.consent
    out = []
    if not c.signed:
        out.append(("signed_by", "not signed and dated"))
    elif not c.in_force_on(day):
        if c.date_signed > day:
            out.append(("date_signed",
                        f"signed {c.date_signed.isoformat()}, after the disclosure date {day.isoformat()}"))
        elif c.revoked is not None and c.revoked <= day:
            out.append(("revoked", f"revoked {c.revoked.isoformat()}"))
        else:
            out.append(("expires", f"expired {c.expires.isoformat()}, before the disclosure date {day.isoformat()}"))
    if not c.recipient:
        out.append(("recipient", "no recipient named"))
    elif not recipient_matches(c.recipient, recipient):
        out.append(("recipient", "names another recipient"))
    if not c.information_description:
        out.append(("information_description", "no description of the information to disclose"))
    if not c.disclosing_party:
        out.append(("disclosing_party", "does not name who may disclose"))
    if not c.purpose:
        out.append(("purpose", "no purpose stated"))
    if c.expires is None and not c.expiration_event:
        out.append(("expires", "no expiration date or event"))
    if not c.right_to_revoke_statement:
        out.append(("right_to_revoke_statement", "no statement of the right to revoke"))
    if c.signer_role is ConsentSigner.representative and not c.representative_authority:
        out.append(("representative_authority", "signed by a representative without a description of their authority"))
    return out


def _pick(refs: list[ConsentRef], problems) -> tuple[ConsentRef | None, list[tuple[ConsentRef, str, str]]]:
    """The first consent without problems; else the problems of every candidate."""
    found: list[tuple[ConsentRef, str, str]] = []
    for ref in refs:
        rows = problems(ref)
        if not rows:
            return ref, []
        found.extend((ref, f, m) for f, m in rows)
    return None, found


def check_part2(plans: list[TreatmentPlan], part2_records: list[str], recipient: str, purpose: Purpose,
                day: date, subject: str) -> tuple[ConsentRef | None, list[Refusal]]:
    """p2-consent: a Part 2 consent (2024 42 CFR 2.31 elements) in force on ``day``, naming this
    recipient and a purpose that fits. ``subject``: the record id refusals point at."""

    def problems(ref: ConsentRef) -> list[tuple[str, str]]:
        c = ref.consent
        out = _common_problems(ref, recipient, day)
        if c.purpose and purpose.consent_terms and not purpose_matches(c.purpose, purpose):
            out.append(("purpose", f"purpose does not cover '{purpose.name}'"))
        if purpose.tpo and not c.redisclosure_statement:
            out.append(("redisclosure_statement", "a TPO consent needs the HIPAA redisclosure statement"))
        return out

    refs = consents_of(plans, ConsentType.part2)
    why = f"Part 2 records ({', '.join(part2_records)}) need a Part 2 consent"
    if not refs:
        return None, [Refusal(subject, "consents", "p2-consent", f"{why}; none on file")]
    chosen, rows = _pick(refs, problems)
    if chosen:
        return chosen, []
    return None, [Refusal(ref.plan_id, f"{ref.path}.{f}", "p2-consent", f"Part 2 consent {ref.label}: {m}")
                  for ref, f, m in rows]


def check_authorization(plans: list[TreatmentPlan], recipient: str, day: date,
                        subject: str) -> tuple[ConsentRef | None, list[Refusal]]:
    """hipaa-auth-core and hipaa-auth-valid: a HIPAA authorization (45 CFR 164.508(c)) with every core
    element and required statement, signed, in force on ``day`` and naming this recipient."""
    core = {"information_description", "disclosing_party", "recipient", "purpose", "expires", "signed_by",
            "representative_authority"}

    def problems(ref: ConsentRef) -> list[tuple[str, str]]:
        c = ref.consent
        out = _common_problems(ref, recipient, day)
        if not c.conditioning_statement:
            out.append(("conditioning_statement", "no statement on conditioning treatment or payment"))
        if not c.redisclosure_statement:
            out.append(("redisclosure_statement", "no statement on redisclosure by the recipient"))
        return out

    refs = consents_of(plans, ConsentType.hipaa_authorization)
    if not refs:
        return None, [Refusal(subject, "consents", "hipaa-auth-core",
                              "a release outside treatment, payment and operations needs a HIPAA authorization; "
                              "none on file")]
    chosen, rows = _pick(refs, problems)
    if chosen:
        return chosen, []
    out = []
    for ref, f, m in rows:
        rule = "hipaa-auth-core" if f in core and m.startswith(("no ", "does not", "not signed", "signed by a rep")) \
            else "hipaa-auth-valid"
        if f.endswith("_statement"):
            rule = "hipaa-auth-core"
        out.append(Refusal(ref.plan_id, f"{ref.path}.{f}", rule, f"HIPAA authorization {ref.label}: {m}"))
    return None, out
