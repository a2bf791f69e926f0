"""Treatment-plan rules: plan-deadline, plan-review, goal-objective, goal-intervention, dx-valid,
med-necessity, tjc-plan, consent-treatment, and the payer rules off by default (mcr-plan-elems,
ny-contents, ny-participation, tx-sud-plan)."""
from __future__ import annotations

from datetime import date

import pytest

from builders import assert_fails, assert_passes, findings_of, note_dict, validate
from docgen.check import icd10, load_profile

COVERED = {"plan-deadline", "plan-review", "goal-objective", "goal-intervention", "dx-valid", "med-necessity",
           "tjc-plan", "consent-treatment", "mcr-plan-elems", "ny-contents", "ny-participation", "tx-sud-plan",
           "plan-succession", "plan-before-service", "u21-plan"}


def agency_profile(tmp_path, body: str, name: str = "agency.toml"):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return load_profile(str(path))


# plan-deadline ----------------------------------------------------------------------------------

def test_plan_deadline_default_30_calendar_days(plan):
    plan["plan_date"] = "2026-10-08"  # intake 2026-09-08: 30 days
    assert_passes("plan-deadline", plan)
    plan["plan_date"] = "2026-10-09"
    [finding] = assert_fails("plan-deadline", plan, "plan_date")
    assert finding.message.startswith("plan completed 31 calendar days after intake")
    assert finding.source.startswith("docgen policy")  # the profile's own basis


def _thanksgiving(plan, plan_date):
    """Intake Fri 2026-11-20; Thu 11-26 Thanksgiving, Fri 11-27 a Texas state holiday."""
    plan.update(intake_date="2026-11-20", first_service_date="2026-11-20", plan_date=plan_date,
                next_review_date="2027-02-01")
    return plan


AS_OF_DEC = date(2026, 12, 20)


def test_plan_deadline_tx_business_days_across_thanksgiving(plan):
    # business days after 11-20: 23 24 25 | 30 1 2 3 4 7 8 -> 12-08 is the 10th
    assert_passes("plan-deadline", _thanksgiving(plan, "2026-12-08"), "tx-medicaid", as_of=AS_OF_DEC)
    _thanksgiving(plan, "2026-12-09")
    [finding] = assert_fails("plan-deadline", plan, "plan_date", profile_spec="tx-medicaid", as_of=AS_OF_DEC)
    assert "11 business days" in finding.message and "limit 10 business days" in finding.message
    assert finding.source.startswith("1 TAC 354.2609")


def test_plan_deadline_working_days_count_holidays(plan, tmp_path):
    # working days (Mon-Fri) after 11-20: 23 24 25 26 27 30 1 2 3 4 -> 12-04 is the 10th, 12-08 the 12th
    working = agency_profile(tmp_path, 'extends = "tx-medicaid"\n[rules.plan-deadline]\nday_type = "working"\n')
    assert_passes("plan-deadline", _thanksgiving(plan, "2026-12-04"), working, as_of=AS_OF_DEC)
    [finding] = assert_fails("plan-deadline", _thanksgiving(plan, "2026-12-08"), "plan_date",
                             profile_spec=working, as_of=AS_OF_DEC)
    assert "12 working days" in finding.message


def test_plan_deadline_calendar_days_count_everything(plan, tmp_path):
    calendar = agency_profile(tmp_path, 'extends = "tx-medicaid"\n[rules.plan-deadline]\nday_type = "calendar"\n')
    assert_passes("plan-deadline", _thanksgiving(plan, "2026-11-30"), calendar, as_of=AS_OF_DEC)  # 10 days
    assert_fails("plan-deadline", _thanksgiving(plan, "2026-12-01"), "plan_date", profile_spec=calendar,
                 as_of=AS_OF_DEC)


def test_plan_deadline_federal_holidays_only_without_subdivision(plan, tmp_path):
    # the default calendar (US federal) counts Fri 11-27, the TX calendar does not
    federal = agency_profile(tmp_path, 'extends = "default"\n[rules.plan-deadline]\ndays = 10\n'
                                       'day_type = "business"\n')
    _thanksgiving(plan, "2026-12-08")
    assert_fails("plan-deadline", plan, "plan_date", profile_spec=federal, as_of=AS_OF_DEC)
    assert_passes("plan-deadline", plan, "tx-medicaid", as_of=AS_OF_DEC)


# plan-review ------------------------------------------------------------------------------------

def test_plan_review_set_within_interval_and_not_past(plan):
    assert_passes("plan-review", plan)
    assert_passes("plan-review", plan, as_of=date(2026, 12, 21))  # due today: not past yet


def test_plan_review_past_relative_to_as_of(plan):
    [finding] = assert_fails("plan-review", plan, "next_review_date", as_of=date(2026, 12, 22))
    assert "is past (as of 2026-12-22)" in finding.message


def test_plan_review_missing(plan):
    del plan["next_review_date"]
    assert_fails("plan-review", plan, "next_review_date")


def test_plan_review_beyond_interval(plan):
    plan["next_review_date"] = "2026-12-22"  # plan 2026-09-22 + 90 days = 2026-12-21
    [finding] = assert_fails("plan-review", plan, "next_review_date")
    assert "more than 90 days" in finding.message
    plan.update(review_interval_days=60, next_review_date="2026-11-22")  # +61 days
    assert_fails("plan-review", plan, ["next_review_date", "next_review_date"])


def test_plan_review_interval_longer_than_profile(plan):
    plan["review_interval_days"] = 120
    assert_fails("plan-review", plan, "review_interval_days")


def test_plan_review_profile_interval(plan, tmp_path):
    monthly = agency_profile(tmp_path, 'extends = "default"\n[rules.plan-review]\nreview_days = 30\n')
    del plan["review_interval_days"]
    assert_fails("plan-review", plan, "next_review_date", profile_spec=monthly, as_of=date(2026, 9, 30))
    plan["next_review_date"] = "2026-10-22"
    assert_passes("plan-review", plan, monthly, as_of=date(2026, 9, 30))


# goal-objective ---------------------------------------------------------------------------------

def test_goal_objective_passes(plan):
    assert_passes("goal-objective", plan)


def test_goal_objective_needs_a_treatment_goal(plan):
    plan["goals"][0]["category"] = "life"
    assert_fails("goal-objective", plan, "goals")
    plan["goals"] = []
    assert_fails("goal-objective", plan, "goals")


def test_goal_objective_every_goal_has_objectives(plan):
    plan["goals"].append({"id": "G2", "category": "enhancement", "statement": "More friends."})
    assert_fails("goal-objective", plan, "goals[1].objectives")


def test_goal_objective_measure_and_target_date(plan):
    objective = plan["goals"][0]["objectives"][0]
    objective["measure"] = " "
    del objective["target_date"]
    assert_fails("goal-objective", plan, ["goals[0].objectives[0].measure", "goals[0].objectives[0].target_date"])


# goal-intervention ------------------------------------------------------------------------------

def test_goal_intervention_passes_and_life_goal_may_have_none(plan):
    assert_passes("goal-intervention", plan)
    plan["goals"].append({"id": "G2", "category": "life", "statement": "Back to running."})
    assert_passes("goal-intervention", plan)


def test_goal_intervention_treatment_goal_without_intervention(plan):
    plan["goals"][0]["interventions"] = []
    assert_fails("goal-intervention", plan, "goals[0].interventions")


def test_goal_intervention_frequency_and_responsible(plan):
    item = plan["goals"][0]["interventions"][0]
    del item["frequency"], item["responsible"]
    assert_fails("goal-intervention", plan, ["goals[0].interventions[0].frequency",
                                             "goals[0].interventions[0].responsible"])


# dx-valid ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["F32.A", "F41.1", "F411", "f33.1", "Z63.0"])
def test_dx_valid_billable_codes(plan, code):
    plan["diagnoses"][0]["code"] = code
    plan["goals"][0]["diagnoses"] = [code]
    assert_passes("dx-valid", plan)


def test_dx_valid_invalid_code(plan):
    plan["diagnoses"].append({"code": "F99.9"})
    [finding] = assert_fails("dx-valid", plan, "diagnoses[1].code")
    assert finding.message == "F99.9 is not an ICD-10-CM code"


@pytest.mark.parametrize("code", ["F32", "F41", "F33"])
def test_dx_valid_category_is_not_billable(plan, code):
    plan["diagnoses"].append({"code": code})
    [finding] = assert_fails("dx-valid", plan, "diagnoses[1].code")
    assert "not a billable code" in finding.message


def test_dx_valid_chapter_number_is_not_a_code(plan):
    # "5" (chapter V, mental and behavioural disorders) is an item of the code set, not a code
    plan["diagnoses"].append({"code": "5"})
    [finding] = assert_fails("dx-valid", plan, "diagnoses[1].code")
    assert finding.message == "5 is not an ICD-10-CM code"


def test_dx_valid_no_diagnosis(plan):
    plan["diagnoses"] = []
    plan["goals"][0]["diagnoses"] = []
    assert_fails("dx-valid", plan, "diagnoses")


def test_dx_valid_goal_points_at_plan_diagnoses(plan):
    plan["goals"][0]["diagnoses"] = ["F331", "F41.1"]  # F331 is F33.1 without the dot
    [finding] = assert_fails("dx-valid", plan, "goals[0].diagnoses[1]")
    assert "F41.1" in finding.message


# med-necessity ----------------------------------------------------------------------------------

def test_med_necessity(plan):
    assert_passes("med-necessity", plan)
    plan["medical_necessity"]["efficient"] = ""
    del plan["medical_necessity"]["indicated"]
    assert_fails("med-necessity", plan, ["medical_necessity.indicated", "medical_necessity.efficient"])
    del plan["medical_necessity"]
    assert_fails("med-necessity", plan, "medical_necessity")


# tjc-plan (warning) -----------------------------------------------------------------------------

def test_tjc_plan_passes(plan):
    assert_passes("tjc-plan", plan)


def test_tjc_plan_person_centred_elements(plan):
    del plan["goals"][0]["client_words"]
    plan.update(strengths=[], needs=[], discharge_criteria=" ")
    assert_fails("tjc-plan", plan, ["goals[0].client_words", "strengths", "needs", "discharge_criteria"],
                 severity="warning")


# consent-treatment ------------------------------------------------------------------------------

def test_consent_treatment_passes(plan):
    assert_passes("consent-treatment", plan)


def test_consent_treatment_missing(plan):
    plan["consents"] = [{"type": "release_of_information", "signed_by": "Maria Elena Ortiz",
                         "date_signed": "2026-09-08"}]
    assert_fails("consent-treatment", plan, "consents")


def test_consent_treatment_unsigned(plan):
    del plan["consents"][0]["date_signed"]
    assert_fails("consent-treatment", plan, "consents[0]")


def test_consent_treatment_signed_after_first_service(plan):
    plan["consents"][0]["date_signed"] = "2026-09-09"
    assert_fails("consent-treatment", plan, "consents[0].date_signed")
    del plan["first_service_date"]  # then the intake date counts
    assert_fails("consent-treatment", plan, "consents[0].date_signed")


def test_consent_treatment_minor_needs_guardian(plan):
    plan["client"]["date_of_birth"] = "2012-05-01"
    assert_fails("consent-treatment", plan, "consents[0].signer_role")
    plan["consents"][0].update(signed_by="Rosa Ortiz", signer_role="guardian")
    assert_passes("consent-treatment", plan)


# mcr-plan-elems (medicare) ----------------------------------------------------------------------

def test_mcr_plan_elems_off_by_default(plan):
    item = plan["goals"][0]["interventions"][0]
    del item["session_minutes"], item["duration"]
    assert findings_of("mcr-plan-elems", plan) == []


def test_mcr_plan_elems_passes_under_medicare(plan, note):
    assert_passes("mcr-plan-elems", plan, "medicare")
    assert_passes("mcr-plan-elems", note, "medicare", plans=[plan])


def test_mcr_plan_elems_amount_and_duration(plan):
    item = plan["goals"][0]["interventions"][0]
    del item["session_minutes"], item["duration"]
    assert_fails("mcr-plan-elems", plan, ["goals[0].interventions[0].session_minutes",
                                          "goals[0].interventions[0].duration"], profile_spec="medicare")


def test_mcr_plan_elems_plan_older_than_a_year(plan):
    assert_passes("mcr-plan-elems", plan, "medicare", as_of=date(2027, 9, 22))  # 365 days
    assert_fails("mcr-plan-elems", plan, "plan_date", profile_spec="medicare", as_of=date(2027, 9, 23))


def test_mcr_plan_elems_note_served_by_an_old_plan(plan, note):
    plan.update(intake_date="2025-11-01", first_service_date="2025-11-01", plan_date="2025-11-15")
    plan["consents"][0]["date_signed"] = "2025-11-01"
    assert_fails("mcr-plan-elems", note, "plan_id", profile_spec="medicare", plans=[plan])
    assert findings_of("mcr-plan-elems", note, plans=[plan]) == []  # default: off


# ny-contents (ny-medicaid) ----------------------------------------------------------------------

def test_ny_contents_passes(plan):
    assert_passes("ny-contents", plan, "ny-medicaid")


def test_ny_contents_missing_elements(plan):
    del plan["clinicians"][0]["title"], plan["client"]["preferred_language"]
    del plan["goals"][0]["interventions"][0]["duration"]
    plan.update(needs=[], strengths=[])
    assert_fails("ny-contents", plan, ["clinicians[0].title", "client.preferred_language", "needs", "strengths",
                                       "goals[0].interventions[0].duration"], profile_spec="ny-medicaid")
    assert findings_of("ny-contents", plan) == []  # default: off


def test_ny_contents_title_of_the_author_not_the_first_clinician(plan):
    plan["clinicians"].insert(0, {"id": "CL-09", "name": "Ann Lee", "credentials": "MD", "title": "Psychiatrist"})
    del plan["clinicians"][1]["title"]
    assert_fails("ny-contents", plan, "clinicians[1].title", profile_spec="ny-medicaid")


# ny-participation (ny-medicaid) -----------------------------------------------------------------

def test_ny_participation_adult_signed(plan):
    assert_passes("ny-participation", plan, "ny-medicaid")


def test_ny_participation_adult_unsigned_needs_reason(plan):
    del plan["signatures"][1]
    assert_fails("ny-participation", plan, "signatures", profile_spec="ny-medicaid")
    assert findings_of("ny-participation", plan) == []  # default: off
    plan["client_signature_waiver_reason"] = "Client declined to sign; agreed to the plan verbally."
    assert_passes("ny-participation", plan, "ny-medicaid")


def test_ny_participation_child_names_collaterals(plan):
    plan["client"]["date_of_birth"] = "2015-01-01"
    assert_passes("ny-participation", plan, "ny-medicaid")  # supports named
    plan["supports"] = []
    assert_fails("ny-participation", plan, "supports", profile_spec="ny-medicaid")


# tx-sud-plan (tx-medicaid) ----------------------------------------------------------------------

def sud(plan):
    plan["agency"]["program_type"] = "substance_use"
    plan["diagnoses"][0]["code"] = "F10.20"
    plan["goals"][0]["diagnoses"] = ["F10.20"]
    return plan


def test_tx_sud_plan_complete_sud_plan_passes(plan):
    assert_passes("tx-sud-plan", sud(plan), "tx-medicaid")


def test_tx_sud_plan_mental_health_program_is_out_of_scope(plan):
    del plan["projected_length_of_stay"]
    assert_passes("tx-sud-plan", plan, "tx-medicaid")


def test_tx_sud_plan_missing_elements(plan):
    sud(plan)
    plan["signatures"] = []
    del plan["discharge_criteria"], plan["projected_length_of_stay"]
    assert_fails("tx-sud-plan", plan, ["signatures", "signatures", "discharge_criteria", "projected_length_of_stay"],
                 profile_spec="tx-medicaid")
    assert findings_of("tx-sud-plan", plan) == []  # default: off


def test_tx_sud_plan_guardian_may_sign_for_the_client(plan):
    sud(plan)["agency"]["program_type"] = "co_occurring"
    plan["signatures"][1] = {"role": "guardian", "name": "Rosa Ortiz", "method": "wet_ink", "date": "2026-09-22"}
    assert_passes("tx-sud-plan", plan, "tx-medicaid")
    del plan["signatures"][1]
    [finding] = assert_fails("tx-sud-plan", plan, "signatures", profile_spec="tx-medicaid")
    assert "client" in finding.message


def test_note_builder_serves_plan_builder():
    note = note_dict()
    assert note["goals_addressed"][0]["goal_id"] == "G1"


@pytest.mark.slow
def test_icd10_table_cache_round_trips(tmp_path, monkeypatch):
    """The cached table (written by the first process) says exactly what the package says."""
    monkeypatch.setenv("DOCGEN_CACHE", str(tmp_path))
    icd10.codes.cache_clear()
    try:
        built = icd10.codes()
        cached = next(tmp_path.glob("icd10cm-*.cache"))
        icd10.codes.cache_clear()
        assert icd10.codes() == built
        assert len(built) > 90_000 and built.count_billable() > 70_000
        assert [icd10.status(c) for c in ("F33.1", "F331", "F32", "F32.A", "A00-A09", "5", "Q99.9X")] == \
            ["billable", "billable", "header", "billable", "invalid", "invalid", "invalid"]
        assert cached.stat().st_size > 500_000
        cached.write_bytes(b"not a table")  # a damaged cache is rebuilt, never trusted
        icd10.codes.cache_clear()
        assert icd10.codes() == built
    finally:
        icd10.codes.cache_clear()


def test_dx_valid_goal_codes_are_normalised_like_plan_codes(plan):
    # one normalisation (docgen.model.clinical.icd10_code) for plan codes, goal codes and the code set
    plan["diagnoses"][0]["code"] = "F331"
    plan["goals"][0]["diagnoses"] = ["f33.1"]
    assert validate(plan).goals[0].diagnoses == ["F33.1"]
    assert_passes("dx-valid", plan)
    plan["goals"][0]["diagnoses"] = ["F41.1"]
    assert_fails("dx-valid", plan, "goals[0].diagnoses[0]")


# === issue #13: plan types, judging dates, Medicare, Texas, plan before service, u21 ============

def review_of(previous: dict, plan_id: str = "TP-1001-R1", plan_date: str = "2026-12-18",
              next_review: str = "2027-03-18", plan_type: str = "review") -> dict:
    """A review (or revision) plan replacing ``previous``: same intake, signed on its own date."""
    plan = dict(previous, id=plan_id, plan_date=plan_date, next_review_date=next_review, plan_type=plan_type,
                previous_plan_id=previous["id"])
    plan["signatures"] = [dict(s, date=plan_date) for s in previous["signatures"]]
    plan["risk_assessment"] = dict(previous["risk_assessment"], date=plan_date)
    return plan


# plan types: the initial deadline applies to the initial plan only --------------------------------

def test_plan_type_defaults_to_initial_and_keeps_the_content_hash(plan):
    from docgen.model.digest import content_hash
    from docgen.model.plan import PlanType

    record = validate(plan)
    assert (record.plan_type, record.previous_plan_id, record.authorization_date) == (PlanType.initial, None, None)
    assert content_hash(validate(dict(plan, plan_type="initial"))) == content_hash(record)


def test_plan_deadline_does_not_count_a_review_plan_from_intake(plan):
    # a 90-day review plan, 101 days after intake: before #13 it read "plan completed 101 calendar days
    # after intake" and no review plan could ever be complete
    review = review_of(plan)
    assert_passes("plan-deadline", review)
    assert_passes("plan-deadline", dict(review, plan_type="revision"))
    [finding] = assert_fails("plan-deadline", dict(review, plan_type="initial"), "plan_date")
    assert "101 calendar days after intake" in finding.message


def test_a_plan_cannot_name_itself_as_its_previous_plan(plan):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="previous_plan_id"):
        validate(dict(plan, plan_type="review", previous_plan_id=plan["id"]))


# plan-succession ---------------------------------------------------------------------------------

def test_plan_succession_review_on_or_before_the_previous_review_date(plan):
    assert_passes("plan-succession", review_of(plan), plans=[plan])
    assert_passes("plan-succession", review_of(plan, plan_date="2026-12-21"), plans=[plan])  # the due day
    [finding] = assert_fails("plan-succession", review_of(plan, plan_date="2026-12-28", next_review="2027-03-28"),
                             "plan_date", plans=[plan])
    assert finding.message == ("review plan dated 2026-12-28, after the review date 2026-12-21 of the previous "
                               "plan TP-1001")


def test_plan_succession_a_revision_has_no_review_deadline(plan):
    assert_passes("plan-succession", review_of(plan, plan_date="2026-12-28", next_review="2027-03-28",
                                               plan_type="revision"), plans=[plan])


def test_plan_succession_previous_plan_not_in_the_run_cannot_be_verified(plan):
    assert_passes("plan-succession", review_of(plan, plan_date="2026-12-28", next_review="2027-03-28"))


def test_plan_succession_previous_plan_of_another_client_or_later(plan):
    other = dict(plan, client=dict(plan["client"], id="C-9999"))
    [finding] = assert_fails("plan-succession", review_of(plan), "previous_plan_id", plans=[other])
    assert finding.message == "previous plan TP-1001 belongs to another client"
    later = dict(plan, plan_date="2026-12-20", next_review_date="2027-03-01")
    later["signatures"] = [dict(s, date="2026-12-20") for s in plan["signatures"]]
    [finding] = assert_fails("plan-succession", review_of(plan, plan_date="2026-12-19"), "previous_plan_id",
                             plans=[later])
    assert finding.message == "previous plan TP-1001 is dated 2026-12-20, after this plan"


# plan-review: judged as of --as-of for current records, superseded plans are not current -----------

def test_plan_review_a_superseded_plan_is_not_overdue(plan):
    # the initial plan's review date passed, but the run holds the review plan that replaced it
    late = date(2027, 1, 10)
    assert_fails("plan-review", plan, "next_review_date", as_of=late)
    assert_passes("plan-review", plan, as_of=late, plans=[plan, review_of(plan)])
    # any later plan of the same client replaces it, as in a packet's choice of the plan in force
    newer = dict(review_of(plan), plan_type="initial", previous_plan_id=None)
    assert_passes("plan-review", plan, as_of=late, plans=[plan, newer])
    other = dict(review_of(plan), client=dict(plan["client"], id="C-9999"))
    assert_fails("plan-review", plan, "next_review_date", as_of=late, plans=[plan, other])


def test_judged_on_its_own_date_when_no_as_of_is_given(plan):
    """as_of=None (a packet): each record is judged as of its own date, so a review that is overdue
    today does not make a past plan incomplete."""
    from docgen.check import check_record

    record = validate(plan)
    assert [f.rule for f in check_record(record, load_profile("default"), date(2027, 1, 10))] == ["plan-review"]
    assert check_record(record, load_profile("default"), None) == []


# plan-review under medicare: the one-year rule of mcr-plan-elems replaces the 90-day review ---------

def test_medicare_has_no_90_day_review_but_a_one_year_plan(plan):
    plan.update(review_interval_days=180, next_review_date="2027-03-21")
    assert_fails("plan-review", plan, ["review_interval_days", "next_review_date"])
    assert findings_of("plan-review", plan, "medicare") == []
    assert findings_of("plan-review", plan, "medicare", as_of=date(2027, 6, 1)) == []
    assert load_profile("medicare").params("mcr-plan-elems", {})["max_age_days"] == 365


# mcr-plan-elems, to the NGS criteria ---------------------------------------------------------------

def test_mcr_plan_elems_medication_management_needs_no_session_length(plan):
    plan["goals"][0]["interventions"].append({
        "description": "Medication management (sertraline)", "modality": "medication_management",
        "frequency": "monthly", "responsible": "Dr. Ann Lee, MD"})
    assert_passes("mcr-plan-elems", plan, "medicare")


def test_mcr_plan_elems_psychotherapy_type_is_stated_not_implied(plan):
    item = plan["goals"][0]["interventions"][0]  # cbt: individual or group is not said
    del item["therapy_type"]
    [finding] = assert_fails("mcr-plan-elems", plan, "goals[0].interventions[0].therapy_type",
                             profile_spec="medicare")
    assert "individual, group or family" in finding.message
    for modality, kind in (("cbt", "group"), ("individual_therapy", None), ("family_therapy", None)):
        item["modality"] = modality
        item.pop("therapy_type", None)
        if kind:
            item["therapy_type"] = kind
        assert_passes("mcr-plan-elems", plan, "medicare")


def test_intervention_type_may_not_contradict_its_modality(plan):
    from pydantic import ValidationError

    plan["goals"][0]["interventions"][0].update(modality="group_therapy", therapy_type="individual")
    with pytest.raises(ValidationError, match="therapy_type"):
        validate(plan)


@pytest.mark.parametrize("duration, passes", [
    ("12 weeks", True), ("52 weeks", True), ("6 months", True), ("11 months", True), ("3-6 months", True),
    ("364 days", True), ("until 2027-09-21", True), ("16 wks", True), ("six months", True),
    ("1 year", False), ("12 months", False), ("18 months", False), ("2 years", False), ("6-14 months", False),
    ("until 2027-09-22", False), ("ongoing", False), ("as needed", False),
])
def test_mcr_plan_elems_duration_under_a_year(plan, duration, passes):
    plan["goals"][0]["interventions"][0]["duration"] = duration  # plan date 2026-09-22
    if passes:
        assert_passes("mcr-plan-elems", plan, "medicare")
    else:
        [finding] = assert_fails("mcr-plan-elems", plan, "goals[0].interventions[0].duration",
                                 profile_spec="medicare")
        assert "under a year" in finding.message and duration not in finding.message


def test_mcr_plan_elems_plan_age_on_its_own_date_in_a_packet(plan):
    from docgen.check import check_record

    record = validate(plan)
    medicare = load_profile("medicare")
    assert "mcr-plan-elems" in [f.rule for f in check_record(record, medicare, date(2027, 9, 23))]
    assert check_record(record, medicare, None) == []


# plan-deadline in Texas: from the authorization, in Texas business days --------------------------

def _tx_dates(plan, intake="2026-09-01", plan_date="2026-09-28", authorization=None):
    plan.update(intake_date=intake, first_service_date=intake, plan_date=plan_date, next_review_date="2026-12-20")
    plan["consents"][0]["date_signed"] = intake
    if authorization:
        plan["authorization_date"] = authorization
    return plan


def test_plan_deadline_tx_counts_from_authorization(plan):
    # authorized Tue 09-15, plan Mon 09-28: 9 business days; from intake (09-01) it would be 18
    assert_passes("plan-deadline", _tx_dates(plan, authorization="2026-09-15"), "tx-medicaid")
    [finding] = assert_fails("plan-deadline", _tx_dates(plan, authorization="2026-09-14", plan_date="2026-09-30"),
                             "plan_date", profile_spec="tx-medicaid")
    assert finding.message == ("plan completed 12 business days after authorization on 2026-09-14; "
                               "limit 10 business days")


def test_plan_deadline_tx_without_authorization_counts_from_intake_and_says_so(plan):
    [finding] = assert_fails("plan-deadline", _tx_dates(plan), "plan_date", profile_spec="tx-medicaid")
    assert finding.message == ("plan completed 18 business days after intake on 2026-09-01 (no authorization_date: "
                               "counted from intake); limit 10 business days")


def test_plan_deadline_default_counts_from_intake_whatever_the_authorization(plan):
    plan.update(plan_date="2026-10-09", authorization_date="2026-10-01")  # 31 days after intake 09-08
    [finding] = assert_fails("plan-deadline", plan, "plan_date")
    assert finding.message.startswith("plan completed 31 calendar days after intake on 2026-09-08; ")


def test_plan_deadline_tx_good_friday_and_cesar_chavez_day_are_business_days(plan):
    # Thu 2027-03-18 -> Fri 04-02: 19 22 23 24 25 26(Good Friday) 29 30 31(Cesar Chavez) 04-01 = 10
    _tx_dates(plan, intake="2027-03-18", plan_date="2027-04-01")
    plan["next_review_date"] = "2027-06-29"
    assert_passes("plan-deadline", plan, "tx-medicaid", as_of=date(2027, 4, 2))
    plan["plan_date"] = "2027-04-02"
    plan["next_review_date"] = "2027-06-30"
    [finding] = assert_fails("plan-deadline", plan, "plan_date", profile_spec="tx-medicaid", as_of=date(2027, 4, 2))
    assert "11 business days" in finding.message


# plan-before-service (TX 1 TAC 354.2609(b)(1); Medicare) -----------------------------------------

def test_plan_before_service_off_by_default_on_in_tx_and_medicare(note, plan):
    note["session_date"] = "2026-09-21"  # the plan was signed 2026-09-22
    note["signatures"][0]["date"] = "2026-09-21"
    assert findings_of("plan-before-service", note, plans=[plan]) == []
    for name in ("tx-medicaid", "medicare"):
        [finding] = assert_fails("plan-before-service", note, "plan_id", profile_spec=name, plans=[plan])
        assert finding.message == ("service on 2026-09-21 is before plan TP-1001 was signed by its author "
                                   "(2026-09-22): the plan must be in place before services")


def test_plan_before_service_passes_on_or_after_the_signature(note, plan):
    assert_passes("plan-before-service", note, "tx-medicaid", plans=[plan])
    note.update(session_date="2026-09-22", start_time="16:30", end_time="17:15")  # signed 16:05 that day
    note["signatures"][0]["date"] = "2026-09-22"
    assert_passes("plan-before-service", note, "tx-medicaid", plans=[plan])
    note.update(start_time="10:00", end_time="10:45")
    assert_fails("plan-before-service", note, "plan_id", profile_spec="tx-medicaid", plans=[plan])


def test_plan_before_service_unsigned_plan(note, plan):
    plan["signatures"] = [s for s in plan["signatures"] if s["role"] != "clinician"]
    [finding] = assert_fails("plan-before-service", note, "plan_id", profile_spec="tx-medicaid", plans=[plan])
    assert finding.message == "plan TP-1001 is not signed by its author: no plan was in place for this service"


def test_plan_before_service_intake_crisis_and_unknown_plan_are_exempt(note, plan):
    note["session_date"] = "2026-09-10"
    note["signatures"][0]["date"] = "2026-09-10"
    assert_passes("plan-before-service", note, "tx-medicaid")  # the plan is not in the run
    for service, codes in (("intake", ["90791"]), ("crisis", ["90839"]), ("individual", ["90791"])):
        note.update(service_type=service, cpt_codes=codes)
        assert_passes("plan-before-service", note, "tx-medicaid", plans=[plan])


# u21-plan (42 CFR 441.153(c), 441.155(c)) ---------------------------------------------------------

def _inpatient_minor(plan):
    plan["client"] = dict(plan["client"], date_of_birth="2011-03-01",
                          guardian={"name": "Rosa Ortiz", "relationship": "mother"})
    plan.update(level_of_care="inpatient", review_interval_days=30, next_review_date="2026-10-22")
    return plan


@pytest.fixture
def u21(tmp_path):
    return agency_profile(tmp_path, 'extends = "default"\n[rules.u21-plan]\nenabled = true\n')


def test_u21_plan_off_by_default_and_passes_on_time(plan, u21):
    _inpatient_minor(plan)
    assert findings_of("u21-plan", plan, as_of=date(2026, 10, 1)) == []
    assert_passes("u21-plan", plan, u21, as_of=date(2026, 10, 1))  # admitted 09-08, plan 09-22 (14 days)
    assert load_profile("tx-medicaid").enabled("u21-plan", False)


def test_u21_plan_within_14_days_of_admission(plan, u21):
    _inpatient_minor(plan)["plan_date"] = "2026-09-23"
    plan["next_review_date"] = "2026-10-23"
    [finding] = assert_fails("u21-plan", plan, "plan_date", profile_spec=u21, as_of=date(2026, 10, 1))
    assert finding.message == "plan completed 15 days after admission on 2026-09-08; limit 14 days"
    plan["plan_type"] = "review"  # a review plan is not held to the admission deadline
    plan["previous_plan_id"] = "TP-0999"
    assert_passes("u21-plan", plan, u21, as_of=date(2026, 10, 1))


def test_u21_plan_reviewed_every_30_days(plan, u21):
    _inpatient_minor(plan)
    plan["next_review_date"] = "2026-10-23"
    [finding] = assert_fails("u21-plan", plan, "next_review_date", profile_spec=u21, as_of=date(2026, 10, 1))
    assert "more than 30 days after the plan date" in finding.message
    del plan["next_review_date"]
    assert_fails("u21-plan", plan, "next_review_date", profile_spec=u21, as_of=date(2026, 10, 1))


def test_u21_plan_review_past_as_of(plan, u21):
    _inpatient_minor(plan)
    [finding] = assert_fails("u21-plan", plan, "next_review_date", profile_spec=u21, as_of=date(2026, 10, 23))
    assert finding.message == "30-day review was due 2026-10-22 and is past (as of 2026-10-23)"
    from docgen.check import check_record

    assert [f for f in check_record(validate(plan), u21, None) if f.rule == "u21-plan"] == []


def test_u21_plan_out_of_scope(plan, u21):
    plan.update(next_review_date="2026-12-21")  # 90 days: fine outside inpatient care under 21
    assert_passes("u21-plan", plan, u21)  # an adult outpatient
    _inpatient_minor(plan).update(level_of_care="outpatient", next_review_date="2026-12-21")
    assert_passes("u21-plan", plan, u21)
    plan.update(level_of_care="residential", next_review_date="2026-12-21")
    assert_fails("u21-plan", plan, "next_review_date", profile_spec=u21)
    plan["client"]["date_of_birth"] = "2005-09-07"  # 21 on admission (2026-09-08)
    assert_passes("u21-plan", plan, u21)
