"""Profiles (built in and an agency's own file) and day counting."""
from __future__ import annotations

from datetime import date

import pytest

from builders import addendum_dict, assert_fails, assert_passes, check, findings_of, locks_of, note_dict, plan_dict
from docgen.check import RULES, ProfileError, builtin_names, load_profile
from docgen.check.days import days_between
from docgen.check.profile import profile_for
from docgen.findings import Severity

OFF_BY_DEFAULT = {"mcr-plan-elems", "ny-contents", "ny-participation", "tx-sud-plan", "note-timeliness",
                  "mcr-note-elems"}


def test_rules_off_by_default_and_who_enables_them():
    assert {r.id for r in RULES.values() if not r.enabled_by_default} == OFF_BY_DEFAULT
    default = load_profile("default")
    assert not any(default.enabled(rule_id, RULES[rule_id].enabled_by_default) for rule_id in OFF_BY_DEFAULT)
    enabling = {"medicare": {"mcr-plan-elems", "mcr-note-elems"}, "ny-medicaid": {"ny-contents", "ny-participation"},
                "tx-medicaid": {"tx-sud-plan", "note-timeliness"}}
    for name, rule_ids in enabling.items():
        profile = load_profile(name)
        on = {r for r in OFF_BY_DEFAULT if profile.enabled(r, RULES[r].enabled_by_default)}
        assert on == rule_ids, name


def _with_prescriber(plan: dict) -> dict:
    plan["signatures"].append({"role": "psychiatrist", "name": "Ruth Abara", "credentials": "PMHNP-BC",
                               "method": "electronic", "date": "2026-09-23", "time": "09:00"})
    return plan


@pytest.mark.parametrize("name", ["default", "medicare", "ny-medicaid", "tx-medicaid"])
def test_builders_are_complete_under_every_builtin_profile(name):
    assert name in builtin_names()
    assert check(_with_prescriber(plan_dict()), name) == []
    assert check(note_dict(), name, plans=[plan_dict()]) == []
    assert check(addendum_dict(), name, locks=locks_of(plan_dict())) == []


def test_ny_medicaid_plan_needs_a_prescriber_signature():
    found = check(plan_dict(), "ny-medicaid")
    assert [(f.rule, f.path, f.message) for f in found] == [
        ("sig-present", "signatures", "no psychiatrist signature")]
    assert check(plan_dict(), "default") == []


@pytest.mark.parametrize("payer_type, state, expected", [
    ("medicare", "OR", "medicare"), ("medicaid", "NY", "ny-medicaid"), ("medicaid", "TX", "tx-medicaid"),
    ("medicaid", "CA", "default"), ("commercial", "TX", "default"), ("self_pay", None, "default"),
])
def test_profile_for_payer(payer_type, state, expected):
    assert profile_for(payer_type, state).name == expected


# an agency's own profile file --------------------------------------------------------------------

AGENCY = '''
name = "riverside"
description = "Riverside agency policy"
extends = "default"

[rules.note-risk-update]
enabled = false

[rules.plan-deadline]
days = 14
source = "Riverside policy 4.2: plan within 14 days"

[rules.tjc-plan]
severity = "blocker"
'''


@pytest.fixture
def agency(tmp_path):
    path = tmp_path / "riverside.toml"
    path.write_text(AGENCY, encoding="utf-8")
    return load_profile(str(path))


def test_agency_profile_switches_a_rule_off(agency, note):
    del note["risk_update"]
    assert_fails("note-risk-update", note, "risk_update")
    assert_passes("note-risk-update", note, agency)


def test_agency_profile_changes_a_parameter(agency, plan):
    # intake 2026-09-08, plan 2026-09-22: 14 days, fine; 15 days is not under the agency's policy
    assert_passes("plan-deadline", plan, agency)
    plan["plan_date"] = "2026-09-23"
    assert_passes("plan-deadline", plan)  # default: 30 calendar days
    [finding] = assert_fails("plan-deadline", plan, "plan_date", profile_spec=agency)
    assert "limit 14 calendar days" in finding.message  # day_type inherited from default
    assert finding.source == "Riverside policy 4.2: plan within 14 days"


def test_agency_profile_changes_a_severity(agency, plan):
    plan["strengths"] = []
    assert findings_of("tjc-plan", plan)[0].severity is Severity.warning
    assert_fails("tjc-plan", plan, "strengths", severity="blocker", profile_spec=agency)


def test_agency_profile_inherits_the_rest(agency):
    assert agency.name == "riverside"
    assert agency.calendar == {"holidays": "US"}
    assert agency.params("plan-review", RULES["plan-review"].defaults)["review_days"] == 90
    assert agency.match == {}


def test_agency_profile_may_extend_a_payer_profile(tmp_path, note):
    path = tmp_path / "tx-agency.toml"
    path.write_text('extends = "tx-medicaid"\n[rules.note-timeliness]\ndays = 1\n', encoding="utf-8")
    profile = load_profile(str(path))
    assert profile.calendar["subdivision"] == "TX"
    note.update(session_date="2026-11-25")
    note["signatures"][0]["date"] = "2026-11-30"  # 1 business day after, in Texas
    assert_passes("note-timeliness", note, profile, as_of=date(2026, 12, 1))
    note["signatures"][0]["date"] = "2026-12-01"
    assert_fails("note-timeliness", note, "signatures[0].date", profile_spec=profile, as_of=date(2026, 12, 1))


@pytest.mark.parametrize("body, message", [
    ('[rules.no-such-rule]\nenabled = false\n', "no rule 'no-such-rule'"),
    ('[rules.plan-deadline]\ndayz = 3\n', "has no parameter(s) dayz"),
    ('[rules.plan-deadline]\nseverity = "fatal"\n', "severity must be blocker or warning"),
    ('colour = "blue"\n', "unknown key(s) colour"),
    ('extends = "no-such-profile"\n', "unknown profile 'no-such-profile'"),
    ('[rules\n', "profile"),
])
def test_agency_profile_errors(tmp_path, body, message):
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ProfileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_profile(str(path))


def test_profile_extends_loop(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n', encoding="utf-8")
    with pytest.raises(ProfileError, match="loops back"):
        load_profile(str(tmp_path / "a.toml"))


# day counting ------------------------------------------------------------------------------------

WED, THANKSGIVING, FRI = date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27)
TX = {"holidays": "US", "subdivision": "TX"}
US = {"holidays": "US"}


@pytest.mark.parametrize("end, calendar_days, working, business_us, business_tx", [
    (WED, 0, 0, 0, 0),
    (THANKSGIVING, 1, 1, 0, 0),
    (FRI, 2, 2, 1, 0),
    (date(2026, 11, 29), 4, 2, 1, 0),  # Sunday
    (date(2026, 11, 30), 5, 3, 2, 1),
    (date(2026, 12, 2), 7, 5, 4, 3),
])
def test_days_between_across_thanksgiving(end, calendar_days, working, business_us, business_tx):
    assert days_between(WED, end, "calendar") == calendar_days
    assert days_between(WED, end, "working") == working
    assert days_between(WED, end, "business", US) == business_us
    assert days_between(WED, end, "business", TX) == business_tx


def test_days_between_end_before_start_and_bad_type():
    assert days_between(FRI, WED, "business") == 0
    assert days_between(date(2026, 12, 31), date(2027, 1, 4), "business", US) == 1  # New Year's Day, weekend
    with pytest.raises(ValueError, match="day_type"):
        days_between(WED, FRI, "session")
