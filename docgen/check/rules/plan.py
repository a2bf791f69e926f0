"""Treatment-plan rules: deadlines, reviews, goals, diagnoses, medical necessity, payer contents."""
from __future__ import annotations

import re
from datetime import timedelta

from ...model import GoalCategory, ProgramType, SignerRole, TreatmentPlan
from ..days import days_between
from ..registry import NOTE, PLAN, rule
from .signatures import author_signature

#: What may be quoted back from a diagnosis code field: something shaped like a code. Anything else
#: (a diagnosis name or clinical text typed into the field) is never repeated in a message.
_CODE_LIKE = re.compile(r"[A-Z0-9][A-Z0-9.]{0,7}")


def _shown(code: str, otherwise: str) -> str:
    return code if _CODE_LIKE.fullmatch(code) else otherwise


def icd10cm_status(code: str) -> str:
    """'billable', 'header' (valid but not billable: a category with subcodes) or 'invalid'."""
    from ..icd10 import status  # noqa: PLC0415

    return status(code)


@rule("plan-deadline", applies_to=[PLAN], severity="blocker",
      source="docgen policy: 30 calendar days after intake where the payer sets no deadline (profiles cite theirs)",
      summary="The plan is finished within the profile's deadline after intake (calendar, business or working days)",
      days=30, day_type="calendar")
def plan_deadline(plan: TreatmentPlan, ctx):
    limit, day_type = ctx.params["days"], ctx.params["day_type"]
    used = days_between(plan.intake_date, plan.plan_date, day_type, ctx.calendar)
    if used > limit:
        yield ("plan_date",
               f"plan completed {used} {day_type} days after intake on {plan.intake_date.isoformat()}; "
               f"limit {limit} {day_type} days")


@rule("plan-review", applies_to=[PLAN], severity="blocker",
      source=["42 CFR 456.180: plan reviewed at least every 90 days [cfr-42-456.180]", "TJC CTS.03.01.03 [tjc-cts]"],
      summary="A next review date is set, within the review interval, and not past",
      review_days=90)
def plan_review(plan: TreatmentPlan, ctx):
    limit = ctx.params["review_days"]
    interval = plan.review_interval_days or limit
    if plan.review_interval_days and plan.review_interval_days > limit:
        yield ("review_interval_days",
               f"review interval of {plan.review_interval_days} days exceeds the profile's {limit} days")
        interval = limit
    if plan.next_review_date is None:
        yield "next_review_date", "no next review date set"
        return
    latest = plan.plan_date + timedelta(days=interval)
    if plan.next_review_date > latest:
        yield ("next_review_date",
               f"next review {plan.next_review_date.isoformat()} is more than {interval} days after the plan date")
    if plan.next_review_date < ctx.as_of:
        yield ("next_review_date",
               f"review was due {plan.next_review_date.isoformat()} and is past (as of {ctx.as_of.isoformat()})")


@rule("goal-objective", applies_to=[PLAN], severity="blocker",
      source=["CARF BH 2.C: measurable, time-specific objectives [carf-bh-2c]", "TJC CTS.03.01.03 [tjc-cts]"],
      summary="The plan has a treatment goal, and every goal has a measurable objective with a target date")
def goal_objective(plan: TreatmentPlan, ctx):
    if not any(g.category is GoalCategory.treatment for g in plan.goals):
        yield "goals", "the plan has no treatment goal"
    for gi, goal in enumerate(plan.goals):
        if not goal.objectives:
            yield f"goals[{gi}].objectives", f"goal {goal.id} has no objective"
        for oi, objective in enumerate(goal.objectives):
            if not (objective.measure or "").strip():
                yield f"goals[{gi}].objectives[{oi}].measure", f"objective {objective.id} has no measure"
            if objective.target_date is None:
                yield f"goals[{gi}].objectives[{oi}].target_date", f"objective {objective.id} has no target date"


@rule("goal-intervention", applies_to=[PLAN], severity="blocker",
      source="CARF BH 2.C: interventions, modalities or services, and their frequency [carf-bh-2c]",
      summary="Every treatment goal has interventions, each with a frequency and a responsible person")
def goal_intervention(plan: TreatmentPlan, ctx):
    for gi, goal in enumerate(plan.goals):
        if goal.category is GoalCategory.treatment and not goal.interventions:
            yield f"goals[{gi}].interventions", f"treatment goal {goal.id} has no intervention"
        for ii, item in enumerate(goal.interventions):
            if not (item.frequency or "").strip():
                yield (f"goals[{gi}].interventions[{ii}].frequency",
                       f"an intervention of goal {goal.id} has no frequency")
            if not (item.responsible or "").strip():
                yield (f"goals[{gi}].interventions[{ii}].responsible",
                       f"an intervention of goal {goal.id} names no responsible person")


@rule("dx-valid", applies_to=[PLAN], severity="blocker",
      source=["icd-10-cm", "45 CFR 162.1002: ICD-10-CM is the HIPAA diagnosis code set [cfr-45-162.1002]"],
      summary="The plan has a diagnosis; every code is a valid, billable ICD-10-CM code; goals point at plan diagnoses")
def dx_valid(plan: TreatmentPlan, ctx):
    if not plan.diagnoses:
        yield "diagnoses", "no diagnosis"
    for index, dx in enumerate(plan.diagnoses):
        status = icd10cm_status(dx.code)
        if status == "invalid":
            yield f"diagnoses[{index}].code", f"{_shown(dx.code, 'this')} is not an ICD-10-CM code"
        elif status == "header":
            yield (f"diagnoses[{index}].code",
                   f"{dx.code} is a category, not a billable code: use a more specific subcode")
    codes = {dx.code for dx in plan.diagnoses}
    for gi, goal in enumerate(plan.goals):
        for di, code in enumerate(goal.diagnoses):  # codes arrive normalised (model.clinical.icd10_code)
            if code not in codes:
                yield (f"goals[{gi}].diagnoses[{di}]",
                       f"goal {goal.id} addresses {_shown(code, 'a code')}, which is not a plan diagnosis")


@rule("med-necessity", applies_to=[PLAN], severity="blocker",
      source=["SSA §1862(a)(1)(A): reasonable and necessary [ssa-1862]", "aspe-medical-necessity",
              "docgen policy: stated in five components (indicated, appropriate, efficacious, effective, efficient)"],
      summary="Medical necessity is stated in all five components")
def med_necessity(plan: TreatmentPlan, ctx):
    mn = plan.medical_necessity
    if mn is None:
        yield "medical_necessity", "medical necessity is not documented"
        return
    for part in mn.COMPONENTS:
        if not (getattr(mn, part) or "").strip():
            yield f"medical_necessity.{part}", f"medical necessity: '{part}' is not stated"


@rule("tjc-plan", applies_to=[PLAN], severity="warning", source=["TJC CTS.03.01.03 [tjc-cts]", "carf-bh-2c"],
      summary="Person-centred plan: goals in the person's own words, strengths, needs, discharge criteria")
def tjc_plan(plan: TreatmentPlan, ctx):
    for gi, goal in enumerate(plan.goals):
        if goal.category is GoalCategory.treatment and not (goal.client_words or "").strip():
            yield f"goals[{gi}].client_words", f"goal {goal.id} is not stated in the person's own words"
    if not plan.strengths:
        yield "strengths", "no strengths recorded"
    if not plan.needs:
        yield "needs", "no needs recorded"
    if not (plan.discharge_criteria or "").strip():
        yield "discharge_criteria", "no discharge or transition criteria"


@rule("mcr-plan-elems", applies_to=[PLAN, NOTE], severity="blocker", enabled=False,
      source="ngs-plan-criteria",
      summary="Medicare psychotherapy plan: established within a year of service; each intervention states type, "
              "amount, frequency and a duration under a year",
      max_age_days=365)
def mcr_plan_elements(doc, ctx):
    limit = ctx.params["max_age_days"]
    if doc.kind == NOTE:
        plan = ctx.plans.get(doc.plan_id) if doc.plan_id else None
        if plan is not None and (doc.session_date - plan.plan_date).days > limit:
            yield "plan_id", f"plan {plan.id} was established more than {limit} days before this session"
        return
    if (ctx.as_of - doc.plan_date).days > limit:
        yield "plan_date", f"plan is more than {limit} days old: a new plan is required"
    for gi, goal in enumerate(doc.goals):
        for ii, item in enumerate(goal.interventions):
            where = f"goals[{gi}].interventions[{ii}]"
            if item.session_minutes is None:
                yield f"{where}.session_minutes", f"intervention of goal {goal.id} does not state the session length"
            if not (item.duration or "").strip():
                yield f"{where}.duration", f"intervention of goal {goal.id} does not state a duration"


@rule("ny-contents", applies_to=[PLAN], severity="blocker", enabled=False,
      source="14 NYCRR 599.10(c): contents of the treatment plan [nycrr-14-599.10]",
      summary="NY OMH clinic plan: primary clinician's name and title, services with frequency and duration, "
              "language needs, needs and strengths")
def ny_contents(plan: TreatmentPlan, ctx):
    if not (plan.author.title or "").strip():
        yield f"clinicians[{plan.clinicians.index(plan.author)}].title", "primary clinician's title is not recorded"
    if not (plan.client.preferred_language or "").strip():
        yield "client.preferred_language", "language needs are not recorded"
    if not plan.needs:
        yield "needs", "needs are not recorded"
    if not plan.strengths:
        yield "strengths", "strengths are not recorded"
    for gi, goal in enumerate(plan.goals):
        for ii, item in enumerate(goal.interventions):
            if not (item.duration or "").strip():
                yield f"goals[{gi}].interventions[{ii}].duration", f"service of goal {goal.id} has no duration"


@rule("ny-participation", applies_to=[PLAN], severity="blocker", enabled=False, source="nycrr-14-587.16",
      summary="An adult's participation is shown by signature (else a documented reason); a child's plan names "
              "the collaterals who took part",
      adult_age=18)
def ny_participation(plan: TreatmentPlan, ctx):
    if plan.client.age_on(plan.plan_date) >= ctx.params["adult_age"]:
        signed = any(s.role is SignerRole.client for s in plan.signatures)
        if not signed and not (plan.client_signature_waiver_reason or "").strip():
            yield "signatures", "adult client did not sign and no reason is documented"
    elif not plan.supports:
        yield "supports", "child's plan does not name the collaterals who took part"


@rule("tx-sud-plan", applies_to=[PLAN], severity="blocker", enabled=False,
      source="26 TAC 564.804(c)-(e): discharge criteria, projected stay, client's and counselor's signatures "
             "[tac-26-564.804]",
      summary="Texas SUD plan: signed by client and counselor, with discharge criteria and projected length of stay")
def tx_sud_plan(plan: TreatmentPlan, ctx):
    if plan.agency.program_type is ProgramType.mental_health:
        return
    if not any(s.role in (SignerRole.client, SignerRole.guardian) for s in plan.signatures):
        yield "signatures", "SUD plan is not signed by the client"
    if author_signature(plan) is None:
        yield "signatures", "SUD plan is not signed by the counselor"
    if not (plan.discharge_criteria or "").strip():
        yield "discharge_criteria", "SUD plan has no discharge criteria"
    if not (plan.projected_length_of_stay or "").strip():
        yield "projected_length_of_stay", "SUD plan has no projected length of stay"
