"""Validate: the record models (pydantic v2). A record is a TreatmentPlan, a ProgressNote or an Addendum."""
from __future__ import annotations

from functools import cache
from typing import Annotated

from pydantic import Field, TypeAdapter

from .addendum import Addendum, Change, OriginalKind, OriginalRef
from .assessments import GAD7, PCL5, PHQ9, Assessment, CSSRSScreener, RiskLevel
from .base import (
    Agency,
    Attestation,
    Client,
    Clinician,
    Guardian,
    Payer,
    PayerType,
    ProgramType,
    Signature,
    SignatureMethod,
    SignerRole,
    Strict,
)
from .clinical import Consent, ConsentSigner, ConsentType, Diagnosis, RiskAssessment, RiskUpdate, SafetyPlan
from .note import (
    SECTIONS,
    Delivery,
    GoalRef,
    InteractiveComplexityFactor,
    NoteFormat,
    Participant,
    ProgressNote,
    ServiceType,
)
from .plan import (
    Goal,
    GoalCategory,
    History,
    Intervention,
    LevelOfCare,
    MedicalNecessity,
    Modality,
    Objective,
    ObjectiveStatus,
    ProgressEntry,
    TreatmentPlan,
)

Record = Annotated[TreatmentPlan | ProgressNote | Addendum, Field(discriminator="kind")]
MODELS: dict[str, type[Strict]] = {"treatment_plan": TreatmentPlan, "progress_note": ProgressNote, "addendum": Addendum}


@cache
def _any_record() -> TypeAdapter:
    return TypeAdapter(Record)


def validate_record(data: object) -> TreatmentPlan | ProgressNote | Addendum:
    """The record ``data`` describes, or pydantic's ValidationError. A record of a known ``kind`` is
    validated by its own model, whose validator is built on first use (``defer_build``): a process
    that reads only plans never builds the others'; the union is for a missing or unknown kind, and
    says so as it would for any record (its paths start with the kind, which field paths drop)."""
    kind = data.get("kind") if isinstance(data, dict) else None
    model = MODELS.get(kind) if isinstance(kind, str) else None
    if model is not None:
        return model.model_validate(data)  # type: ignore[return-value]
    return _any_record().validate_python(data)

__all__ = [
    "Record", "MODELS", "validate_record", "TreatmentPlan", "ProgressNote", "Addendum", "OriginalRef",
    "OriginalKind", "Change", "Goal", "Objective", "Intervention",
    "ProgressEntry", "History", "MedicalNecessity", "LevelOfCare", "GoalCategory", "Modality",
    "ObjectiveStatus", "Client", "Guardian", "Agency", "Clinician", "Payer", "PayerType",
    "ProgramType", "Signature", "SignatureMethod", "SignerRole", "Attestation", "Consent",
    "ConsentType", "ConsentSigner", "Diagnosis", "RiskAssessment", "RiskUpdate", "SafetyPlan",
    "Assessment", "PHQ9", "GAD7", "PCL5", "CSSRSScreener", "RiskLevel", "NoteFormat", "SECTIONS",
    "ServiceType", "Delivery", "Participant", "GoalRef", "InteractiveComplexityFactor",
]
