"""Plan before billing (plan-before-service): a service is documented on or after the day its
treatment plan was signed. Texas: the recovery/treatment plan is developed "before the provision of
mental health targeted case management or mental health rehabilitative services" (1 TAC
354.2609(b)(1)); Medicare: psychotherapy follows an established plan (NGS treatment plan criteria).
Off by default; the tx-medicaid and medicare profiles switch it on."""
from __future__ import annotations

from datetime import datetime, time

from ...model import ProgressNote, SignerRole
from ..registry import NOTE, rule
from .signatures import author_signature


def _signed_at(plan, roles: list[str]) -> tuple[datetime, bool] | None:
    """When the last of the plan's ``roles`` signed (``clinician``: its author), and whether that
    signature has a time; None when one of them has not signed (or not dated)."""
    moments = []
    for role in roles:
        if role == "clinician":
            found = author_signature(plan)
            signed = [found[1]] if found is not None else []
        else:
            signed = [s for s in plan.signatures if s.role is SignerRole(role)]
        dated = [s for s in signed if s.date is not None]
        if not dated:
            return None
        first = min(dated, key=lambda s: datetime.combine(s.date, s.time or time(0, 0)))
        moments.append((datetime.combine(first.date, first.time or time(0, 0)), first.time is not None))
    return max(moments) if moments else None


@rule("plan-before-service", applies_to=[NOTE], severity="blocker", enabled=False,
      source=["1 TAC 354.2609(b)(1): the plan comes before services [tac-1-354.2609]", "ngs-plan-criteria"],
      summary="A service is on or after the day its treatment plan was signed (by the roles listed; clinician: "
              "the plan's author); intake, evaluation and crisis services come before a plan. The plan must be in "
              "the run to be verified",
      roles=["clinician"], exempt_service_types=["intake", "crisis"], exempt_codes=["90791", "90792", "90839"])
def plan_before_service(note: ProgressNote, ctx):
    if note.service_type.value in ctx.params["exempt_service_types"] \
            or any(code in ctx.params["exempt_codes"] for code in note.cpt_codes):
        return
    plan = ctx.plans.get(note.plan_id) if note.plan_id else None
    if plan is None or plan.client.id != note.client.id:
        return  # not in this run (cannot be verified here), or another client's (note-goal-link says so)
    roles = ctx.params["roles"]
    signed = _signed_at(plan, roles)
    who = "its author" if roles == ["clinician"] else ", ".join(roles)
    if signed is None:
        yield "plan_id", f"plan {plan.id} is not signed by {who}: no plan was in place for this service"
        return
    moment, timed = signed
    before = note.session_date < moment.date() or (
        note.session_date == moment.date() and timed and note.start_time is not None
        and note.start_time < moment.time())
    if before:
        yield ("plan_id", f"service on {note.session_date.isoformat()} is before plan {plan.id} was signed by {who} "
                          f"({moment.date().isoformat()}): the plan must be in place before services")
