"""Medicaid inpatient psychiatric services for individuals under 21 (u21-plan; 42 CFR 441 subpart D).

The individual plan of care is reviewed every 30 days by the team that developed it (441.155(c),
441.156); on an emergency admission that team certifies the need for services within 14 days after
admission (441.153(c)), so the initial plan is due by then. Applies to inpatient and residential plans
of a person under 21 on admission; off by default (the tx-medicaid profile switches it on)."""
from __future__ import annotations

from datetime import timedelta

from ...model import TreatmentPlan
from ...model.plan import PlanType
from ..registry import PLAN, rule


@rule("u21-plan", applies_to=[PLAN], severity="blocker", enabled=False,
      source=["42 CFR 441.153(c): certification by the plan team within 14 days of an emergency admission "
              "[cfr-42-441.155]", "42 CFR 441.155(c), 441.156: plan of care reviewed every 30 days [cfr-42-441.155]"],
      summary="Inpatient or residential psychiatric care under 21: the initial plan within 14 days of admission "
              "(intake date), a next review within 30 days of the plan date, not past on the day records are "
              "judged (--as-of; a packet judges each plan on its own date)",
      plan_days=14, review_days=30, under_age=21, levels=["inpatient", "residential"])
def u21_plan(plan: TreatmentPlan, ctx):
    p = ctx.params
    if plan.level_of_care.value not in p["levels"] or plan.client.age_on(plan.intake_date) >= p["under_age"]:
        return
    used = (plan.plan_date - plan.intake_date).days
    if plan.plan_type is PlanType.initial and used > p["plan_days"]:
        yield ("plan_date", f"plan completed {used} days after admission on {plan.intake_date.isoformat()}; "
                            f"limit {p['plan_days']} days")
    if plan.next_review_date is None:
        yield "next_review_date", f"no next review date set: the plan is reviewed every {p['review_days']} days"
        return
    if plan.next_review_date > plan.plan_date + timedelta(days=p["review_days"]):
        yield ("next_review_date", f"next review {plan.next_review_date.isoformat()} is more than "
                                   f"{p['review_days']} days after the plan date")
    elif plan.next_review_date < ctx.as_of:
        yield ("next_review_date", f"{p['review_days']}-day review was due {plan.next_review_date.isoformat()} "
                                   f"and is past (as of {ctx.as_of.isoformat()})")
