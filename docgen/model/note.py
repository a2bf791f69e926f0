"""The progress note: one session, in SOAP, BIRP, DAP or GIRP form."""
from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from .assessments import Assessment
from .base import (
    Agency,
    Client,
    Clinician,
    Date,
    Identifier,
    Name,
    Payer,
    Signature,
    StateCode,
    Strict,
    Text,
    Time,
    coded,
    no_items,
)
from .clinical import Diagnosis, RiskAssessment, RiskUpdate, SafetyPlan


class NoteFormat(str, Enum):
    soap = "soap"
    birp = "birp"
    dap = "dap"
    girp = "girp"


#: Sections of each format, in document order (rules.md fmt-sections, S36).
SECTIONS: dict[NoteFormat, tuple[str, ...]] = {
    NoteFormat.soap: ("subjective", "objective", "assessment", "plan"),
    NoteFormat.birp: ("behavior", "intervention", "response", "plan"),
    NoteFormat.dap: ("data", "assessment", "plan"),
    NoteFormat.girp: ("goal", "intervention", "response", "plan"),
}
ALL_SECTIONS = ("subjective", "objective", "behavior", "data", "goal", "intervention", "response",
                "assessment", "plan")


class ServiceType(str, Enum):
    intake = "intake"  # diagnostic evaluation 90791/90792
    individual = "individual"
    family_with_client = "family_with_client"
    family_without_client = "family_without_client"
    group = "group"
    crisis = "crisis"
    medication_management = "medication_management"
    case_management = "case_management"


class Delivery(str, Enum):
    in_person = "in_person"
    telehealth_video = "telehealth_video"
    telehealth_audio = "telehealth_audio"


class InteractiveComplexityFactor(str, Enum):
    """CPT +90785 factors (rules.md ic-90785). interpreter_translator is recorded but does not qualify alone
    (CMS: 90785 is not billed solely for translation or interpretation); play_devices_interpreter, the
    earlier combined value, stays valid but alone does not say which of the two it was."""

    maladaptive_communication = "maladaptive_communication"
    caregiver_interference = "caregiver_interference"
    sentinel_event_mandated_report = "sentinel_event_mandated_report"
    play_equipment_devices = "play_equipment_devices"
    interpreter_translator = "interpreter_translator"
    play_devices_interpreter = "play_devices_interpreter"


class Participant(Strict):
    name: Name
    role: Name = Field(description="e.g. client, mother, spouse, interpreter, group member")


class GoalRef(Strict):
    goal_id: Identifier = Field(examples=["G1"])
    objective_ids: list[Identifier] = Field(default_factory=no_items)
    progress: Text | None = None


#: CPT (90834, +90785), CPT category II/III (1234F) and HCPCS level II (H0004) codes, each with up to four
#: two-character modifiers (95, 93, GT, FQ, HO, HE, 59, 25...): ``90834-95``, or ``{code: 90834,
#: modifiers: [95]}``, which is stored as ``90834-95``. A code without modifiers is stored as it always
#: was (the content hash of a record without modifiers does not change).
_BARE_CODE = r"\+?[0-9]{5}|\+?[0-9]{4}[A-Z]|[A-Z][0-9]{4}"
_MODIFIER = r"[0-9A-Z]{2}"
_CODE_LINE = re.compile(rf"(?:{_BARE_CODE})(?:-{_MODIFIER}){{0,4}}")
CODE_MESSAGE = ("CPT or HCPCS code: five digits (e.g. 90834, add-on +90785), four digits and a letter (e.g. 3725F) "
                "or a letter and four digits (e.g. H0004); modifiers (up to four, two capital letters or digits) "
                "after hyphens (90834-95) or as {code: 90834, modifiers: [95]}")


def _code_text(value: Any) -> Any:
    """A code given as ``{code, modifiers}`` as the text it is stored as; anything else unchanged."""
    if not isinstance(value, dict):
        return value
    code, modifiers = value.get("code"), value.get("modifiers", [])
    scalar = (str, int)
    if (set(value) - {"code", "modifiers"} or not isinstance(code, scalar) or isinstance(code, bool)
            or not isinstance(modifiers, list)
            or not all(isinstance(m, scalar) and not isinstance(m, bool) for m in modifiers)
            or not re.fullmatch(_BARE_CODE, str(code).strip())):
        raise PydanticCustomError("code_format", CODE_MESSAGE)
    return "-".join([str(code).strip(), *(str(m).strip() for m in modifiers)])


def _code_line(value: str) -> str:
    if not _CODE_LINE.fullmatch(value):
        raise PydanticCustomError("code_format", CODE_MESSAGE)
    return re.sub(r"^\+", "", value)


_CODE_SCHEMA = {"examples": ["90834"], "anyOf": [
    {"type": "string", "pattern": f"^{_CODE_LINE.pattern}$", "description": CODE_MESSAGE,
     "examples": ["90834", "90834-95"]},
    {"type": "object", "additionalProperties": False, "required": ["code"], "description": CODE_MESSAGE,
     "properties": {"code": {"type": "string", "pattern": f"^(?:{_BARE_CODE})$"},
                    "modifiers": {"type": "array", "maxItems": 4,
                                  "items": {"type": "string", "pattern": f"^{_MODIFIER}$"}}}},
]}

if TYPE_CHECKING:  # to a type checker a code is text; to pydantic, text of its pattern
    CptCode = str
    PlaceOfService = str
else:
    CptCode = Annotated[str, BeforeValidator(_code_text), StringConstraints(strip_whitespace=True),
                        AfterValidator(_code_line), WithJsonSchema(_CODE_SCHEMA)]
    #: CMS place-of-service code.
    PlaceOfService = coded(r"[0-9]{2}", "place-of-service code: two digits (e.g. 11 office, 02 or 10 telehealth)",
                           example="11")

#: Places of service CMS defines for telehealth: 02 (other than the patient's home), 10 (the patient's home).
TELEHEALTH_POS = ("02", "10")


class SiteKind(str, Enum):
    """Where a person was during a telehealth session."""

    home = "home"  # the patient's home (CMS POS 10)
    office = "office"
    facility = "facility"  # hospital, clinic, nursing facility or another health care setting
    school = "school"
    community = "community"
    other = "other"


class Location(Strict):
    """Where the patient or the clinician was during a telehealth session."""

    kind: SiteKind
    state: StateCode | None = Field(default=None, description="two-letter state code (licensure)")
    description: Name | None = Field(default=None, examples=["private room at home"])


class Evaluation(Strict):
    """A psychiatric diagnostic evaluation (90791/90792): the parts payers look for (rules.md eval-9079x);
    the initial diagnoses go in the note's ``diagnoses``."""

    psychiatric_history: Text | None = None
    medical_history: Text | None = None
    mental_status: Text | None = Field(default=None, description="mental status examination")
    capacity: Text | None = Field(default=None, description="the client's capacity to respond to treatment")
    recommendations: Text | None = Field(default=None, description="the initial plan of treatment")

    PARTS: ClassVar[dict[str, str]] = {
        "psychiatric_history": "psychiatric history", "medical_history": "medical history",
        "mental_status": "mental status", "capacity": "capacity to respond to treatment",
        "recommendations": "initial plan of treatment"}


class ProgressNote(Strict):
    kind: Literal["progress_note"]
    id: Identifier = Field(examples=["PN-1001-01"])
    client: Client
    agency: Agency
    clinicians: list[Clinician] = Field(min_length=1)
    author_id: Identifier = Field(description="id of the clinician who wrote the note", examples=["CL-01"])
    payer: Payer
    plan_id: Identifier | None = Field(default=None, description="the treatment plan this note serves",
                                       examples=["TP-1001"])
    format: NoteFormat
    session_date: Date
    start_time: Time | None = None
    end_time: Time | None = None
    psychotherapy_minutes: int | None = Field(
        default=None, ge=0, le=1440,
        description="documented psychotherapy minutes (when no start/stop, or separate from E/M time)",
    )
    service_type: ServiceType
    delivery: Delivery = Delivery.in_person
    place_of_service: PlaceOfService = Field(
        description="CMS place-of-service code, e.g. 11 office, 02/10 telehealth, 53 CMHC"
    )
    patient_location: Location | None = Field(default=None, description="telehealth: where the patient was")
    clinician_location: Location | None = Field(default=None, description="telehealth: where the clinician was")
    audio_only_reason: Text | None = Field(
        default=None, description="audio-only telehealth: why video was not used (e.g. the client has no camera, "
                                  "or declined video)")
    participants: list[Participant] = Field(default_factory=no_items)
    group_size: int | None = Field(default=None, ge=1, description="number of patients in a group session")
    cpt_codes: list[CptCode] = Field(min_length=1)
    interactive_complexity_factors: list[InteractiveComplexityFactor] = Field(default_factory=no_items)
    goals_addressed: list[GoalRef] = Field(default_factory=no_items)
    diagnoses: list[Diagnosis] = Field(
        default_factory=no_items, description="diagnoses addressed in the session (an evaluation's initial diagnoses)")
    modalities: list[Name] = Field(default_factory=no_items,
                                   description="techniques and modalities used in the session",
                                   examples=[["CBT: cognitive restructuring"]])
    evaluation: Evaluation | None = Field(default=None, description="90791/90792: the diagnostic evaluation")
    prognosis: Text | None = None
    subjective: Text | None = None
    objective: Text | None = None
    behavior: Text | None = None
    data: Text | None = None
    goal: Text | None = None
    intervention: Text | None = None
    response: Text | None = None
    assessment: Text | None = None
    plan: Text | None = None
    assessments: list[Assessment] = Field(default_factory=no_items)
    risk_update: RiskUpdate | None = None
    risk_assessment: RiskAssessment | None = None
    safety_plan: SafetyPlan | None = Field(
        default=None, description="a safety plan written or revised in this session (else the plan's counts)")
    psychotherapy_note: bool = Field(
        default=False,
        description="the whole document is a psychotherapy note (45 CFR 164.501): never sent to a payer",
    )
    psychotherapy_notes: Text | None = Field(
        default=None,
        description="the clinician's private process notes, kept apart: never in a payer packet",
    )
    signatures: list[Signature] = Field(default_factory=no_items)

    @model_validator(mode="after")
    def _consistency(self) -> ProgressNote:
        if self.author_id not in [c.id for c in self.clinicians]:
            raise ValueError(f"author_id '{self.author_id}' is not among clinicians")
        foreign = [s for s in ALL_SECTIONS if getattr(self, s) is not None and s not in SECTIONS[self.format]]
        if foreign:
            raise ValueError(
                f"a {self.format.value} note has no section(s) {', '.join(foreign)}; "
                f"its sections are {', '.join(SECTIONS[self.format])}"
            )
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValueError("end_time is not after start_time")
        return self

    # convenience -----------------------------------------------------------------------------
    @property
    def author(self) -> Clinician:
        return next(c for c in self.clinicians if c.id == self.author_id)

    def clinician(self, clinician_id: str | None) -> Clinician | None:
        return next((c for c in self.clinicians if c.id == clinician_id), None)

    @property
    def service_date(self) -> Date:
        return self.session_date

    @property
    def codes(self) -> list[str]:
        """The billed codes without their modifiers, in order (what the CPT rules compare)."""
        return [c.split("-", 1)[0] for c in self.cpt_codes]

    @property
    def lines(self) -> list[tuple[str, tuple[str, ...]]]:
        """Each billed code with its modifiers: ``90834-95-HO`` -> ``("90834", ("95", "HO"))``."""
        return [(code, tuple(modifiers)) for code, *modifiers in (c.split("-") for c in self.cpt_codes)]

    @property
    def sections(self) -> tuple[str, ...]:
        return SECTIONS[self.format]

    @property
    def clock_minutes(self) -> int | None:
        """Minutes between start and end time, when both are given."""
        if self.start_time is None or self.end_time is None:
            return None
        day = self.session_date
        return int((datetime.combine(day, self.end_time) - datetime.combine(day, self.start_time)).total_seconds()
                   // 60)

    @property
    def minutes(self) -> int | None:
        """Documented psychotherapy time: explicit minutes first, else the clock."""
        return self.psychotherapy_minutes if self.psychotherapy_minutes is not None else self.clock_minutes
