"""docgen.compose.wording: field paths, enum values, places of service and counts in a reader's words."""
from __future__ import annotations

import pytest

import builders
from docgen.compose import compose
from docgen.compose.wording import enum_words, finding_words, is_path, place_of_service, plural, where, yes_no
from docgen.model import validate_record


@pytest.fixture(scope="module")
def plan():
    data = builders.plan_dict()
    data["goals"].append({**data["goals"][0], "id": "G2",
                          "objectives": [{**data["goals"][0]["objectives"][0], "id": "G2.O1"}]})
    data["signatures"].insert(0, builders.signature("supervisor", "Ruth Adler", credentials="LCSW-S"))
    data["assessments"] = [{"instrument": "phq9", "date": "2026-11-10", "items": [1] * 9}]
    return validate_record(data)


@pytest.mark.parametrize(("path", "words"), [
    ("signatures[1].date", "Clinician's signature: date"),
    ("signatures[0].attestation.by", "Clinical Supervisor's signature: attestation by"),
    ("signatures[2]", "Client's signature"),
    ("signatures", "Signatures"),
    ("goals[1].objectives[0].measure", "Goal G2, objective G2.O1: measure"),
    ("goals[0].interventions[0].duration", "Goal G1, intervention 1: duration"),
    ("goals[0].client_words", "Goal G1: in the person's own words"),
    ("assessments[0].items[8]", "PHQ-9 of 11/10/2026, item 9"),
    ("diagnoses[0].code", "Diagnosis F33.1: code"),
    ("consents[0]", "Treatment consent"),
    ("clinicians[0].title", "Clinician Daniel Kim: title"),
    ("safety_plan.lethal_means", "Safety plan: making the environment safe"),
    ("plan_date", "Plan date"),
    ("cpt_codes", "CPT codes"),
    ("risk_update", "Risk update"),
    ("client.preferred_language", "Client: preferred language"),
    ("medical_necessity.indicated", "Medical necessity: indicated"),
])
def test_a_finding_path_of_a_record_in_words(plan, path, words):
    assert where(path, plan) == words


@pytest.mark.parametrize(("path", "words"), [
    ("goals[G2].objectives[G2.O1]", "Goal G2, objective G2.O1"),  # an addendum names the original's parts by id
    ("goals[G2].interventions", "Goal G2: interventions"),
    ("goals[1]", "Goal 2"),  # a position, counted from 1
    ("signatures[0].date", "Signature 1: date"),
    ("goals_addressed[1].goal_id", "Goal addressed 2: goal"),
    ("Goal 2, objective 1", "Goal 2, objective 1"),  # words a person typed stay as typed
    ("Goals", "Goals"),
    ("", ""),
])
def test_a_path_without_its_record(path, words):
    assert where(path) == words


def test_a_note_path_names_the_goal_it_points_at():
    note = validate_record({**builders.note_dict(), "goals_addressed": [
        {"goal_id": "G1"}, {"goal_id": "G3", "objective_ids": ["G3.O1"]}]})
    assert where("goals_addressed[1].goal_id", note) == "Goal addressed G3: goal"
    assert where("goals_addressed[1].objective_ids[0]", note) == "Goal addressed G3, objective G3.O1"


def test_finding_words_put_where_first_then_the_message(plan):
    assert finding_words("signatures[1].date", "note signed 4 business days after the session; limit 2", plan) == (
        "Clinician's signature: date \u2014 note signed 4 business days after the session; limit 2")


def test_is_path():
    assert is_path("goals[G2].objectives[G2.O1]") and is_path("plan_date") and is_path("signatures[0].date")
    assert not is_path("Goal 2") and not is_path("Goals") and not is_path("goals [1]") and not is_path("")


@pytest.mark.parametrize(("value", "words"), [
    ("in_progress", "In progress"), ("cbt", "CBT"), ("hipaa_authorization", "HIPAA authorization"),
    ("part2", "42 CFR Part 2 consent"), ("telehealth_video", "Telehealth (video)"), ("none", "No risk"),
    ("intensive_outpatient", "Intensive outpatient"), (None, ""),
])
def test_enum_values_in_words(value, words):
    assert enum_words(value) == words


def test_places_of_service_counts_and_booleans():
    assert place_of_service("11") == "Office (11)"
    assert place_of_service("02") == "Telehealth (not in home) (02)"
    assert place_of_service("42") == "Code 42"
    assert place_of_service(None) == ""
    assert plural(1, "note") == "1 note" and plural(2, "note") == "2 notes" and plural(0, "note") == "0 notes"
    assert plural(3, "entry", "entries") == "3 entries"
    assert (yes_no(True), yes_no(False), yes_no(None)) == ("Yes", "No", "")


def test_compose_words_what_it_shows():
    """The defects of issue #14 in the composition: a missing baseline, a raw place of service, a
    lowercase "no", an addendum's field path."""
    plan = builders.plan_dict()
    del plan["goals"][0]["objectives"][0]["baseline"]
    doc = compose(validate_record(plan))
    objectives = next(b for s in doc.sections for b in s.blocks if getattr(b, "caption", "") == "Objectives")
    assert objectives.rows[0][3] == "Activity log; count of pleasant activities a week\nTarget 3 a week"
    note = builders.note_dict()
    note["risk_update"]["changed_since_last"] = False
    doc = compose(validate_record(note))
    session = dict(doc.section("session").blocks[0].rows)
    assert session["Place of service"] == "Office (11)"
    risk = doc.section("risk").blocks[0]
    assert risk.label == "Risk update" and dict(risk.rows)["Changed since last session"] == "No"
    addendum = compose(validate_record(builders.addendum_dict()))
    assert addendum.section("changes").blocks[0].rows[0][0] == "Goal G1, objective G1.O1"
