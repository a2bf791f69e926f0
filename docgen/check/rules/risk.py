"""Consent, measurement and risk rules (sources: docgen/check/sources.toml)."""
from __future__ import annotations

from ...model import PCL5, PHQ9, CSSRSScreener, RiskLevel, TreatmentPlan
from ..registry import NOTE, PLAN, rule

BOTH = (PLAN, NOTE)


def _scales(doc):
    for index, item in enumerate(doc.assessments):
        if not isinstance(item, CSSRSScreener):
            yield index, item


def _screeners(doc):
    return [(i, a) for i, a in enumerate(doc.assessments) if isinstance(a, CSSRSScreener)]


def current_screen(doc) -> tuple[int, CSSRSScreener] | None:
    """The C-SSRS screen that tells the record's current level: the latest one (the last listed of its
    day), while it is within its recall window on the record's date; older screens are history."""
    screens = _screeners(doc)
    if not screens:
        return None
    latest = max(s.date for _, s in screens)
    index, screen = [(i, s) for i, s in screens if s.date == latest][-1]
    return (index, screen) if screen.current_on(doc.service_date) else None


def screen_level(doc) -> RiskLevel:
    """The level the current C-SSRS screen tells (none without one)."""
    found = current_screen(doc)
    return found[1].level_on(doc.service_date) if found is not None else RiskLevel.none


def _phq9_item9_positive(doc, threshold: int):
    """PHQ-9s whose item 9 is at or above ``threshold``. A plan keeps the history of screens: only its
    latest PHQ-9 speaks for it; a note's PHQ-9s are all of its encounter."""
    scales = [(i, a) for i, a in enumerate(doc.assessments) if isinstance(a, PHQ9)]
    if doc.kind == PLAN and scales:
        latest = max(a.date for _, a in scales)
        scales = [(i, a) for i, a in scales if a.date == latest]
    for index, item in scales:
        if item.item9 is not None and item.item9 >= threshold:
            yield index, item


def risk_level(doc) -> RiskLevel:
    """The highest risk level the record documents or its current screen tells."""
    levels = [RiskLevel.none, screen_level(doc)]
    if doc.risk_assessment is not None:
        levels.append(doc.risk_assessment.level)
    update = getattr(doc, "risk_update", None)
    if update is not None:
        levels.append(update.level)
    return max(levels, key=lambda level: level.rank)


@rule("consent-treatment", applies_to=[PLAN], severity="blocker",
      source="docgen policy: consent to treatment signed before the first service (informed consent is state law)",
      summary="Consent to treatment present, signed (by the guardian for a minor) on or before the first service",
      adult_age=18)
def consent_treatment(plan: TreatmentPlan, ctx):
    consents = [(i, c) for i, c in enumerate(plan.consents) if c.type.value == "treatment"]
    if not consents:
        yield "consents", "no consent to treatment on file"
        return
    first_service = plan.first_service_date or plan.intake_date
    signed = [(i, c) for i, c in consents if c.signed]
    if not signed:
        index = consents[0][0]
        yield f"consents[{index}]", "consent to treatment is not signed and dated"
        return
    dates = [c.date_signed for _, c in signed if c.date_signed is not None]  # all of them: signed means dated
    if not any(d <= first_service for d in dates):
        index = signed[0][0]
        yield (f"consents[{index}].date_signed",
               f"consent to treatment signed {dates[0].isoformat()}, after the first service "
               f"on {first_service.isoformat()}")
    if plan.client.age_on(first_service) < ctx.params["adult_age"]:
        if not any(c.signer_role is not None and c.signer_role.value in ("guardian", "representative")
                   for _, c in signed):
            yield (f"consents[{signed[0][0]}].signer_role",
                   "client is a minor: consent to treatment must be signed by the guardian")


@rule("risk-assessment-current", applies_to=[PLAN], severity="blocker",
      source=["TJC NPSG.15.01.01 [tjc-npsg-15]", "docgen policy: no older than the profile's max_age_days"],
      summary="A suicide/harm risk assessment is on the plan and no older than the profile allows",
      max_age_days=30)
def risk_assessment_current(plan: TreatmentPlan, ctx):
    risk = plan.risk_assessment
    if risk is None:
        yield "risk_assessment", "no risk assessment on the plan"
        return
    age = (plan.plan_date - risk.date).days
    if age > ctx.params["max_age_days"]:
        yield ("risk_assessment.date",
               f"risk assessment is {age} days older than the plan (limit {ctx.params['max_age_days']} days)")
    if risk.date > plan.plan_date:
        yield "risk_assessment.date", "risk assessment is dated after the plan"


@rule("risk-score-valid", applies_to=BOTH, severity="blocker", source=["phq-9", "gad-7", "pcl-5"],
      summary="Every item of a standardized scale is answered, so the total can be computed")
def risk_score_valid(doc, ctx):
    for index, scale in _scales(doc):
        missing = [n + 1 for n, item in enumerate(scale.items) if item is None]
        if missing:
            yield (f"assessments[{index}].items",
                   f"{scale.instrument.upper()} of {scale.date.isoformat()} has unanswered item(s) "
                   f"{', '.join(map(str, missing))}: no total can be scored")


@rule("risk-phq9-i9", applies_to=BOTH, severity="blocker",
      source=["phq-9", "TJC NPSG.15.01.01 [tjc-npsg-15]", "docgen policy: the item-9 threshold is the profile's"],
      summary="A PHQ-9 item 9 answer at or above the threshold requires a suicide risk assessment "
              "in the same encounter",
      threshold=1)
def risk_phq9_item9(doc, ctx):
    # A plan keeps the history of screens; its (single) risk assessment answers the latest one.
    for index, phq in _phq9_item9_positive(doc, ctx.params["threshold"]):
        risk = doc.risk_assessment
        if risk is None or risk.date != phq.date:
            yield (f"assessments[{index}].items[8]",
                   f"PHQ-9 item 9 answered {phq.item9} on {phq.date.isoformat()}: a suicide risk assessment "
                   "dated the same day is required")


@rule("risk-cssrs", applies_to=BOTH, severity="blocker",
      source="c-ssrs",
      summary="Each C-SSRS screener follows the form's skip logic; the latest screen, within its recall window "
              "(past month; past 3 months for behaviour), sets the level the record may not document below; "
              "moderate or high needs a risk assessment")
def risk_cssrs(doc, ctx):
    for index, screen in _screeners(doc):
        for field, message in screen.skip_errors():
            yield f"assessments[{index}].{field}", f"C-SSRS screener of {screen.date.isoformat()}: {message}"
    found = current_screen(doc)
    if found is not None:
        index, screen = found
        level = screen.level_on(doc.service_date)
        risk = doc.risk_assessment
        if level.rank >= RiskLevel.moderate.rank and risk is None:
            yield (f"assessments[{index}]",
                   f"C-SSRS screener of {screen.date.isoformat()} indicates {level.value} risk: a risk assessment "
                   "by a mental health professional is required")
        elif risk is not None and risk.level.rank < level.rank:
            yield ("risk_assessment.level",
                   f"documented risk level '{risk.level.value}' is below the C-SSRS screener result "
                   f"'{level.value}' of {screen.date.isoformat()}")
        update = getattr(doc, "risk_update", None)
        if update is not None and update.level.rank < level.rank:
            yield ("risk_update.level",
                   f"risk update level '{update.level.value}' is below the C-SSRS screener result "
                   f"'{level.value}' of {screen.date.isoformat()}")


@rule("risk-level-doc", applies_to=BOTH, severity="blocker", source="TJC NPSG.15.01.01 EP 3-5 [tjc-npsg-15]",
      summary="A positive screen requires an assessment of ideation, plan, intent, behaviours, risk and "
              "protective factors, with an overall level and a mitigation plan",
      phq9_threshold=1, min_age=12)
def risk_level_doc(doc, ctx):
    if doc.client.age_on(doc.service_date) < ctx.params["min_age"]:
        return
    positive = screen_level(doc) is not RiskLevel.none or any(
        True for _ in _phq9_item9_positive(doc, ctx.params["phq9_threshold"]))
    if not positive:
        return
    risk = doc.risk_assessment
    if risk is None:
        yield "risk_assessment", "suicide screen is positive: a documented risk assessment is required"
        return
    for part in ("ideation", "plan", "intent", "behaviors", "risk_factors", "protective_factors", "mitigation"):
        if not (getattr(risk, part) or "").strip():
            yield (f"risk_assessment.{part}",
                   f"positive screen: risk assessment does not address {part.replace('_', ' ')}")


@rule("risk-safety-plan", applies_to=[PLAN], severity="blocker",
      source="stanley-brown-2012",
      summary="Risk at or above the profile's level requires a safety plan with all six sections",
      level="moderate")
def risk_safety_plan(plan: TreatmentPlan, ctx):
    threshold = RiskLevel(ctx.params["level"])
    level = risk_level(plan)
    if level.rank < threshold.rank:
        return
    if plan.safety_plan is None:
        yield "safety_plan", f"risk is {level.value}: a safety plan is required"
        return
    for section in plan.safety_plan.SECTIONS:
        entries = getattr(plan.safety_plan, section)
        if not any(entry.strip() for entry in entries):
            yield f"safety_plan.{section}", f"safety plan section '{section.replace('_', ' ')}' is empty"


def _empty_sections(safety_plan) -> list[str]:
    """The Stanley-Brown sections of ``safety_plan`` with no entry."""
    return [section for section in safety_plan.SECTIONS
            if not any(entry.strip() for entry in getattr(safety_plan, section))]


def _current_plan(note, ctx):
    """The note's treatment plan when it is in this run, the client's and current on the session date;
    ``...`` when the note names a plan this run does not hold (nothing about it can be verified)."""
    if note.plan_id is None:
        return None
    plan = ctx.plans.get(note.plan_id)
    if plan is None:
        return ...
    current = plan.plan_date <= note.session_date and (plan.next_review_date is None
                                                         or note.session_date <= plan.next_review_date)
    return plan if plan.client.id == note.client.id and current else None


@rule("risk-note-safety", applies_to=[NOTE], severity="blocker",
      source=["TJC NPSG.15.01.01 EP 3-5 [tjc-npsg-15]", "stanley-brown-2012", "c-ssrs"],
      summary="A note whose documented risk reaches the profile's level has a risk assessment of the session; a "
              "note at that level or with a positive screen has a complete safety plan, its own or its current "
              "plan's, written by the session date",
      level="high", screen_level="low", phq9_threshold=1)
def risk_note_safety(note, ctx):
    p = ctx.params
    level = RiskLevel(p["level"])
    documented = [r.level for r in (note.risk_update, note.risk_assessment) if r is not None]
    high = any(d.rank >= level.rank for d in documented)
    screened = screen_level(note)
    positive = (screened is not RiskLevel.none and screened.rank >= RiskLevel(p["screen_level"]).rank) or (
        p["phq9_threshold"] > 0 and any(True for _ in _phq9_item9_positive(note, p["phq9_threshold"])))
    if not (high or positive):
        return
    why = f"risk is {max(documented, key=lambda d: d.rank).value}" if high else "a suicide screen is positive"
    plan = _current_plan(note, ctx)
    if high:
        # a positive screen's assessment is risk-level-doc's, risk-cssrs' and risk-phq9-i9's to ask for
        own = note.risk_assessment
        theirs = plan.risk_assessment if plan not in (None, ...) else None
        if own is not None and own.date == note.session_date:
            pass
        elif theirs is not None and theirs.date == note.session_date:
            pass
        elif own is not None:
            yield ("risk_assessment.date", f"{why}: the risk assessment of {own.date.isoformat()} is not of this "
                                           f"session ({note.session_date.isoformat()})")
        elif plan is not ...:
            yield "risk_assessment", f"{why}: a risk assessment of this session is required"
    if note.safety_plan is not None:
        if note.safety_plan.date > note.session_date:
            yield "safety_plan.date", f"{why}: the safety plan is dated after the session"
        for section in _empty_sections(note.safety_plan):
            yield f"safety_plan.{section}", f"{why}: safety plan section '{section.replace('_', ' ')}' is empty"
        return
    if plan is ...:
        return  # the plan is not part of this run: its safety plan cannot be verified here
    theirs_plan = plan.safety_plan if plan is not None else None
    if theirs_plan is None:
        where = f"its plan {plan.id} has none" if plan is not None else "it names no plan current on the session date"
        yield "safety_plan", f"{why}: a safety plan is required (none on the note; {where})"
    elif theirs_plan.date > note.session_date:
        yield ("safety_plan", f"{why}: the safety plan of plan {plan.id} is dated {theirs_plan.date.isoformat()}, "
                              "after the session")
    elif _empty_sections(theirs_plan):
        missing = ", ".join(s.replace("_", " ") for s in _empty_sections(theirs_plan))
        yield "safety_plan", f"{why}: the safety plan of plan {plan.id} is incomplete ({missing} empty)"


@rule("risk-pcl5", applies_to=BOTH, severity="warning",
      source=["PCL-5 scoring: 20 items 0-4, total 0-80, probable PTSD at a cut-point of 31-33 [pcl-5]"],
      summary="The latest PCL-5 at or above the cut-point (probable PTSD) is answered by a PTSD diagnosis (F43.1x), "
              "provisional or ruled out, on the record or its plan",
      cut_point=33)
def risk_pcl5(doc, ctx):
    scales = [(i, a) for i, a in enumerate(doc.assessments) if isinstance(a, PCL5)]
    if not scales:
        return
    latest = max(a.date for _, a in scales)
    index, scale = [(i, a) for i, a in scales if a.date == latest][-1]
    cut = ctx.params["cut_point"]
    if scale.total is None or scale.total < cut:
        return  # an unanswered item is risk-score-valid's
    codes = [d.code for d in doc.diagnoses]
    if doc.kind == NOTE and doc.plan_id is not None:
        plan = ctx.plans.get(doc.plan_id)
        if plan is None and not any(c.startswith("F43.1") for c in codes):
            return  # the plan is not part of this run: its diagnoses cannot be verified here
        codes += [d.code for d in plan.diagnoses] if plan is not None else []
    if not any(c.startswith("F43.1") for c in codes):
        yield (f"assessments[{index}]",
               f"PCL-5 total {scale.total} of {scale.date.isoformat()} is at or above the cut-point {cut} (probable "
               "PTSD): no PTSD diagnosis (F43.1x), provisional or ruled out, is recorded")
