"""Profiles (built in and an agency's own file) and day counting."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from builders import addendum_dict, assert_fails, assert_passes, check, findings_of, locks_of, note_dict, plan_dict
from docgen.check import RULES, ProfileError, builtin_names, load_profile
from docgen.check.days import days_between
from docgen.check.profile import profile_for
from docgen.findings import Severity

OFF_BY_DEFAULT = {"mcr-plan-elems", "ny-contents", "ny-participation", "tx-sud-plan", "note-timeliness",
                  "mn-sud-itp", "crisis-note-due", "plan-before-service", "u21-plan", "mcr-note-elems"}


def test_rules_off_by_default_and_who_enables_them():
    assert {r.id for r in RULES.values() if not r.enabled_by_default} == OFF_BY_DEFAULT
    default = load_profile("default")
    assert not any(default.enabled(rule_id, RULES[rule_id].enabled_by_default) for rule_id in OFF_BY_DEFAULT)
    enabling = {"medicare": {"mcr-plan-elems", "plan-before-service", "mcr-note-elems"},
                "ny-medicaid": {"ny-contents", "ny-participation"},
                "tx-medicaid": {"tx-sud-plan", "note-timeliness", "plan-before-service", "u21-plan"},
                "ca-medi-cal": {"note-timeliness", "crisis-note-due"}, "mn-245g": {"mn-sud-itp"}}
    for name, rule_ids in enabling.items():
        profile = load_profile(name)
        on = {r for r in OFF_BY_DEFAULT if profile.enabled(r, RULES[r].enabled_by_default)}
        assert on == rule_ids, name


def _with_prescriber(plan: dict) -> dict:
    plan["signatures"].append({"role": "psychiatrist", "name": "Ruth Abara", "credentials": "PMHNP-BC",
                               "method": "electronic", "date": "2026-09-23", "time": "09:00"})
    return plan


@pytest.mark.parametrize("name", ["default", "medicare", "ny-medicaid", "tx-medicaid", "ca-medi-cal", "mn-245g"])
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
    ("medicaid", "CA", "ca-medi-cal"), ("commercial", "CA", "default"), ("commercial", "TX", "default"),
    ("self_pay", None, "default"), ("medicaid", "MN", "default"),
])
def test_profile_for_payer(payer_type, state, expected):
    assert builtin_names() == ["ca-medi-cal", "default", "medicare", "mn-245g", "ny-medicaid", "tx-medicaid"]
    assert profile_for(payer_type, state).name == expected


# the agency's state, and profiles of rules that bind the provider --------------------------------

def _profile_name(record: dict) -> str:
    from docgen.check import profile_of
    from docgen.model import validate_record

    return profile_of(validate_record(record)).name


def test_agency_state_picks_the_profile_where_the_payer_names_no_state():
    plan = plan_dict()
    plan["payer"] = {"name": "State Medicaid", "type": "medicaid"}
    assert _profile_name(plan) == "default"  # today: no state anywhere
    plan["agency"]["state"] = "NY"
    assert _profile_name(plan) == "ny-medicaid"
    plan["payer"]["state"] = "TX"  # the payer's state wins where it names one
    assert _profile_name(plan) == "tx-medicaid"


def test_agency_state_is_optional_and_checked():
    from docgen.model import validate_record

    plan = plan_dict()
    assert "state" not in plan["agency"]  # every record valid before stays valid
    validate_record(plan)
    plan["agency"]["state"] = "Minnesota"
    with pytest.raises(Exception, match="two-letter state code"):
        validate_record(plan)


def test_mn_245g_is_picked_by_an_mn_sud_agency_whoever_pays():
    plan = plan_dict()
    plan["agency"].update(state="MN", program_type="substance_use")
    assert _profile_name(plan) == "mn-245g"  # commercial payer from Oregon: licensing follows the agency
    plan["payer"] = {"name": "MN Medicaid", "type": "medicaid", "state": "MN"}
    assert _profile_name(plan) == "mn-245g"
    del plan["agency"]["state"]  # no agency state: the payer's stands in
    assert _profile_name(plan) == "mn-245g"
    plan["agency"]["program_type"] = "mental_health"
    assert _profile_name(plan) == "default"
    plan["agency"].update(state="MN", program_type="co_occurring")
    plan["payer"] = {"name": "NY Medicaid", "type": "medicaid", "state": "NY"}
    # as specific as ny-medicaid (two keys each): the first by name wins, deterministically
    assert _profile_name(plan) == "mn-245g"


def test_an_addendum_without_a_payer_matches_on_its_agency():
    addendum = addendum_dict()
    del addendum["payer"]
    assert _profile_name(addendum) == "default"
    addendum["agency"].update(state="MN", program_type="substance_use")
    assert _profile_name(addendum) == "mn-245g"


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
    # a parameter of the wrong kind, a bad source, an unknown [match] key
    ('[rules.plan-deadline]\ndays = "ten"\n', "plan-deadline.days must be a number"),
    ('[rules.sig-present]\nplan_roles = "clinician"\n', "plan_roles must be a list"),
    ('[rules.plan-deadline]\nsource = 5\n', "source must be a citation"),
    ('[match]\npayer = "medicaid"\n', "[match] has no key(s) payer"),
    # sig-present's roles (see test_rules_signatures): known roles, credentials as a list, known kinds
    ('[rules.sig-present.roles.surgeon]\ncredentials = ["MD"]\n', "no role 'surgeon'"),
    ('[rules.sig-present.roles.psychiatrist]\ncredentials = "MD"\n', "roles.psychiatrist.credentials must be"),
    ('[rules.sig-present.roles.psychiatrist]\ncredential = ["MD"]\n', "unknown key(s) credential"),
    ('[rules.sig-present.roles.psychiatrist]\ncredentials = ["MD"]\nkinds = ["order"]\n', "order is not a document"),
    ('[rules.sig-present]\nroles = ["MD"]\n', "roles must be a table"),
    ('[rules.sig-present]\nplan_roles = ["clinician", "doctor"]\n', "unknown role(s) doctor"),
    ('[rules.mn-sud-itp]\nday_type = "weekly"\n', "day_type must be one of"),
    # [calendar]: found when the profile loads, not when a deadline is first counted
    ('[calendar]\nexclude = ["Good Fryday"]\nsubdivision = "TX"\n', "no holiday named 'Good Fryday'"),
    ('[calendar]\nobserved = "no"\n', "calendar.observed must be true or false"),
    ('[calendar]\nexclude = "Good Friday"\n', "calendar.exclude must be a list of holiday names"),
    ('[calendar]\nsubdivison = "TX"\n', "unknown key(s) subdivison"),
    ('[calendar]\nholidays = "XX"\n', "the holidays package has no calendar 'XX'"),
])
def test_agency_profile_errors(tmp_path, body, message):
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ProfileError, match=re.escape(message)):
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


# Texas business days: Gov't Code 662.003(a) and (b) only ------------------------------------------

def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based; -1 = last) ``weekday`` (Monday 0) of a month."""
    from calendar import monthrange

    days = [date(year, month, d) for d in range(1, monthrange(year, month)[1] + 1)
            if date(year, month, d).weekday() == weekday]
    return days[n - 1] if n > 0 else days[n]


def texas_662_003(year: int) -> set[date]:
    """The national (662.003(a)) and state (662.003(b)) holidays of Texas, on their own dates, written
    from the statute (no weekday substitute for a weekend holiday)."""
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    national = {date(year, 1, 1), _nth_weekday(year, 1, 0, 3), _nth_weekday(year, 2, 0, 3),
                _nth_weekday(year, 5, 0, -1), date(year, 7, 4), _nth_weekday(year, 9, 0, 1), date(year, 11, 11),
                thanksgiving, date(year, 12, 25)}
    state = {date(year, 1, 19), date(year, 3, 2), date(year, 4, 21), date(year, 6, 19), date(year, 8, 27),
             thanksgiving + timedelta(days=1), date(year, 12, 24), date(year, 12, 26)}
    return national | state


TX_PROFILE = load_profile("tx-medicaid").calendar


@pytest.mark.parametrize("year", range(2024, 2031))
def test_tx_business_days_are_the_weekdays_outside_662_003_a_and_b(year):
    from docgen.check.days import is_counted

    holidays = texas_662_003(year)
    day = date(year, 1, 1)
    while day.year == year:
        if day.weekday() < 5:
            assert is_counted(day, "business", TX_PROFILE) == (day not in holidays), day
        day += timedelta(days=1)


@pytest.mark.parametrize("start, end, business", [
    # Good Friday (03-26) and Cesar Chavez Day (03-31) are optional holidays (662.003(c), 662.013): counted
    (date(2027, 3, 25), date(2027, 4, 1), 5),
    # Texas Independence Day, Tue 2027-03-02 (662.003(b)(2)): not counted
    (date(2027, 3, 1), date(2027, 3, 5), 3),
    # San Jacinto Day, Wed 2027-04-21 (662.003(b)(3)): not counted
    (date(2027, 4, 20), date(2027, 4, 22), 1),
    # Dec 24 (Fri) is a holiday, Dec 23 is not; Sun Dec 26 and Sat Jan 1 move to no weekday
    (date(2027, 12, 22), date(2027, 12, 31), 6),
])
def test_tx_business_days_follow_the_statute(start, end, business):
    assert days_between(start, end, "business", TX_PROFILE) == business


def test_federal_business_days_keep_observed_holidays():
    # 5 U.S.C. 6103(b): Fri 2027-12-24 and Fri 2027-12-31 are the federal observed Christmas and New Year
    assert days_between(date(2027, 12, 22), date(2027, 12, 31), "business", US) == 5


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_calendars_name_real_holidays(name):
    """The shipped profiles' calendars are not looked up when they load (it costs ~0.1 s): here they are."""
    from docgen.check.days import calendar_problems

    assert calendar_problems(load_profile(name).calendar) == []


def test_an_agency_calendar_may_drop_optional_holidays(tmp_path):
    path = tmp_path / "agency.toml"
    path.write_text('extends = "default"\n[calendar]\nsubdivision = "TX"\nexclude = ["Good Friday"]\n',
                    encoding="utf-8")
    calendar = load_profile(str(path)).calendar
    assert days_between(date(2027, 3, 25), date(2027, 3, 29), "business", calendar) == 2  # Fri 26, Mon 29
    assert days_between(date(2027, 3, 25), date(2027, 3, 29), "business", TX) == 1
