"""42 CFR Part 2 (2024 rule): p2-separate. A consent for SUD counseling notes is its own (2.31(b)), and a
consent for use in civil, criminal, administrative or legislative proceedings is never combined with
one for another purpose (2.31(d))."""
from __future__ import annotations

from builders import assert_fails, assert_passes, findings_of

COVERED = {"p2-separate"}

PART2 = {"id": "CON-P2", "type": "part2", "signed_by": "Maria Elena Ortiz", "signer_role": "client",
         "date_signed": "2026-09-08", "recipient": "Cascade Health Plan", "disclosing_party": "Riverside",
         "purpose": "Payment and health care operations", "information_description": "Dates of service, diagnoses",
         "expiration_event": "end of treatment", "right_to_revoke_statement": True,
         "conditioning_statement": True, "redisclosure_statement": True}


def part2_plan(plan, *consents):
    plan["agency"] = dict(plan["agency"], part2_program=True, program_type="substance_use")
    plan["consents"] = plan["consents"] + [dict(c) for c in consents]
    return plan


def test_p2_separate_separate_consents_pass(plan):
    notes = dict(PART2, id="CON-CN", type="psychotherapy_notes_authorization",
                 information_description="SUD counseling notes of 2026-10")
    assert_passes("p2-separate", part2_plan(plan, PART2, notes))


def test_p2_separate_counseling_notes_consent_combined_with_another(plan):
    notes = dict(PART2, type="psychotherapy_notes_authorization")  # same form id CON-P2
    [finding] = assert_fails("p2-separate", part2_plan(plan, PART2, notes), "consents[2]")
    assert "2.31(b)" in finding.message


def test_p2_separate_counseling_notes_in_a_general_part2_consent(plan):
    part2_plan(plan, dict(PART2, information_description="Diagnoses, attendance and SUD counseling notes"))
    assert_fails("p2-separate", plan, "consents[1].information_description")


def test_p2_separate_legal_proceedings_consent_not_combined(plan):
    court = dict(PART2, id="CON-LP", purpose="Testimony in the civil proceeding Ortiz v. Ortiz (custody)")
    assert_passes("p2-separate", part2_plan(plan, PART2, court))
    plan = part2_plan(plan, dict(court, id="CON-P2"))  # the same form as the payment consent
    assert [f.path for f in findings_of("p2-separate", plan)] == ["consents[3]"]
    mixed = dict(PART2, id="CON-MX", purpose="Payment and use in criminal proceedings")
    [finding] = assert_fails("p2-separate", part2_plan(dict(plan, consents=plan["consents"][:1]), mixed),
                             "consents[1].purpose")
    assert "2.31(d)" in finding.message


def test_p2_separate_applies_to_part2_programs_only(plan):
    notes = dict(PART2, type="psychotherapy_notes_authorization")
    plan["consents"] += [dict(PART2), notes]
    assert_passes("p2-separate", plan)  # a mental health program: Part 2 does not apply
    plan["agency"]["program_type"] = "co_occurring"  # a program type the profile counts as Part 2
    assert_fails("p2-separate", plan, "consents[2]")
