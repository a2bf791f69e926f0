"""Validate: the record models (pydantic v2). A record is a TreatmentPlan, a ProgressNote or an Addendum."""
from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field, TypeAdapter

from .addendum import Addendum, Change, OriginalKind, OriginalRef
from .assessments import GAD7, PCL5, PHQ9, Assessment, CSSRSScreener, RiskLevel
from .base import (Agency, Attestation, Client, Clinician, Guardian, Payer, PayerType, ProgramType,
                   Signature, SignatureMethod, SignerRole)
from .clinical import (Consent, ConsentSigner, ConsentType, Diagnosis, RiskAssessment, RiskUpdate,
                       SafetyPlan)
from .note import (SECTIONS, Delivery, GoalRef, InteractiveComplexityFactor, NoteFormat, Participant,
                   ProgressNote, ServiceType)
from .plan import (Goal, GoalCategory, History, Intervention, LevelOfCare, MedicalNecessity, Modality,
                   Objective, ObjectiveStatus, ProgressEntry, TreatmentPlan)

Record = Annotated[Union[TreatmentPlan, ProgressNote, Addendum], Field(discriminator="kind")]
RECORD = TypeAdapter(Record)

__all__ = [
    "Record", "RECORD", "TreatmentPlan", "ProgressNote", "Addendum", "OriginalRef",
    "OriginalKind", "Change", "Goal", "Objective", "Intervention",
    "ProgressEntry", "History", "MedicalNecessity", "LevelOfCare", "GoalCategory", "Modality",
    "ObjectiveStatus", "Client", "Guardian", "Agency", "Clinician", "Payer", "PayerType",
    "ProgramType", "Signature", "SignatureMethod", "SignerRole", "Attestation", "Consent",
    "ConsentType", "ConsentSigner", "Diagnosis", "RiskAssessment", "RiskUpdate", "SafetyPlan",
    "Assessment", "PHQ9", "GAD7", "PCL5", "CSSRSScreener", "RiskLevel", "NoteFormat", "SECTIONS",
    "ServiceType", "Delivery", "Participant", "GoalRef", "InteractiveComplexityFactor",
]
