"""Rules a state program adds, off by default and switched on by its profile: Minnesota's individual
treatment plan for licensed SUD programs (mn-sud-itp, profile mn-245g) and California's 24-hour deadline
for crisis notes (crisis-note-due, profile ca-medi-cal)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from ...model import ProgramType, ServiceType, SignerRole
from ..days import DAY_TYPES, days_between
from ..registry import ADDENDUM, NOTE, PLAN, rule
from .signatures import author_signature, is_minor, words

CRISIS_CODES = ("90839", "90840")
#: What a documented telehealth approval says in place of the client's signature (245G.06 subd. 1).
TELEHEALTH_WORDS = {"telehealth", "telemedicine", "video", "telephone", "phone", "audio"}


def _mn_params(params: dict) -> None:
    if params["day_type"] not in DAY_TYPES:
        raise ValueError(f"day_type must be one of {', '.join(DAY_TYPES)}")
    for name in ("residential_days", "nonresidential_days", "otp_days"):
        if not isinstance(params[name], int) or params[name] < 1:
            raise ValueError(f"{name} must be a whole number of days, at least 1")


def _client_signed(doc, adult_age: int) -> bool:
    accepted = [SignerRole.client] + ([SignerRole.guardian] if is_minor(doc, adult_age) else [])
    return any(s.role in accepted and s.date is not None for s in doc.signatures)


def _telehealth_approval(doc) -> bool:
    """A documented reason naming telehealth and the client's (verbal or electronic) approval."""
    found = set(words(getattr(doc, "client_signature_waiver_reason", None) or ""))
    return bool(found & TELEHEALTH_WORDS) and any(w.startswith("approv") for w in found)


@rule("mn-sud-itp", applies_to=[PLAN, ADDENDUM], severity="blocker", enabled=False,
      source=["Minn. Stat. §245G.06 subd. 1: deadline, signatures of client and counselor, each change too "
              "[mn-stat-245g.06]",
              "Minn. Stat. §245G.06 subd. 1a: methods with amount, frequency and anticipated duration; goals to "
              "complete treatment [mn-stat-245g.06]"],
      summary="Minnesota 245G SUD program: the individual treatment plan is done within 10 days of service "
              "initiation (residential), at most 30 (nonresidential, whose tenth session day docgen cannot count), "
              "21 for an opioid treatment program, the day of initiation excluded; signed and dated by the "
              "counselor and the client (via telehealth: a documented reason and the client's approval), and so "
              "is each change (addendum); every service states its anticipated duration; the plan states the "
              "goals that complete treatment",
      residential_days=10, nonresidential_days=30, otp_days=21, opioid_treatment_program=False,
      residential_levels=["residential", "inpatient"], day_type="calendar", adult_age=18, check_params=_mn_params)
def mn_sud_itp(doc, ctx):
    if doc.agency.program_type is ProgramType.mental_health:
        return
    p = ctx.params
    counselor = author_signature(doc)
    if doc.kind == ADDENDUM:
        if doc.original.kind.value != PLAN:
            return
        if counselor is None or counselor[1].date is None:
            yield "signatures", "a change to the treatment plan is not signed and dated by the counselor"
        if not _client_signed(doc, p["adult_age"]):
            yield "signatures", "a change to the treatment plan is not signed by the client"
        return
    start = doc.first_service_date or doc.intake_date
    if p["opioid_treatment_program"]:
        limit, setting = p["otp_days"], "an opioid treatment program"
    elif doc.level_of_care.value in p["residential_levels"]:
        limit, setting = p["residential_days"], "a residential program"
    else:
        limit, setting = p["nonresidential_days"], "a nonresidential program"
    used = days_between(start, doc.plan_date, p["day_type"], ctx.calendar)
    if used > limit:
        yield ("plan_date", f"plan completed {used} {p['day_type']} days after service initiation on "
                            f"{start.isoformat()}; {setting} has {limit}")
    if counselor is None or counselor[1].date is None:
        yield "signatures", "the plan is not signed and dated by the alcohol and drug counselor"
    if not _client_signed(doc, p["adult_age"]) and not _telehealth_approval(doc):
        yield ("signatures", "the plan is not signed by the client (via telehealth: document the reason and the "
                             "client's verbal or electronic approval in client_signature_waiver_reason)")
    for gi, goal in enumerate(doc.goals):
        for ii, item in enumerate(goal.interventions):
            if not (item.duration or "").strip():
                yield (f"goals[{gi}].interventions[{ii}].duration",
                       f"a service of goal {goal.id} has no anticipated duration")
    if not (doc.discharge_criteria or "").strip():
        yield "discharge_criteria", "the plan does not state the goals the client must reach to complete treatment"


def _is_crisis(note) -> bool:
    return note.service_type is ServiceType.crisis or any(code in CRISIS_CODES for code in note.cpt_codes)


@rule("crisis-note-due", applies_to=[NOTE], severity="blocker", enabled=False,
      source="BHIN 23-068: progress notes for crisis services within 24 hours [ca-bhin-23-068]",
      summary="A crisis note (service type crisis, or 90839/90840) is signed by its author within the profile's hours "
              "of the end of the service (of its start, or the session day's end, when times are missing)",
      hours=24)
def crisis_note_due(note, ctx):
    if not _is_crisis(note):
        return
    found = author_signature(note)
    if found is None or found[1].date is None:
        return  # sig-present / sig-dated report it
    index, sig = found
    ended = note.end_time or note.start_time
    service_end = datetime.combine(note.session_date, ended) if ended else \
        datetime.combine(note.session_date + timedelta(days=1), time(0, 0))
    # a signature without a time counts from the start of its day (the earliest it can have been made)
    signed = datetime.combine(sig.date, sig.time or time(0, 0))
    hours = (signed - service_end).total_seconds() / 3600
    if hours > ctx.params["hours"]:
        yield (f"signatures[{index}].date",
               f"crisis note signed {hours:.0f} hours after the service; limit {ctx.params['hours']} hours")
