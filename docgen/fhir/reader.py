"""FHIR R4 -> docgen records: a treatment plan from each CarePlan (with its Goals, Conditions, activities,
QuestionnaireResponses, Consents and Provenances), a progress note from each Encounter.

The same functions read the Bundles docgen exports (the export checks with them what FHIR gives back,
see :mod:`docgen.fhir.export`) and the Bundles EHRs export. What a record needs and FHIR does not say
is filled with a stated default and reported (``assumed``); what a resource holds that docgen has no
field for is reported (``unmapped``), per resource, never dropped silently; an imported total that
disagrees with its items is a ``finding``: docgen keeps the items and recomputes the total.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import LoadError
from . import codes as C
from .resources import Index, label, shown

#: Elements of each resource type the reader uses (the others are reported as left out).
USED = {
    "Patient": {"identifier", "name", "birthDate", "gender", "communication", "telecom", "address",
                "managingOrganization"},
    "Organization": {"identifier", "name", "telecom", "address", "active"},
    "Practitioner": {"identifier", "name", "qualification", "active"},
    "PractitionerRole": {"practitioner", "organization", "code", "active"},
    "Coverage": {"status", "beneficiary", "payor", "type", "subscriberId"},
    "Condition": {"code", "subject", "verificationStatus", "clinicalStatus", "category", "onsetDateTime"},
    "CarePlan": {"identifier", "status", "intent", "category", "subject", "period", "created", "author",
                 "contributor", "addresses", "goal", "activity", "supportingInfo", "text"},
    "Goal": {"identifier", "lifecycleStatus", "achievementStatus", "category", "description", "subject", "target",
             "addresses", "note", "expressedBy"},
    "Encounter": {"identifier", "status", "class", "type", "serviceType", "subject", "participant", "period",
                  "length", "diagnosis", "serviceProvider", "location", "text"},
    "QuestionnaireResponse": {"identifier", "questionnaire", "status", "subject", "authored", "item", "encounter"},
    "Observation": {"status", "category", "code", "subject", "effectiveDateTime", "hasMember", "derivedFrom",
                    "valueInteger", "valueQuantity", "valueCodeableConcept", "interpretation", "encounter"},
    "Consent": {"identifier", "status", "scope", "category", "patient", "dateTime", "performer", "provision",
                "policyRule"},
    "Provenance": {"target", "recorded", "occurredDateTime", "agent", "activity", "signature"},
    "DocumentReference": {"identifier", "status", "docStatus", "type", "category", "subject", "author", "content",
                          "context"},
}
#: Elements every resource may have that carry nothing docgen reads (bookkeeping).
BOOKKEEPING = {"resourceType", "id", "meta", "implicitRules", "language", "extension", "modifierExtension"}


@dataclass
class Line:
    """One line of an import's report: ``kind`` is unmapped, assumed or finding."""

    kind: str
    resource: str
    message: str

    def text(self) -> str:
        return f"{self.kind}: {self.resource}: {self.message}"


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)
    quiet: bool = False
    _seen: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, kind: str, resource: dict | str, message: str) -> None:
        if self.quiet:
            return
        line = Line(kind, resource if isinstance(resource, str) else label(resource), message)
        key = (line.kind, line.resource, line.message)
        if key not in self._seen:
            self._seen.add(key)
            self.lines.append(line)

    @property
    def findings(self) -> list[Line]:
        return [line for line in self.lines if line.kind == "finding"]


# --- small readers ------------------------------------------------------------------------------------
def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _coding(concept: Any, system: str | None = None) -> dict | None:
    if not isinstance(concept, dict):
        return None
    for coding in concept.get("coding", []) or []:
        if isinstance(coding, dict) and (system is None or coding.get("system") == system) and coding.get("code"):
            return coding
    return None


def _code(concept: Any, system: str) -> str | None:
    coding = _coding(concept, system)
    return str(coding["code"]) if coding else None


def _concept_text(concept: Any) -> str | None:
    if not isinstance(concept, dict):
        return None
    if _text(concept.get("text")):
        return concept["text"]
    coding = _coding(concept)
    return _text(coding.get("display")) if coding else None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _identifier(resource: dict, system: str) -> str | None:
    for ident in resource.get("identifier", []) or []:
        if isinstance(ident, dict) and ident.get("system") == system and _text(ident.get("value")):
            return ident["value"]
    return None


def _date(value: Any) -> str | None:
    """The calendar date of a FHIR date or dateTime (``2026-09-08T10:00:00+00:00`` -> ``2026-09-08``)."""
    if isinstance(value, str) and re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return value[:10]
    return None


def _clock(value: Any) -> str | None:
    """The clock time of a dateTime as written (docgen's times carry no zone; see export)."""
    if isinstance(value, str):
        match = re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T([0-9]{2}:[0-9]{2})(?::([0-9]{2}))?", value)
        if match:  # as docgen writes a time (HH:MM:SS)
            return f"{match.group(1)}:{match.group(2) or '00'}"
    return None


def _name(resource: dict) -> str | None:
    for name in resource.get("name", []) or []:
        if not isinstance(name, dict):
            continue
        if _text(name.get("text")):
            return name["text"]
        parts: list[str] = [g for g in name.get("given", []) or [] if isinstance(g, str)]
        if isinstance(name.get("family"), str):
            parts.append(name["family"])
        if parts:
            return " ".join(parts)
    return None


def _telecom(resource: dict) -> str | None:
    for point in resource.get("telecom", []) or []:
        if isinstance(point, dict) and point.get("system") == "phone" and _text(point.get("value")):
            return point["value"]
    return None


def _address(resource: dict) -> str | None:
    for address in resource.get("address", []) or []:
        if not isinstance(address, dict):
            continue
        if _text(address.get("text")):
            return address["text"]
        lines = [x for x in address.get("line", []) or [] if isinstance(x, str)]
        tail = " ".join(x for x in (address.get("city"), address.get("state"), address.get("postalCode"))
                        if isinstance(x, str))
        text = "\n".join([*lines, tail] if tail else lines)
        if text:
            return text
    return None


def _left_out(resource: dict, report: Report, also: frozenset[str] = frozenset()) -> None:
    used = USED.get(str(resource.get("resourceType")), set()) | BOOKKEEPING | also
    extra = sorted(k for k in resource if k not in used and not k.startswith("_"))
    if extra:
        report.add("unmapped", resource, f"left out: {', '.join(extra)}")


# --- parties -----------------------------------------------------------------------------------------
GENDERS = {"female": "female", "male": "male"}


def client_of(patient: dict, report: Report) -> dict:
    client: dict[str, Any] = {"id": _identifier(patient, C.CLIENT_ID) or _identifier_any(patient) or patient.get("id"),
                              "name": _name(patient), "date_of_birth": _date(patient.get("birthDate"))}
    gender = patient.get("gender")
    if gender in GENDERS:
        client["gender"] = GENDERS[gender]
    elif gender == "other":
        client["gender"] = "other"
    for comm in patient.get("communication", []) or []:
        language = _concept_text(comm.get("language")) if isinstance(comm, dict) else None
        if language is None and isinstance(comm, dict):
            language = _code(comm.get("language"), C.LANGUAGE)
            language = LANGUAGE_NAMES.get(language or "", language)
        if language:
            client["preferred_language"] = language
            break
    if _telecom(patient):
        client["phone"] = _telecom(patient)
    if _address(patient):
        client["address"] = _address(patient)
    _left_out(patient, report)
    return {k: v for k, v in client.items() if v is not None}


LANGUAGE_NAMES = {"en": "English", "en-US": "English", "es": "Spanish", "vi": "Vietnamese", "zh": "Chinese",
                  "ko": "Korean", "ar": "Arabic", "fr": "French", "ru": "Russian", "so": "Somali", "hmn": "Hmong"}


def _identifier_any(resource: dict) -> str | None:
    """An EHR's own identifier (its MRN): the first identifier with a value."""
    for ident in resource.get("identifier", []) or []:
        if isinstance(ident, dict) and _text(ident.get("value")):
            return ident["value"]
    return None


def agency_of(org: dict, report: Report) -> dict:
    agency: dict[str, Any] = {"name": org.get("name"), "npi": _identifier(org, C.NPI)}
    if _address(org):
        agency["address"] = _address(org)
    if _telecom(org):
        agency["phone"] = _telecom(org)
    _left_out(org, report)
    return {k: v for k, v in agency.items() if v is not None}


def clinician_of(practitioner: dict, index: Index, report: Report) -> dict:
    clinician: dict[str, Any] = {
        "id": _identifier(practitioner, C.CLINICIAN_ID) or practitioner.get("id"), "name": _name(practitioner)}
    for qualification in practitioner.get("qualification", []) or []:
        text = _concept_text(qualification.get("code")) if isinstance(qualification, dict) else None
        if text is None and isinstance(qualification, dict):
            coding = _coding(qualification.get("code"))
            text = str(coding["code"]) if coding else None
        if text:
            clinician["credentials"] = text
            break
    if "credentials" not in clinician:
        clinician["credentials"] = "not stated"
        report.add("assumed", practitioner, "no qualification: credentials 'not stated'")
    for role in index.pointing("PractitionerRole", "practitioner", practitioner)[:1]:
        index.touch(role)
        title = next((_concept_text(c) for c in role.get("code", []) or [] if _concept_text(c)), None)
        if title:
            clinician["title"] = title
    npi = _identifier(practitioner, C.NPI)
    if npi:
        clinician["npi"] = npi
    _left_out(practitioner, report)
    return {k: v for k, v in clinician.items() if v is not None}


PAYER_TYPES = {code: name for name, code in C.PAYER_CODES.items()}


def payer_of(coverage: dict, report: Report) -> dict:
    payor = next((p for p in coverage.get("payor", []) or [] if isinstance(p, dict)), {})
    code = _code(coverage.get("type"), C.PAYER_TYPOLOGY)
    kind = PAYER_TYPES.get(code or "") or PAYER_TYPES.get((code or "")[:1])
    if kind is None:
        kind = "other"
        report.add("assumed", coverage, "no Source of Payment Typology code docgen knows: payer type 'other'")
    payer: dict[str, Any] = {"name": _text(payor.get("display")) or _concept_text(coverage.get("type")), "type": kind}
    if _text(coverage.get("subscriberId")):
        payer["member_id"] = coverage["subscriberId"]
    _left_out(coverage, report)
    return {k: v for k, v in payer.items() if v is not None}


def diagnosis_of(condition: dict, report: Report) -> dict | None:
    coding = _coding(condition.get("code"), C.ICD10CM)
    if coding is None:
        report.add("unmapped", condition, "no ICD-10-CM code: not a docgen diagnosis")
        return None
    dx: dict[str, Any] = {"code": str(coding["code"])}
    description = _text(condition.get("code", {}).get("text")) or _text(coding.get("display"))
    if description:
        dx["description"] = description
    status = _code(condition.get("verificationStatus"), C.CONDITION_VERIFICATION)
    if status in ("confirmed", "provisional"):
        dx["status"] = status
    elif status == "differential":
        dx["status"] = "rule-out"
    onset = _date(condition.get("onsetDateTime"))
    if onset:
        dx["onset"] = onset
    _left_out(condition, report)
    return dx


# --- measurement-based care -------------------------------------------------------------------------------
ITEM_CODES = {code: (instrument, n) for instrument, (_p, _t, items, _d, _q) in C.INSTRUMENTS.items()
              for n, code in enumerate(items)}
ANSWER_SCORES = {code: score for score, (code, _display) in enumerate(C.ANSWERS)}
PANELS = {panel: instrument for instrument, (panel, _t, _i, _d, _q) in C.INSTRUMENTS.items()}
TOTALS = {total: instrument for instrument, (_p, total, _i, _d, _q) in C.INSTRUMENTS.items()}


def _answer_score(value: Any) -> int | None:
    """0-3 from an answer: a LOINC LA code, an integer, or a coding whose code is a digit."""
    if isinstance(value, dict):
        if "valueCoding" in value:
            return _answer_score(value["valueCoding"])
        if "valueInteger" in value:
            return _answer_score(value["valueInteger"])
        code = value.get("code")
        if code in ANSWER_SCORES:
            return ANSWER_SCORES[code]
        if isinstance(code, str) and code.isdigit():
            return _answer_score(int(code))
        if "coding" in value:
            return next((s for c in value.get("coding", []) or [] if (s := _answer_score(c)) is not None), None)
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3:
        return value
    return None


def _questionnaire(qr: dict) -> str | None:
    canonical = qr.get("questionnaire")
    if not isinstance(canonical, str):
        return None
    for instrument, (panel, _t, _i, display, url) in C.INSTRUMENTS.items():
        if canonical.split("|")[0] in (url, f"Questionnaire/{panel}") or canonical.rstrip("/").endswith(panel) \
                or display.replace("-", "").lower() in canonical.replace("-", "").lower():
            return instrument
    return None


def assessment_of_qr(qr: dict, report: Report) -> dict | None:
    instrument = _questionnaire(qr)
    if instrument is None:
        report.add("unmapped", qr, "not a PHQ-9 or GAD-7 questionnaire")
        return None
    size = len(C.INSTRUMENTS[instrument][2])
    items: list[int | None] = [None] * size
    stated_total = None

    def walk(entries: Any) -> None:
        nonlocal stated_total
        for item in entries or []:
            if not isinstance(item, dict):
                continue
            link = str(item.get("linkId", ""))
            answers = [a for a in item.get("answer", []) or [] if isinstance(a, dict)]
            if link in ITEM_CODES and ITEM_CODES[link][0] == instrument:
                if answers:
                    items[ITEM_CODES[link][1]] = _answer_score(answers[0])
            elif link == C.INSTRUMENTS[instrument][1] and answers:
                stated_total = answers[0].get("valueInteger", answers[0].get("valueDecimal"))
            elif item.get("item"):
                walk(item.get("item"))
            elif answers:
                report.add("unmapped", qr, f"an item that is not a {C.INSTRUMENTS[instrument][3]} item (linkId "
                                           f"'{shown(link, 24)}')")
            for answer in answers:
                walk(answer.get("item"))

    walk(qr.get("item"))
    out: dict[str, Any] = {"instrument": instrument, "date": _date(qr.get("authored"))}
    ident = _identifier(qr, C.RECORD_ID)
    if ident:
        out["id"] = ident
    out["items"] = items
    _check_total(qr, instrument, items, stated_total, report)
    _left_out(qr, report)
    return out


def _check_total(resource: dict, instrument: str, items: list[int | None], stated: Any, report: Report) -> None:
    if stated is None:
        return
    display = C.INSTRUMENTS[instrument][3]
    if any(i is None for i in items):
        report.add("finding", resource, f"{display} total {stated} given, but not every item is answered: "
                                        "docgen keeps the items and no total")
    elif stated != sum(items):  # type: ignore[arg-type]
        report.add("finding", resource, f"{display} total {stated} disagrees with its items (sum {sum(items)}): "  # type: ignore[arg-type]
                                        "docgen keeps the items and recomputes the total")


def assessment_of_panel(panel: dict, index: Index, report: Report) -> dict | None:
    """PHQ-9 or GAD-7 from a panel Observation whose ``hasMember`` are the item (and total) Observations."""
    instrument = PANELS.get(_code(panel.get("code"), C.LOINC) or "")
    if instrument is None:
        return None
    items: list[int | None] = [None] * len(C.INSTRUMENTS[instrument][2])
    stated = None
    for n, member_ref in enumerate(panel.get("hasMember", []) or []):
        member = index.resolve(member_ref, f"hasMember[{n}]", panel, ("Observation", "QuestionnaireResponse"))
        if member is None or member.get("resourceType") != "Observation":
            continue
        code = _code(member.get("code"), C.LOINC) or ""
        if code in ITEM_CODES and ITEM_CODES[code][0] == instrument:
            value = member.get("valueCodeableConcept", member.get("valueInteger"))
            if isinstance(member.get("valueQuantity"), dict):
                value = member["valueQuantity"].get("value")
            items[ITEM_CODES[code][1]] = _answer_score(int(value) if isinstance(value, float) else value)
        elif code == C.INSTRUMENTS[instrument][1]:
            stated = _total_value(member)
    return {"instrument": instrument, "date": _date(panel.get("effectiveDateTime")), "items": items,
            "_stated": stated}


def _total_value(observation: dict) -> Any:
    if "valueInteger" in observation:
        return observation["valueInteger"]
    quantity = observation.get("valueQuantity")
    if isinstance(quantity, dict) and isinstance(quantity.get("value"), (int, float)):
        value = quantity["value"]
        return int(value) if float(value).is_integer() else value
    return None


# --- the index of what belongs to a record ---------------------------------------------------------------
def _refs(resource: dict, key: str, index: Index, types: tuple[str, ...] = ()) -> list[dict]:
    out = []
    values = resource.get(key)
    if isinstance(values, dict):
        values = [values]
    for n, value in enumerate(values or []):
        found = index.resolve(value, f"{key}[{n}]", resource, types)
        if found is not None:
            out.append(found)
    return out


def _provenances(target: dict, index: Index) -> list[dict]:
    return [index.touch(prov) for prov in index.pointing("Provenance", "target", target)]


ROLES = {"clinician", "supervisor", "psychiatrist", "client", "guardian", "other"}
AGENT_ROLE = {"author": "clinician", "verifier": "supervisor", "attester": "psychiatrist", "informant": "client"}


def signature_of(prov: dict, index: Index, report: Report) -> dict | None:
    agents = [a for a in prov.get("agent", []) or [] if isinstance(a, dict)]
    if not agents:
        report.add("unmapped", prov, "no agent: not a signature")
        return None
    agent = agents[0]
    role = None
    for concept in agent.get("role", []) or []:
        code = _code(concept, f"{C.DOCGEN}:signer-role")
        if code in ROLES:
            role = code
    if role is None:
        role = AGENT_ROLE.get(_code(agent.get("type"), C.PROVENANCE_AGENT) or "", "other")
        report.add("assumed", prov, f"signer role '{role}' from the agent type")
    who = agent.get("who", {})
    found = index.resolve(who, "agent[0].who", prov, ("Practitioner", "Patient", "RelatedPerson", "Organization",
                                                      "PractitionerRole"))
    name = _text(who.get("display")) if isinstance(who, dict) else None
    if name is None and found is not None:
        name = _name(found)
    sig: dict[str, Any] = {"role": role, "name": name or "not stated"}
    if found is not None and found.get("resourceType") == "Practitioner":
        sig["signer_id"] = _identifier(found, C.CLINICIAN_ID) or found.get("id")
        qualification = next((q for q in found.get("qualification", []) or [] if isinstance(q, dict)), {})
        if _concept_text(qualification.get("code")):
            sig["credentials"] = _concept_text(qualification.get("code"))
    method = _code(prov.get("activity"), f"{C.DOCGEN}:signature-method")
    sig["method"] = method or "electronic"
    if method is None:
        report.add("assumed", prov, "signature method 'electronic'")
    when = prov.get("occurredDateTime") or prov.get("recorded")
    sig["date"] = _date(when)
    clock = _clock(when)
    if clock:
        sig["time"] = clock
    _left_out(prov, report)
    return {k: v for k, v in sig.items() if v is not None}


PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CONSENT_TYPES = {"treatment", "release_of_information", "hipaa_authorization", "part2", "telehealth",
                 "psychotherapy_notes_authorization"}
POLICY_TYPES = {"cfr42": "part2", "hipaa-auth": "hipaa_authorization"}


def consent_of(consent: dict, report: Report) -> dict:
    kind = None
    for concept in consent.get("category", []) or []:
        code = _code(concept, f"{C.DOCGEN}:consent-type")
        if code in CONSENT_TYPES:
            kind = code
    if kind is None:
        for rule in [consent.get("policyRule")]:
            kind = POLICY_TYPES.get(_code(rule, C.CONSENT_POLICY) or "")
        if kind is None:
            kind = "treatment" if _code(consent.get("scope"), C.CONSENT_SCOPE) == "treatment" else \
                "release_of_information"
        report.add("assumed", consent, f"consent type '{kind}' from its scope and policy")
    out: dict[str, Any] = {"type": kind}
    ident = _identifier(consent, C.RECORD_ID)
    if ident:
        out["id"] = ident
    performer = next((p for p in consent.get("performer", []) or [] if isinstance(p, dict)), None)
    if performer and _text(performer.get("display")):
        out["signed_by"] = performer["display"]
    signed = _date(consent.get("dateTime"))
    if signed:
        out["date_signed"] = signed
    provision = _dict(consent.get("provision"))
    period = _dict(provision.get("period"))
    if _date(period.get("end")):
        out["expires"] = _date(period.get("end"))
    for actor in provision.get("actor", []) or []:
        if isinstance(actor, dict) and _code(actor.get("role"), PARTICIPATION) == "IRCP":
            name = _text((actor.get("reference") or {}).get("display"))
            if name:
                out["recipient"] = name
    _left_out(consent, report)
    return {k: v for k, v in out.items() if v is not None}


# --- plans and notes ---------------------------------------------------------------------------------------
MODALITIES = {"cbt", "dbt", "act", "emdr", "ipt", "motivational_interviewing", "family_therapy", "group_therapy",
              "individual_therapy", "play_therapy", "medication_management", "psychoeducation", "case_management",
              "skills_training", "peer_support", "other"}
OBJECTIVE_STATUS = {"proposed": "not_started", "planned": "not_started", "accepted": "not_started",
                    "active": "in_progress", "on-hold": "in_progress", "completed": "achieved",
                    "cancelled": "discontinued", "entered-in-error": "discontinued", "rejected": "discontinued"}
MILESTONE = "http://hl7.org/fhir/StructureDefinition/goal-relationship"


def _milestones(goal: dict, index: Index) -> list[dict]:
    out = []
    for ext in goal.get("extension", []) or []:
        if not isinstance(ext, dict) or ext.get("url") != MILESTONE:
            continue
        parts = {e.get("url"): e for e in ext.get("extension", []) or [] if isinstance(e, dict)}
        if _code(parts.get("type", {}).get("valueCodeableConcept"),
                 "http://hl7.org/fhir/goal-relationship-type") != "milestone":
            continue
        target = index.resolve(parts.get("target", {}).get("valueReference"), "extension(goal-relationship)",
                               goal, ("Goal",))
        if target is not None:
            out.append(target)
    return out


def objective_of(goal: dict, report: Report) -> dict:
    target = next((t for t in goal.get("target", []) or [] if isinstance(t, dict)), {})
    out: dict[str, Any] = {"id": _identifier(goal, f"{C.DOCGEN}:goal-id") or goal.get("id"),
                           "description": _concept_text(goal.get("description")) or ""}
    if _concept_text(target.get("measure")):
        out["measure"] = _concept_text(target.get("measure"))
    if _text(target.get("detailString")):
        out["target"] = target["detailString"]
    if _date(target.get("dueDate")):
        out["target_date"] = _date(target.get("dueDate"))
    status = OBJECTIVE_STATUS.get(str(goal.get("lifecycleStatus")), "not_started")
    if _code(goal.get("achievementStatus"), C.GOAL_ACHIEVEMENT) == "achieved":
        status = "achieved"
    if status != "not_started":
        out["status"] = status
    _left_out(goal, report)
    return out


def goal_of(goal: dict, plan: dict, index: Index, report: Report) -> dict:
    category = _code(next(iter(goal.get("category", []) or []), None), f"{C.DOCGEN}:goal-category")
    if category not in ("treatment", "life", "enhancement"):
        category = "treatment"
        report.add("assumed", goal, "goal category 'treatment'")
    out: dict[str, Any] = {"id": _identifier(goal, f"{C.DOCGEN}:goal-id") or goal.get("id"), "category": category,
                           "statement": _concept_text(goal.get("description")) or ""}
    for note in goal.get("note", []) or []:
        if isinstance(note, dict) and isinstance(note.get("authorReference"), dict) and _text(note.get("text")):
            author = index.resolve(note["authorReference"], "note.authorReference", goal)
            if author is not None and author.get("resourceType") == "Patient":
                out["client_words"] = note["text"]
    codes = []
    for condition in _refs(goal, "addresses", index):
        code = _code(condition.get("code"), C.ICD10CM)
        if code:
            codes.append(code)
    if codes:
        out["diagnoses"] = codes
    due = next((_date(t.get("dueDate")) for t in goal.get("target", []) or []
                if isinstance(t, dict) and _date(t.get("dueDate"))), None)
    if due:
        out["target_date"] = due
    objectives = [objective_of(g, report) for g in _milestones(goal, index)]
    if objectives:
        out["objectives"] = objectives
    interventions = []
    for n, activity in enumerate(plan.get("activity", []) or []):
        detail = activity.get("detail") if isinstance(activity, dict) else None
        if not isinstance(detail, dict):
            continue
        if goal not in _refs(detail, "goal", index, ("Goal",)):
            continue
        interventions.append(intervention_of(detail, plan, n, report))
    if interventions:
        out["interventions"] = interventions
    _left_out(goal, report)
    return out


def intervention_of(detail: dict, plan: dict, n: int, report: Report) -> dict:
    modality = _code(detail.get("code"), f"{C.DOCGEN}:modality")
    if modality not in MODALITIES:
        modality = "other"
        report.add("assumed", plan, f"activity[{n}]: modality 'other'")
    out: dict[str, Any] = {"description": _text(detail.get("description")) or _concept_text(detail.get("code")) or "",
                           "modality": modality}
    timing = detail.get("scheduledTiming")
    if isinstance(timing, dict) and _concept_text(timing.get("code")):
        out["frequency"] = _concept_text(timing.get("code"))
    performer = next((p for p in detail.get("performer", []) or [] if isinstance(p, dict)), None)
    if performer and _text(performer.get("display")):
        out["responsible"] = performer["display"]
    return out


def _parties(main: dict, patient: dict, practitioners: list[dict], org: dict | None, coverage: dict | None,
             index: Index, report: Report) -> dict:
    out: dict[str, Any] = {"client": client_of(patient, Report(quiet=True) if report.quiet else report)}
    if org is not None:
        out["agency"] = agency_of(org, report)
    else:
        report.add("assumed", main, "no Organization: the record's agency is left for the agency to fill")
    clinicians: list[dict] = []
    for prac in practitioners:
        clinician = clinician_of(prac, index, report)
        if clinician["id"] not in [c["id"] for c in clinicians]:
            clinicians.append(clinician)
    out["clinicians"] = clinicians
    if coverage is None:
        coverage = next(iter(index.pointing("Coverage", "beneficiary", patient)), None)
    if coverage is not None:
        out["payer"] = payer_of(index.touch(coverage), report)
    else:
        report.add("assumed", main, "no Coverage: the record's payer is left for the agency to fill")
    return out


def _assessments_for(main: dict, linked: list[dict], index: Index, report: Report) -> list[dict]:
    out = []
    for resource in linked:
        index.touch(resource)
        if resource.get("resourceType") == "QuestionnaireResponse":
            found = assessment_of_qr(resource, report)
        elif resource.get("resourceType") == "Observation":
            found = assessment_of_panel(resource, index, report)
            if found is not None:
                stated = found.pop("_stated")
                _check_total(resource, found["instrument"], found["items"], stated, report)
        else:
            found = None
        if found is not None:
            out.append(found)
    return out


def plan_from(care_plan: dict, index: Index, report: Report, extra: Sequence[dict] = ()) -> dict:
    """A treatment plan (a dict, not yet validated) from a CarePlan; ``extra``: resources of the patient
    no other record holds (QuestionnaireResponses, Consents) that this plan takes."""
    index.touch(care_plan)
    patient = index.resolve(care_plan.get("subject"), "subject", care_plan, ("Patient",))
    if patient is None:
        raise LoadError(f"{index.source(care_plan)}: {label(care_plan)}: subject: no Patient")
    author = index.resolve(care_plan.get("author"), "author", care_plan, ("Practitioner", "PractitionerRole"))
    contributors = _refs(care_plan, "contributor", index)
    practitioners = [r for r in [author, *contributors] if r is not None and r.get("resourceType") == "Practitioner"]
    org = next((r for r in contributors if r.get("resourceType") == "Organization"), None)
    if org is None and isinstance(patient.get("managingOrganization"), dict):
        org = index.resolve(patient["managingOrganization"], "managingOrganization", patient, ("Organization",))
    support = _refs(care_plan, "supportingInfo", index)
    coverage = next((r for r in support if r.get("resourceType") == "Coverage"), None)
    plan: dict[str, Any] = {"kind": "treatment_plan",
                            "id": _identifier(care_plan, C.RECORD_ID) or care_plan.get("id")}
    plan.update(_parties(care_plan, patient, practitioners, org, coverage, index, report))
    if author is not None and author.get("resourceType") == "Practitioner":
        plan["author_id"] = _identifier(author, C.CLINICIAN_ID) or author.get("id")
    elif practitioners:
        plan["author_id"] = plan["clinicians"][0]["id"]
        report.add("assumed", care_plan, "no Practitioner author: the first contributor is the author")
    period = _dict(care_plan.get("period"))
    plan_date = _date(care_plan.get("created")) or _date(period.get("start"))
    plan["intake_date"] = plan_date
    report.add("assumed", care_plan, "intake date = plan date (FHIR has no intake date)")
    plan["plan_date"] = plan_date
    if _date(period.get("end")):
        plan["next_review_date"] = _date(period.get("end"))
    plan["level_of_care"] = "outpatient"
    report.add("assumed", care_plan, "level of care 'outpatient' (FHIR has no level of care)")
    diagnoses = []
    for condition in _refs(care_plan, "addresses", index, ("Condition",)):
        dx = diagnosis_of(condition, report)
        if dx is not None:
            diagnoses.append(dx)
    if diagnoses:
        plan["diagnoses"] = diagnoses
    goals_all = _refs(care_plan, "goal", index, ("Goal",))
    objectives = [m for g in goals_all for m in _milestones(g, index)]
    goals = [goal_of(g, care_plan, index, report) for g in goals_all if g not in objectives]
    if goals:
        plan["goals"] = goals
    linked = [r for r in support if r.get("resourceType") in ("QuestionnaireResponse", "Observation")]
    assessments = _assessments_for(care_plan, [*linked, *[r for r in extra if r.get("resourceType") != "Consent"]],
                                   index, report)
    if assessments:
        plan["assessments"] = assessments
    consents = [consent_of(index.touch(r), report) for r in [*support, *extra] if r.get("resourceType") == "Consent"]
    if consents:
        plan["consents"] = consents
    signatures = [s for p in _provenances(care_plan, index) if (s := signature_of(p, index, report)) is not None]
    if signatures:
        plan["signatures"] = signatures
    _left_out(care_plan, report)
    return plan


SERVICE_BY_CPT = {"90791": "intake", "90792": "intake", "90832": "individual", "90834": "individual",
                  "90837": "individual", "90846": "family_without_client", "90847": "family_with_client",
                  "90853": "group", "90839": "crisis", "99213": "medication_management",
                  "99214": "medication_management", "H0006": "case_management", "T1016": "case_management"}
SERVICE_TYPES = {"intake", "individual", "family_with_client", "family_without_client", "group", "crisis",
                 "medication_management", "case_management"}


def note_from(encounter: dict, index: Index, report: Report, extra: Sequence[dict] = ()) -> dict:
    """A progress note (a dict, not yet validated) from an Encounter."""
    index.touch(encounter)
    patient = index.resolve(encounter.get("subject"), "subject", encounter, ("Patient",))
    if patient is None:
        raise LoadError(f"{index.source(encounter)}: {label(encounter)}: subject: no Patient")
    practitioners, author, participants = [], None, []
    for n, part in enumerate(encounter.get("participant", []) or []):
        if not isinstance(part, dict):
            continue
        who = index.resolve(part.get("individual"), f"participant[{n}].individual", encounter)
        kind = _code(next(iter(part.get("type", []) or []), None),
                     PARTICIPATION)
        if who is not None and who.get("resourceType") == "Practitioner":
            practitioners.append(who)
            if kind == "PPRF" and author is None:
                author = who
        elif isinstance(part.get("individual"), dict) and _text(part["individual"].get("display")):
            role = _concept_text(next(iter(part.get("type", []) or []), None)) or "participant"
            participants.append({"name": part["individual"]["display"], "role": role})
    org = index.resolve(encounter.get("serviceProvider"), "serviceProvider", encounter, ("Organization",))
    note: dict[str, Any] = {"kind": "progress_note",
                            "id": _identifier(encounter, C.RECORD_ID) or encounter.get("id")}
    note.update(_parties(encounter, patient, practitioners, org, None, index, report))
    if author is None and practitioners:
        author = practitioners[0]
        report.add("assumed", encounter, "no primary performer: the first practitioner is the author")
    if author is not None:
        note["author_id"] = _identifier(author, C.CLINICIAN_ID) or author.get("id")
    note["format"] = "soap"
    report.add("assumed", encounter, "note format 'soap' (FHIR has no note format); the note's text is not in "
                                     "the Encounter")
    period = _dict(encounter.get("period"))
    note["session_date"] = _date(period.get("start"))
    for key, value in (("start_time", period.get("start")), ("end_time", period.get("end"))):
        if _clock(value):
            note[key] = _clock(value)
    length = encounter.get("length")
    if isinstance(length, dict) and length.get("code") == "min" and isinstance(length.get("value"), (int, float)):
        note["psychotherapy_minutes"] = int(length["value"])
    cpts = []
    for concept in encounter.get("type", []) or []:
        coding = _coding(concept, C.CPT)
        if coding:
            cpts.append(str(coding["code"]))
    note["cpt_codes"] = cpts
    service = _code(encounter.get("serviceType"), f"{C.DOCGEN}:service-type")
    if service not in SERVICE_TYPES:
        service = next((SERVICE_BY_CPT[c] for c in cpts if c in SERVICE_BY_CPT), "individual")
        report.add("assumed", encounter, f"service type '{service}' from the CPT codes")
    note["service_type"] = service
    klass = _dict(encounter.get("class"))
    if klass.get("code") == "VR":
        note["delivery"] = "telehealth_video"
    pos = None
    for place in encounter.get("location", []) or []:
        if isinstance(place, dict):
            pos = pos or _code(place.get("physicalType"), C.POS)
    if pos is None:
        pos = "02" if klass.get("code") == "VR" else "11"
        report.add("assumed", encounter, f"place of service {pos}")
    note["place_of_service"] = pos
    if participants:
        note["participants"] = participants
    diagnoses = []
    for n, entry in enumerate(encounter.get("diagnosis", []) or []):
        condition = index.resolve(entry.get("condition") if isinstance(entry, dict) else None,
                                  f"diagnosis[{n}].condition", encounter, ("Condition",))
        dx = diagnosis_of(condition, report) if condition is not None else None
        if dx is not None:
            diagnoses.append(dx)
    if diagnoses:
        note["diagnoses"] = diagnoses
    linked = [r for r in index.pointing("QuestionnaireResponse", "encounter", encounter)
              + index.pointing("Observation", "encounter", encounter)
              if r.get("resourceType") == "QuestionnaireResponse" or not _derived_from_qr(r, index)]
    assessments = _assessments_for(encounter, [*linked, *extra], index, report)
    if assessments:
        note["assessments"] = assessments
    signatures = [s for p in _provenances(encounter, index) if (s := signature_of(p, index, report)) is not None]
    if signatures:
        note["signatures"] = signatures
    _left_out(encounter, report)
    return note


def _derived_from_qr(observation: dict, index: Index) -> bool:
    """An Observation derived from a QuestionnaireResponse (docgen reads the items from the response),
    or one that is not a panel (items and totals are read through their panel)."""
    if _code(observation.get("code"), C.LOINC) not in PANELS:
        return True
    return any(r.get("resourceType") == "QuestionnaireResponse" for r in _refs(observation, "derivedFrom", index))


def residual_of(resource: dict) -> Any:
    """The record rest docgen put on a CarePlan or Encounter (see :mod:`docgen.fhir.patch`), or None."""
    for ext in resource.get("extension", []) or []:
        if isinstance(ext, dict) and ext.get("url") == C.EXT_RESIDUAL:
            value = ext.get("valueString")
            if not isinstance(value, str):
                raise LoadError(f"{label(resource)}: record rest is not a string")
            try:
                return json.loads(value)
            except (ValueError, RecursionError):
                raise LoadError(f"{label(resource)}: record rest is not JSON") from None
    return None


# --- what FHIR elements carry (the round trip without the record rest) -----------------------------------
_PARTIES = ("client.id", "client.name", "client.date_of_birth", "client.preferred_language", "client.phone",
            "client.address", "agency.name", "agency.npi", "agency.address", "agency.phone",
            "clinicians[].id", "clinicians[].name", "clinicians[].credentials", "clinicians[].npi",
            "clinicians[].title", "author_id", "payer.name", "payer.type", "payer.member_id",
            "diagnoses[].code", "diagnoses[].description", "diagnoses[].onset")
_SCORES = ("assessments[phq9,gad7].instrument", "assessments[phq9,gad7].date", "assessments[phq9,gad7].items",
           "assessments[phq9,gad7].id")
_SIGNED = ("signatures[dated].role", "signatures[dated].name", "signatures[dated].signer_id",
           "signatures[dated].method", "signatures[dated].date", "signatures[dated].time")
#: The fields of each kind of record that FHIR elements carry: an EHR that drops docgen's record rest still
#: gets these back as they were (``client.gender`` too when female or male, ``diagnoses[].status`` when
#: confirmed, provisional or rule-out, and a note's CPT codes without their modifiers).
CARRIED = {
    "treatment_plan": ("id", *_PARTIES, "plan_date", "next_review_date", "goals[].id", "goals[].category",
                       "goals[].statement", "goals[].client_words", "goals[].diagnoses", "goals[].target_date",
                       "goals[].objectives[].id", "goals[].objectives[].description", "goals[].objectives[].measure",
                       "goals[].objectives[].target", "goals[].objectives[].target_date",
                       "goals[].objectives[].status", "goals[].interventions[].description",
                       "goals[].interventions[].modality", "goals[].interventions[].frequency",
                       "goals[].interventions[].responsible", *_SCORES, "consents[].type", "consents[].id",
                       "consents[].signed_by", "consents[].date_signed", "consents[].expires",
                       "consents[].recipient", *_SIGNED),
    "progress_note": ("id", *_PARTIES, "session_date", "start_time", "end_time", "psychotherapy_minutes",
                      "service_type", "place_of_service", "participants[].name", "participants[].role",
                      "cpt_codes[code]", *_SCORES, *_SIGNED),
}


def carried(data: dict, kind: str) -> dict:
    """The fields of ``data`` (a validated record's dump) that FHIR elements carry, as path -> value."""
    out: dict[str, Any] = {}

    def pick(value: Any, parts: list[str], path: str) -> None:
        if not parts:
            out[path] = value
            return
        head, rest = parts[0], parts[1:]
        name, _, selector = head.partition("[")
        value = value.get(name) if isinstance(value, dict) else None
        if not selector:
            if value is not None:
                pick(value, rest, f"{path}.{name}".lstrip("."))
            return
        selector = selector.rstrip("]")
        items = value if isinstance(value, list) else []
        if selector == "dated":
            items = [i for i in items if i.get("date")]
        elif selector == "code":
            out[f"{path}.{name}".lstrip(".")] = [str(c).split("-", 1)[0] for c in items]
            return
        elif selector:
            items = [i for i in items if i.get("instrument") in selector.split(",")]
        for n, item in enumerate(items):
            pick(item, rest, f"{path}.{name}[{n}]".lstrip("."))

    for spec in CARRIED[kind]:
        pick(data, spec.split("."), "")
    return out
