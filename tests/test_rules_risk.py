"""Measurement and risk: scale scoring (PHQ-9, GAD-7, C-SSRS item logic) and the rules
risk-assessment-current, risk-score-valid, risk-phq9-i9, risk-cssrs, risk-level-doc, risk-safety-plan."""
from __future__ import annotations

from datetime import date

import pytest

from builders import assert_fails, assert_passes, findings_of, validate
from docgen.check import load_profile
from docgen.model import GAD7, PHQ9, CSSRSScreener, RiskLevel

COVERED = {"risk-assessment-current", "risk-score-valid", "risk-phq9-i9", "risk-cssrs", "risk-level-doc",
           "risk-safety-plan"}

SESSION = "2026-11-23"  # the note builder's session date
NO_4_5 = {"intent": False, "plan_with_intent": False}  # the rest of the questions due after a yes to question 2


def items_for(total: int, count: int, last: int = 0) -> list[int]:
    """``count`` items 0-3 summing to ``total``, the last one fixed to ``last``."""
    rest, out = total - last, []
    for _ in range(count - 1):
        out.append(min(3, rest))
        rest -= out[-1]
    assert rest == 0, "total out of range"
    return [*out, last]


def phq9(items, day=SESSION):
    return {"instrument": "phq9", "date": day, "items": list(items)}


def cssrs(day=SESSION, **answers):
    data = {"instrument": "cssrs_screener", "date": day, "wish_to_be_dead": False, "suicidal_thoughts": False,
            "suicidal_behavior_lifetime": False}
    data.update(answers)
    return data


def risk_assessment(level="moderate", day=SESSION, **parts):
    data = {"date": day, "assessor_id": "CL-01", "method": "C-SSRS full and clinical interview",
            "ideation": "Passive wish to be dead, no active ideation.", "plan": "No plan.", "intent": "No intent.",
            "behaviors": "No suicidal behaviour.", "risk_factors": "Recent loss.",
            "protective_factors": "Son; engaged in treatment.", "level": level,
            "mitigation": "Safety plan reviewed; crisis line given.", "follow_up": "Next session in one week."}
    data.update(parts)
    return data


SAFETY_PLAN = {
    "date": "2026-09-22",
    "warning_signs": ["Staying in bed all day"],
    "internal_coping": ["Walk the dog"],
    "social_distraction": ["Coffee shop on Main St"],
    "help_contacts": ["Sister Ana 555-0101"],
    "professional_contacts": ["Daniel Kim 555-0100", "988 Suicide & Crisis Lifeline"],
    "lethal_means": ["Partner keeps the medication locked"],
}


# scoring: totals and bands computed from items ---------------------------------------------------

@pytest.mark.parametrize("total, band", [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
    (15, "moderately severe"), (19, "moderately severe"), (20, "severe"), (27, "severe"),
])
def test_phq9_severity_bands(total, band):
    scale = PHQ9(instrument="phq9", date=date(2026, 11, 23), items=items_for(total, 9, last=3 if total == 27 else 0))
    assert scale.total == total
    assert scale.severity == band


@pytest.mark.parametrize("total, band", [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
    (15, "severe"), (21, "severe"),
])
def test_gad7_severity_bands(total, band):
    scale = GAD7(instrument="gad7", date=date(2026, 11, 23), items=items_for(total, 7, last=3 if total == 21 else 0))
    assert scale.total == total
    assert scale.severity == band


def test_totals_are_computed_not_typed(note):
    note["assessments"] = [phq9([2, 2, 3, 2, 2, 2, 2, 1, 0]),
                           {"instrument": "gad7", "date": SESSION, "items": [1, 1, 1, 1, 0, 1, 1]}]
    record = validate(note)
    assert [a.total for a in record.assessments] == [16, 6]
    assert [a.severity for a in record.assessments] == ["moderately severe", "mild"]
    note["assessments"][0]["total"] = 3  # a typed-in total is not part of the format
    with pytest.raises(Exception, match="total"):
        validate(note)


def test_unanswered_item_gives_no_total():
    scale = PHQ9(instrument="phq9", date=date(2026, 11, 23), items=[1, 1, 1, 1, None, 1, 1, 1, 0])
    assert scale.total is None and scale.severity is None


# C-SSRS screener: item logic -----------------------------------------------------------------------

@pytest.mark.parametrize("answers, level", [
    ({}, "none"),
    ({"wish_to_be_dead": True}, "low"),
    ({"wish_to_be_dead": True, "suicidal_thoughts": True, "thoughts_with_method": False, "intent": False,
      "plan_with_intent": False}, "low"),
    ({"suicidal_thoughts": True, "thoughts_with_method": True}, "moderate"),
    ({"suicidal_behavior_lifetime": True, "behavior_past_3_months": False}, "moderate"),
    ({"suicidal_behavior_lifetime": True}, "moderate"),
    ({"suicidal_thoughts": True, "intent": True}, "high"),
    ({"suicidal_thoughts": True, "plan_with_intent": True}, "high"),
    ({"suicidal_thoughts": True, "thoughts_with_method": True, "intent": True}, "high"),
    ({"suicidal_behavior_lifetime": True, "behavior_past_3_months": True}, "high"),
])
def test_cssrs_risk_level_by_item_logic(answers, level):
    screen = CSSRSScreener.model_validate(cssrs(**answers))
    assert screen.risk_level is RiskLevel(level)
    assert screen.positive is (level != "none")


# risk-assessment-current ---------------------------------------------------------------------------

def test_risk_assessment_current_passes(plan):
    assert_passes("risk-assessment-current", plan)
    plan["risk_assessment"]["date"] = "2026-08-23"  # 30 days before the plan
    assert_passes("risk-assessment-current", plan)


def test_risk_assessment_current_missing(plan):
    del plan["risk_assessment"]
    assert_fails("risk-assessment-current", plan, "risk_assessment")


def test_risk_assessment_current_too_old(plan):
    plan["risk_assessment"]["date"] = "2026-08-22"
    [finding] = assert_fails("risk-assessment-current", plan, "risk_assessment.date")
    assert "31 days" in finding.message


def test_risk_assessment_current_after_plan(plan):
    plan["risk_assessment"]["date"] = "2026-09-23"
    [finding] = assert_fails("risk-assessment-current", plan, "risk_assessment.date")
    assert "after the plan" in finding.message


# risk-score-valid ---------------------------------------------------------------------------------

def test_risk_score_valid_complete_scales_pass(plan, note):
    plan["assessments"] = [phq9(items_for(16, 9), "2026-09-08"),
                           {"instrument": "gad7", "date": "2026-09-08", "items": [1] * 7},
                           {"instrument": "pcl5", "date": "2026-09-08", "items": [2] * 20},
                           cssrs("2026-09-08")]
    assert_passes("risk-score-valid", plan)
    assert_passes("risk-score-valid", note)  # no scale at all


@pytest.mark.parametrize("scale, missing", [
    (phq9([1, 1, None, 1, 1, 1, 1, 1, 0]), "3"),
    ({"instrument": "gad7", "date": SESSION, "items": [1, 1, 1, 1, 1, 1, None]}, "7"),
    ({"instrument": "pcl5", "date": SESSION, "items": [None, 2] + [1] * 17 + [None]}, "1, 20"),
])
def test_risk_score_valid_unanswered_item(note, scale, missing):
    note["assessments"] = [cssrs(), scale]
    [finding] = assert_fails("risk-score-valid", note, "assessments[1].items")
    assert f"unanswered item(s) {missing}" in finding.message


# risk-phq9-i9 -------------------------------------------------------------------------------------

def test_risk_phq9_i9_item9_zero_passes(note):
    note["assessments"] = [phq9(items_for(12, 9, last=0))]
    assert_passes("risk-phq9-i9", note)


def test_risk_phq9_i9_positive_without_assessment(note):
    note["assessments"] = [phq9(items_for(12, 9, last=1))]
    [finding] = assert_fails("risk-phq9-i9", note, "assessments[0].items[8]")
    assert "item 9 answered 1" in finding.message


def test_risk_phq9_i9_positive_with_same_day_assessment(note):
    note["assessments"] = [phq9(items_for(12, 9, last=2))]
    note["risk_assessment"] = risk_assessment("low")
    assert_passes("risk-phq9-i9", note)
    note["risk_assessment"]["date"] = "2026-11-16"  # last week's does not count
    assert_fails("risk-phq9-i9", note, "assessments[0].items[8]")


def test_risk_phq9_i9_threshold_from_profile(note, tmp_path):
    path = tmp_path / "i9.toml"
    path.write_text('extends = "default"\n[rules.risk-phq9-i9]\nthreshold = 2\n')
    note["assessments"] = [phq9(items_for(12, 9, last=1))]
    assert_passes("risk-phq9-i9", note, load_profile(str(path)))
    note["assessments"] = [phq9(items_for(12, 9, last=2))]
    assert_fails("risk-phq9-i9", note, "assessments[0].items[8]", profile_spec=load_profile(str(path)))


def test_risk_phq9_i9_unanswered_item9_is_left_to_risk_score_valid(note):
    note["assessments"] = [phq9([1] * 8 + [None])]
    assert_passes("risk-phq9-i9", note)
    assert_fails("risk-score-valid", note, "assessments[0].items")


# risk-cssrs ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("answers", [{}, {"wish_to_be_dead": True}])
def test_risk_cssrs_none_or_low_screen_needs_no_assessment(note, answers):
    note["assessments"] = [cssrs(**answers)]
    assert_passes("risk-cssrs", note)


@pytest.mark.parametrize("answers, level", [
    ({"suicidal_thoughts": True, "thoughts_with_method": True, **NO_4_5}, "moderate"),
    ({"suicidal_behavior_lifetime": True, "behavior_past_3_months": False}, "moderate"),
    ({"suicidal_thoughts": True, "thoughts_with_method": False, "intent": True, "plan_with_intent": False}, "high"),
    ({"suicidal_behavior_lifetime": True, "behavior_past_3_months": True}, "high"),
])
def test_risk_cssrs_moderate_or_high_needs_assessment(note, answers, level):
    note["assessments"] = [cssrs(**answers)]
    note["risk_update"]["level"] = level
    [finding] = assert_fails("risk-cssrs", note, "assessments[0]")
    assert f"indicates {level} risk" in finding.message
    note["risk_assessment"] = risk_assessment(level)
    assert_passes("risk-cssrs", note)


def test_risk_cssrs_note_risk_update_below_screen(note):
    note["assessments"] = [cssrs(suicidal_thoughts=True, thoughts_with_method=True, intent=False,
                                 plan_with_intent=True)]
    note["risk_assessment"] = risk_assessment("high")
    note["risk_update"]["level"] = "low"
    [finding] = assert_fails("risk-cssrs", note, "risk_update.level")
    assert "'low' is below" in finding.message and "'high'" in finding.message
    note["risk_update"]["level"] = "high"
    assert_passes("risk-cssrs", note)


def test_risk_cssrs_documented_level_below_screen(note, plan):
    note["assessments"] = [cssrs(suicidal_thoughts=True, thoughts_with_method=True, intent=False,
                                 plan_with_intent=True)]
    note["risk_assessment"] = risk_assessment("moderate")
    note["risk_update"]["level"] = "high"
    [finding] = assert_fails("risk-cssrs", note, "risk_assessment.level")
    assert "'moderate' is below" in finding.message and "'high'" in finding.message
    # the plan builder documents low risk: a low screen agrees, a moderate one does not
    plan["assessments"] = [cssrs("2026-09-08", wish_to_be_dead=True)]
    assert_passes("risk-cssrs", plan)
    plan["assessments"] = [cssrs("2026-09-08", suicidal_thoughts=True, thoughts_with_method=True, **NO_4_5)]
    assert_fails("risk-cssrs", plan, "risk_assessment.level")


# risk-level-doc -----------------------------------------------------------------------------------

def test_risk_level_doc_negative_screen_passes(note):
    note["assessments"] = [cssrs(), phq9(items_for(8, 9))]
    assert_passes("risk-level-doc", note)


@pytest.mark.parametrize("scale", [cssrs(wish_to_be_dead=True), phq9(items_for(8, 9, last=1))])
def test_risk_level_doc_positive_screen_needs_assessment(note, scale):
    note["assessments"] = [scale]
    assert_fails("risk-level-doc", note, "risk_assessment")
    note["risk_assessment"] = risk_assessment("low")
    assert_passes("risk-level-doc", note)


def test_risk_level_doc_assessment_parts(note):
    note["assessments"] = [cssrs(wish_to_be_dead=True)]
    note["risk_assessment"] = risk_assessment("low", intent=" ", protective_factors=None, mitigation=None)
    assert_fails("risk-level-doc", note, ["risk_assessment.intent", "risk_assessment.protective_factors",
                                          "risk_assessment.mitigation"])


def test_risk_level_doc_screen_age_12_and_over(note):
    note["assessments"] = [cssrs(wish_to_be_dead=True)]
    note["client"]["date_of_birth"] = "2014-11-24"  # session 2026-11-23: still 11
    assert_passes("risk-level-doc", note)
    note["client"]["date_of_birth"] = "2014-11-23"  # 12 today
    assert_fails("risk-level-doc", note, "risk_assessment")


# risk-safety-plan ---------------------------------------------------------------------------------

def test_risk_safety_plan_low_risk_needs_none(plan):
    assert_passes("risk-safety-plan", plan)


def test_risk_safety_plan_moderate_risk_needs_one(plan):
    plan["risk_assessment"]["level"] = "moderate"
    [finding] = assert_fails("risk-safety-plan", plan, "safety_plan")
    assert "risk is moderate" in finding.message
    plan["safety_plan"] = dict(SAFETY_PLAN)
    assert_passes("risk-safety-plan", plan)


def test_risk_safety_plan_high_screen_raises_the_level(plan):
    plan["assessments"] = [cssrs("2026-09-08", suicidal_behavior_lifetime=True, behavior_past_3_months=True)]
    [finding] = assert_fails("risk-safety-plan", plan, "safety_plan")
    assert "risk is high" in finding.message


def test_risk_safety_plan_all_six_sections(plan):
    plan["risk_assessment"]["level"] = "high"
    plan["safety_plan"] = dict(SAFETY_PLAN, internal_coping=[], lethal_means=["  "])
    assert_fails("risk-safety-plan", plan, ["safety_plan.internal_coping", "safety_plan.lethal_means"])


def test_risk_safety_plan_level_from_profile(plan, tmp_path):
    path = tmp_path / "high-only.toml"
    path.write_text('extends = "default"\n[rules.risk-safety-plan]\nlevel = "high"\n')
    plan["risk_assessment"]["level"] = "moderate"
    assert_passes("risk-safety-plan", plan, load_profile(str(path)))
    path2 = tmp_path / "low.toml"
    path2.write_text('extends = "default"\n[rules.risk-safety-plan]\nlevel = "low"\n')
    plan["risk_assessment"]["level"] = "low"
    assert_fails("risk-safety-plan", plan, "safety_plan", profile_spec=load_profile(str(path2)))


def test_risk_rules_ignore_other_findings(note):
    # a high screen with a full, high risk assessment: no risk finding at all on a note
    note["assessments"] = [cssrs(suicidal_thoughts=True, thoughts_with_method=False, intent=True,
                                 plan_with_intent=False)]
    note["risk_assessment"] = risk_assessment("high")
    note["risk_update"]["level"] = "high"
    assert [f for f in findings_of("risk-cssrs", note) + findings_of("risk-level-doc", note)] == []


def test_risk_phq9_i9_plan_answers_only_its_latest_screen(plan):
    # An earlier positive PHQ-9 is history; the plan's one risk assessment answers the latest screen.
    plan["assessments"] = [phq9(items_for(12, 9, last=1), "2026-08-01"), phq9(items_for(8, 9), "2026-09-08")]
    assert_passes("risk-phq9-i9", plan)
    plan["assessments"][1] = phq9(items_for(10, 9, last=2), "2026-09-08")
    plan["risk_assessment"]["date"] = "2026-09-01"
    assert_fails("risk-phq9-i9", plan, "assessments[1].items[8]")


# C-SSRS screens within their recall window; skip logic (issue #13) ---------------------------------

OLD_HIGH = dict(suicidal_behavior_lifetime=True, behavior_past_3_months=True, wish_to_be_dead=True,
                suicidal_thoughts=True, thoughts_with_method=True, intent=True, plan_with_intent=False)


def test_cssrs_a_months_old_high_screen_does_not_outrank_todays_negative_screen(plan):
    # was: every screen on the plan counted, so a high screen from May forced today's plan to rate risk
    # high (and to carry a safety plan) although the screen of the plan's encounter is negative
    plan["assessments"] = [cssrs("2026-05-04", **OLD_HIGH), cssrs("2026-09-08")]
    assert_passes("risk-cssrs", plan)
    assert_passes("risk-safety-plan", plan)
    assert_passes("risk-level-doc", plan)


def test_cssrs_the_latest_screen_decides_even_when_an_older_one_is_lower(plan):
    plan["assessments"] = [cssrs("2026-09-01"), cssrs("2026-09-08", **OLD_HIGH)]
    assert_fails("risk-cssrs", plan, "risk_assessment.level")  # the plan documents low
    assert_fails("risk-safety-plan", plan, "safety_plan")


def test_cssrs_a_screen_past_its_recall_window_no_longer_sets_the_level(plan):
    # the screener asks about the past month (ideation) and the past 3 months (behaviour)
    plan["assessments"] = [cssrs("2026-08-21", suicidal_thoughts=True, thoughts_with_method=True, intent=False,
                                 plan_with_intent=False)]  # moderate ideation, 32 days before the plan
    assert_passes("risk-cssrs", plan)
    plan["assessments"] = [cssrs("2026-08-22", suicidal_thoughts=True, thoughts_with_method=True, intent=False,
                                 plan_with_intent=False)]  # one month before: still current
    assert_fails("risk-cssrs", plan, "risk_assessment.level")
    # behaviour in the past 3 months stays current for 3 months
    plan["assessments"] = [cssrs("2026-07-01", suicidal_behavior_lifetime=True, behavior_past_3_months=True)]
    [finding] = assert_fails("risk-cssrs", plan, "risk_assessment.level")
    assert "'high'" in finding.message
    plan["assessments"] = [cssrs("2026-06-21", suicidal_behavior_lifetime=True, behavior_past_3_months=True)]
    assert_passes("risk-cssrs", plan)


def test_cssrs_q6_yes_without_the_3_month_answer_is_not_silently_moderate(note):
    # was: Q6 yes with Q6b unanswered scored moderate, no finding
    note["assessments"] = [cssrs(suicidal_behavior_lifetime=True)]
    note["risk_assessment"] = risk_assessment("moderate")
    note["risk_update"]["level"] = "moderate"
    found = findings_of("risk-cssrs", note)
    paths = [f.path for f in found]
    assert "assessments[0].behavior_past_3_months" in paths
    [skip] = [f for f in found if f.path == "assessments[0].behavior_past_3_months"]
    assert "past 3 months" in skip.message and "high" in skip.message
    assert "risk_assessment.level" in paths  # counted as high until answered
    note["assessments"][0]["behavior_past_3_months"] = False
    note["risk_update"]["level"] = "moderate"
    assert_passes("risk-cssrs", note)


@pytest.mark.parametrize("answers, paths", [
    # questions 3-5 are asked only after a yes to question 2
    ({"suicidal_thoughts": False, "intent": True}, ["assessments[0].intent"]),
    ({"wish_to_be_dead": True, "thoughts_with_method": True, "plan_with_intent": True},
     ["assessments[0].thoughts_with_method", "assessments[0].plan_with_intent"]),
    # ... and each of them is answered after a yes to question 2
    ({"suicidal_thoughts": True, "thoughts_with_method": False, "intent": False},
     ["assessments[0].plan_with_intent"]),
    # the 3-month question only after a yes to question 6
    ({"suicidal_behavior_lifetime": False, "behavior_past_3_months": True}, ["assessments[0].behavior_past_3_months"]),
])
def test_cssrs_skip_logic_is_a_finding_not_a_crash(note, answers, paths):
    note["assessments"] = [cssrs(**answers)]
    note["risk_assessment"] = risk_assessment("high")
    note["risk_update"]["level"] = "high"
    assert [f.path for f in findings_of("risk-cssrs", note)] == paths


def test_cssrs_answers_no_to_unasked_questions_are_accepted(note):
    note["assessments"] = [cssrs(thoughts_with_method=False, intent=False, plan_with_intent=False,
                                 behavior_past_3_months=False)]
    assert_passes("risk-cssrs", note)


# risk-note-safety: a note at high risk, or with a positive screen, has a risk assessment and a safety plan --

COVERED |= {"risk-note-safety"}


def high_note(note):
    note["risk_update"] = {"level": "high", "summary": "Intent stated today.", "changed_since_last": True}
    return note


def test_note_safety_a_high_risk_note_needs_an_assessment_and_a_safety_plan(note, plan):
    # was: nothing asked a note rated high (or with a positive screen) for either
    high_note(note)
    assert_fails("risk-note-safety", note, ["risk_assessment", "safety_plan"], plans=[plan])
    note["risk_assessment"] = risk_assessment("high")
    note["safety_plan"] = dict(SAFETY_PLAN, date=SESSION)
    assert_passes("risk-note-safety", note, plans=[plan])


def test_note_safety_the_plans_current_safety_plan_counts(note, plan):
    high_note(note)
    note["risk_assessment"] = risk_assessment("high")
    plan["safety_plan"] = dict(SAFETY_PLAN)  # dated 2026-09-22, the plan's date
    assert_passes("risk-note-safety", note, plans=[plan])
    plan["safety_plan"]["lethal_means"] = []  # incomplete: does not count
    [finding] = assert_fails("risk-note-safety", note, "safety_plan", plans=[plan])
    assert "lethal means" in finding.message
    plan["safety_plan"] = dict(SAFETY_PLAN, date="2026-11-24")  # written after the session
    assert_fails("risk-note-safety", note, "safety_plan", plans=[plan])
    plan["safety_plan"] = dict(SAFETY_PLAN)
    plan["next_review_date"] = "2026-11-01"  # the plan was no longer current on the session date
    assert_fails("risk-note-safety", note, "safety_plan", plans=[plan], as_of=date(2026, 11, 24))


def test_note_safety_its_own_safety_plan_must_be_complete(note):
    high_note(note)
    note["risk_assessment"] = risk_assessment("high")
    note["safety_plan"] = dict(SAFETY_PLAN, date=SESSION, help_contacts=[" "])
    assert_fails("risk-note-safety", note, "safety_plan.help_contacts")


def test_note_safety_the_assessment_is_of_the_session(note):
    high_note(note)
    note["safety_plan"] = dict(SAFETY_PLAN, date=SESSION)
    note["risk_assessment"] = risk_assessment("high", day="2026-11-16")
    assert_fails("risk-note-safety", note, "risk_assessment.date")


@pytest.mark.parametrize("scale", [cssrs(wish_to_be_dead=True), phq9(items_for(8, 9, last=1))])
def test_note_safety_a_positive_screen_needs_a_safety_plan(note, plan, scale):
    note["assessments"] = [scale]
    note["risk_assessment"] = risk_assessment("low")
    [finding] = assert_fails("risk-note-safety", note, "safety_plan", plans=[plan])
    assert "positive" in finding.message
    plan["safety_plan"] = dict(SAFETY_PLAN)
    assert_passes("risk-note-safety", note, plans=[plan])


def test_note_safety_low_risk_and_negative_screens_need_nothing(note, plan):
    note["assessments"] = [cssrs(), phq9(items_for(8, 9))]
    assert_passes("risk-note-safety", note, plans=[plan])


def test_note_safety_a_plan_outside_the_run_is_not_judged(note):
    high_note(note)
    note["risk_assessment"] = risk_assessment("high")
    assert_passes("risk-note-safety", note)  # TP-1001 is not in this run: its safety plan cannot be verified
    del note["plan_id"]
    assert_fails("risk-note-safety", note, "safety_plan")


def test_note_safety_levels_from_the_profile(note, tmp_path):
    path = tmp_path / "strict.toml"
    path.write_text('extends = "default"\n[rules.risk-note-safety]\nlevel = "moderate"\nscreen_level = "moderate"\n'
                    'phq9_threshold = 0\n')
    strict = load_profile(str(path))
    del note["plan_id"]
    note["risk_update"]["level"] = "moderate"
    note["risk_assessment"] = risk_assessment("moderate")
    assert_passes("risk-note-safety", note)
    assert_fails("risk-note-safety", note, "safety_plan", profile_spec=strict)
    note["risk_update"]["level"] = "low"
    note["risk_assessment"] = risk_assessment("low")
    note["assessments"] = [cssrs(wish_to_be_dead=True), phq9(items_for(8, 9, last=2))]
    assert_passes("risk-note-safety", note, strict)  # a low screen and PHQ-9 item 9: off in this profile



# risk-pcl5 (warning): a PCL-5 at or above the cut-point is addressed by a PTSD diagnosis ------------

COVERED |= {"risk-pcl5"}


def pcl5(total, day="2026-09-08"):
    items = [4] * (total // 4) + ([total % 4] if total % 4 else [])
    return {"instrument": "pcl5", "date": day, "items": items + [0] * (20 - len(items))}


def test_pcl5_below_the_cut_point_passes(plan):
    plan["assessments"] = [pcl5(32)]
    assert_passes("risk-pcl5", plan)


def test_pcl5_at_the_cut_point_without_a_ptsd_diagnosis(plan):
    # new rule: provisional PTSD at the PCL-5 cut-point (S28: 31-33; default 33)
    plan["assessments"] = [pcl5(33)]
    [finding] = assert_fails("risk-pcl5", plan, "assessments[0]", severity="warning")
    assert "33" in finding.message and "F43.1" in finding.message
    plan["diagnoses"].append({"code": "F43.10", "status": "rule-out"})
    assert_passes("risk-pcl5", plan)


def test_pcl5_only_the_latest_counts_and_the_cut_point_is_a_parameter(plan, tmp_path):
    plan["assessments"] = [pcl5(50, "2026-08-01"), pcl5(20)]
    assert_passes("risk-pcl5", plan)
    plan["assessments"] = [pcl5(31)]
    path = tmp_path / "pcl.toml"
    path.write_text('extends = "default"\n[rules.risk-pcl5]\ncut_point = 31\n')
    assert_passes("risk-pcl5", plan)
    assert_fails("risk-pcl5", plan, "assessments[0]", severity="warning", profile_spec=load_profile(str(path)))


def test_pcl5_on_a_note_looks_at_the_note_and_its_plan(note, plan):
    note["assessments"] = [pcl5(40, SESSION)]
    assert_passes("risk-pcl5", note)  # its plan is not in the run
    assert_fails("risk-pcl5", note, "assessments[0]", severity="warning", plans=[plan])
    note["diagnoses"] = [{"code": "F43.12"}]
    assert_passes("risk-pcl5", note, plans=[plan])
    del note["diagnoses"]
    plan["diagnoses"].append({"code": "F43.10"})
    assert_passes("risk-pcl5", note, plans=[plan])
