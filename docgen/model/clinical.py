"""Clinical parts shared by plans and notes: diagnoses, risk, safety plan, consents."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, WithJsonSchema

from .assessments import RiskLevel
from .base import Date, Identifier, Name, Strict, Text, no_items


def icd10_code(value: str) -> str:
    """An ICD-10-CM code as the code set writes it: upper case, dot after the category (F331 -> F33.1)."""
    code = value.strip().upper()
    if not code:
        raise ValueError("diagnosis code is empty")
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    return code


#: A code field: normalised on input, so rules compare codes as the code set writes them.
ICD10Code = Annotated[str, AfterValidator(icd10_code), WithJsonSchema(
    {"type": "string", "pattern": "^[A-Za-z][0-9][0-9A-Za-z](\\.?[0-9A-Za-z]{1,4})?$",
     "description": "ICD-10-CM code, with or without the dot (e.g. F33.1)", "examples": ["F33.1"]})]


class Diagnosis(Strict):
    code: ICD10Code = Field(description="ICD-10-CM code, with or without the dot")
    description: str | None = Field(default=None, description="DSM-5-TR name; the code set's title when absent")
    primary: bool = False
    status: str | None = Field(default=None, description="e.g. provisional, confirmed, rule-out")
    onset: Date | None = None
    supporting_evidence: Text | None = None


class RiskAssessment(Strict):
    """A suicide / harm risk assessment (rules.md risk-level-doc)."""

    date: Date
    assessor_id: Identifier | None = None
    method: str | None = Field(default=None, description="e.g. C-SSRS full, clinical interview")
    ideation: Text | None = None
    plan: Text | None = None
    intent: Text | None = None
    behaviors: Text | None = None
    risk_factors: Text | None = None
    protective_factors: Text | None = None
    level: RiskLevel
    mitigation: Text | None = None
    follow_up: Text | None = None


class SafetyPlan(Strict):
    """Stanley & Brown Safety Planning Intervention: six sections (rules.md risk-safety-plan)."""

    date: Date
    warning_signs: list[Text] = Field(default_factory=no_items)
    internal_coping: list[Text] = Field(default_factory=no_items)
    social_distraction: list[Text] = Field(
        default_factory=no_items, description="people and social settings that provide distraction"
    )
    help_contacts: list[Text] = Field(default_factory=no_items, description="family or friends to ask for help")
    professional_contacts: list[Text] = Field(
        default_factory=no_items, description="professionals and agencies, including a crisis line"
    )
    lethal_means: list[Text] = Field(default_factory=no_items, description="making the environment safe")

    SECTIONS: ClassVar[tuple[str, ...]] = (
        "warning_signs",
        "internal_coping",
        "social_distraction",
        "help_contacts",
        "professional_contacts",
        "lethal_means",
    )


class ConsentType(str, Enum):
    treatment = "treatment"
    release_of_information = "release_of_information"
    hipaa_authorization = "hipaa_authorization"
    part2 = "part2"
    telehealth = "telehealth"
    psychotherapy_notes_authorization = "psychotherapy_notes_authorization"


class ConsentSigner(str, Enum):
    client = "client"
    guardian = "guardian"
    representative = "representative"


class Consent(Strict):
    id: Identifier | None = None
    type: ConsentType
    signed_by: Name | None = None
    signer_role: ConsentSigner | None = None
    date_signed: Date | None = None
    expires: Date | None = None
    expiration_event: str | None = None
    revoked: Date | None = None
    recipient: str | None = None
    disclosing_party: str | None = None
    purpose: str | None = None
    information_description: Text | None = None
    representative_authority: str | None = None
    right_to_revoke_statement: bool = False
    conditioning_statement: bool = False
    redisclosure_statement: bool = False

    @property
    def signed(self) -> bool:
        return bool(self.signed_by) and self.date_signed is not None

    def in_force_on(self, day: Date) -> bool:
        if not self.signed_by or self.date_signed is None or self.date_signed > day:  # not signed, or later
            return False
        if self.revoked is not None and self.revoked <= day:
            return False
        return self.expires is None or self.expires >= day


class RiskUpdate(Strict):
    level: RiskLevel
    summary: Text | None = None
    changed_since_last: bool = False
