"""docgen's own checks of US Core (STU 6/7) must-support elements and required codes, for the tests and for
anyone checking an export. fhir.resources checks the R4 structure; it does not know US Core profiles or
code bindings, so these checks state what docgen promises of each resource it writes.

Sources: the US Core profiles' "Must Support" and mandatory elements (hl7.org/fhir/us/core): Patient,
Organization, Practitioner, PractitionerRole, Condition Problems and Health Concerns, CarePlan, Goal,
QuestionnaireResponse, Observation Screening Assessment, Encounter, DocumentReference, Provenance.
Consent and Coverage are checked against FHIR R4 core only (docgen does not claim US Core Coverage: it
does not know the subscriber relationship).
"""
from __future__ import annotations

from typing import Any

from . import codes as C


def _has(resource: dict, path: str) -> bool:
    """True when ``path`` (dotted; lists searched) holds a non-empty value."""
    values: list[Any] = [resource]
    for part in path.split("."):
        nxt: list[Any] = []
        for value in values:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict) and item.get(part) not in (None, "", [], {}):
                    nxt.append(item[part])
        values = nxt
    return bool(values)


def _codes(concepts: Any, system: str) -> set[str]:
    out: set[str] = set()
    for concept in concepts if isinstance(concepts, list) else [concepts]:
        if isinstance(concept, dict):
            out.update(str(c.get("code")) for c in concept.get("coding", []) or [] if c.get("system") == system)
    return out


#: resource type -> elements that must be present (mandatory, or must-support that docgen always has)
REQUIRED = {
    "Patient": ("identifier.system", "identifier.value", "name.family", "gender", "birthDate"),
    "Organization": ("active", "name"),
    "Practitioner": ("identifier.system", "identifier.value", "name.family"),
    "PractitionerRole": ("practitioner", "organization"),
    "Condition": ("clinicalStatus", "verificationStatus", "category", "code", "subject"),
    "CarePlan": ("text.status", "text.div", "status", "intent", "category", "subject"),
    "Goal": ("lifecycleStatus", "description.text", "subject"),
    "QuestionnaireResponse": ("questionnaire", "status", "subject", "authored", "item.linkId"),
    "Observation": ("status", "category", "code", "subject", "effectiveDateTime"),
    "Encounter": ("status", "class", "type", "subject", "participant", "period"),
    "DocumentReference": ("status", "type", "category", "subject", "content.attachment.contentType",
                          "content.attachment.data", "author"),
    "Provenance": ("target", "recorded", "agent.type", "agent.who"),
    "Consent": ("status", "scope", "category", "patient"),
    "Coverage": ("status", "beneficiary", "payor"),
}
GENDERS = {"male", "female", "other", "unknown"}


def problems(resource: dict) -> list[str]:
    """What ``resource`` lacks of docgen's US Core promise (empty when nothing)."""
    rtype = resource.get("resourceType", "?")
    where = f"{rtype}/{resource.get('id')}"
    out = [f"{where}: {path} missing" for path in REQUIRED.get(rtype, ()) if not _has(resource, path)]
    if rtype == "Patient" and resource.get("gender") not in GENDERS:
        out.append(f"{where}: gender not in the administrative-gender codes")
    if rtype in ("Organization", "Practitioner"):
        for ident in resource.get("identifier", []):
            if ident.get("system") == C.NPI and not (len(ident.get("value", "")) == 10 and ident["value"].isdigit()):
                out.append(f"{where}: NPI is not 10 digits")
    if rtype == "Condition":
        if not _codes(resource.get("category"), C.CONDITION_CATEGORY) & {"problem-list-item", "health-concern"}:
            out.append(f"{where}: category is not problem-list-item or health-concern")
        if not _codes(resource.get("code"), C.ICD10CM):
            out.append(f"{where}: code has no ICD-10-CM coding")
    if rtype == "CarePlan":
        if "assess-plan" not in _codes(resource.get("category"), C.CAREPLAN_CATEGORY):
            out.append(f"{where}: category assess-plan missing")
        if resource.get("intent") != "plan":
            out.append(f"{where}: intent is not plan")
        if resource.get("text", {}).get("status") not in ("generated", "extensions", "additional", "empty"):
            out.append(f"{where}: text.status not allowed")
    if rtype == "Observation":
        if "survey" not in _codes(resource.get("category"), C.OBSERVATION_CATEGORY):
            out.append(f"{where}: category survey missing")
        if not _codes(resource.get("code"), C.LOINC):
            out.append(f"{where}: code has no LOINC coding")
        if not any(k in resource for k in ("valueInteger", "valueQuantity", "valueCodeableConcept", "hasMember",
                                           "dataAbsentReason")):
            out.append(f"{where}: no value, hasMember or dataAbsentReason")
    if rtype == "Encounter" and resource.get("class", {}).get("system") != C.ACT_CODE:
        out.append(f"{where}: class is not a v3 ActCode")
    if rtype == "DocumentReference":
        if not _codes(resource.get("type"), C.LOINC):
            out.append(f"{where}: type has no LOINC coding")
        if "clinical-note" not in _codes(resource.get("category"), C.DOCREF_CATEGORY):
            out.append(f"{where}: category clinical-note missing")
    if rtype == "Consent" and not (_has(resource, "policyRule") or _has(resource, "policy")):
        out.append(f"{where}: neither policy nor policyRule (ppc-1)")
    return out


def bundle_problems(bundle: dict) -> list[str]:
    """Every resource's problems, and every reference that does not resolve inside the Bundle."""
    urls = {e.get("fullUrl") for e in bundle.get("entry", [])}
    out: list[str] = []

    def refs(value: Any, where: str) -> None:
        if isinstance(value, dict):
            target = value.get("reference")
            if isinstance(target, str) and target not in urls:
                out.append(f"{where}: reference to nowhere")
            for sub in value.values():
                refs(sub, where)
        elif isinstance(value, list):
            for sub in value:
                refs(sub, where)

    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        out += problems(resource)
        refs(resource, f"{resource['resourceType']}/{resource['id']}")
    return out
