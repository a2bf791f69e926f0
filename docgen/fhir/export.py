"""docgen records -> FHIR R4 (US Core where a profile exists): one Bundle (type ``collection``) per client.

Each record is mapped onto FHIR elements (see the README's FHIR section for the table). Then the
record is read back from those resources with the importer (:mod:`docgen.fhir.reader`), and whatever
did not come back the same (fields no FHIR element carries: a plan's history, medical necessity,
risk assessment, a note's sections...) is kept as a patch in one extension on the CarePlan or
Encounter (``urn:docgen:fhir:StructureDefinition:record-rest``, see :mod:`docgen.fhir.patch`), so
docgen -> FHIR -> docgen gives the same record. The human-readable content is in each CarePlan's and
Encounter's narrative, generated from the same composition as the documents.

Never exported: psychotherapy notes (a note flagged ``psychotherapy_note``: the whole record; a note's
``psychotherapy_notes``: the field), whatever the options; addenda (no FHIR mapping yet). With
``purpose``, each record keeps only the fields of the sections the purpose needs (the packets' rule,
:func:`docgen.packet.policy.record_json`). Resources from a 42 CFR Part 2 program carry
``meta.security`` 42CFRPart2 and R (restricted).

Same records, same bytes: ids come from record ids, full URLs are uuid5 of them, nothing holds the
time of the run.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..model import ProgressNote, TreatmentPlan
from . import codes as C
from .ids import fhir_id, full_url, ref
from .patch import diff
from .reader import Report, note_from, plan_from
from .resources import Entry, Index, structure_errors

#: Renders a record's final PDF from the record and its dict as exported (None when it is not final).
RenderPdf = Callable[[Any, dict], "bytes | None"]

#: A note's private process notes (45 CFR 164.501): never exported.
PROCESS_NOTES = "psychotherapy_notes"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class Exported:
    """One client's Bundle and what was left out of it (one line each: record id and why)."""

    client: str
    bundle: dict
    records: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)

    def resources(self) -> list[dict]:
        return [e["resource"] for e in self.bundle["entry"]]


#: Fields the models compute from others (scores, bands, the C-SSRS level): never stored in a record.
COMPUTED = ("total", "severity", "risk_level")


def stored(data: dict) -> dict:
    """A record's dump as a record file holds it: without the computed fields of its assessments."""
    for scale in data.get("assessments", []) or []:
        for key in COMPUTED:
            scale.pop(key, None)
    return data


def _xhtml(doc) -> str:
    """A narrative ``div`` from a composed document (escaped; characters XML cannot hold shown as U+XXXX)."""
    from ..compose.blocks import block_texts  # noqa: PLC0415

    def esc(text: str) -> str:
        return html.escape(_NOT_XML.sub(lambda m: f"[U+{ord(m.group()):04X}]", text), quote=False)

    parts = [f"<h2>{esc(doc.title)}</h2>", f"<p>{esc(doc.date_line)}</p>"]
    for section in doc.sections:
        parts.append(f"<h3>{esc(section.title)}</h3>")
        for block in section.blocks:
            texts = [t for t in block_texts(block) if t]
            if texts:
                parts.append("<p>" + "<br/>".join(esc(t) for t in texts) + "</p>")
    return '<div xmlns="http://www.w3.org/1999/xhtml">' + "".join(parts) + "</div>"


def _instant(day, clock=None) -> str:
    """A FHIR dateTime from docgen's date and time. docgen's times carry no zone: they are written with
    +00:00, standing for the clock time on the record (the importer reads the clock time back)."""
    if clock is None:
        return day.isoformat()
    return f"{day.isoformat()}T{clock.strftime('%H:%M:%S')}+00:00"


def _name(text: str) -> dict:
    words = text.split()
    out: dict[str, Any] = {"text": text, "family": words[-1] if words else text}
    if len(words) > 1:
        out["given"] = words[:-1]
    return out


LANGUAGE_CODES = {"english": "en", "spanish": "es", "vietnamese": "vi", "chinese": "zh", "korean": "ko",
                  "arabic": "ar", "french": "fr", "russian": "ru", "somali": "so", "hmong": "hmn"}


class _Bundle:
    """Resources of one client's Bundle, in order, each once (parties shared by several records)."""

    def __init__(self, client_id: str, part2: bool):
        self.client_id = client_id
        self.part2 = part2
        self.entries: dict[tuple[str, str], dict] = {}

    def add(self, resource: dict, labelled: bool = False) -> dict:
        """Add ``resource``; a party already there (the client, agency, a clinician) takes the elements
        it lacks from this record's version (a CSV note knows less of the client than the plan)."""
        key = (resource["resourceType"], resource["id"])
        if key in self.entries:
            held = self.entries[key]
            for name, value in resource.items():
                if held.get(name) in (None, "unknown"):
                    held[name] = value
            return held
        if labelled:
            resource["meta"] = {"security": [
                {"system": C.ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"},
                {"system": C.CONFIDENTIALITY, "code": "R", "display": "restricted"}]}
        self.entries[key] = resource
        return resource

    def bundle(self) -> dict:
        entries = [{"fullUrl": full_url(t, i), "resource": self._ordered(r)} for (t, i), r in self.entries.items()]
        return {"resourceType": "Bundle", "id": fhir_id("bundle", self.client_id), "type": "collection",
                "entry": entries}

    @staticmethod
    def _ordered(resource: dict) -> dict:
        head = {k: resource[k] for k in ("resourceType", "id", "meta", "text", "extension") if k in resource}
        return {**head, **{k: v for k, v in resource.items() if k not in head}}


def _patient(b: _Bundle, client) -> dict:
    rid = fhir_id("client", client.id)
    patient: dict[str, Any] = {"resourceType": "Patient", "id": rid,
                               "identifier": [{"system": C.CLIENT_ID, "value": client.id}],
                               "name": [_name(client.name)],
                               "gender": {"female": "female", "male": "male"}.get((client.gender or "").lower(),
                                                                                  "other" if client.gender else
                                                                                  "unknown"),
                               "birthDate": client.date_of_birth.isoformat()}
    if client.phone:
        patient["telecom"] = [{"system": "phone", "value": client.phone}]
    if client.address:
        patient["address"] = [{"text": client.address}]
    if client.preferred_language:
        language: dict[str, Any] = {"text": client.preferred_language}
        code = LANGUAGE_CODES.get(client.preferred_language.strip().lower())
        if code:
            language["coding"] = [{"system": C.LANGUAGE, "code": code}]
        patient["communication"] = [{"language": language, "preferred": True}]
    return b.add(patient, b.part2)


def _organization(b: _Bundle, agency) -> dict:
    rid = fhir_id("org", agency.npi or agency.name)
    org: dict[str, Any] = {"resourceType": "Organization", "id": rid, "active": True, "name": agency.name}
    if agency.npi:
        org["identifier"] = [{"system": C.NPI, "value": agency.npi}]
    if agency.phone:
        org["telecom"] = [{"system": "phone", "value": agency.phone}]
    if agency.address:
        org["address"] = [{"text": agency.address}]
    return b.add(org, b.part2)


def _practitioner(b: _Bundle, clinician, org: dict) -> dict:
    rid = fhir_id("clinician", clinician.id)
    identifiers = [{"system": C.CLINICIAN_ID, "value": clinician.id}]
    if clinician.npi:
        identifiers.append({"system": C.NPI, "value": clinician.npi})
    prac = b.add({"resourceType": "Practitioner", "id": rid, "identifier": identifiers,
                  "name": [_name(clinician.name)], "qualification": [{"code": {"text": clinician.credentials}}]},
                 b.part2)
    role: dict[str, Any] = {"resourceType": "PractitionerRole", "id": fhir_id("role", clinician.id),
                            "active": True, "practitioner": ref("Practitioner", rid),
                            "organization": ref("Organization", org["id"])}
    if clinician.title:
        role["code"] = [{"text": clinician.title}]
    b.add(role, b.part2)
    return prac


def _coverage(b: _Bundle, payer, patient: dict) -> dict:
    rid = fhir_id("coverage", b.client_id, payer.name, payer.member_id or "")
    coverage: dict[str, Any] = {
        "resourceType": "Coverage", "id": rid, "status": "active",
        "type": {"coding": [{"system": C.PAYER_TYPOLOGY, "code": C.PAYER_CODES[payer.type.value]}],
                 "text": payer.type.value},
        "beneficiary": ref("Patient", patient["id"]), "payor": [{"display": payer.name}]}
    if payer.member_id:
        coverage["subscriberId"] = payer.member_id
    return b.add(coverage, b.part2)


def _condition(b: _Bundle, record, n: int, dx, patient: dict) -> dict:
    status = C.VERIFICATION.get((dx.status or "confirmed").lower(), "unconfirmed")
    condition: dict[str, Any] = {
        "resourceType": "Condition", "id": fhir_id(record.id, "dx", str(n)),
        "clinicalStatus": {"coding": [{"system": C.CONDITION_CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": C.CONDITION_VERIFICATION, "code": status}]},
        "category": [{"coding": [{"system": C.CONDITION_CATEGORY, "code": "problem-list-item",
                                  "display": "Problem List Item"}]}],
        "code": {"coding": [{"system": C.ICD10CM, "code": dx.code}]},
        "subject": ref("Patient", patient["id"])}
    if dx.description:
        condition["code"]["text"] = dx.description
    if dx.onset:
        condition["onsetDateTime"] = dx.onset.isoformat()
    return b.add(condition, b.part2)


def _assessment(b: _Bundle, record, n: int, scale, patient: dict, encounter: dict | None) -> dict | None:
    """QuestionnaireResponse, item Observations, the total and the panel for a PHQ-9 or GAD-7."""
    if scale.instrument not in C.INSTRUMENTS:
        return None
    panel_code, total_code, item_codes, display, canonical = C.INSTRUMENTS[scale.instrument]
    base = fhir_id(record.id, scale.instrument, str(n))
    subject = ref("Patient", patient["id"])
    qr: dict[str, Any] = {"resourceType": "QuestionnaireResponse", "id": f"{base}-qr"[:64] if len(base) < 60 else
                          fhir_id(base, "qr"), "questionnaire": canonical,
                          "status": "completed" if scale.complete else "in-progress", "subject": subject,
                          "authored": scale.date.isoformat(), "item": []}
    if scale.id:
        qr["identifier"] = {"system": C.RECORD_ID, "value": scale.id}
    if encounter is not None:
        qr["encounter"] = ref("Encounter", encounter["id"])
    common = {"status": "final", "category": [{"coding": [{"system": C.OBSERVATION_CATEGORY, "code": "survey",
                                                          "display": "Survey"}]}],
              "subject": subject, "effectiveDateTime": scale.date.isoformat(),
              "derivedFrom": [ref("QuestionnaireResponse", qr["id"])]}
    if encounter is not None:
        common["encounter"] = ref("Encounter", encounter["id"])
    members = []
    for i, (code, value) in enumerate(zip(item_codes, scale.items, strict=True)):
        item: dict[str, Any] = {"linkId": code}
        if value is not None:
            answer, words = C.ANSWERS[value]
            item["answer"] = [{"valueCoding": {"system": C.LOINC, "code": answer, "display": words}}]
            obs = {"resourceType": "Observation", "id": fhir_id(base, "item", str(i + 1)), **common,
                   "code": {"coding": [{"system": C.LOINC, "code": code}]},
                   "valueCodeableConcept": {"coding": [{"system": C.LOINC, "code": answer, "display": words}],
                                            "text": str(value)}}
            members.append(obs)
        qr["item"].append(item)
    b.add(qr, b.part2)
    for obs in members:
        b.add(obs, b.part2)
    refs = [ref("Observation", o["id"]) for o in members]
    if scale.total is not None:
        total = {"resourceType": "Observation", "id": fhir_id(base, "total"), **common,
                 "code": {"coding": [{"system": C.LOINC, "code": total_code}], "text": f"{display} total score"},
                 "valueInteger": scale.total, "interpretation": [{"text": scale.severity}]}
        b.add(total, b.part2)
        refs.append(ref("Observation", total["id"]))
    panel = {"resourceType": "Observation", "id": fhir_id(base, "panel"), **common,
             "code": {"coding": [{"system": C.LOINC, "code": panel_code}], "text": display}, "hasMember": refs}
    b.add(panel, b.part2)
    return qr


_SCORE_TARGET = re.compile(r"\b(PHQ-9|GAD-7)\b[^.]*?\bbelow (\d{1,2})\b")


def _goal(b: _Bundle, plan, goal, patient: dict, conditions: dict[str, dict]) -> dict:
    rid = fhir_id(plan.id, "goal", goal.id)
    subject = ref("Patient", patient["id"])
    objectives = []
    for objective in goal.objectives:
        status = objective.status.value
        resource: dict[str, Any] = {
            "resourceType": "Goal", "id": fhir_id(plan.id, "objective", objective.id),
            "identifier": [{"system": f"{C.DOCGEN}:goal-id", "value": objective.id}],
            "lifecycleStatus": {"not_started": "proposed", "in_progress": "active", "achieved": "completed",
                                "revised": "active", "discontinued": "cancelled"}[status],
            "description": {"text": objective.description}, "subject": subject}
        if status == "achieved":
            resource["achievementStatus"] = {"coding": [{"system": C.GOAL_ACHIEVEMENT, "code": "achieved"}]}
        target: dict[str, Any] = {}
        if objective.measure:
            target["measure"] = {"text": objective.measure}
        if objective.target:
            target["detailString"] = objective.target
        if objective.target_date:
            target["dueDate"] = objective.target_date.isoformat()
        if target:
            resource["target"] = [target]
        objectives.append(b.add(resource, b.part2))
    resource = {"resourceType": "Goal", "id": rid,
                "identifier": [{"system": f"{C.DOCGEN}:goal-id", "value": goal.id}],
                "lifecycleStatus": "active",
                "category": [{"coding": [{"system": f"{C.DOCGEN}:goal-category", "code": goal.category.value}]}],
                "description": {"text": goal.statement}, "subject": subject}
    if objectives:
        resource["extension"] = [{"url": "http://hl7.org/fhir/StructureDefinition/goal-relationship", "extension": [
            {"url": "type", "valueCodeableConcept": {"coding": [
                {"system": "http://hl7.org/fhir/goal-relationship-type", "code": "milestone"}]}},
            {"url": "target", "valueReference": ref("Goal", o["id"])}]} for o in objectives]
    targets: list[dict] = []
    match = _SCORE_TARGET.search(goal.statement)
    if match:  # a measurable score target: "PHQ-9 ... below 10" -> LOINC total < 10
        total = C.INSTRUMENTS["phq9" if match.group(1) == "PHQ-9" else "gad7"][1]
        targets.append({"measure": {"coding": [{"system": C.LOINC, "code": total}]},
                        "detailQuantity": {"value": int(match.group(2)), "comparator": "<", "system": C.UCUM,
                                           "code": "{score}"}})
    if goal.target_date:
        if targets:
            targets[0]["dueDate"] = goal.target_date.isoformat()
        else:
            targets.append({"dueDate": goal.target_date.isoformat()})
    if targets:
        resource["target"] = targets
    addresses = [ref("Condition", conditions[c]["id"]) for c in goal.diagnoses if c in conditions]
    if addresses:
        resource["addresses"] = addresses
    if goal.client_words:
        resource["expressedBy"] = subject
        resource["note"] = [{"authorReference": subject, "text": goal.client_words}]
    goal_resource = b.add(resource, b.part2)
    return {"goal": goal_resource, "objectives": objectives}


def _timing(frequency: str | None) -> dict | None:
    if not frequency:
        return None
    timing: dict[str, Any] = {"code": {"text": frequency}}
    words = frequency.lower()
    for pattern, repeat in ((r"^weekly$|^once a week$", (1, 1, "wk")), (r"^twice a week$", (2, 1, "wk")),
                            (r"^daily$", (1, 1, "d")), (r"^monthly$|^once a month$", (1, 1, "mo")),
                            (r"^twice a month$|^every (2|two) weeks$|^biweekly$", (1, 2, "wk"))):
        if re.match(pattern, words):
            timing["repeat"] = {"frequency": repeat[0], "period": repeat[1], "periodUnit": repeat[2]}
    return timing


def _provenance(b: _Bundle, record, n: int, sig, target: dict, patient: dict) -> dict | None:
    if sig.date is None:
        return None
    when = _instant(sig.date, sig.time) if sig.time else f"{sig.date.isoformat()}T00:00:00+00:00"
    if sig.signer_id and record.clinician(sig.signer_id) is not None:
        who = ref("Practitioner", fhir_id("clinician", sig.signer_id), sig.name)
    elif sig.role.value == "client":
        who = ref("Patient", patient["id"], sig.name)
    else:
        who = {"display": sig.name}
    astm = {"clinician": ("1.2.840.10065.1.12.1.1", "Author's Signature"),
            "supervisor": ("1.2.840.10065.1.12.1.5", "Verification Signature"),
            "psychiatrist": ("1.2.840.10065.1.12.1.2", "Coauthor's Signature"),
            "client": ("1.2.840.10065.1.12.1.7", "Consent Signature"),
            "guardian": ("1.2.840.10065.1.12.1.7", "Consent Signature"),
            "other": ("1.2.840.10065.1.12.1.8", "Signature Witness Signature")}[sig.role.value]
    resource = {"resourceType": "Provenance", "id": fhir_id(record.id, "sig", str(n)),
                "target": [ref(target["resourceType"], target["id"])],
                # a signature without a time of day: the date alone (recorded must be an instant)
                "occurredDateTime": when if sig.time else sig.date.isoformat(), "recorded": when,
                "activity": {"coding": [{"system": f"{C.DOCGEN}:signature-method", "code": sig.method.value}]},
                "agent": [{"type": {"coding": [{"system": C.PROVENANCE_AGENT,
                                                "code": C.AGENT_TYPE[sig.role.value]}]},
                           "role": [{"coding": [{"system": f"{C.DOCGEN}:signer-role", "code": sig.role.value}]}],
                           "who": who}],
                "signature": [{"type": [{"system": C.SIGNATURE_TYPE, "code": astm[0], "display": astm[1]}],
                               "when": when, "who": who}]}
    return b.add(resource, b.part2)


def _consent(b: _Bundle, plan, n: int, consent, patient: dict) -> dict:
    kind = consent.type.value
    scope = "treatment" if kind in ("treatment", "telehealth") else "patient-privacy"
    policy = {"part2": "cfr42", "treatment": None, "telehealth": None}.get(kind, "hipaa-auth")
    resource: dict[str, Any] = {
        "resourceType": "Consent", "id": fhir_id(plan.id, "consent", str(n)),
        "status": "inactive" if consent.revoked else ("active" if consent.signed else "proposed"),
        "scope": {"coding": [{"system": C.CONSENT_SCOPE, "code": scope}]},
        "category": [{"coding": [{"system": f"{C.DOCGEN}:consent-type", "code": kind}]}],
        "patient": ref("Patient", patient["id"]),
        "policyRule": {"coding": [{"system": C.CONSENT_POLICY, "code": policy}]} if policy else {"text": kind}}
    if consent.id:
        resource["identifier"] = [{"system": C.RECORD_ID, "value": consent.id}]
    if consent.date_signed:
        resource["dateTime"] = consent.date_signed.isoformat()
    if consent.signed_by:
        resource["performer"] = [{"display": consent.signed_by}]
    provision: dict[str, Any] = {"type": "permit"}
    if consent.date_signed or consent.expires:
        provision["period"] = {k: v.isoformat() for k, v in (("start", consent.date_signed),
                                                              ("end", consent.expires)) if v}
    if consent.recipient:
        provision["actor"] = [{"role": {"coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]},
            "reference": {"display": consent.recipient}}]
    resource["provision"] = provision
    return b.add(resource, b.part2)


def _plan(b: _Bundle, plan: TreatmentPlan, narrative: str) -> dict:
    patient = _patient(b, plan.client)
    org = _organization(b, plan.agency)
    pracs = {c.id: _practitioner(b, c, org) for c in plan.clinicians}
    coverage = _coverage(b, plan.payer, patient)
    conditions = {dx.code: _condition(b, plan, n, dx, patient) for n, dx in enumerate(plan.diagnoses)}
    rid = fhir_id(plan.id)
    goals = {g.id: _goal(b, plan, g, patient, conditions) for g in plan.goals}
    support = [ref("Coverage", coverage["id"])]
    for n, scale in enumerate(plan.assessments):
        qr = _assessment(b, plan, n, scale, patient, None)
        if qr is not None:
            support.append(ref("QuestionnaireResponse", qr["id"]))
    for n, consent in enumerate(plan.consents):
        support.append(ref("Consent", _consent(b, plan, n, consent, patient)["id"]))
    activities = []
    for goal in plan.goals:
        for intervention in goal.interventions:
            detail: dict[str, Any] = {
                "kind": "ServiceRequest",
                "code": {"coding": [{"system": f"{C.DOCGEN}:modality", "code": intervention.modality.value}]},
                "goal": [ref("Goal", goals[goal.id]["goal"]["id"])], "status": "in-progress",
                "description": intervention.description}
            timing = _timing(intervention.frequency)
            if timing:
                detail["scheduledTiming"] = timing
            if intervention.responsible:
                detail["performer"] = [{"display": intervention.responsible}]
            activities.append({"detail": detail})
    care_plan: dict[str, Any] = {
        "resourceType": "CarePlan", "id": rid, "text": {"status": "generated", "div": narrative},
        "identifier": [{"system": C.RECORD_ID, "value": plan.id}], "status": "active", "intent": "plan",
        "category": [{"coding": [{"system": C.CAREPLAN_CATEGORY, "code": "assess-plan"}]}],
        "subject": ref("Patient", patient["id"]),
        "period": {"start": plan.plan_date.isoformat(),
                   **({"end": plan.next_review_date.isoformat()} if plan.next_review_date else {})},
        "created": plan.plan_date.isoformat(), "author": ref("Practitioner", pracs[plan.author_id]["id"]),
        "contributor": [ref("Practitioner", p["id"]) for p in pracs.values()] + [ref("Organization", org["id"])]}
    if conditions:
        care_plan["addresses"] = [ref("Condition", c["id"]) for c in conditions.values()]
    all_goals = [g["goal"] for g in goals.values()] + [o for g in goals.values() for o in g["objectives"]]
    if all_goals:
        care_plan["goal"] = [ref("Goal", g["id"]) for g in all_goals]
    if activities:
        care_plan["activity"] = activities
    care_plan["supportingInfo"] = support
    b.add(care_plan, b.part2)
    for n, sig in enumerate(plan.signatures):
        _provenance(b, plan, n, sig, care_plan, patient)
    return care_plan


def _note(b: _Bundle, note: ProgressNote, narrative: str) -> dict:
    patient = _patient(b, note.client)
    org = _organization(b, note.agency)
    pracs = {c.id: _practitioner(b, c, org) for c in note.clinicians}
    _coverage(b, note.payer, patient)
    rid = fhir_id(note.id)
    video = note.delivery.value != "in_person"
    participants: list[dict] = []
    for cid, prac in pracs.items():
        kind = "PPRF" if cid == note.author_id else "SPRF"
        participants.append({"type": [{"coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": kind}]}],
            "individual": ref("Practitioner", prac["id"])})
    for person in note.participants:
        participants.append({"type": [{"text": person.role}], "individual": {"display": person.name}})
    period: dict[str, str] = {"start": _instant(note.session_date, note.start_time)}
    if note.end_time:
        period["end"] = _instant(note.session_date, note.end_time)
    encounter: dict[str, Any] = {
        "resourceType": "Encounter", "id": rid, "text": {"status": "generated", "div": narrative},
        "identifier": [{"system": C.RECORD_ID, "value": note.id}], "status": "finished",
        "class": {"system": C.ACT_CODE, "code": "VR" if video else "AMB",
                  "display": "virtual" if video else "ambulatory"},
        "type": [{"coding": [{"system": C.CPT, "code": code}]} for code in note.codes],
        "serviceType": {"coding": [{"system": f"{C.DOCGEN}:service-type", "code": note.service_type.value}]},
        "subject": ref("Patient", patient["id"]), "participant": participants, "period": period}
    if note.psychotherapy_minutes is not None:
        encounter["length"] = {"value": note.psychotherapy_minutes, "unit": "min", "system": C.UCUM, "code": "min"}
    if note.diagnoses:
        encounter["diagnosis"] = [{"condition": ref("Condition", _condition(b, note, n, dx, patient)["id"]),
                                   **({"rank": 1} if dx.primary else {})} for n, dx in enumerate(note.diagnoses)]
    encounter["location"] = [{"location": {"display": f"place of service {note.place_of_service}"},
                              "physicalType": {"coding": [{"system": C.POS, "code": note.place_of_service}]}}]
    encounter["serviceProvider"] = ref("Organization", org["id"])
    b.add(encounter, b.part2)
    for n, scale in enumerate(note.assessments):
        _assessment(b, note, n, scale, patient, encounter)
    for n, sig in enumerate(note.signatures):
        _provenance(b, note, n, sig, encounter, patient)
    return encounter


def _document_reference(b: _Bundle, record, main: dict, pdf: bytes, patient_id: str) -> dict:
    is_plan = isinstance(record, TreatmentPlan)
    code, words = (C.PLAN_OF_CARE_NOTE, "Plan of care note") if is_plan else (C.PROGRESS_NOTE, "Progress note")
    day = record.service_date.isoformat()
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference", "id": fhir_id(record.id, "pdf"),
        "identifier": [{"system": C.RECORD_ID, "value": record.id}], "status": "current", "docStatus": "final",
        "type": {"coding": [{"system": C.LOINC, "code": code, "display": words}]},
        "category": [{"coding": [{"system": C.DOCREF_CATEGORY, "code": "clinical-note",
                                  "display": "Clinical Note"}]}],
        "subject": ref("Patient", patient_id),
        "author": [ref("Practitioner", fhir_id("clinician", record.author_id))],
        "content": [{"attachment": {
            "contentType": "application/pdf", "language": "en-US",
            "data": base64.b64encode(pdf).decode("ascii"), "size": len(pdf),
            # FHIR R4 Attachment.hash: the SHA-1 of the data, base64 encoded
            "hash": base64.b64encode(hashlib.sha1(pdf, usedforsecurity=False).digest()).decode("ascii"),
            "title": f"{words} {record.id}"},
            "format": {"system": "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode",
                       "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient"}}],
        "context": {"period": {"start": day, "end": day},
                    "related": [ref(main["resourceType"], main["id"])]}}
    if not is_plan:
        resource["context"]["encounter"] = [ref("Encounter", main["id"])]
    return b.add(resource, b.part2)


def export_client(client_id: str, records: list, *, shape: Callable[[Any], dict] | None = None,
                  documents: RenderPdf | None = None, part2: Callable[[Any], bool] | None = None) -> Exported:
    """One client's Bundle from their validated records (plans and notes; others are left out and said so).
    ``shape``: a record's dict as it may leave (minimum necessary; default: the whole record);
    ``documents``: renders a record's PDF from the record and its dict as exported (None when it is not
    final); ``part2``: whether a record comes from a Part 2 program."""
    from ..compose import compose  # noqa: PLC0415
    from ..model import validate_record  # noqa: PLC0415

    labelled = any(part2(r) for r in records) if part2 else False
    b = _Bundle(client_id, labelled)
    out = Exported(client_id, {})
    mains: list[tuple[Any, dict, dict]] = []
    for record in records:
        if isinstance(record, ProgressNote) and record.psychotherapy_note:  # 45 CFR 164.501
            out.left_out.append(f"record {record.id}: a psychotherapy note: never exported")
            continue
        if not isinstance(record, TreatmentPlan | ProgressNote):
            out.left_out.append(f"record {record.id}: {record.kind} records are not mapped to FHIR")
            continue
        data = stored(shape(record) if shape is not None else record.model_dump(mode="json"))
        data.pop(PROCESS_NOTES, None)  # a note's process notes never leave, whatever ``shape`` says
        shown = validate_record(data)
        narrative = _xhtml(compose(shown))
        main = _plan(b, shown, narrative) if isinstance(shown, TreatmentPlan) else \
            _note(b, shown, narrative)  # type: ignore[arg-type]
        mains.append((record, main, stored(shown.model_dump(mode="json", exclude_defaults=True))))
        out.records.append(record.id)
        if documents is not None:
            pdf = documents(record, data)
            if pdf is None:
                out.left_out.append(f"record {record.id}: not complete: no document attached")
            else:
                _document_reference(b, shown, main, pdf, fhir_id("client", client_id))
    _attach_rest(b, mains)
    out.bundle = b.bundle()
    return out


def _attach_rest(b: _Bundle, mains: list[tuple[Any, dict, dict]]) -> None:
    """Read each record back from the Bundle and keep what did not come back as its record rest."""
    entries = [Entry(r, full_url(t, i), "(export)") for (t, i), r in b.entries.items()]
    index = Index(entries)
    quiet = Report(quiet=True)
    for _record, main, want in mains:
        have = plan_from(main, index, quiet) if main["resourceType"] == "CarePlan" else note_from(main, index, quiet)
        rest = diff(want, have)
        if rest is not None:
            ext = {"url": C.EXT_RESIDUAL,
                   "valueString": json.dumps(rest, sort_keys=True, ensure_ascii=False, separators=(",", ":"))}
            main["extension"] = [*main.get("extension", []), ext]


def check_structure(exported: Exported) -> list[str]:
    """Every resource (and the Bundle) checked against the fhir.resources R4 models: the problems found."""
    problems = [f"Bundle: {p}" for p in structure_errors(exported.bundle)]
    for resource in exported.resources():
        problems += [f"{resource['resourceType']}/{resource['id']}: {p}" for p in structure_errors(resource)]
    return problems


def to_json(exported: Exported) -> bytes:
    return (json.dumps(exported.bundle, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def to_ndjson(exported: Exported) -> bytes:
    """One resource a line, as bulk exports write them: references as ``Type/id`` (there is no Bundle
    to hold the full URLs)."""
    names = {e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in exported.bundle["entry"]}

    def local(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (names.get(v, v) if k == "reference" and isinstance(v, str) else local(v))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [local(v) for v in value]
        return value

    return "".join(json.dumps(local(r), ensure_ascii=False, separators=(",", ":")) + "\n"
                   for r in exported.resources()).encode("utf-8")
