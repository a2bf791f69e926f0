"""Progress-note rules: sections, ties to the plan, timeliness, and CPT time rules (sources: sources.toml)."""
from __future__ import annotations

import math

from ...model import InteractiveComplexityFactor as Factor
from ...model import ProgressNote, ServiceType
from ...model.note import Evaluation
from ..codes import (
    ADDON,
    CRISIS,
    CRISIS_ADDON,
    CRISIS_EXCLUDES,
    EVALUATION,
    EVALUATION_EXCLUDES,
    FAMILY,
    GROUP,
    INTERACTIVE,
    PSYCHOTHERAPY,
    is_em,
)
from ..days import days_between
from ..registry import NOTE, rule
from .signatures import author_signature

IC_PRIMARY = ("90791", "90792", *PSYCHOTHERAPY, *ADDON, GROUP)
IC_NEVER = (CRISIS, CRISIS_ADDON, *FAMILY)
TIMED = (*PSYCHOTHERAPY, *ADDON, CRISIS, CRISIS_ADDON, *FAMILY)  # 90853 has no CPT time


def _band_of(minutes: int, bands: dict[str, list[int]]) -> str | None:
    for code, (low, high) in bands.items():
        if low <= minutes <= high:
            return code
    return None


@rule("fmt-sections", applies_to=[NOTE], severity="blocker",
      source=["docgen policy: every section of the note's chosen format is filled in", "note-formats"],
      summary="Every section of the note's format (SOAP, BIRP, DAP, GIRP) is filled in")
def fmt_sections(note: ProgressNote, ctx):
    for section in note.sections:
        if not (getattr(note, section) or "").strip():
            yield section, f"{note.format.value.upper()} section '{section}' is empty"


@rule("note-goal-link", applies_to=[NOTE], severity="blocker",
      source=["26 TAC 301.361(a)(11)-(12): the plan objective addressed and the progress [tac-26-301.361]"],
      summary="The note names its treatment plan and the goals it addressed; when the plan is given they exist "
              "and the plan was current on the session date (plan_required = false: a note may have neither)",
      plan_required=True)
def note_goal_link(note: ProgressNote, ctx):
    if note.service_type is ServiceType.intake or any(c in EVALUATION for c in note.codes):
        return  # a diagnostic evaluation comes before the plan it informs
    if note.plan_id is None and not ctx.params["plan_required"]:
        return  # a program without a treatment plan (plan_required = false): care planning is in the notes
    if not note.goals_addressed:
        yield "goals_addressed", "the note does not name a plan goal it addressed"
    if note.plan_id is None:
        yield "plan_id", "the note does not name its treatment plan"
        return
    plan = ctx.plans.get(note.plan_id)
    if plan is None:
        return  # the plan is not part of this run: references cannot be verified here
    if plan.client.id != note.client.id:
        yield "plan_id", f"plan {plan.id} belongs to another client"
        return
    if note.session_date < plan.plan_date or (plan.next_review_date and note.session_date > plan.next_review_date):
        yield ("plan_id", f"plan {plan.id} was not current on {note.session_date.isoformat()} "
                          f"(plan {plan.plan_date.isoformat()}, review due "
                          f"{plan.next_review_date.isoformat() if plan.next_review_date else 'unset'})")
    for gi, ref in enumerate(note.goals_addressed):
        goal = plan.goal(ref.goal_id)
        if goal is None:
            yield f"goals_addressed[{gi}].goal_id", f"plan {plan.id} has no goal {ref.goal_id}"
            continue
        known = {o.id for o in goal.objectives}
        for oi, objective_id in enumerate(ref.objective_ids):
            if objective_id not in known:
                yield (f"goals_addressed[{gi}].objective_ids[{oi}]",
                       f"goal {goal.id} of plan {plan.id} has no objective {objective_id}")


@rule("note-risk-update", applies_to=[NOTE], severity="blocker",
      source=["docgen policy: each note records a risk update", "TJC NPSG.15.01.01 [tjc-npsg-15]"],
      summary="Each note records a risk update")
def note_risk_update(note: ProgressNote, ctx):
    if note.risk_update is None:
        yield "risk_update", "no risk update in the note"


@rule("note-timeliness", applies_to=[NOTE], severity="blocker", enabled=False,
      source=["26 TAC 301.361(b): two business days [tac-26-301.361]",
              "BHIN 23-068: three business days [ca-bhin-23-068]"],
      summary="The author signs the note within the profile's deadline after the session",
      days=3, day_type="business")
def note_timeliness(note: ProgressNote, ctx):
    found = author_signature(note)
    if found is None or found[1].date is None:
        return  # sig-present / sig-dated report it
    index, sig = found
    used = days_between(note.session_date, sig.date, ctx.params["day_type"], ctx.calendar)
    if used > ctx.params["days"]:
        yield (f"signatures[{index}].date",
               f"note signed {used} {ctx.params['day_type']} days after the session; limit {ctx.params['days']}")


@rule("pt-time", applies_to=[NOTE], severity="blocker",
      source=["lcd-l35101", "26 TAC 301.361(a)(4): begin and end time [tac-26-301.361]", "centene-bh-records"],
      summary="Timed services document start and stop times (or total minutes, where the profile accepts them)",
      require_start_stop=False)
def pt_time(note: ProgressNote, ctx):
    # Where the profile requires start and stop times they are due on every note; otherwise only
    # for time-based codes.
    if not ctx.params["require_start_stop"] and not any(code in TIMED for code in note.codes):
        return
    has_clock = note.start_time is not None and note.end_time is not None
    if ctx.params["require_start_stop"]:
        if note.start_time is None:
            yield "start_time", "start time is required for this payer"
        if note.end_time is None:
            yield "end_time", "end time is required for this payer"
    elif not has_clock and note.psychotherapy_minutes is None:
        yield "start_time", "neither start and end times nor total psychotherapy minutes are documented"
    clock = note.clock_minutes  # None unless both times are given
    if clock is not None and note.psychotherapy_minutes is not None and note.psychotherapy_minutes > clock:
        yield ("psychotherapy_minutes",
               f"{note.psychotherapy_minutes} psychotherapy minutes exceed the {clock} minutes between "
               "start and end")


@rule("pt-band", applies_to=[NOTE], severity="blocker", source=["lcd-l35101", "magellan-addon"],
      summary="The psychotherapy code matches the documented time: none under 16 min, "
              "90832 16-37, 90834 38-52, 90837 53+",
      min_minutes=16,
      bands={"90832": [16, 37], "90834": [38, 52], "90837": [53, 1440]},
      addon_bands={"90833": [16, 37], "90836": [38, 52], "90838": [53, 1440]})
def pt_band(note: ProgressNote, ctx):
    for table in ("bands", "addon_bands"):
        bands = ctx.params[table]
        # An add-on's time is the psychotherapy time alone, never the clock time that includes E/M.
        minutes = note.psychotherapy_minutes if table == "addon_bands" else note.minutes
        codes = [c for c in note.codes if c in bands]
        if len(codes) > 1:
            yield "cpt_codes", f"more than one psychotherapy code for one session: {', '.join(codes)}"
        if not codes or minutes is None:
            continue
        code = codes[0]
        if minutes < ctx.params["min_minutes"]:
            yield ("cpt_codes", f"{code} billed for {minutes} minutes: no psychotherapy code may be billed under "
                                f"{ctx.params['min_minutes']} minutes")
            continue
        expected = _band_of(minutes, bands)
        if expected != code:
            low, high = bands[code]
            yield ("cpt_codes", f"{code} requires {low}-{high} minutes; {minutes} minutes are documented"
                                + (f" (that time supports {expected})" if expected else ""))


@rule("pt-addon-em", applies_to=[NOTE], severity="blocker",
      source=["lcd-l35101", "bcbsil-psychotherapy", "magellan-addon"],
      summary="Add-on psychotherapy codes only with an E/M code and separately documented minutes; standalone "
              "psychotherapy codes not with E/M or crisis codes")
def pt_addon_em(note: ProgressNote, ctx):
    codes = note.codes
    em = [c for c in codes if is_em(c)]
    addons = [c for c in codes if c in ADDON]
    standalone = [c for c in codes if c in PSYCHOTHERAPY]
    if addons and not em:
        yield "cpt_codes", f"add-on {', '.join(addons)} requires an E/M code on the same note"
    if addons and em and note.psychotherapy_minutes is None:
        yield "psychotherapy_minutes", "psychotherapy minutes must be documented separately from E/M time"
    if standalone and em:
        yield "cpt_codes", f"{', '.join(standalone)} cannot be billed with E/M {', '.join(em)}; use the add-on code"
    if (standalone or addons) and CRISIS in codes:
        yield "cpt_codes", f"{', '.join(standalone + addons)} cannot be billed with crisis psychotherapy 90839"


@rule("crisis-time", applies_to=[NOTE], severity="blocker",
      source=["bcbsil-psychotherapy", "headway-crisis"],
      summary="90839 covers the first 30-74 minutes, once a day for the client (across the run's notes of the day); "
              "+90840 each further 30 minutes beyond 74, only with 90839; no evaluation, other psychotherapy, family "
              "or group code the same day",
      first_min=30, first_max=74, addon_block=30)
def crisis_time(note: ProgressNote, ctx):
    codes = note.codes
    firsts, addons = codes.count(CRISIS), codes.count(CRISIS_ADDON)
    if addons and not firsts:
        yield "cpt_codes", "+90840 is billed without 90839"
    others = ctx.same_day(note)
    if not firsts:
        # this note's side of a pair: crisis psychotherapy on another note of the day excludes its codes
        mine = [c for c in dict.fromkeys(codes) if c in CRISIS_EXCLUDES]
        crisis_notes = [r.id for r in others if CRISIS in r.codes]
        if mine and crisis_notes:
            yield ("cpt_codes", f"{', '.join(mine)} cannot be billed on the day of crisis psychotherapy 90839 "
                                f"(note {', '.join(crisis_notes)} of {note.session_date.isoformat()})")
        return
    if firsts > 1:
        yield "cpt_codes", "90839 may be billed once per day"
    again = [r.id for r in others if CRISIS in r.codes]
    if again:
        yield ("cpt_codes", f"90839 is billed on note {', '.join(again)} of the same day too: 90839 once per day "
                            "for the client; the day's crisis time goes on one note, with +90840 beyond 74 minutes")
    # 90832-90838 on this note are pt-addon-em's to report; the rest of the exclusions are this rule's
    own = [c for c in dict.fromkeys(codes) if c in CRISIS_EXCLUDES and c not in PSYCHOTHERAPY + ADDON]
    if own:
        yield "cpt_codes", f"{', '.join(own)} cannot be billed with crisis psychotherapy 90839"
    excluded = [(r.id, c) for r in others for c in r.codes if c in CRISIS_EXCLUDES]
    if excluded:
        yield ("cpt_codes", "90839 excludes other services of the day: " +
               "; ".join(f"{c} on note {rid}" for rid, c in excluded))
    minutes = note.minutes
    if minutes is None:
        return
    p = ctx.params
    if minutes < p["first_min"]:
        yield "cpt_codes", f"90839 needs at least {p['first_min']} minutes; {minutes} documented"
        return
    expected = math.ceil((minutes - p["first_max"]) / p["addon_block"]) if minutes > p["first_max"] else 0
    if addons != expected:
        yield ("cpt_codes", f"{minutes} minutes of crisis psychotherapy support 90839 with {expected} x +90840; "
                            f"{addons} billed")


@rule("ic-90785", applies_to=[NOTE], severity="blocker",
      source=["bcbsil-psychotherapy", "medcoder-90785"],
      summary="+90785 only with an eligible primary code, never with crisis or family codes, and with a named "
              "factor other than an interpreter or translator alone")
def interactive_complexity(note: ProgressNote, ctx):
    codes = note.codes
    if INTERACTIVE not in codes:
        return
    if not any(c in IC_PRIMARY for c in codes):
        yield "cpt_codes", "+90785 requires 90791/90792, 90832-90838 or 90853 on the same note"
    never = [c for c in codes if c in IC_NEVER]
    if never:
        yield "cpt_codes", f"+90785 cannot be billed with {', '.join(never)}"
    factors = set(note.interactive_complexity_factors)
    qualifying = factors - {Factor.interpreter_translator, Factor.play_devices_interpreter}
    if not factors:
        yield "interactive_complexity_factors", "+90785 billed but no interactive-complexity factor is documented"
    elif qualifying:
        return
    elif Factor.play_devices_interpreter in factors:
        yield ("interactive_complexity_factors",
               "factor 'play_devices_interpreter' does not say whether play equipment or other devices were used "
               "(record play_equipment_devices) or only an interpreter or translator, which alone does not support "
               "+90785")
    else:
        yield ("interactive_complexity_factors",
               "an interpreter or translator is the only factor: +90785 is not billed for translation or "
               "interpretation alone (CMS); name the factor that made the session complex")


@rule("group-90853", applies_to=[NOTE], severity="blocker",
      source="NGS LCD L33632: number of participants documented, at most 12 [lcd-l33632]",
      summary="Group psychotherapy records the number of participants, within the payer's maximum when its "
              "profile sets one (max_size; 0: no limit)",
      max_size=0)
def group_size(note: ProgressNote, ctx):
    if GROUP not in note.codes:
        return
    limit = ctx.params["max_size"]
    if note.group_size is None:
        yield "group_size", "90853 billed without the number of group participants"
    elif limit and note.group_size > limit:
        yield "group_size", f"group of {note.group_size} exceeds the payer's maximum of {limit}"


@rule("fam-9084x", applies_to=[NOTE], severity="blocker",
      source="welton-time",
      summary="Family psychotherapy: 90847 with the patient present, 90846 without; at least the minimum time "
              "(26 minutes, the midpoint of 50)",
      min_minutes=26)
def family_codes(note: ProgressNote, ctx):
    client_present = any(p.role.strip().lower().startswith(("client", "patient")) or p.name == note.client.name
                         for p in note.participants)
    if "90847" in note.codes and not client_present:
        yield "participants", "90847 (with patient) billed but the client is not listed as a participant"
    if "90846" in note.codes and client_present:
        yield "participants", "90846 (without patient) billed but the client is listed as a participant"
    if any(c in FAMILY for c in note.codes) and note.minutes is not None \
            and note.minutes < ctx.params["min_minutes"]:
        yield "cpt_codes", (f"family psychotherapy needs at least {ctx.params['min_minutes']} minutes; "
                            f"{note.minutes} documented")


@rule("eval-9079x", applies_to=[NOTE], severity="warning",
      source=["NGS LCD L31887: evaluation elements, once per day, not with psychotherapy the same day "
              "[ngs-psych-services]", "bcbsil-psychotherapy"],
      summary="A psychiatric diagnostic evaluation records its elements and initial diagnosis; one 90791/90792 a day "
              "for the client; no psychotherapy that day, and no E/M on the same note")
def evaluation_9079x(note: ProgressNote, ctx):
    codes = note.codes
    evaluations = [c for c in codes if c in EVALUATION]
    others = ctx.same_day(note)
    evaluated_by = [r.id for r in others if set(EVALUATION) & set(r.codes)]
    if not evaluations:
        mine = [c for c in dict.fromkeys(codes) if c in EVALUATION_EXCLUDES]
        if mine and evaluated_by:
            yield ("cpt_codes", f"{', '.join(mine)} cannot be billed on the day of a psychiatric diagnostic "
                                f"evaluation (note {', '.join(evaluated_by)} of {note.session_date.isoformat()})")
        return
    if note.evaluation is None:
        yield ("evaluation", "no evaluation is recorded: " + ", ".join(Evaluation.PARTS.values()))
    else:
        for field, label in Evaluation.PARTS.items():
            if not (getattr(note.evaluation, field) or "").strip():
                yield f"evaluation.{field}", f"the evaluation does not record the {label}"
    if not note.diagnoses:
        yield "diagnoses", "the evaluation records no initial diagnosis"
    problems = []
    if len(evaluations) > 1:
        problems.append(f"once a day ({', '.join(evaluations)} on this note)")
    if evaluated_by:
        problems.append(f"once a day for the client (note {', '.join(evaluated_by)} of the same day bills one "
                        "too)")
    therapy = [c for c in dict.fromkeys(codes) if c in EVALUATION_EXCLUDES]
    therapy += [f"{c} on note {r.id}" for r in others for c in r.codes if c in EVALUATION_EXCLUDES]
    if therapy:
        problems.append(f"not billed with psychotherapy the same day ({', '.join(therapy)})")
    em = [c for c in codes if is_em(c)]
    if em:
        problems.append(f"not billed with E/M {', '.join(em)}")
    if problems:
        yield "cpt_codes", f"{', '.join(evaluations)}: " + "; ".join(problems)


@rule("mcr-note-elems", applies_to=[NOTE], severity="warning", enabled=False,
      source=["novitas-psychotherapy-checklist", "lcd-l35101"],
      summary="Medicare note: the techniques or modalities used, the diagnosis (on the note or its plan), progress "
              "toward the goals and the prognosis",
      elements=["modalities", "diagnosis", "progress", "prognosis"])
def medicare_note_elements(note: ProgressNote, ctx):
    wanted = ctx.params["elements"]
    if "modalities" in wanted and not note.modalities and not (note.intervention or "").strip():
        yield "modalities", "the note does not name the techniques or modalities used"
    if "diagnosis" in wanted and not note.diagnoses:
        plan = ctx.plans.get(note.plan_id) if note.plan_id is not None else None
        if note.plan_id is None or (plan is not None and not plan.diagnoses):  # a plan outside the run: unknown
            yield "diagnoses", "no diagnosis on the note or on its treatment plan"
    if "progress" in wanted and not any((ref.progress or "").strip() for ref in note.goals_addressed):
        yield "goals_addressed", "the note does not record progress toward a goal"
    if "prognosis" in wanted and not (note.prognosis or "").strip():
        yield "prognosis", "the note does not state the prognosis"
