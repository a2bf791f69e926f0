"""The treatment plan (see ../shared/domain/treatment-plans.md)."""
from __future__ import annotations

from enum import Enum
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from .assessments import Assessment
from .base import Agency, Client, Clinician, Date, Identifier, Name, Payer, Signature, Strict, Text, no_items
from .clinical import Consent, Diagnosis, ICD10Code, RiskAssessment, SafetyPlan


class LevelOfCare(str, Enum):
    outpatient = "outpatient"
    intensive_outpatient = "intensive_outpatient"
    partial_hospitalization = "partial_hospitalization"
    residential = "residential"
    inpatient = "inpatient"
    crisis_stabilization = "crisis_stabilization"
    community_support = "community_support"


class GoalCategory(str, Enum):
    treatment = "treatment"  # addresses symptoms; a measurable positive change
    life = "life"  # the person's hopes, e.g. a job
    enhancement = "enhancement"  # quality of life, e.g. more friends


class Modality(str, Enum):
    cbt = "cbt"
    dbt = "dbt"
    act = "act"
    emdr = "emdr"
    ipt = "ipt"
    motivational_interviewing = "motivational_interviewing"
    family_therapy = "family_therapy"
    group_therapy = "group_therapy"
    individual_therapy = "individual_therapy"
    play_therapy = "play_therapy"
    medication_management = "medication_management"
    psychoeducation = "psychoeducation"
    case_management = "case_management"
    skills_training = "skills_training"
    peer_support = "peer_support"
    other = "other"


class TherapyType(str, Enum):
    """Who takes part in a session: the type Medicare asks a psychotherapy plan to state (NGS)."""

    individual = "individual"
    group = "group"
    family = "family"


#: Modalities that name their type themselves.
MODALITY_TYPE = {Modality.individual_therapy: TherapyType.individual, Modality.group_therapy: TherapyType.group,
                 Modality.family_therapy: TherapyType.family}


class PlanType(str, Enum):
    """Which plan of an episode of care this is."""

    initial = "initial"  # the first plan: the initial deadline (plan-deadline) applies
    review = "review"  # a periodic review (e.g. at 90 days) replacing the previous plan, due by its review date
    revision = "revision"  # an update of the previous plan between reviews


class ObjectiveStatus(str, Enum):
    not_started = "not_started"
    in_progress = "in_progress"
    achieved = "achieved"
    revised = "revised"
    discontinued = "discontinued"


class Intervention(Strict):
    id: Identifier | None = None
    description: Text
    modality: Modality
    therapy_type: TherapyType | None = Field(
        default=None, description="individual, group or family: stated, not implied (Medicare); the modalities "
                                  "individual_therapy, group_therapy and family_therapy state it themselves")
    frequency: Name | None = Field(default=None, description="e.g. weekly, twice a month")
    session_minutes: int | None = Field(default=None, ge=1, le=1440, description="amount: length of a session")
    duration: str | None = Field(default=None, description="projected length, e.g. 12 weeks, 6 months, "
                                                              "or an end date (until 2027-03-31)")
    responsible: Name | None = Field(default=None, description="who delivers it: a person or role")
    setting: str | None = Field(default=None, description="e.g. clinic, home, school, telehealth")

    @model_validator(mode="after")
    def _type_matches_modality(self) -> Intervention:
        named = MODALITY_TYPE.get(self.modality)
        if named is not None and self.therapy_type is not None and self.therapy_type is not named:
            raise ValueError(f"therapy_type '{self.therapy_type.value}' contradicts modality {self.modality.value}")
        return self

    @property
    def stated_type(self) -> TherapyType | None:
        """The type the intervention states: its ``therapy_type``, or the one its modality names."""
        return self.therapy_type or MODALITY_TYPE.get(self.modality)


class Objective(Strict):
    id: Identifier = Field(examples=["G1.O1"])
    description: Text
    measure: Text | None = Field(default=None, description="how progress is measured: scale, count, percentage")
    baseline: str | None = None
    target: str | None = None
    target_date: Date | None = None
    status: ObjectiveStatus = ObjectiveStatus.not_started


class ProgressEntry(Strict):
    date: Date
    summary: Text
    rating: str | None = Field(default=None, description='e.g. "5 of 10"')
    objectives_achieved: list[Identifier] = Field(default_factory=no_items)


class Goal(Strict):
    id: Identifier = Field(examples=["G1"])
    category: GoalCategory
    statement: Text
    client_words: Text | None = Field(default=None, description="the goal in the person's own words")
    diagnoses: list[ICD10Code] = Field(default_factory=no_items, description="ICD-10-CM codes this goal addresses")
    target_date: Date | None = None
    objectives: list[Objective] = Field(default_factory=no_items)
    interventions: list[Intervention] = Field(default_factory=no_items)
    progress: list[ProgressEntry] = Field(default_factory=no_items)


class History(Strict):
    psychosocial: Text | None = None
    symptom_onset: Text | None = None
    psychiatric_history: Text | None = None
    treatment_history: Text | None = None
    medical_conditions: Text | None = None
    medications: list[Text] = Field(default_factory=no_items)
    substance_use: Text | None = None
    family_history: Text | None = None
    sleep: Text | None = None
    diet: Text | None = None
    activity: Text | None = None
    culture_and_values: Text | None = None
    education_employment: Text | None = None
    living_situation: Text | None = None
    legal: Text | None = None


class MedicalNecessity(Strict):
    """The five components (Jensen 2006)."""

    indicated: Text | None = None
    appropriate: Text | None = None
    efficacious: Text | None = None
    effective: Text | None = None
    efficient: Text | None = None

    COMPONENTS: ClassVar[tuple[str, ...]] = ("indicated", "appropriate", "efficacious", "effective", "efficient")


class TreatmentPlan(Strict):
    kind: Literal["treatment_plan"]
    id: Identifier = Field(examples=["TP-1001"])
    client: Client
    agency: Agency
    clinicians: list[Clinician] = Field(min_length=1)
    author_id: Identifier = Field(description="id of the clinician who wrote the plan", examples=["CL-01"])
    payer: Payer
    intake_date: Date
    authorization_date: Date | None = Field(
        default=None, description="the day the person was found eligible and authorized for services; where the "
                                  "profile says so the initial deadline counts from it (Texas: 1 TAC 354.2609(b)(2))")
    plan_date: Date
    plan_type: PlanType = Field(default=PlanType.initial, description="initial (the first plan), review (a periodic "
                                "review replacing the previous plan) or revision (an update between reviews)")
    previous_plan_id: Identifier | None = Field(default=None, description="the plan a review or revision replaces")
    first_service_date: Date | None = None
    review_interval_days: int | None = Field(default=None, ge=1, le=730)
    next_review_date: Date | None = None
    level_of_care: LevelOfCare
    history: History = Field(default_factory=History)
    presenting_concerns: Text | None = None
    presenting_concerns_client_words: Text | None = None
    diagnoses: list[Diagnosis] = Field(default_factory=no_items)
    strengths: list[Text] = Field(default_factory=no_items)
    needs: list[Text] = Field(default_factory=no_items)
    barriers: list[Text] = Field(default_factory=no_items)
    client_vision: Text | None = Field(default=None, description="hopes and what the person wants, own words")
    preferences: list[Text] = Field(default_factory=no_items)
    supports: list[Text] = Field(default_factory=no_items, description="who else can help")
    goals: list[Goal] = Field(default_factory=no_items)
    medical_necessity: MedicalNecessity | None = None
    assessments: list[Assessment] = Field(default_factory=no_items)
    risk_assessment: RiskAssessment | None = None
    safety_plan: SafetyPlan | None = None
    consents: list[Consent] = Field(default_factory=no_items)
    discharge_criteria: Text | None = None
    projected_length_of_stay: str | None = None
    client_signature_waiver_reason: Text | None = Field(
        default=None, description="why the client did not sign (e.g. declined), when documented"
    )
    signatures: list[Signature] = Field(default_factory=no_items)

    @model_validator(mode="after")
    def _references(self) -> TreatmentPlan:
        ids = [c.id for c in self.clinicians]
        if self.author_id not in ids:
            raise ValueError(f"author_id '{self.author_id}' is not among clinicians")
        seen: set[str] = set()
        for goal in self.goals:
            if goal.id in seen:
                raise ValueError(f"goal id '{goal.id}' is used twice")
            seen.add(goal.id)
            objective_ids = [o.id for o in goal.objectives]
            if len(set(objective_ids)) != len(objective_ids):
                raise ValueError(f"goal '{goal.id}' has duplicate objective ids")
        if self.plan_date < self.intake_date:
            raise ValueError("plan_date is before intake_date")
        if self.previous_plan_id == self.id:
            raise ValueError("previous_plan_id names the plan itself")
        return self

    # convenience -----------------------------------------------------------------------------
    @property
    def author(self) -> Clinician:
        return next(c for c in self.clinicians if c.id == self.author_id)

    def clinician(self, clinician_id: str | None) -> Clinician | None:
        return next((c for c in self.clinicians if c.id == clinician_id), None)

    @property
    def service_date(self):
        """The date the document stands for: the plan date."""
        return self.plan_date

    def goal(self, goal_id: str) -> Goal | None:
        return next((g for g in self.goals if g.id == goal_id), None)


__all__ = [
    "TreatmentPlan", "Goal", "Objective", "Intervention", "ProgressEntry", "History",
    "MedicalNecessity", "LevelOfCare", "GoalCategory", "Modality", "ObjectiveStatus", "Name", "PlanType",
    "TherapyType", "MODALITY_TYPE",
]
