"""Shared building blocks of every record: the strict base model and common parties."""
from __future__ import annotations

import re
import unicodedata
from datetime import date as _date
from datetime import datetime as _datetime
from datetime import time as _time
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from ..load import normal_id

#: Longest free-text field we accept (characters). A bigger field is a data error, not a document.
MAX_TEXT = 100_000

def no_items() -> list:
    """A new empty list: the default of every list field. A Python function, not the builtin ``list``:
    pydantic reads a default factory's signature when it builds a validator, and the builtin's costs
    about 70 microseconds (its text signature is parsed), 10 ms of a cold start over the fields of a plan."""
    return []


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


#: Unicode categories an id may not hold: control, format (zero-width, bidi controls, BOM), surrogate,
#: private use, unassigned, line and paragraph separators, and spaces other than U+0020.
_NOT_IN_IDS = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _check_id(value: str) -> str:
    """An id is NFC text of visible characters and plain spaces: an invisible character would make two
    ids look the same to a person and differ to a program (a second record slipping past the lock)."""
    for ch in value:
        category = unicodedata.category(ch)
        if category in _NOT_IN_IDS or (category == "Zs" and ch != " "):
            raise ValueError(f"identifier holds an invisible, control or bidi character (U+{ord(ch):04X}); "
                             "use letters, digits, punctuation and plain spaces")
    value = normal_id(value)
    if not value:
        raise ValueError("identifier is blank")
    return value


# --- dates, times and codes: one human message each, never the value typed --------------------------
#: What a date field says when it cannot read one (``11/05/2026``, ``2026-11-5``, a number...).
DATE_MESSAGE = "date must be YYYY-MM-DD (e.g. 2026-11-05)"
#: ... when it reads YYYY-MM-DD but no such day exists (``2026-19-11`` typed day-first, ``2026-02-30``).
NO_SUCH_DATE = "no such date: YYYY-MM-DD with a month 01-12 and a day that month has (e.g. 2026-11-05)"
TIME_MESSAGE = "time must be HH:MM (24-hour, e.g. 09:30)"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")


def _read_date(value: Any) -> _date:
    """A calendar date from ``YYYY-MM-DD`` only: not a timestamp, not day-first, not a datetime."""
    if isinstance(value, _date) and not isinstance(value, _datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise PydanticCustomError("date_format", DATE_MESSAGE)
    try:
        return _date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_format", NO_SUCH_DATE) from None


def _read_time(value: Any) -> _time:
    """A time of day from ``HH:MM`` (``9:00`` is 09:00; seconds ``HH:MM:SS`` allowed), 24-hour."""
    if isinstance(value, _time):
        return value
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match:
        hour, minute, second = (int(part or 0) for part in match.groups())
        if hour < 24 and minute < 60 and second < 60:
            return _time(hour, minute, second)
    raise PydanticCustomError("time_format", TIME_MESSAGE)


#: A date field: ``YYYY-MM-DD``.
Date = Annotated[_date, BeforeValidator(_read_date), WithJsonSchema(
    {"type": "string", "format": "date", "pattern": f"^{_ISO_DATE.pattern}$", "description": "YYYY-MM-DD"})]
#: A time field: ``HH:MM``, 24-hour (one-digit hours and ``:SS`` accepted).
Time = Annotated[_time, BeforeValidator(_read_time), WithJsonSchema(
    {"type": "string", "pattern": "^([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
     "description": "HH:MM, 24-hour"})]


def coded(pattern: str, message: str, *, strip: bool = False, example: str | None = None) -> Any:
    """A code field (state, CPT, place of service...): text matching ``pattern`` in full, or the
    finding ``message``, which says what is expected and never repeats what was typed. The JSON
    schema carries the pattern, with the message as its description."""
    regex = re.compile(pattern)

    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise PydanticCustomError("code_format", message)
        return value

    anchored = f"^(?:{pattern})$" if "|" in pattern else f"^{pattern}$"
    schema: dict = {"type": "string", "pattern": anchored, "description": message}
    if example is not None:
        schema["examples"] = [example]
    return Annotated[str, StringConstraints(strip_whitespace=strip), AfterValidator(check),
                     WithJsonSchema(schema)]


#: Record and entity identifiers: short, printable. File names derived from them are made safe later.
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=128), AfterValidator(_check_id)
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
    id: Identifier = Field(examples=["C-1001"])
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


if TYPE_CHECKING:  # to a type checker a code is text; to pydantic, text of its pattern
    StateCode = str
else:
    StateCode = coded(r"[A-Z]{2}", "two-letter state code (e.g. TX)", example="TX")


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
    state: StateCode | None = Field(
        default=None, description="the agency's state, two letters (e.g. MN): picks the profile where the payer "
        "names none, and state licensing profiles")
    program_type: ProgramType = ProgramType.mental_health
    part2_program: bool = Field(
        default=False, description="a federally assisted SUD program under 42 CFR Part 2"
    )


class Clinician(Strict):
    id: Identifier = Field(examples=["CL-01"])
    name: Name
    credentials: Name = Field(description="licence or credential, e.g. LCSW, LMSW, PhD, MD, QMHP-CS",
                              examples=["LCSW"])
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
    state: StateCode | None = None
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
