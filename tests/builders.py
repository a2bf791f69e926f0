"""Minimal complete records and small helpers for the rule tests.

``plan_dict()``, ``note_dict()`` and ``addendum_dict()`` return fresh (deep-copied) dicts that validate
and have no finding at all under the default profile with ``as_of = AS_OF`` (and under every built-in
profile). Tests mutate them and look at the findings of one rule. ``addendum_dict()`` amends
``plan_dict()`` and names it by its real content hash; ``locks_of(plan)`` is a lock ledger holding it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from copy import deepcopy
from datetime import date
from typing import Any

from docgen.check import Profile, check_record, load_profile
from docgen.findings import Finding, Severity
from docgen.ledger.locks import Lock, lock_of
from docgen.model import validate_record

AS_OF = date(2026, 11, 24)

CLIENT = {
    "id": "C-1001",
    "name": "Maria Elena Ortiz",
    "date_of_birth": "1987-04-12",
    "preferred_language": "English",
}
AGENCY = {"name": "Riverside Community Counseling", "program": "Adult Outpatient Clinic"}
AUTHOR = {"id": "CL-01", "name": "Daniel Kim", "credentials": "LCSW", "title": "Licensed Clinical Social Worker"}
SUPERVISOR = {"id": "CL-02", "name": "Ruth Adler", "credentials": "LCSW-S", "title": "Clinical Supervisor"}
PAYER = {"name": "Cascade Health Plan", "type": "commercial", "state": "OR", "member_id": "CHP-88231"}

_PLAN: dict[str, Any] = {
    "kind": "treatment_plan",
    "id": "TP-1001",
    "client": CLIENT,
    "agency": AGENCY,
    "clinicians": [AUTHOR],
    "author_id": "CL-01",
    "payer": PAYER,
    "intake_date": "2026-09-08",
    "plan_date": "2026-09-22",
    "first_service_date": "2026-09-08",
    "review_interval_days": 90,
    "next_review_date": "2026-12-21",
    "level_of_care": "outpatient",
    "presenting_concerns": "Persistent low mood and withdrawal from friends.",
    "diagnoses": [{"code": "F33.1", "description": "Major depressive disorder, recurrent, moderate",
                   "primary": True}],
    "strengths": ["Insightful and motivated"],
    "needs": ["Restore sleep and daily routine"],
    "supports": ["Partner (Luis)"],
    "goals": [
        {
            "id": "G1",
            "category": "treatment",
            "statement": "Maria will reduce depressive symptoms from a PHQ-9 of 16 to below 10.",
            "client_words": "I want to stop feeling so heavy all the time.",
            "diagnoses": ["F33.1"],
            "target_date": "2026-12-21",
            "objectives": [
                {
                    "id": "G1.O1",
                    "description": "Schedule at least 3 pleasant activities a week.",
                    "measure": "Activity log; count of pleasant activities a week",
                    "baseline": "0 a week",
                    "target": "3 a week",
                    "target_date": "2026-10-31",
                    "status": "in_progress",
                }
            ],
            "interventions": [
                {
                    "description": "Cognitive behavioural therapy with behavioural activation",
                    "modality": "cbt",
                    "therapy_type": "individual",
                    "frequency": "weekly",
                    "session_minutes": 45,
                    "duration": "12 weeks",
                    "responsible": "Daniel Kim, LCSW",
                }
            ],
        }
    ],
    "medical_necessity": {
        "indicated": "Recurrent major depression, PHQ-9 16, functional decline at work.",
        "appropriate": "Outpatient care fits; no imminent risk.",
        "efficacious": "CBT with behavioural activation is evidence-based for depression.",
        "effective": "PHQ-9 every 4 sessions; plan revised if no improvement by 6 weeks.",
        "efficient": "Weekly individual sessions are the least intensive level expected to work.",
    },
    "risk_assessment": {
        "date": "2026-09-08",
        "assessor_id": "CL-01",
        "method": "C-SSRS screener and clinical interview",
        "ideation": "Denies current or past suicidal ideation.",
        "plan": "None.",
        "intent": "None.",
        "behaviors": "No history of self-harm.",
        "risk_factors": "Recent bereavement.",
        "protective_factors": "Son, partner, faith.",
        "level": "low",
        "mitigation": "Monitor each session; crisis line given.",
    },
    "consents": [
        {"type": "treatment", "signed_by": "Maria Elena Ortiz", "signer_role": "client", "date_signed": "2026-09-08"}
    ],
    "discharge_criteria": "PHQ-9 below 10 twice in a row and return to usual activities.",
    "projected_length_of_stay": "12 weeks",
    "signatures": [
        {"role": "clinician", "name": "Daniel Kim", "credentials": "LCSW", "signer_id": "CL-01",
         "method": "electronic", "date": "2026-09-22", "time": "16:05"},
        {"role": "client", "name": "Maria Elena Ortiz", "method": "electronic", "date": "2026-09-22",
         "time": "16:20"},
    ],
}

_NOTE: dict[str, Any] = {
    "kind": "progress_note",
    "id": "PN-2001",
    "client": CLIENT,
    "agency": AGENCY,
    "clinicians": [AUTHOR],
    "author_id": "CL-01",
    "payer": PAYER,
    "plan_id": "TP-1001",
    "format": "soap",
    "session_date": "2026-11-23",
    "start_time": "10:00",
    "end_time": "10:45",
    "psychotherapy_minutes": 45,
    "service_type": "individual",
    "place_of_service": "11",
    "participants": [{"name": "Maria Elena Ortiz", "role": "client"}],
    "cpt_codes": ["90834"],
    "goals_addressed": [{"goal_id": "G1", "objective_ids": ["G1.O1"], "progress": "3 activities this week."}],
    "subjective": "Reports sleeping 6 hours and walking twice this week.",
    "objective": "Alert, brighter affect, good eye contact.",
    "assessment": "Improving; on track for objective G1.O1.",
    "plan": "Continue behavioural activation; next session in one week.",
    "modalities": ["CBT: behavioural activation"],
    "prognosis": "Good: engaged and improving.",
    "risk_update": {"level": "low", "summary": "Denies suicidal ideation; no change."},
    "signatures": [
        {"role": "clinician", "name": "Daniel Kim", "credentials": "LCSW", "signer_id": "CL-01",
         "method": "electronic", "date": "2026-11-23", "time": "11:05"},
    ],
}


def addendum_dict() -> dict[str, Any]:
    """A minimal complete addendum to ``plan_dict()`` (TP-1001), naming it by its content hash."""
    from docgen.model.digest import content_hash

    return {
        "kind": "addendum",
        "id": "AD-1001-01",
        "client": deepcopy(CLIENT),
        "agency": deepcopy(AGENCY),
        "payer": deepcopy(PAYER),
        "clinician": deepcopy(AUTHOR),
        "date": "2026-11-02",
        "time": "15:40",
        "original": {"id": "TP-1001", "kind": "treatment_plan", "date": "2026-09-22",
                     "sha256": content_hash(validate(_PLAN))},
        "changes": [{"section": "goals[G1].objectives[G1.O1]",
                     "change": "Target raised from 3 to 4 pleasant activities a week."}],
        "reason": "Objective met early; raised with the client's agreement in session on 2026-11-02.",
        "signatures": [
            {"role": "clinician", "name": "Daniel Kim", "credentials": "LCSW", "signer_id": "CL-01",
             "method": "electronic", "date": "2026-11-02", "time": "15:55"},
        ],
    }


def locks_of(*records: Any, locked_at: str = "2026-11-02T20:00:00+00:00") -> dict[str, Lock]:
    """A lock ledger (by record id) in which each record (dict or model) is locked as it is now."""
    from dataclasses import replace

    from docgen.model.digest import content_hash

    models = [validate(r) for r in records]
    return {m.id: replace(lock_of(m, content_hash(m)), locked_at=locked_at, docgen_version="test") for m in models}


def plan_dict() -> dict[str, Any]:
    """A minimal complete treatment plan (fresh copy)."""
    return deepcopy(_PLAN)


def note_dict() -> dict[str, Any]:
    """A minimal complete SOAP progress note for ``plan_dict()`` (fresh copy): 90834, 45 minutes."""
    return deepcopy(_NOTE)


def supervisor() -> dict[str, Any]:
    return deepcopy(SUPERVISOR)


def signature(role: str = "clinician", name: str = "Daniel Kim", *, credentials: str | None = "LCSW",
              signer_id: str | None = None, method: str = "electronic", date: str | None = "2026-09-22",
              time: str | None = "16:05", **extra: Any) -> dict[str, Any]:
    sig = {"role": role, "name": name, "method": method}
    for key, value in (("credentials", credentials), ("signer_id", signer_id), ("date", date), ("time", time)):
        if value is not None:
            sig[key] = value
    sig.update(extra)
    return sig


def validate(data: Any):
    """The validated TreatmentPlan or ProgressNote (a record passes through unchanged)."""
    if isinstance(data, Mapping):
        return validate_record(deepcopy(dict(data)))
    return data


def profile(spec: str | Profile = "default") -> Profile:
    return spec if isinstance(spec, Profile) else load_profile(spec)


def check(data: Any, profile_spec: str | Profile = "default", as_of: date = AS_OF,
          plans: Iterable[Any] | Mapping[str, Any] | None = None,
          locks: Mapping[str, Lock] | None = None) -> list[Finding]:
    """All findings for one record (dict or model). ``plans``: plan dicts or models, given to note rules;
    ``locks``: a lock ledger by record id (None: no ledger), given to addendum rules."""
    if isinstance(plans, Mapping):
        plans = plans.values()
    known = {p.id: p for p in (validate(p) for p in (plans or ()))}
    return check_record(validate(data), profile(profile_spec), as_of, known, locks, ledger=locks is not None)


def findings_of(rule_id: str, data: Any, profile_spec: str | Profile = "default", as_of: date = AS_OF,
                plans: Iterable[Any] | Mapping[str, Any] | None = None,
                locks: Mapping[str, Lock] | None = None) -> list[Finding]:
    """The findings of one rule."""
    return [f for f in check(data, profile_spec, as_of, plans, locks) if f.rule == rule_id]


def paths_of(rule_id: str, data: Any, profile_spec: str | Profile = "default", as_of: date = AS_OF,
             plans: Iterable[Any] | Mapping[str, Any] | None = None) -> list[str]:
    return [f.path for f in findings_of(rule_id, data, profile_spec, as_of, plans)]


def assert_passes(rule_id: str, data: Any, profile_spec: str | Profile = "default", as_of: date = AS_OF,
                  plans: Iterable[Any] | Mapping[str, Any] | None = None,
                  locks: Mapping[str, Lock] | None = None) -> None:
    found = findings_of(rule_id, data, profile_spec, as_of, plans, locks)
    assert found == [], f"{rule_id} should pass, found: {[(f.path, f.message) for f in found]}"


def assert_fails(rule_id: str, data: Any, path: str | list[str], severity: str = "blocker",
                 profile_spec: str | Profile = "default", as_of: date = AS_OF,
                 plans: Iterable[Any] | Mapping[str, Any] | None = None,
                 locks: Mapping[str, Lock] | None = None) -> list[Finding]:
    """Assert the rule reports exactly the given path(s) (in order), all with ``severity``."""
    found = findings_of(rule_id, data, profile_spec, as_of, plans, locks)
    expected = [path] if isinstance(path, str) else list(path)
    assert [f.path for f in found] == expected, \
        f"{rule_id}: expected {expected}, found {[(f.path, f.message) for f in found]}"
    assert all(f.severity is Severity(severity) for f in found), [f.severity for f in found]
    return found
