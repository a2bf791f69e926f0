"""Progress-note rules: fmt-sections, note-goal-link, note-risk-update, note-timeliness, pt-time, pt-band,
pt-addon-em, crisis-time, ic-90785, group-90853, fam-9084x."""
from __future__ import annotations

from datetime import date

import pytest

from builders import AS_OF, assert_fails, assert_passes, findings_of, note_dict, validate
from docgen.check import check_record, load_profile

COVERED = {"fmt-sections", "note-goal-link", "note-risk-update", "note-timeliness", "pt-time", "pt-band",
           "pt-addon-em", "crisis-time", "ic-90785", "group-90853", "fam-9084x", "eval-9079x", "mcr-note-elems"}

EM = "99214"


def timed(note, codes, minutes, *, clock=False):
    """Bill ``codes`` for ``minutes`` of documented psychotherapy time (total minutes, no clock)."""
    note["cpt_codes"] = list(codes)
    note["psychotherapy_minutes"] = minutes
    if not clock:
        note.pop("start_time", None)
        note.pop("end_time", None)
    return note


# fmt-sections -----------------------------------------------------------------------------------

def test_fmt_sections_complete_soap_passes(note):
    assert_passes("fmt-sections", note)


def test_fmt_sections_empty_or_missing_section_fails(note):
    note["objective"] = "   "
    del note["plan"]
    found = assert_fails("fmt-sections", note, ["objective", "plan"])
    assert "SOAP section 'objective' is empty" == found[0].message


@pytest.mark.parametrize("fmt, sections", [
    ("birp", ("behavior", "intervention", "response", "plan")),
    ("dap", ("data", "assessment", "plan")),
    ("girp", ("goal", "intervention", "response", "plan")),
])
def test_fmt_sections_other_formats(note, fmt, sections):
    for section in ("subjective", "objective", "assessment", "plan"):
        note.pop(section)
    note["format"] = fmt
    for section in sections:
        note[section] = f"{section} text"
    assert_passes("fmt-sections", note)
    note[sections[1]] = ""
    assert_fails("fmt-sections", note, sections[1])


# note-goal-link ---------------------------------------------------------------------------------

def test_note_goal_link_passes_with_plan(note, plan):
    assert_passes("note-goal-link", note, plans=[plan])
    assert_passes("note-goal-link", note)  # plan not in the run: the reference is not verified


def test_note_goal_link_needs_goals_and_plan_id(note):
    note["goals_addressed"] = []
    del note["plan_id"]
    assert_fails("note-goal-link", note, ["goals_addressed", "plan_id"])


def test_note_goal_link_missing_goal(note, plan):
    note["goals_addressed"][0]["goal_id"] = "G9"
    [finding] = assert_fails("note-goal-link", note, "goals_addressed[0].goal_id", plans={plan["id"]: plan})
    assert "no goal G9" in finding.message
    assert_passes("note-goal-link", note)  # without the plan it cannot be told


def test_note_goal_link_through_check_record(note, plan):
    # the engine's own entry point, with validated records: plans={plan.id: plan}
    note["goals_addressed"] = [{"goal_id": "G1", "objective_ids": ["G1.O1"]}, {"goal_id": "G2"}]
    plan_record, note_record = validate(plan), validate(note)
    found = check_record(note_record, load_profile("default"), AS_OF, plans={plan_record.id: plan_record})
    assert [(f.rule, f.severity.value, f.path) for f in found] == [
        ("note-goal-link", "blocker", "goals_addressed[1].goal_id")]
    assert check_record(note_record, load_profile("default"), AS_OF) == []  # plan not in the run


def test_note_goal_link_missing_objective(note, plan):
    note["goals_addressed"][0]["objective_ids"] = ["G1.O1", "G1.O7"]
    assert_fails("note-goal-link", note, "goals_addressed[0].objective_ids[1]", plans=[plan])


@pytest.mark.parametrize("session", ["2026-09-21", "2026-12-22"])  # plan 2026-09-22, review due 2026-12-21
def test_note_goal_link_plan_not_current(note, plan, session):
    note["session_date"] = session
    note["signatures"][0]["date"] = session
    [finding] = assert_fails("note-goal-link", note, "plan_id", plans=[plan], as_of=date(2026, 12, 31))
    assert "not current" in finding.message


@pytest.mark.parametrize("session", ["2026-09-22", "2026-12-21"])
def test_note_goal_link_plan_current_on_its_first_and_last_day(note, plan, session):
    note["session_date"] = session
    note["signatures"][0]["date"] = session
    assert_passes("note-goal-link", note, plans=[plan], as_of=date(2026, 12, 31))


def test_note_goal_link_plan_of_another_client(note, plan):
    plan["client"]["id"] = "C-2002"
    note["goals_addressed"][0]["goal_id"] = "G9"  # not reported: the plan is the wrong one altogether
    [finding] = assert_fails("note-goal-link", note, "plan_id", plans=[plan])
    assert "another client" in finding.message


def test_note_goal_link_plan_optional_by_profile(note, tmp_path):
    path = tmp_path / "ca.toml"
    path.write_text('extends = "default"\n[rules.note-goal-link]\nplan_required = false\n')
    del note["plan_id"]
    assert_passes("note-goal-link", note, load_profile(str(path)))
    assert_fails("note-goal-link", note, "plan_id")


def test_note_goal_link_without_plan_or_goals_where_no_plan_is_required(note, plan, tmp_path):
    # was: goals were demanded before the setting was read, so no profile could express a program
    # without a treatment plan (CalAIM: care planning in the notes, S33)
    path = tmp_path / "ca.toml"
    path.write_text('extends = "default"\n[rules.note-goal-link]\nplan_required = false\n')
    no_plan = load_profile(str(path))
    del note["plan_id"]
    note["goals_addressed"] = []
    assert_passes("note-goal-link", note, no_plan)
    assert_fails("note-goal-link", note, ["goals_addressed", "plan_id"])
    note["plan_id"] = "TP-1001"  # a note that names a plan still names the goals it served
    assert_fails("note-goal-link", note, "goals_addressed", profile_spec=no_plan, plans=[plan])


# note-risk-update -------------------------------------------------------------------------------

def test_note_risk_update(note):
    assert_passes("note-risk-update", note)
    del note["risk_update"]
    assert_fails("note-risk-update", note, "risk_update")


# note-timeliness (off by default; tx-medicaid: 2 business days) ---------------------------------

AFTER_THANKSGIVING = date(2026, 12, 10)


def _signed(note, session, signed):
    note["session_date"] = session
    note["signatures"][0]["date"] = signed
    return note


def test_note_timeliness_is_off_by_default(note):
    _signed(note, "2026-11-25", "2026-12-09")
    assert_passes("note-timeliness", note, as_of=AFTER_THANKSGIVING)


@pytest.mark.parametrize("signed", ["2026-11-25", "2026-11-27", "2026-11-30", "2026-12-01"])
def test_note_timeliness_tx_business_days_skip_thanksgiving(note, signed):
    # Wed 11-25 session; Thu 11-26 Thanksgiving and Fri 11-27 (TX holiday) and the weekend do not count:
    # Tue 12-01 is the 2nd business day.
    _signed(note, "2026-11-25", signed)
    assert_passes("note-timeliness", note, "tx-medicaid", as_of=AFTER_THANKSGIVING)


def test_note_timeliness_tx_third_business_day_is_late(note):
    _signed(note, "2026-11-25", "2026-12-02")
    [finding] = assert_fails("note-timeliness", note, "signatures[0].date", profile_spec="tx-medicaid",
                             as_of=AFTER_THANKSGIVING)
    assert "3 business days" in finding.message


def test_note_timeliness_unsigned_note_left_to_sig_present(note):
    note["signatures"] = []
    assert_passes("note-timeliness", note, "tx-medicaid")


# pt-time ----------------------------------------------------------------------------------------

def test_pt_time_clock_or_minutes_pass(note):
    assert_passes("pt-time", note)  # both
    assert_passes("pt-time", timed(note_dict(), ["90834"], 45))  # minutes only: MACs accept it
    del note["psychotherapy_minutes"]
    assert_passes("pt-time", note)  # clock only


def test_pt_time_neither_clock_nor_minutes_fails(note):
    del note["psychotherapy_minutes"], note["start_time"], note["end_time"]
    assert_fails("pt-time", note, "start_time")


def test_pt_time_tx_requires_start_and_stop(note):
    assert_passes("pt-time", note, "tx-medicaid")
    timed(note, ["90834"], 45)
    assert_fails("pt-time", note, ["start_time", "end_time"], profile_spec="tx-medicaid")
    note["start_time"] = "10:00"
    assert_fails("pt-time", note, "end_time", profile_spec="tx-medicaid")


def test_pt_time_minutes_beyond_the_clock(note):
    note["psychotherapy_minutes"] = 46  # clock 10:00-10:45
    [finding] = assert_fails("pt-time", note, "psychotherapy_minutes")
    assert "46" in finding.message and "45" in finding.message


def test_pt_time_untimed_service_needs_no_time(note):
    note.update(service_type="intake", cpt_codes=["90791"])
    del note["psychotherapy_minutes"], note["start_time"], note["end_time"]
    assert_passes("pt-time", note)


# pt-band ----------------------------------------------------------------------------------------

BANDS = [
    # minutes, code, passes
    (15, "90832", False), (16, "90832", True), (37, "90832", True), (38, "90832", False),
    (37, "90834", False), (38, "90834", True), (52, "90834", True), (53, "90834", False),
    (52, "90837", False), (53, "90837", True), (90, "90837", True),
    (15, "90834", False), (15, "90837", False), (0, "90832", False),
]


@pytest.mark.parametrize("minutes, code, passes", BANDS)
def test_pt_band_psychotherapy(note, minutes, code, passes):
    timed(note, [code], minutes)
    if passes:
        assert_passes("pt-band", note)
    else:
        [finding] = assert_fails("pt-band", note, "cpt_codes")
        assert code in finding.message


@pytest.mark.parametrize("minutes, code, passes", [
    (15, "90833", False), (16, "90833", True), (37, "90833", True), (38, "90833", False),
    (37, "90836", False), (38, "90836", True), (52, "90836", True), (53, "90836", False),
    (52, "90838", False), (53, "90838", True),
])
def test_pt_band_addon_with_em(note, minutes, code, passes):
    timed(note, [EM, code], minutes)
    note["service_type"] = "medication_management"
    if passes:
        assert_passes("pt-band", note)
    else:
        assert_fails("pt-band", note, "cpt_codes")


def test_pt_band_no_code_under_16_minutes_message(note):
    [finding] = assert_fails("pt-band", timed(note, ["90832"], 15), "cpt_codes")
    assert "under 16 minutes" in finding.message


def test_pt_band_names_the_code_the_time_supports(note):
    [finding] = assert_fails("pt-band", timed(note, ["90837"], 45), "cpt_codes")
    assert "supports 90834" in finding.message


def test_pt_band_uses_the_clock_without_minutes(note):
    note["end_time"] = "10:37"
    del note["psychotherapy_minutes"]
    assert_fails("pt-band", note, "cpt_codes")  # 37 clock minutes, 90834
    note["cpt_codes"] = ["90832"]
    assert_passes("pt-band", note)


def test_pt_band_one_psychotherapy_code_per_session(note):
    [finding] = assert_fails("pt-band", timed(note, ["90832", "90834"], 30), "cpt_codes")
    assert "more than one psychotherapy code" in finding.message
    timed(note, [EM, "90833", "90836"], 30)
    [finding] = assert_fails("pt-band", note, "cpt_codes")
    assert "90833, 90836" in finding.message


def test_pt_band_profile_can_move_a_band(note, tmp_path):
    path = tmp_path / "strict.toml"
    path.write_text('extends = "default"\n[rules.pt-band]\nmin_minutes = 20\n')
    timed(note, ["90832"], 18)
    assert_passes("pt-band", note)
    assert_fails("pt-band", note, "cpt_codes", profile_spec=load_profile(str(path)))


# pt-addon-em ------------------------------------------------------------------------------------

def test_pt_addon_em_passes_with_em_and_separate_minutes(note):
    assert_passes("pt-addon-em", note)
    assert_passes("pt-addon-em", timed(note, [EM, "90836"], 40))


def test_pt_addon_em_addon_without_em_fails(note):
    [finding] = assert_fails("pt-addon-em", timed(note, ["90833"], 30), "cpt_codes")
    assert "requires an E/M code" in finding.message


def test_pt_addon_em_minutes_separate_from_em(note):
    note["cpt_codes"] = [EM, "90836"]
    del note["psychotherapy_minutes"]  # only the clock, which includes the E/M time
    assert_fails("pt-addon-em", note, "psychotherapy_minutes")


def test_pt_addon_em_standalone_code_with_em_fails(note):
    [finding] = assert_fails("pt-addon-em", timed(note, [EM, "90834"], 45), "cpt_codes")
    assert "use the add-on code" in finding.message


@pytest.mark.parametrize("code", ["90832", "90833"])
def test_pt_addon_em_psychotherapy_not_with_crisis(note, code):
    timed(note, ["90839", code], 60)
    found = findings_of("pt-addon-em", note)
    assert "cpt_codes" in [f.path for f in found]
    assert any("90839" in f.message for f in found)


# crisis-time ------------------------------------------------------------------------------------

def crisis(note, minutes, addons):
    note["service_type"] = "crisis"
    return timed(note, ["90839"] + ["90840"] * addons, minutes)


@pytest.mark.parametrize("minutes, addons", [(30, 0), (74, 0), (75, 1), (104, 1), (105, 2), (134, 2), (135, 3)])
def test_crisis_time_right_count_of_90840(note, minutes, addons):
    assert_passes("crisis-time", crisis(note, minutes, addons))


@pytest.mark.parametrize("minutes, addons", [(74, 1), (75, 0), (104, 2), (104, 0), (105, 1), (105, 3)])
def test_crisis_time_wrong_count_of_90840(note, minutes, addons):
    [finding] = assert_fails("crisis-time", crisis(note, minutes, addons), "cpt_codes")
    assert f"{addons} billed" in finding.message


def test_crisis_time_under_30_minutes(note):
    [finding] = assert_fails("crisis-time", crisis(note, 29, 0), "cpt_codes")
    assert "at least 30" in finding.message


def test_crisis_time_90840_only_with_90839(note):
    note["service_type"] = "crisis"
    [finding] = assert_fails("crisis-time", timed(note, ["90840"], 90), "cpt_codes")
    assert "without 90839" in finding.message


def test_crisis_time_once_per_day(note):
    note["service_type"] = "crisis"
    assert_fails("crisis-time", timed(note, ["90839", "90839"], 60), "cpt_codes")


def test_crisis_time_from_the_clock(note):
    note.update(service_type="crisis", cpt_codes=["90839", "90840"], start_time="14:00", end_time="15:15")
    del note["psychotherapy_minutes"]
    assert_passes("crisis-time", note)  # 75 minutes


# ic-90785 ---------------------------------------------------------------------------------------

def test_ic_90785_with_eligible_code_and_factor_passes(note):
    note["cpt_codes"] = ["90834", "90785"]
    note["interactive_complexity_factors"] = ["play_equipment_devices"]
    assert_passes("ic-90785", note)


@pytest.mark.parametrize("primary", ["90791", "90832", "90837", "90853"])
def test_ic_90785_eligible_primaries(note, primary):
    note.update(cpt_codes=[primary, "90785"], interactive_complexity_factors=["caregiver_interference"])
    assert_passes("ic-90785", note)


def test_ic_90785_needs_a_factor(note):
    note["cpt_codes"] = ["90834", "90785"]
    assert_fails("ic-90785", note, "interactive_complexity_factors")


def test_ic_90785_needs_an_eligible_primary(note):
    note.update(cpt_codes=["90785"], interactive_complexity_factors=["maladaptive_communication"])
    assert_fails("ic-90785", note, "cpt_codes")


@pytest.mark.parametrize("code", ["90839", "90846", "90847"])
def test_ic_90785_never_with_crisis_or_family(note, code):
    note.update(cpt_codes=[code, "90785"], interactive_complexity_factors=["maladaptive_communication"])
    found = assert_fails("ic-90785", note, ["cpt_codes", "cpt_codes"])
    assert f"cannot be billed with {code}" in found[1].message


def test_ic_90785_with_crisis_and_psychotherapy_still_refused(note):
    note.update(cpt_codes=["90832", "90839", "90840", "90785"],
                interactive_complexity_factors=["sentinel_event_mandated_report"])
    [finding] = assert_fails("ic-90785", note, "cpt_codes")
    assert "90839, 90840" in finding.message


def test_ic_90785_absent_passes(note):
    assert_passes("ic-90785", note)


# group-90853 ------------------------------------------------------------------------------------

def group(note, size):
    note.update(service_type="group", cpt_codes=["90853"])
    if size is not None:
        note["group_size"] = size
    return note


@pytest.mark.parametrize("size", [1, 12])
def test_group_90853_within_maximum(note, size):
    assert_passes("group-90853", group(note, size))
    assert_passes("group-90853", note, "medicare")


def test_group_90853_size_missing(note):
    assert_fails("group-90853", group(note, None), "group_size")


def test_group_90853_over_maximum(note):
    [finding] = assert_fails("group-90853", group(note, 13), "group_size", profile_spec="medicare")
    assert "maximum of 12" in finding.message


def test_group_90853_no_size_limit_unless_the_payer_sets_one(note):
    # was: every profile refused groups over 12, an NGS (Medicare) limit
    for profile_name in ("default", "ny-medicaid", "tx-medicaid"):
        assert_passes("group-90853", group(note, 13), profile_name)


def test_group_90853_agency_maximum(note, tmp_path):
    path = tmp_path / "small-groups.toml"
    path.write_text('extends = "default"\n[rules.group-90853]\nmax_size = 8\n')
    assert_fails("group-90853", group(note, 9), "group_size", profile_spec=load_profile(str(path)))


# fam-9084x (warning) ----------------------------------------------------------------------------

def family(note, code, minutes, client_present):
    note["service_type"] = "family_with_client" if client_present else "family_without_client"
    note["participants"] = [{"name": "Rosa Ortiz", "role": "mother"}]
    if client_present:
        note["participants"].append({"name": "Maria Elena Ortiz", "role": "Client"})
    return timed(note, [code], minutes)


def test_fam_9084x_right_code_passes(note):
    assert_passes("fam-9084x", family(note, "90847", 50, True))
    assert_passes("fam-9084x", family(note_dict(), "90846", 26, False))
    assert_passes("fam-9084x", note_dict())  # not family psychotherapy


def test_fam_9084x_90847_without_the_client(note):
    assert_fails("fam-9084x", family(note, "90847", 50, False), "participants")


def test_fam_9084x_90846_with_the_client(note):
    assert_fails("fam-9084x", family(note, "90846", 50, True), "participants")


def test_fam_9084x_minimum_time(note):
    [finding] = assert_fails("fam-9084x", family(note, "90847", 25, True), "cpt_codes")
    assert "at least 26 minutes" in finding.message


@pytest.mark.parametrize("code, present", [("90847", True), ("90846", False)])
def test_fam_9084x_under_the_midpoint_blocks(note, code, present):
    # was: a 20-minute 90846/90847 was only a warning; the 50-minute codes need 26 minutes (CPT midpoint)
    assert_fails("fam-9084x", family(note, code, 20, present), "cpt_codes", severity="blocker")
    assert_passes("fam-9084x", family(note_dict(), code, 26, present))


# fixes found by the fixture work -------------------------------------------------------------------

def test_pt_band_addon_ignores_clock_time_that_includes_em(note):
    # 99214 + 90833 with a 40-minute clock and no separate psychotherapy minutes: the clock holds
    # E/M time, so only pt-addon-em speaks (minutes must be documented separately), not pt-band.
    note["cpt_codes"] = [EM, "90833"]
    note["end_time"] = "10:40"
    del note["psychotherapy_minutes"]
    assert_passes("pt-band", note)
    assert_fails("pt-addon-em", note, "psychotherapy_minutes")


def test_note_goal_link_exempts_the_diagnostic_evaluation(note, plan):
    note.update(service_type="intake", cpt_codes=["90791"], goals_addressed=[])
    note.pop("plan_id")
    assert_passes("note-goal-link", note, plans=[plan])
    note["service_type"] = "individual"  # the code alone exempts it too
    assert_passes("note-goal-link", note, plans=[plan])


def test_fam_9084x_client_recognised_by_name_or_qualified_role(note):
    family(note, "90847", 50, True)
    note["participants"] = [{"name": note["client"]["name"], "role": "son"}]
    assert_passes("fam-9084x", note)
    note["participants"] = [{"name": "Someone", "role": "Client (adolescent)"}]
    assert_passes("fam-9084x", note)


def test_hcpcs_level_ii_codes_are_accepted(note):
    note["cpt_codes"] = ["H0004"]
    assert validate(note).cpt_codes == ["H0004"]


def test_pt_time_group_needs_no_time_unless_profile_requires_it(note):
    group(note, 8)
    note.pop("start_time", None)
    note.pop("end_time", None)
    note.pop("psychotherapy_minutes", None)
    assert_passes("pt-time", note)
    assert_fails("pt-time", note, ["start_time", "end_time"], profile_spec="tx-medicaid")


# the client's notes of the same day (issue #13): crisis codes across notes ----------------------------

def run(*records, profile=None):
    """Judge ``records`` (dicts) as one run, as check and render do: findings by record id."""
    from copy import deepcopy

    from docgen.load import RawDocument
    from docgen.pipeline import judge_run
    from docgen.pipeline import validate as validate_raw

    results = judge_run([validate_raw(RawDocument(f"memory:{i}", deepcopy(r))) for i, r in enumerate(records)],
                        as_of=AS_OF, profile=profile)
    return {r.id: r.findings for r in results}


def rule_paths(findings, rule_id):
    return [f.path for f in findings if f.rule == rule_id]


def day_note(note_id, codes, minutes, *, service="individual", day="2026-11-23", client="C-1001"):
    note = timed(note_dict(), codes, minutes)
    note.update(id=note_id, service_type=service, session_date=day)
    note["client"]["id"] = client
    note["signatures"][0]["date"] = day
    return note


def crisis_note(note_id, minutes=60, **kw):
    return day_note(note_id, ["90839"], minutes, service="crisis", **kw)


def test_crisis_once_per_day_across_the_clients_notes():
    # was: "once per day" was counted within one note only; two notes of one day each billing 90839 passed
    found = run(crisis_note("PN-C1"), crisis_note("PN-C2", 45))
    assert rule_paths(found["PN-C1"], "crisis-time") == ["cpt_codes"]
    [finding] = [f for f in found["PN-C2"] if f.rule == "crisis-time"]
    assert "PN-C1" in finding.message and "once per day" in finding.message


@pytest.mark.parametrize("codes, minutes, service", [
    (["90834"], 45, "individual"), (["90791"], 60, "intake"), (["90846"], 50, "family_without_client"),
    (["90853"], 60, "group"), (["99214", "90833"], 20, "medication_management"),
])
def test_crisis_excludes_other_psychotherapy_and_evaluation_the_same_day(codes, minutes, service):
    other = day_note("PN-O1", codes, minutes, service=service)
    found = run(crisis_note("PN-C1"), other)
    [on_crisis] = [f for f in found["PN-C1"] if f.rule == "crisis-time"]
    assert "PN-O1" in on_crisis.message and codes[-1] in on_crisis.message
    assert rule_paths(found["PN-O1"], "crisis-time") == ["cpt_codes"]  # both notes of the pair are told


def test_crisis_other_days_and_other_clients_are_not_counted():
    found = run(crisis_note("PN-C1"), crisis_note("PN-C2", day="2026-11-22"), crisis_note("PN-C3", client="C-9"),
                day_note("PN-O1", ["90834"], 45, day="2026-11-24"))
    assert all(rule_paths(f, "crisis-time") == [] for f in found.values())


def test_crisis_excluded_codes_on_the_same_note(note):
    # 90832-90838 with 90839 on one note are pt-addon-em's; evaluation, family and group codes are crisis-time's
    for code in ("90791", "90846", "90853"):
        crisis(note, 60, 0)
        note["cpt_codes"].append(code)
        [finding] = assert_fails("crisis-time", note, "cpt_codes")
        assert code in finding.message


# ic-90785: interpretation or translation alone is not interactive complexity (issue #13) ---------------

def interpreted(note, factors):
    note.update(cpt_codes=["90834", "90785"], interactive_complexity_factors=factors)
    note["participants"].append({"name": "Ana Souza", "role": "interpreter (Portuguese)"})
    return note


def test_ic_90785_interpreter_alone_is_not_a_factor(note):
    # was: the one factor "play_devices_interpreter" passed for a session whose only complexity was an interpreter
    [finding] = assert_fails("ic-90785", interpreted(note, ["interpreter_translator"]),
                             "interactive_complexity_factors")
    assert "translation or interpretation alone" in finding.message


def test_ic_90785_the_combined_legacy_factor_alone_does_not_say_which(note):
    [finding] = assert_fails("ic-90785", interpreted(note, ["play_devices_interpreter"]),
                             "interactive_complexity_factors")
    assert "play_equipment_devices" in finding.message


@pytest.mark.parametrize("factors", [["play_equipment_devices"], ["interpreter_translator", "caregiver_interference"],
                                     ["play_devices_interpreter", "maladaptive_communication"]])
def test_ic_90785_an_interpreter_with_a_qualifying_factor_passes(note, factors):
    assert_passes("ic-90785", interpreted(note, factors))


# eval-9079x (warning): the diagnostic evaluation's elements; once a day; no psychotherapy that day ----

EVALUATION = {"psychiatric_history": "First depressive episode at 19; no admissions.",
              "medical_history": "Hypothyroidism, on levothyroxine; no surgeries.",
              "mental_status": "Alert, oriented x4; mood low, affect constricted; no psychosis; insight fair.",
              "capacity": "Motivated, attends regularly, can use CBT homework: good capacity to respond.",
              "recommendations": "Weekly CBT for 12 weeks; PHQ-9 every 4 sessions; primary care review of thyroid."}


def intake(note, code="90791"):
    note.update(service_type="intake", cpt_codes=[code], goals_addressed=[], evaluation=dict(EVALUATION),
                diagnoses=[{"code": "F33.1", "primary": True}])
    note.pop("plan_id")
    return note


def test_eval_9079x_complete_evaluation_passes(note):
    assert_passes("eval-9079x", intake(note))
    assert_passes("eval-9079x", note_dict())  # not an evaluation


def test_eval_9079x_elements(note):
    # new rule: the elements of a psychiatric diagnostic evaluation (CPT; NGS S7; BCBS IL S8)
    intake(note)
    note["evaluation"]["mental_status"] = " "
    del note["evaluation"]["capacity"], note["diagnoses"]
    found = assert_fails("eval-9079x", note, ["evaluation.mental_status", "evaluation.capacity", "diagnoses"],
                         severity="warning")
    assert "capacity to respond to treatment" in found[1].message
    del note["evaluation"]
    [finding] = [f for f in findings_of("eval-9079x", note) if f.path == "evaluation"]
    assert "mental status" in finding.message


def test_eval_9079x_once_a_day_and_no_psychotherapy_that_day(note):
    intake(note)
    note["cpt_codes"] = ["90791", "90834"]
    [finding] = assert_fails("eval-9079x", note, "cpt_codes", severity="warning")
    assert "90834" in finding.message
    note["cpt_codes"] = ["90791", "90792"]
    assert_fails("eval-9079x", note, "cpt_codes", severity="warning")
    evaluation = intake(day_note("PN-E1", ["90791"], 60, service="intake"))
    found = run(evaluation, day_note("PN-T1", ["90837"], 55), intake(day_note("PN-E2", ["90792"], 60), "90792"))
    assert rule_paths(found["PN-E1"], "eval-9079x") == ["cpt_codes"]
    [on_therapy] = [f for f in found["PN-T1"] if f.rule == "eval-9079x"]
    assert "PN-E1" in on_therapy.message and "PN-E2" in on_therapy.message
    assert "once a day" in next(f.message for f in found["PN-E2"] if f.rule == "eval-9079x")


# mcr-note-elems (warning; the medicare profile turns it on): Medicare per-note elements ----------------

def medicare_note(note):
    note["payer"] = {"name": "Medicare Part B", "type": "medicare", "state": "OR", "member_id": "1EG4TE5MK73"}
    note.update(modalities=["CBT: behavioural activation"], prognosis="Good with continued weekly CBT.")
    return note


def test_mcr_note_elems_off_by_default_and_complete_note_passes(note, plan):
    del note["goals_addressed"][0]["progress"]
    assert_passes("mcr-note-elems", note)  # not a Medicare profile
    assert_passes("mcr-note-elems", medicare_note(note_dict()), "medicare", plans=[plan])


def test_mcr_note_elems_missing_elements(note, plan):
    medicare_note(note)
    del note["modalities"], note["prognosis"], note["goals_addressed"][0]["progress"]
    assert_fails("mcr-note-elems", note, ["modalities", "goals_addressed", "prognosis"], severity="warning",
                 profile_spec="medicare", plans=[plan])
    note["format"], note["intervention"], note["behavior"], note["response"] = "birp", "CBT thought record.", "b", "r"
    for section in ("subjective", "objective", "assessment"):
        del note[section]
    assert "modalities" not in [f.path for f in findings_of("mcr-note-elems", note, "medicare", plans=[plan])]


def test_mcr_note_elems_diagnosis_on_the_note_or_its_plan(note, plan):
    medicare_note(note)
    plan["diagnoses"] = []
    assert_passes("mcr-note-elems", note, "medicare")  # the plan is not in the run: not verifiable
    [finding] = [f for f in findings_of("mcr-note-elems", note, "medicare", plans=[plan]) if f.path == "diagnoses"]
    assert "diagnos" in finding.message
    note["diagnoses"] = [{"code": "F33.1"}]
    assert_passes("mcr-note-elems", note, "medicare", plans=[plan])
