"""Signature rules: sig-present, sig-dated, sig-credentials, sig-no-stamp, sig-electronic, sig-order,
sig-cosign, sig-guardian, sig-attestation."""
from __future__ import annotations

from datetime import date

import pytest

from builders import assert_fails, assert_passes, check, signature, supervisor
from docgen.check import load_profile

COVERED = {"sig-present", "sig-dated", "sig-credentials", "sig-no-stamp", "sig-electronic", "sig-order",
           "sig-cosign", "sig-guardian", "sig-attestation"}

MINOR_DOB = "2012-05-01"  # 14 on the plan date
GUARDIAN = {"name": "Rosa Ortiz", "relationship": "mother", "legal_authority": "parent"}


def _with_supervisor(doc, credentials="LMSW", sup_date="2026-09-23", sup_time="09:00", **sup):
    """Author with ``credentials`` and a supervisor co-signature appended (returns its index)."""
    doc["clinicians"][0]["credentials"] = credentials
    doc["clinicians"][0]["supervisor_id"] = "CL-02"
    doc["clinicians"].append(supervisor())
    doc["signatures"][0]["credentials"] = credentials
    fields = {"credentials": "LCSW-S", "signer_id": "CL-02", "date": sup_date, "time": sup_time}
    fields.update(sup)
    doc["signatures"].append(signature("supervisor", "Ruth Adler", **fields))
    return len(doc["signatures"]) - 1


# sig-present ------------------------------------------------------------------------------------

def test_sig_present_passes_for_complete_plan_and_note(plan, note):
    assert_passes("sig-present", plan)
    assert_passes("sig-present", note)


def test_sig_present_fails_without_author_signature(plan, note):
    del plan["signatures"][0]
    assert_fails("sig-present", plan, "signatures")
    note["signatures"] = []
    [finding] = assert_fails("sig-present", note, "signatures")
    assert "CL-01" in finding.message


def test_sig_present_signature_of_another_clinician_is_not_the_authors(note):
    note["clinicians"].append(supervisor())
    note["signatures"][0].update(name="Ruth Adler", signer_id="CL-02", credentials="LCSW-S")
    assert_fails("sig-present", note, "signatures")


def test_sig_present_author_found_by_name_when_no_signer_id(note):
    del note["signatures"][0]["signer_id"]
    assert_passes("sig-present", note)


def test_sig_present_plan_needs_client_signature_unless_waived(plan):
    del plan["signatures"][1]
    [finding] = assert_fails("sig-present", plan, "signatures")
    assert "client" in finding.message
    plan["client_signature_waiver_reason"] = "Client declined to sign; participated in planning."
    assert_passes("sig-present", plan)


def test_sig_present_medicare_does_not_require_the_client(plan):
    del plan["signatures"][1]
    assert_passes("sig-present", plan, "medicare")


def test_sig_present_minor_plan_accepts_guardian_signature(plan):
    plan["client"].update(date_of_birth=MINOR_DOB, guardian=GUARDIAN)
    plan["signatures"][1] = signature("guardian", "Rosa Ortiz", credentials=None, time="16:20")
    assert_passes("sig-present", plan)
    # an adult's plan is not signed by a "guardian" in the client's place
    plan["client"]["date_of_birth"] = "1987-04-12"
    assert_fails("sig-present", plan, "signatures")


# sig-present: roles carry the credentials the profile allows ------------------------------------
# 14 NYCRR 599.10(c)(7): a Medicaid FFS plan is signed by a psychiatrist, psychiatric NP or physician;
# 1 TAC 354.2609(c): a TX recovery/treatment plan is completed and signed by a QMHP-CS at a minimum.

def _prescriber(plan, credentials):
    plan["signatures"].append(signature("psychiatrist", "Ruth Abara", credentials=credentials, date="2026-09-23",
                                        time="09:00"))
    return len(plan["signatures"]) - 1


@pytest.mark.parametrize("credentials", ["MD", "M.D.", "D.O.", "MD, Psychiatrist", "PMHNP-BC", "NPP", "APRN, PMHNP"])
def test_sig_present_ny_psychiatrist_line_accepts_the_credentials_of_599_10(plan, credentials):
    _prescriber(plan, credentials)
    assert_passes("sig-present", plan, "ny-medicaid")


@pytest.mark.parametrize("credentials", ["LCSW", "PhD", "LMHC", "RN"])
def test_sig_present_ny_psychiatrist_line_refuses_other_credentials(plan, credentials):
    # Was: any signature with role "psychiatrist" passed, whatever the signer's credential.
    index = _prescriber(plan, credentials)
    [finding] = assert_fails("sig-present", plan, f"signatures[{index}].credentials", profile_spec="ny-medicaid")
    assert credentials in finding.message and "psychiatrist" in finding.message


def test_sig_present_psychiatrist_credential_falls_back_to_the_clinician_record(plan):
    index = _prescriber(plan, None)
    plan["clinicians"].append({"id": "CL-09", "name": "Ruth Abara", "credentials": "M.D."})
    plan["signatures"][index]["signer_id"] = "CL-09"
    assert_passes("sig-present", plan, "ny-medicaid")


def test_sig_present_tx_plan_is_signed_by_a_qmhp_cs_at_least(plan, note):
    plan["clinicians"][0]["credentials"] = plan["signatures"][0]["credentials"] = "LPC-Associate"
    # Was: passed; 1 TAC 354.2609(c) requires a QMHP-CS at a minimum (an LPHA, an RN, a credentialed QMHP-CS).
    [finding] = assert_fails("sig-present", plan, "signatures[0].credentials", profile_spec="tx-medicaid")
    assert "LPC-Associate" in finding.message
    plan["clinicians"][0]["credentials"] = plan["signatures"][0]["credentials"] = "LPC-Associate, QMHP-CS"
    assert_passes("sig-present", plan, "tx-medicaid")
    for credentials in ("L.C.S.W.", "LPC-S", "RN", "Ph.D.", "M.D."):
        plan["clinicians"][0]["credentials"] = plan["signatures"][0]["credentials"] = credentials
        assert_passes("sig-present", plan, "tx-medicaid")
    # notes are not limited (peer providers and CFPs document their own services)
    note["clinicians"][0]["credentials"] = note["signatures"][0]["credentials"] = "Peer provider"
    assert_passes("sig-present", note, "tx-medicaid")


def test_sig_present_roles_in_an_agency_profile(plan, tmp_path):
    path = tmp_path / "agency.toml"
    path.write_text('extends = "default"\n[rules.sig-present]\nplan_roles = ["clinician", "client", "psychiatrist"]\n'
                    '[rules.sig-present.roles.psychiatrist]\ncredentials = ["MD"]\n', encoding="utf-8")
    index = _prescriber(plan, "D.O.")
    assert_fails("sig-present", plan, f"signatures[{index}].credentials", profile_spec=load_profile(str(path)))
    plan["signatures"][index]["credentials"] = "md"
    assert_passes("sig-present", plan, load_profile(str(path)))


# sig-dated --------------------------------------------------------------------------------------

def test_sig_dated(plan):
    assert_passes("sig-dated", plan)
    del plan["signatures"][1]["date"]
    assert_fails("sig-dated", plan, "signatures[1].date")


# sig-credentials --------------------------------------------------------------------------------

def test_sig_credentials_staff_need_credentials_clients_do_not(plan):
    assert "credentials" not in plan["signatures"][1]  # the client's
    assert_passes("sig-credentials", plan)
    plan["signatures"][0]["credentials"] = "  "
    assert_fails("sig-credentials", plan, "signatures[0].credentials")


# sig-no-stamp -----------------------------------------------------------------------------------

def test_sig_no_stamp_refuses_a_stamp(note):
    note["signatures"][0]["method"] = "stamp"
    [finding] = assert_fails("sig-no-stamp", note, "signatures[0].method")
    assert "stamp" in finding.message


def test_sig_no_stamp_accepts_stamp_with_disability_exception(note):
    note["signatures"][0].update(method="stamp", disability_exception=True)
    assert_passes("sig-no-stamp", note)


def test_sig_no_stamp_passes_other_methods(plan):
    plan["signatures"][1].update(method="wet_ink")
    assert_passes("sig-no-stamp", plan)


# sig-electronic ---------------------------------------------------------------------------------

def test_sig_electronic_typed_name_is_no_signature(note):
    note["signatures"][0]["method"] = "typed"
    assert_fails("sig-electronic", note, "signatures[0].method")


def test_sig_electronic_needs_time_of_signing(plan):
    del plan["signatures"][1]["time"]
    [finding] = assert_fails("sig-electronic", plan, "signatures[1].time")
    assert "client" in finding.message


@pytest.mark.parametrize("method", ["wet_ink", "handwritten_scan"])
def test_sig_electronic_handwritten_without_time_passes(note, method):
    note["signatures"][0]["method"] = method
    del note["signatures"][0]["time"]
    assert_passes("sig-electronic", note)


def test_sig_electronic_passes_with_date_and_time(note):
    assert_passes("sig-electronic", note)


# sig-order --------------------------------------------------------------------------------------

def test_sig_order_supervisor_after_author_passes(plan):
    _with_supervisor(plan, sup_date="2026-09-23")
    assert_passes("sig-order", plan)


def test_sig_order_supervisor_on_an_earlier_day_fails(plan):
    index = _with_supervisor(plan, sup_date="2026-09-21", sup_time="10:00")
    [finding] = assert_fails("sig-order", plan, f"signatures[{index}].date")
    assert "supervisor signed before the clinician" in finding.message


def test_sig_order_supervisor_earlier_the_same_day_fails(plan):
    index = _with_supervisor(plan, sup_date="2026-09-22", sup_time="15:59")  # author 16:05
    assert_fails("sig-order", plan, f"signatures[{index}].date")


def test_sig_order_same_day_signature_without_time_is_not_out_of_order(plan):
    # A wet-ink co-signature dated the day the author e-signed: the order cannot be told, no finding
    # (was a false blocker: the missing time was read as midnight).
    _with_supervisor(plan, sup_date="2026-09-22", sup_time=None, method="wet_ink")
    assert_passes("sig-order", plan)
    # ... but a co-signature without time dated the day before is still out of order
    index = _with_supervisor(plan, sup_date="2026-09-21", sup_time=None, method="wet_ink")
    assert_fails("sig-order", plan, f"signatures[{index}].date")


def test_sig_order_configurable_order_with_client_last(plan, tmp_path):
    path = tmp_path / "client-last.toml"
    path.write_text('extends = "default"\n[rules.sig-order]\norder = ["clinician", "client"]\n')
    profile = load_profile(str(path))
    assert_passes("sig-order", plan, profile)  # client 16:20 after author 16:05
    plan["signatures"][1]["time"] = "16:00"
    assert_fails("sig-order", plan, "signatures[1].date", profile_spec=profile)


# sig-cosign -------------------------------------------------------------------------------------

def test_sig_cosign_licensed_author_needs_no_cosign(plan):
    assert_passes("sig-cosign", plan)  # LCSW


@pytest.mark.parametrize("credentials", ["LMSW", "LPC-Associate", "LMFT-A", "Psychology Intern", "MSW, trainee",
                                         "LSW"])
def test_sig_cosign_credential_list_requires_a_supervisor(note, credentials):
    note["clinicians"][0]["credentials"] = credentials
    note["signatures"][0]["credentials"] = credentials
    [finding] = assert_fails("sig-cosign", note, "signatures")
    assert credentials in finding.message


def test_sig_cosign_with_supervisor_signature_passes(plan):
    _with_supervisor(plan, credentials="LMSW")
    assert_passes("sig-cosign", plan)


def test_sig_cosign_explicit_flag_overrides_the_credential_list(note):
    note["clinicians"][0]["requires_cosign"] = True  # an LCSW new to the agency
    assert_fails("sig-cosign", note, "signatures")
    note["clinicians"][0].update(credentials="LMSW", requires_cosign=False)
    note["signatures"][0]["credentials"] = "LMSW"
    assert_passes("sig-cosign", note)


@pytest.mark.parametrize("credentials", ["MD, internist", "DO, Internal Medicine", "LCSW, PhD"])
def test_sig_cosign_words_match_whole_words_only(note, credentials):
    # "INTERN" must not match "INTERNIST" / "INTERNAL" (was a false blocker)
    note["clinicians"][0]["credentials"] = credentials
    note["signatures"][0]["credentials"] = credentials
    assert_passes("sig-cosign", note)


def test_sig_cosign_profile_list_decides(note):
    note["clinicians"][0]["credentials"] = "LSW"
    note["signatures"][0]["credentials"] = "LSW"
    assert_fails("sig-cosign", note, "signatures")  # default list has LSW
    assert_passes("sig-cosign", note, "tx-medicaid")  # the TX list does not
    note["clinicians"][0]["credentials"] = "CI"
    note["signatures"][0]["credentials"] = "CI"
    assert_fails("sig-cosign", note, "signatures", profile_spec="tx-medicaid")  # counselor intern


def test_sig_cosign_author_cannot_cosign_own_document(plan):
    index = _with_supervisor(plan, credentials="LMSW")
    plan["signatures"][index].update(name="Daniel Kim", signer_id="CL-01")
    found = assert_fails("sig-cosign", plan, [f"signatures[{index}]", f"signatures[{index}].signer_id"])
    assert "cannot co-sign their own" in found[0].message


def test_sig_cosign_cosigner_must_be_the_authors_supervisor(plan):
    index = _with_supervisor(plan, credentials="LMSW")
    plan["clinicians"].append({"id": "CL-03", "name": "Ann Lee", "credentials": "LCSW"})
    plan["signatures"][index].update(name="Ann Lee", signer_id="CL-03", credentials="LCSW")
    [finding] = assert_fails("sig-cosign", plan, f"signatures[{index}].signer_id")
    assert "CL-02" in finding.message


# sig-guardian -----------------------------------------------------------------------------------

def test_sig_guardian_adult_passes(plan):
    assert_passes("sig-guardian", plan)


def test_sig_guardian_minor_without_guardian_fails(plan):
    plan["client"]["date_of_birth"] = MINOR_DOB
    assert_fails("sig-guardian", plan, ["client.guardian", "signatures"])


def test_sig_guardian_minor_with_guardian_but_no_guardian_signature_fails(plan):
    plan["client"].update(date_of_birth=MINOR_DOB, guardian=GUARDIAN)
    assert_fails("sig-guardian", plan, "signatures")


def test_sig_guardian_minor_with_guardian_signature_passes(plan):
    plan["client"].update(date_of_birth=MINOR_DOB, guardian=GUARDIAN)
    plan["signatures"].append(signature("guardian", "Rosa Ortiz", credentials=None, time="16:25"))
    assert_passes("sig-guardian", plan)


def test_sig_guardian_age_counts_on_the_plan_date(plan):
    plan["client"]["date_of_birth"] = "2008-09-22"  # 18th birthday on the plan date
    assert_passes("sig-guardian", plan)
    plan["client"]["date_of_birth"] = "2008-09-23"  # 18 one day later
    assert_fails("sig-guardian", plan, ["client.guardian", "signatures"])


# sig-attestation --------------------------------------------------------------------------------
# Medicare PIM ch. 3 §3.3.2.4 (as the MACs quote it): an attestation by the author remedies a missing or
# illegible signature when a reviewer asks. It is not a "late" threshold: when a signature is late is the
# profile's own timeliness rule (note-timeliness: TX 2 business days, CA 3), not this rule's.

ATTESTATION = ("I, Daniel Kim, hereby attest that the medical record entry for {dos} accurately reflects "
               "signatures/notations that I made in my capacity as LCSW when I treated Maria Elena Ortiz.")


def _attested(doc, text, by="Daniel Kim", day="2026-10-23", index=0):
    """The signature at ``index`` remedied by an attestation made (and the signature added) on ``day``."""
    doc["signatures"][index]["attestation"] = {"text": text, "date": day, "by": by}
    doc["signatures"][index]["date"] = max(day, doc["signatures"][index]["date"])
    return doc


def test_sig_attestation_signature_without_attestation_passes(plan, note):
    assert_passes("sig-attestation", plan)
    note["signatures"][0]["date"] = "2026-12-24"  # 31 days after the session: lateness is not this rule's
    assert_passes("sig-attestation", note, as_of=date(2026, 12, 24))


def test_sig_attestation_has_no_30_day_threshold_of_its_own(note):
    # Was: any staff signature more than 30 days after the date of service, for every payer, needed an
    # attestation (a threshold with no source). Now a late note is judged by the profile's timeliness rule.
    note["signatures"][0]["date"] = "2026-12-24"
    assert_passes("sig-attestation", note, "tx-medicaid", as_of=date(2026, 12, 24))
    assert [f.rule for f in check(note, "tx-medicaid", as_of=date(2026, 12, 24))] == ["note-timeliness"]
    assert [f.rule for f in check(note, "default", as_of=date(2026, 12, 24))] == []


def test_sig_attestation_with_the_sample_wording_passes(plan):
    _attested(plan, ATTESTATION.format(dos="2026-09-22"))
    assert_passes("sig-attestation", plan)
    _attested(plan, ATTESTATION.format(dos="09/22/2026"))
    assert_passes("sig-attestation", plan)


@pytest.mark.parametrize("text, by", [
    # case, middle initial, last-name-first, other date formats (was: literal substrings, so all failed)
    ("I, DANIEL KIM, attest that the entry for September 22, 2026 reflects my notations for MARIA E. ORTIZ.",
     "DANIEL KIM"),
    ("Attestation for Ortiz, Maria Elena, date of service 9/22/2026.", "Kim, Daniel"),
    ("I attest to the record of maria ortiz for Sept. 22, 2026.", "Daniel J. Kim, LCSW"),
    ("Entry of 22 September 2026 for Maria Elena Ortiz is mine.", "Daniel Kim"),
    ("Entry dated 2026/09/22 for Maria Ortiz.", "daniel kim"),
])
def test_sig_attestation_content_is_matched_with_tolerance(plan, text, by):
    _attested(plan, text, by=by)
    assert_passes("sig-attestation", plan)


def test_sig_attestation_names_are_whole_words_not_substrings(plan):
    # Was: "Ann Lee" was found inside "JoAnn Leeds" (a substring test), so another person's name passed.
    plan["client"]["name"] = "Ann Lee"
    _attested(plan, "I attest to the entry for 2026-09-22 for my patient JoAnn Leeds.")
    [finding] = assert_fails("sig-attestation", plan, "signatures[0].attestation.text")
    assert "beneficiary" in finding.message
    _attested(plan, "I attest to the entry for 2026-09-22 for my patient Ann Lee.")
    assert_passes("sig-attestation", plan)


def test_sig_attestation_a_wrong_middle_initial_is_another_person(plan):
    _attested(plan, "Entry of 2026-09-22 for Maria T. Ortiz.")
    assert_fails("sig-attestation", plan, "signatures[0].attestation.text")


def test_sig_attestation_must_be_by_the_signer(plan):
    _attested(plan, ATTESTATION.format(dos="2026-09-22"), by="Ruth Adler")
    assert_fails("sig-attestation", plan, "signatures[0].attestation.by")


def test_sig_attestation_must_name_beneficiary_and_date_of_service(plan):
    _attested(plan, "I attest that I signed this record.")
    found = assert_fails("sig-attestation", plan, ["signatures[0].attestation.text"] * 2)
    assert {"beneficiary" in f.message for f in found} == {True, False}
    _attested(plan, "Entry for Maria Elena Ortiz of 2026-09-23.")  # another day
    [finding] = assert_fails("sig-attestation", plan, "signatures[0].attestation.text")
    assert "date of service" in finding.message


def test_sig_attestation_is_checked_whenever_present_not_only_when_late(note):
    # Was: an attestation on a signature made within 30 days was never looked at.
    _attested(note, "I attest to the entry of 2026-11-23 for another client.", day="2026-11-24")
    assert_fails("sig-attestation", note, "signatures[0].attestation.text")


def test_sig_attestation_is_not_dated_before_the_date_of_service(note):
    _attested(note, "I, Daniel Kim, attest to the entry for 11/23/2026 for Maria Elena Ortiz.", day="2026-11-22")
    assert_fails("sig-attestation", note, "signatures[0].attestation.date")


def test_sig_attestation_only_staff_signatures(plan):
    _attested(plan, "whatever", by="Maria Elena Ortiz", index=1)  # the client's: not an attestation case
    assert_passes("sig-attestation", plan)
