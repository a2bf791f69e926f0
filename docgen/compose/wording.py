"""Words for what a program calls by its own names: a finding's field path ("signatures[0].date" is
"Clinician's signature: date"), an addendum's section ("goals[G2].objectives[G2.O1]" is "Goal G2,
objective G2.O1"), an enum value ("hipaa_authorization" is "HIPAA authorization"), a place of service
("11" is "Office (11)"), a count ("1 note", "2 notes"). Everything compose and the packet cover show a
reader goes through here; nothing here returns None, a bracket or an underscore."""
from __future__ import annotations

import re
from enum import Enum
from typing import Any

#: Enum values whose capitalised form does not read well (acronyms, codes, qualifiers).
ENUM_WORDS = {
    "cbt": "CBT", "dbt": "DBT", "act": "ACT", "emdr": "EMDR", "ipt": "IPT",
    "hipaa_authorization": "HIPAA authorization", "part2": "42 CFR Part 2 consent",
    "psychotherapy_notes_authorization": "Psychotherapy notes authorization",
    "telehealth_video": "Telehealth (video)", "telehealth_audio": "Telehealth (audio only)",
    "in_person": "In person", "family_with_client": "Family (client present)",
    "family_without_client": "Family (client not present)", "self_pay": "Self-pay",
    "co_occurring": "Co-occurring", "mental_health": "Mental health", "substance_use": "Substance use",
    "maladaptive_communication": "Maladaptive communication",
    "caregiver_interference": "Caregiver emotions or behaviour interfering",
    "sentinel_event_mandated_report": "Sentinel event (mandated report)",
    "play_devices_interpreter": "Play equipment, devices or an interpreter",
    "none": "No risk",  # RiskLevel.none: the only enum value "none"
}

#: CMS place-of-service codes docgen names.
PLACE_OF_SERVICE = {"02": "Telehealth (not in home)", "03": "School", "10": "Telehealth in home",
                    "11": "Office", "12": "Home", "53": "Community mental health center",
                    "57": "Non-residential SUD treatment facility", "99": "Other"}

ROLE_WORDS = {"client": "Client", "guardian": "Parent/Guardian", "clinician": "Clinician",
              "supervisor": "Clinical Supervisor", "psychiatrist": "Psychiatrist", "other": "Other"}

#: Field names as a reader calls them (a name not listed: its words, underscores as spaces).
FIELD_WORDS = {
    "cpt_codes": "CPT codes", "plan_id": "treatment plan", "plan_date": "plan date",
    "next_review_date": "next review date", "intake_date": "intake date", "npi": "NPI",
    "risk_update": "risk update", "risk_assessment": "risk assessment", "safety_plan": "safety plan",
    "goals_addressed": "plan goals addressed", "goal_id": "goal", "objective_ids": "objectives",
    "interactive_complexity_factors": "interactive complexity", "psychotherapy_minutes": "psychotherapy minutes",
    "client_words": "in the person's own words", "session_minutes": "session length",
    "client_signature_waiver_reason": "reason the client did not sign", "signer_id": "signer",
    "original": "original document", "changes": "changes", "medical_necessity": "medical necessity",
    "social_distraction": "people and places for distraction", "help_contacts": "people to ask for help",
    "professional_contacts": "professionals and crisis lines", "lethal_means": "making the environment safe",
    "internal_coping": "internal coping strategies", "warning_signs": "warning signs",
    "date_signed": "date signed", "signed_by": "signed by", "target_date": "target date",
    "date_of_birth": "date of birth", "preferred_language": "preferred language", "id": "ID",
}

#: Indexed parts of a record (``name[key]``): what one of them is called.
_ENTITY = {"goals": "goal", "objectives": "objective", "interventions": "intervention", "progress": "progress entry",
           "diagnoses": "diagnosis", "consents": "consent", "clinicians": "clinician", "changes": "change",
           "goals_addressed": "goal addressed", "objective_ids": "objective", "assessments": "assessment",
           "items": "item", "participants": "participant", "cpt_codes": "CPT code", "medications": "medication",
           "strengths": "strength", "needs": "need", "barriers": "barrier", "preferences": "preference",
           "supports": "support"}

_SEGMENT = re.compile(r"\.?([a-z][a-z0-9_]*)(?:\[([^\[\]]+)\])?")
_PATH = re.compile(r"[a-z][a-z0-9_]*(?:\[[^\[\]]+\])?(?:\.[a-z][a-z0-9_]*(?:\[[^\[\]]+\])?)*")
_INSTRUMENTS = {"phq9": "PHQ-9", "gad7": "GAD-7", "pcl5": "PCL-5", "cssrs_screener": "C-SSRS screener"}


def enum_words(value: Enum | str | None) -> str:
    """An enum value (or a raw one) in words: "in_progress" is "In progress", "cbt" "CBT"; None is ""."""
    if value is None:
        return ""
    raw = value.value if isinstance(value, Enum) else str(value)
    return ENUM_WORDS.get(raw, raw.replace("_", " ").strip().capitalize())


def yes_no(value: bool | None) -> str:
    """A boolean as a table shows it: "Yes", "No"; unknown is ""."""
    return "" if value is None else ("Yes" if value else "No")


def place_of_service(code: str | None) -> str:
    """"11" is "Office (11)": the name a reader knows, the code a claim needs; an unknown code alone."""
    if not code:
        return ""
    name = PLACE_OF_SERVICE.get(code)
    return f"{name} ({code})" if name else f"Code {code}"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """"1 note", "2 notes" (``many``: an irregular plural)."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"


def role_words(role: Enum | str) -> str:
    raw = role.value if isinstance(role, Enum) else str(role)
    return ROLE_WORDS.get(raw, enum_words(raw))


def _field(name: str) -> str:
    return FIELD_WORDS.get(name, name.replace("_", " "))


def _item(items: Any, key: str) -> Any:
    """The ``key``-th item of a list (a digit index), or None."""
    if key.isdigit() and isinstance(items, (list, tuple)) and int(key) < len(items):
        return items[int(key)]
    return None


def _entity(name: str, key: str, parent: Any) -> tuple[str, Any]:
    """What ``name[key]`` is called, and the object it names (when ``parent`` holds it)."""
    items = getattr(parent, name, None) if parent is not None else None
    found = _item(items, key)
    noun = _ENTITY.get(name, _field(name))
    label = key if not key.isdigit() else str(int(key) + 1)
    if name == "signatures":
        role = getattr(found, "role", None)
        return (f"{role_words(role)}'s signature" if role is not None else f"signature {label}"), found
    if name == "assessments" and found is not None:
        instrument = _INSTRUMENTS.get(getattr(found, "instrument", ""), "assessment")
        day = getattr(found, "date", None)
        return (f"{instrument} of {day.strftime('%m/%d/%Y')}" if day else instrument), found
    if name == "consents" and found is not None:
        return f"{enum_words(found.type)} consent" if found.type.value != "part2" else enum_words(found.type), found
    if name in ("goals", "objectives", "interventions") and getattr(found, "id", None):
        return f"{noun} {found.id}", found
    if name == "diagnoses" and found is not None:
        return f"{noun} {found.code}", found
    if name == "clinicians" and found is not None:
        return f"{noun} {found.name}", found
    if name == "goals_addressed" and found is not None:
        return f"{noun} {found.goal_id}", found
    if name == "items":  # an instrument's items: numbered from 1
        return f"{noun} {label}", found
    if isinstance(found, str):
        return f"{noun} {found}", found
    return f"{noun} {label}", found


def is_path(text: str) -> bool:
    """Whether ``text`` is a field path ("goals[1].objectives", "signatures[0].date", "plan_date")
    rather than words a person typed ("Goal 2", "Objectives")."""
    return bool(_PATH.fullmatch(text.strip()))


def where(path: str, record: Any = None) -> str:
    """A field path in words. With ``record`` (the record the path is about) an index names what is
    there: "signatures[0].date" is "Clinician's signature: date", "goals[1].objectives[0].measure"
    "Goal G2, objective G2.O1: measure". Without it (an addendum's section names the original's parts
    by id: "goals[G2].objectives[G2.O1]") a key is an id, a number a position ("goals[1]": "Goal 2").
    Text that is not a path is returned as it is."""
    text = path.strip()
    if not is_path(text):
        return text
    out = ""
    current: Any = record
    previous = None  # "entity", "field" (a field after the first part) or "top" (the first part, a field)
    for match in _SEGMENT.finditer(text):  # the whole path: it matched the grammar
        name, key = match.groups()
        if key is not None:
            words, current = _entity(name, key, current)
            out += {"entity": ", ", "top": ": ", "field": " ", None: ""}[previous] + words
            previous = "entity"
        else:
            if name == "signatures" and previous is None:
                words = "signatures"
            elif name in _INSTRUMENTS:
                words = _INSTRUMENTS[name]
            else:
                words = _field(name)
            current = getattr(current, name, None) if current is not None else None
            out += {"entity": ": ", "top": ": ", "field": " ", None: ""}[previous] + words
            previous = "field" if previous else "top"
    return out[:1].upper() + out[1:]


def finding_words(path: str, message: str, record: Any = None) -> str:
    """A finding as a reader of a draft reads it: where, in words, then what is missing."""
    return f"{where(path, record)} \u2014 {message}"
