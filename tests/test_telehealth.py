"""CPT/HCPCS modifiers on a note's codes, where the patient and the clinician were, and the telehealth
rule (issue #13): Medicare place of service 02/10, modifier 93 for audio-only (patient at home, reason
stated), modifier 95 where a profile requires it; consistency of delivery, place of service and
modifiers for every payer."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from builders import assert_fails, assert_passes, findings_of, note_dict, validate
from docgen.check import load_profile
from docgen.model.digest import content_hash

COVERED = {"telehealth"}

#: content_hash(note_dict()) before modifiers existed: a record without modifiers keeps its hash
NOTE_HASH = "c806fc7187f1249184a8289ceb3acd78c4a878fe5aaa345c2654af7dfa80754c"


# --- modifiers in the schema ---------------------------------------------------------------------------
def test_a_note_without_modifiers_keeps_its_content_hash():
    note = note_dict()
    del note["modalities"], note["prognosis"]  # added to the builder with #13, after the hash was taken
    assert content_hash(validate(note)) == NOTE_HASH


@pytest.mark.parametrize("given, stored", [
    (["90834-95"], ["90834-95"]),
    ([{"code": "90834", "modifiers": ["95"]}], ["90834-95"]),
    ([{"code": 90834, "modifiers": [95, "HO"]}, {"code": "+90785"}], ["90834-95-HO", "90785"]),
    (["+90785-93", "H0004-HF", "99214-25"], ["90785-93", "H0004-HF", "99214-25"]),
    ([90834, "90834"], ["90834", "90834"]),
])
def test_codes_take_modifiers_as_text_or_as_an_object(note, given, stored):
    # was: only bare codes were accepted
    note["cpt_codes"] = given
    record = validate(note)
    assert record.cpt_codes == stored
    assert record.codes == [c.split("-")[0] for c in stored]


@pytest.mark.parametrize("given", [["90834-9"], ["90834-955"], ["90834-95-HO-HE-59-25"], ["90834-ho"],
                                   [{"code": "90834", "modifiers": ["9X5"]}], [{"code": "90834-95"}],
                                   [{"code": "90834", "modifier": "95"}], [{"modifiers": ["95"]}]])
def test_malformed_modifiers_are_schema_errors(note, given):
    note["cpt_codes"] = given
    with pytest.raises(ValidationError):
        validate(note)


def test_rules_read_the_code_without_its_modifiers(note):
    note.update(cpt_codes=["90837-95"], psychotherapy_minutes=55, start_time="10:00", end_time="10:55",
                delivery="telehealth_video", place_of_service="10")
    assert_passes("pt-band", note)
    note["cpt_codes"] = ["90834-95"]
    assert_fails("pt-band", note, "cpt_codes")


# --- telehealth: every payer ---------------------------------------------------------------------------
def video(note=None, **extra):
    note = note or note_dict()
    note.update(delivery="telehealth_video", place_of_service="10",
                patient_location={"kind": "home", "state": "OR"},
                clinician_location={"kind": "office", "state": "OR"})
    note.update(extra)
    return note


def audio(note=None, **extra):
    note = video(note, delivery="telehealth_audio", cpt_codes=["90834-93"],
                 audio_only_reason="Client has no working camera and declined video today.")
    note.update(extra)
    return note


def test_telehealth_passes_an_in_person_note_and_a_consistent_video_note(note):
    assert_passes("telehealth", note)
    assert_passes("telehealth", video())
    assert_passes("telehealth", audio())


@pytest.mark.parametrize("change, path", [
    ({"place_of_service": "10"}, "place_of_service"),           # in person, but a telehealth place of service
    ({"cpt_codes": ["90834-95"]}, "cpt_codes"),                 # in person, but a telehealth modifier
])
def test_telehealth_in_person_note_with_telehealth_pos_or_modifier(note, change, path):
    note.update(change)
    assert_fails("telehealth", note, path)


def test_telehealth_modifier_must_match_the_delivery():
    assert_fails("telehealth", video(cpt_codes=["90834-93"]), "cpt_codes")
    assert_fails("telehealth", audio(cpt_codes=["90834-95"]), "cpt_codes")


def test_telehealth_pos_10_is_the_patients_home_and_02_is_not():
    assert_fails("telehealth", video(patient_location={"kind": "office"}), "place_of_service")
    assert_fails("telehealth", video(place_of_service="02"), "place_of_service")
    assert_passes("telehealth", video(place_of_service="02", patient_location={"kind": "facility"}))


def test_locations_are_optional_fields_with_a_kind():
    record = validate(video())
    assert record.patient_location.kind.value == "home" and record.clinician_location.state == "OR"
    with pytest.raises(ValidationError):
        validate(video(patient_location={"kind": "car park"}))


# --- telehealth: Medicare ------------------------------------------------------------------------------
def medicare(note):
    note["payer"] = {"name": "Medicare Part B", "type": "medicare", "state": "OR", "member_id": "1EG4TE5MK73"}
    return note


def test_medicare_video_needs_pos_02_or_10_and_where_both_were():
    assert_passes("telehealth", medicare(video()), "medicare")
    [finding] = assert_fails("telehealth", medicare(video(place_of_service="11")), "place_of_service",
                             profile_spec="medicare")
    assert "02" in finding.message and "10" in finding.message
    note = medicare(video())
    del note["patient_location"], note["clinician_location"]
    assert_fails("telehealth", note, ["patient_location", "clinician_location"], profile_spec="medicare")
    del note["payer"]["type"]
    note["payer"]["type"] = "commercial"
    assert_passes("telehealth", note)  # the default profile does not ask where they were


def test_medicare_audio_only_needs_93_the_patient_at_home_and_the_reason():
    assert_passes("telehealth", medicare(audio()), "medicare")
    [finding] = assert_fails("telehealth", medicare(audio(cpt_codes=["90834"])), "cpt_codes",
                             profile_spec="medicare")
    assert "93" in finding.message
    assert_passes("telehealth", medicare(audio(cpt_codes=["90834-FQ"])), "medicare")  # RHC/FQHC audio-only
    assert_fails("telehealth", medicare(audio(place_of_service="02", patient_location={"kind": "facility"})),
                 "patient_location", profile_spec="medicare")
    assert_fails("telehealth", medicare(audio(audio_only_reason=" ")), "audio_only_reason", profile_spec="medicare")


def test_a_profile_can_require_modifier_95_on_video(tmp_path):
    path = tmp_path / "hospital.toml"
    path.write_text('extends = "medicare"\n[rules.telehealth]\nvideo_modifiers = ["95"]\n')
    profile = load_profile(str(path))
    [finding] = assert_fails("telehealth", medicare(video()), "cpt_codes", profile_spec=profile)
    assert "95" in finding.message and "90834" in finding.message
    assert_passes("telehealth", medicare(video(cpt_codes=["90834-95"])), profile)


def test_telehealth_findings_name_every_code_without_the_modifier(tmp_path):
    note = medicare(audio(cpt_codes=["90834-93", "90785"], interactive_complexity_factors=["caregiver_interference"]))
    [finding] = findings_of("telehealth", note, "medicare")
    assert "90785" in finding.message and "90834" not in finding.message
