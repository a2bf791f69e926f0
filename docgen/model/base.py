"""Shared building blocks of every record: the strict base model and common parties."""
from __future__ import annotations

import re
from datetime import date as Date
from datetime import time as Time
from enum import Enum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

#: Longest free-text field we accept (characters). A bigger field is a data error, not a document.
MAX_TEXT = 100_000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Strict(BaseModel):
    """Base of every record model: unknown fields are errors, text is bounded."""

    model_config = ConfigDict(
        extra="forbid",
        coerce_numbers_to_str=True,  # ids and codes typed as numbers in YAML
        str_max_length=MAX_TEXT,
        use_enum_values=False,
        validate_default=False,
        defer_build=True,  # validators built on first use: a process builds only the kinds it reads
    )


def _check_id(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("identifier must not contain control characters")
    return value


#: Record and entity identifiers: short, printable. File names derived from them are made safe later.
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=128, strip_whitespace=True), AfterValidator(_check_id)
]
#: A required, non-blank line of text (names, credentials).
Name = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]
#: Free clinical text: multi-line, kept exactly as typed.
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]


class Guardian(Strict):
    name: Name
    relationship: Name = Field(description="e.g. mother, legal guardian, conservator")
    phone: str | None = None
    legal_authority: str | None = Field(
        default=None, description="basis of the guardian's authority (parent, court order...)"
    )


class Client(Strict):
    id: Identifier
    name: Name
    date_of_birth: Date
    gender: str | None = None
    pronouns: str | None = None
    preferred_language: str | None = None
    interpreter_needed: bool = False
    race_ethnicity: str | None = None
    address: Text | None = None
    phone: str | None = None
    guardian: Guardian | None = None

    def age_on(self, day: Date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class ProgramType(str, Enum):
    mental_health = "mental_health"
    substance_use = "substance_use"
    co_occurring = "co_occurring"


class Agency(Strict):
    name: Name
    npi: str | None = None
    address: Text | None = None
    phone: str | None = None
    program: Name | None = Field(default=None, description="program or clinic name")
    program_type: ProgramType = ProgramType.mental_health
    part2_program: bool = Field(
        default=False, description="a federally assisted SUD program under 42 CFR Part 2"
    )


class Clinician(Strict):
    id: Identifier
    name: Name
    credentials: Name = Field(description="licence or credential, e.g. LCSW, LMSW, PhD, MD, QMHP-CS")
    title: str | None = None
    npi: str | None = None
    requires_cosign: bool | None = Field(
        default=None,
        description="explicitly needs a supervisor co-signature; when absent the profile's "
        "credential list decides",
    )
    supervisor_id: Identifier | None = None


class PayerType(str, Enum):
    medicare = "medicare"
    medicaid = "medicaid"
    commercial = "commercial"
    self_pay = "self_pay"
    other = "other"


class Payer(Strict):
    name: Name
    type: PayerType
    state: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    member_id: str | None = None
    profile: str | None = Field(
        default=None, description="name of the rules profile to use; otherwise derived from type and state"
    )


class SignerRole(str, Enum):
    client = "client"
    guardian = "guardian"
    clinician = "clinician"  # the author
    supervisor = "supervisor"  # co-signer
    psychiatrist = "psychiatrist"
    other = "other"


class SignatureMethod(str, Enum):
    electronic = "electronic"
    handwritten_scan = "handwritten_scan"
    wet_ink = "wet_ink"
    typed = "typed"  # a bare typed name: not a valid signature
    stamp = "stamp"  # rubber stamp: refused unless a documented disability exception


class Attestation(Strict):
    """Medicare-style attestation for a signature added late (rules.md c.3)."""

    text: Text
    date: Date
    by: Name


class Signature(Strict):
    role: SignerRole
    name: Name
    credentials: str | None = None
    signer_id: Identifier | None = Field(default=None, description="clinician id, for staff signers")
    method: SignatureMethod
    date: Date | None = None
    time: Time | None = None
    image: str | None = Field(default=None, description="path to a signature image, relative to the record")
    attestation: Attestation | None = None
    disability_exception: bool = Field(
        default=False, description="documented disability that permits a signature stamp"
    )
