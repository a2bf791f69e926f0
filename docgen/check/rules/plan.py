"""Treatment-plan rules: deadlines, reviews, goals, diagnoses, medical necessity, payer contents."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from ...model import GoalCategory, ProgramType, SignerRole, TreatmentPlan
from ...model.plan import PlanType
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


#: Where plan-deadline counts from (its ``start`` parameter).
STARTS = ("intake", "authorization")


@rule("plan-deadline", applies_to=[PLAN], severity="blocker",
      source="docgen policy: 30 calendar days after intake where the payer sets no deadline (profiles cite theirs)",
      summary="The initial plan is finished within the profile's deadline after intake, or after the authorization "
              "where the profile counts from it (calendar, business or working days); a review or revision plan "
              "is not held to it",
      days=30, day_type="calendar", start="intake")
def plan_deadline(plan: TreatmentPlan, ctx):
    if plan.plan_type is not PlanType.initial:
        return  # a review or revision follows the previous plan's dates (plan-succession), not intake
    limit, day_type, start = ctx.params["days"], ctx.params["day_type"], ctx.params["start"]
    if start not in STARTS:
        raise ValueError(f"plan-deadline: start must be one of {', '.join(STARTS)}, not '{start}'")
    begin, what, fallback = plan.intake_date, "intake", ""
    if start == "authorization":
        if plan.authorization_date is not None:
            begin, what = plan.authorization_date, "authorization"
        else:
            fallback = " (no authorization_date: counted from intake)"
    used = days_between(begin, plan.plan_date, day_type, ctx.calendar)
    if used > limit:
        yield ("plan_date",
               f"plan completed {used} {day_type} days after {what} on {begin.isoformat()}{fallback}; "
               f"limit {limit} {day_type} days")


#: The run's plans last looked at, and the plan dates of each client among them (see _replaced).
_DATES_OF: tuple[Mapping[str, Any] | None, int, dict[str, list[date]]] = (None, 0, {})


def _replaced(plan: Any, plans: Mapping[str, Any]) -> bool:
    """The run holds a later plan of the same client: ``plan`` has been replaced (by a review, a revision
    or a new plan) and is no longer the current one, as a packet's choice of the plan in force says.
    The run's plans are indexed by client once per run (the same mapping is given to every record)."""
    global _DATES_OF  # noqa: PLW0603 - a one-entry cache: one index per run, not per plan
    seen, size, dates = _DATES_OF
    if seen is not plans or size != len(plans):
        dates = {}
        for other in plans.values():
            dates.setdefault(other.client.id, []).append(other.plan_date)
        _DATES_OF = (plans, len(plans), dates)
    return any(day > plan.plan_date for day in dates.get(plan.client.id, ()))


@rule("plan-review", applies_to=[PLAN], severity="blocker",
      source=["42 CFR 456.180: plan reviewed at least every 90 days [cfr-42-456.180]", "TJC CTS.03.01.03 [tjc-cts]"],
      summary="A next review date is set, within the review interval, and not past on the day records are judged "
              "(--as-of; a packet judges each plan on its own date); a plan replaced by a later plan of the client "
              "in the same run is not overdue",
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
    if plan.next_review_date < ctx.as_of and not _replaced(plan, ctx.plans):
        yield ("next_review_date",
               f"review was due {plan.next_review_date.isoformat()} and is past (as of {ctx.as_of.isoformat()})")


@rule("plan-succession", applies_to=[PLAN], severity="blocker",
      source=["TJC CTS.03.01.03: review date set and kept [tjc-cts]", "42 CFR 456.180(c) [cfr-42-456.180]"],
      summary="A review or revision plan follows the plan it names (previous_plan_id) when that plan is in the run: "
              "the same client's, dated earlier, and a review written on or before the previous plan's review date")
def plan_succession(plan: TreatmentPlan, ctx):
    if plan.previous_plan_id is None:
        return
    previous = ctx.plans.get(plan.previous_plan_id)
    if previous is None:
        return  # not part of this run: cannot be verified here
    if previous.client.id != plan.client.id:
        yield "previous_plan_id", f"previous plan {previous.id} belongs to another client"
        return
    if previous.plan_date > plan.plan_date:
        yield ("previous_plan_id",
               f"previous plan {previous.id} is dated {previous.plan_date.isoformat()}, after this plan")
        return
    due = previous.next_review_date
    if plan.plan_type is PlanType.review and due is not None and plan.plan_date > due:
        yield ("plan_date", f"review plan dated {plan.plan_date.isoformat()}, after the review date "
                            f"{due.isoformat()} of the previous plan {previous.id}")


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


# --- Medicare (NGS treatment plan criteria, S6) ------------------------------------------------
_NUMBER = r"\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|an?"
_WORDS = {w: n for n, w in enumerate("one two three four five six seven eight nine ten eleven twelve".split(), 1)}
_UNIT_DAYS = {"d": 1.0, "w": 7.0, "m": 365 / 12, "y": 365.0}
_LENGTH = re.compile(rf"(?<![\w.])(?P<n>{_NUMBER})(?:\s*(?:-|\u2013|to)\s*(?P<m>{_NUMBER}))?\s*"
                     r"(?P<unit>days?|d|weeks?|wks?|w|months?|mos?|mths?|years?|yrs?|y)\b", re.IGNORECASE)
_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def _count(word: str) -> float:
    word = word.lower()
    return 1.0 if word in ("a", "an") else float(_WORDS.get(word) or word)


def duration_days(text: str, start: date) -> float | None:
    """The longest length a duration states, in days: "12 weeks", "3-6 months" (the upper bound), "six
    months", "1 year", or an end date ("until 2027-03-31", counted from ``start``); None when it states none."""
    found = []
    for match in _LENGTH.finditer(text):
        unit = match["unit"].lower()
        key = "m" if unit.startswith("m") else unit[0]
        found.append(max(_count(match["n"]), _count(match["m"] or match["n"])) * _UNIT_DAYS[key])
    for iso in _ISO_DATE.findall(text):
        try:
            found.append(float((date.fromisoformat(iso) - start).days))
        except ValueError:
            continue
    return max(found) if found else None


@rule("mcr-plan-elems", applies_to=[PLAN, NOTE], severity="blocker", enabled=False,
      source="ngs-plan-criteria",
      summary="Medicare psychotherapy plan: no older than a year before the date of service (a note: on its "
              "session date; a plan: on the day records are judged); each psychotherapy intervention states its "
              "type (individual, group or family: not implied), its amount (session length) and a duration under "
              "a year (frequency: goal-intervention)",
      max_age_days=365, duration_under_days=365,
      psychotherapy_modalities=["cbt", "dbt", "act", "emdr", "ipt", "motivational_interviewing", "family_therapy",
                                "group_therapy", "individual_therapy", "play_therapy"])
def mcr_plan_elements(doc, ctx):
    limit = ctx.params["max_age_days"]
    if doc.kind == NOTE:
        plan = ctx.plans.get(doc.plan_id) if doc.plan_id else None
        if plan is not None and (doc.session_date - plan.plan_date).days > limit:
            yield "plan_id", f"plan {plan.id} was established more than {limit} days before this session"
        return
    if (ctx.as_of - doc.plan_date).days > limit:
        yield ("plan_date", f"plan is more than {limit} days old on {ctx.as_of.isoformat()}: services from then on "
                            "need a new plan")
    therapy = set(ctx.params["psychotherapy_modalities"])
    under = ctx.params["duration_under_days"]
    for gi, goal in enumerate(doc.goals):
        for ii, item in enumerate(goal.interventions):
            if item.modality.value not in therapy and item.therapy_type is None:
                continue  # medication management, case management...: not psychotherapy
            where, which = f"goals[{gi}].interventions[{ii}]", f"psychotherapy intervention of goal {goal.id}"
            if item.stated_type is None:
                yield (f"{where}.therapy_type",
                       f"{which} does not state its type (individual, group or family): it cannot be implied")
            if item.session_minutes is None:
                yield f"{where}.session_minutes", f"{which} does not state the session length"
            if not (item.duration or "").strip():
                yield f"{where}.duration", f"{which} does not state a duration"
                continue
            days = duration_days(item.duration or "", doc.plan_date)
            if days is None:
                yield (f"{where}.duration", f"{which}: the duration must be a length under a year "
                                            "(weeks, months, days) or an end date")
            elif days >= under:
                yield f"{where}.duration", f"{which}: the duration is not under a year ({under} days)"


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
