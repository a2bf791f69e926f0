"""Rules of state programs and their profiles: Minnesota 245G SUD plans (mn-sud-itp, mn-245g) and
California Medi-Cal (ca-medi-cal: no required plan for notes, notes in 3 business days, crisis-note-due)."""
from __future__ import annotations

from datetime import date

import pytest

from builders import addendum_dict, assert_fails, assert_passes, check, locks_of, note_dict, plan_dict, signature
from docgen.check import load_profile
from docgen.model import validate_record
from docgen.model.digest import content_hash

COVERED = {"mn-sud-itp", "crisis-note-due"}

MN = "mn-245g"
CA = "ca-medi-cal"


def _mn_plan(level="outpatient", started="2026-09-08", planned="2026-09-22"):
    """A complete plan of a Minnesota SUD program: service initiation ``started``, plan ``planned``."""
    plan = plan_dict()
    plan["agency"].update(state="MN", program_type="substance_use")
    plan.update(level_of_care=level, intake_date=started, first_service_date=started, plan_date=planned)
    for sig in plan["signatures"]:
        sig["date"] = planned
    return plan


# mn-sud-itp: Minn. Stat. 245G.06 subd. 1 ---------------------------------------------------------

def test_mn_sud_itp_complete_plan_passes():
    assert_passes("mn-sud-itp", _mn_plan(), MN)
    assert check(_mn_plan(), MN) == []


def test_mn_sud_itp_is_off_elsewhere_and_for_mental_health_programs():
    plan = _mn_plan(planned="2026-11-02")  # 55 days
    assert_passes("mn-sud-itp", plan)  # default profile: rule off
    plan["agency"]["program_type"] = "mental_health"
    assert_passes("mn-sud-itp", plan, MN)


@pytest.mark.parametrize("level, planned, ok", [
    ("residential", "2026-09-18", True),   # 10 days after initiation on 09-08 (that day excluded)
    ("residential", "2026-09-19", False),  # 11
    ("outpatient", "2026-10-08", True),    # 30
    ("outpatient", "2026-10-09", False),   # 31
    ("intensive_outpatient", "2026-10-09", False),
])
def test_mn_sud_itp_deadline_by_setting(level, planned, ok):
    plan = _mn_plan(level, planned=planned)
    plan["next_review_date"] = "2026-12-30"
    if ok:
        assert_passes("mn-sud-itp", plan, MN)
    else:
        [finding] = assert_fails("mn-sud-itp", plan, "plan_date", profile_spec=MN)
        assert "service initiation on 2026-09-08" in finding.message


def test_mn_sud_itp_opioid_treatment_program_has_21_days(tmp_path):
    otp = tmp_path / "otp.toml"
    otp.write_text('extends = "mn-245g"\n[rules.mn-sud-itp]\nopioid_treatment_program = true\n', encoding="utf-8")
    profile = load_profile(str(otp))
    assert_passes("mn-sud-itp", _mn_plan(planned="2026-09-29"), profile)  # 21
    assert_fails("mn-sud-itp", _mn_plan(planned="2026-09-30"), "plan_date", profile_spec=profile)


def test_mn_sud_itp_needs_the_clients_and_the_counselors_signatures():
    plan = _mn_plan()
    del plan["signatures"][1]  # the client's
    plan["client_signature_waiver_reason"] = "Client declined to sign."  # enough for sig-present, not 245G.06
    [finding] = assert_fails("mn-sud-itp", plan, "signatures", profile_spec=MN)
    assert "client" in finding.message
    plan["client_signature_waiver_reason"] = ("Plan reviewed by telehealth video; client gave verbal approval, "
                                              "signature could not be obtained.")
    assert_passes("mn-sud-itp", plan, MN)
    plan = _mn_plan()
    del plan["signatures"][0]["date"]  # the plan is developed upon the counselor's dated signature
    assert_fails("mn-sud-itp", plan, "signatures", profile_spec=MN)


def test_mn_sud_itp_contents_duration_and_completion_goals():
    plan = _mn_plan()
    del plan["goals"][0]["interventions"][0]["duration"]
    plan["discharge_criteria"] = " "
    assert_fails("mn-sud-itp", plan, ["goals[0].interventions[0].duration", "discharge_criteria"], profile_spec=MN)


def test_mn_sud_itp_a_plan_change_is_signed_by_client_and_counselor():
    original = _mn_plan()
    addendum = addendum_dict()
    addendum["agency"].update(state="MN", program_type="substance_use")
    addendum["original"].update(date=original["plan_date"], sha256=content_hash(validate_record(original)))
    locks = locks_of(original)
    [finding] = assert_fails("mn-sud-itp", addendum, "signatures", profile_spec=MN, locks=locks)
    assert "client" in finding.message
    addendum["signatures"].append(signature("client", "Maria Elena Ortiz", credentials=None, date="2026-11-02",
                                            time="16:10"))
    assert_passes("mn-sud-itp", addendum, MN, locks=locks)
    assert check(addendum, MN, locks=locks) == []


# ca-medi-cal: BHIN 23-068 ------------------------------------------------------------------------

def _crisis_note(signed_date="2026-11-23", signed_time="18:00"):
    note = note_dict()
    note.update(service_type="crisis", cpt_codes=["90839"], start_time="10:00", end_time="11:00",
                psychotherapy_minutes=60)
    note["signatures"][0].update(date=signed_date, time=signed_time)
    return note


def test_crisis_note_due_within_24_hours():
    assert_passes("crisis-note-due", _crisis_note("2026-11-24", "11:00"), CA)  # 24 h after the end
    [finding] = assert_fails("crisis-note-due", _crisis_note("2026-11-24", "11:30"), "signatures[0].date",
                             profile_spec=CA)
    assert "24 hours" in finding.message
    assert_passes("crisis-note-due", _crisis_note("2026-11-24", "11:30"))  # off in the default profile


def test_crisis_note_due_only_for_crisis_services():
    note = _crisis_note("2026-11-25", "09:00")
    note.update(service_type="individual", cpt_codes=["90837"])
    assert_passes("crisis-note-due", note, CA)


def test_crisis_note_due_without_times_counts_from_the_end_of_the_session_day():
    note = _crisis_note("2026-11-24", None)
    del note["start_time"], note["end_time"]
    note["signatures"][0]["method"] = "wet_ink"
    assert_passes("crisis-note-due", note, CA)  # signed the next day, time unknown
    note["signatures"][0]["date"] = "2026-11-26"
    assert_fails("crisis-note-due", note, "signatures[0].date", profile_spec=CA)


def test_ca_medi_cal_notes_need_no_treatment_plan():
    note = note_dict()
    del note["plan_id"]  # CalAIM: a problem list, care planning in the notes
    assert [f.rule for f in check(note, "default")] == ["note-goal-link"]
    assert check(note, CA) == []


def test_ca_medi_cal_notes_within_three_business_days():
    note = note_dict()  # session Monday 2026-11-23; Thanksgiving 11-26 and (in California) 11-27 are holidays
    note["signatures"][0]["date"] = "2026-11-30"
    assert check(note, CA, as_of=date(2026, 12, 1)) == []  # Tue, Wed, Mon: 3 business days
    note["signatures"][0]["date"] = "2026-12-01"
    assert [f.rule for f in check(note, CA, as_of=date(2026, 12, 1))] == ["note-timeliness"]
