"""Addendum rules: add-original, add-changes, add-reason, add-date; the addendum schema; and the
signature rules as they apply to addenda (the author signs, dated, with credentials, co-signed when
the author's credential needs it)."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from builders import assert_fails, assert_passes, check, findings_of, locks_of, signature, supervisor, validate
from docgen.check import load_profile
from docgen.findings import RecordResult
from docgen.model.validate import schema_findings
from docgen.pipeline import judge_run

COVERED = {"add-original", "add-changes", "add-reason", "add-date"}


# add-original -----------------------------------------------------------------------------------

def test_add_original_passes_when_the_original_is_locked_with_the_named_hash(addendum, plan):
    assert_passes("add-original", addendum, locks=locks_of(plan))


def test_add_original_wrong_hash_is_a_blocker_naming_both_hashes(addendum, plan):
    locks = locks_of(plan)
    addendum["original"]["sha256"] = "0" * 64
    [finding] = assert_fails("add-original", addendum, "original.sha256", locks=locks)
    locked = locks["TP-1001"].sha256
    assert finding.message == f"addendum names sha256 000000000000... but the locked TP-1001 has {locked[:12]}..."


def test_add_original_the_original_changed_after_the_addendum_was_written(addendum, plan):
    plan["discharge_criteria"] = "PHQ-9 below 5."  # the ledger holds another version of TP-1001
    assert_fails("add-original", addendum, "original.sha256", locks=locks_of(plan))


def test_add_original_not_locked_in_the_ledger(addendum, note):
    [finding] = assert_fails("add-original", addendum, "original.id", locks=locks_of(note))
    assert finding.message.startswith("TP-1001 is not locked")


def test_add_original_without_a_ledger_nothing_can_be_verified(addendum):
    addendum["original"]["sha256"] = "0" * 64
    assert_passes("add-original", addendum)  # docgen check without --audit, original not in the run


def test_add_original_kind_date_and_client_must_match_the_lock(addendum, plan):
    locks = locks_of(plan)
    addendum["original"].update(kind="progress_note", date="2026-09-21")
    addendum["client"]["id"] = "C-9999"
    found = assert_fails("add-original", addendum, ["original.kind", "original.date", "client.id"], locks=locks)
    assert [f.message for f in found] == [
        "TP-1001 is a treatment_plan, not a progress_note",
        "TP-1001 is dated 2026-09-22, not 2026-09-21",
        "TP-1001 is a record of client C-1001, not C-9999",
    ]


def _run(*records) -> dict:
    """judge_run over records in one run (no ledger): {id: findings}."""
    results = [RecordResult("mem", r["id"], r["client"]["id"], r["kind"], record=validate(r)) for r in records]
    checked = judge_run(results, as_of=date(2026, 11, 24))
    return {r.id: [(f.rule, f.path) for f in r.findings] for r in checked}


def test_add_original_sees_a_complete_original_of_the_same_run_whatever_the_order(addendum, plan):
    assert _run(addendum, plan) == {"AD-1001-01": [], "TP-1001": []}
    addendum["original"]["sha256"] = "f" * 64
    assert _run(addendum, plan)["AD-1001-01"] == [("add-original", "original.sha256")]


def test_add_original_an_incomplete_original_of_the_run_is_not_final(addendum, plan):
    del plan["signatures"][1]  # no client signature: the plan is not final, so it is never locked
    addendum["original"]["sha256"] = locks_of(plan)["TP-1001"].sha256
    found = _run(addendum, plan)
    assert found["TP-1001"] == [("sig-present", "signatures")]
    assert found["AD-1001-01"] == []  # no ledger: unverified, not wrong


# add-changes ------------------------------------------------------------------------------------

def test_add_changes_passes(addendum):
    assert_passes("add-changes", addendum)


def test_add_changes_fails_without_changes_or_with_a_blank_one(addendum):
    addendum["changes"] = []
    assert_fails("add-changes", addendum, "changes")
    del addendum["changes"]
    assert_fails("add-changes", addendum, "changes")
    addendum["changes"] = [{"change": "Next review moved to 2026-12-14."}, {"section": "goals", "change": " \n"}]
    assert_fails("add-changes", addendum, "changes[1].change")


# add-reason -------------------------------------------------------------------------------------

def test_add_reason_passes(addendum):
    assert_passes("add-reason", addendum)


@pytest.mark.parametrize("reason", [None, "", "   \n\t"])
def test_add_reason_fails_when_missing_or_blank(addendum, reason):
    if reason is None:
        del addendum["reason"]
    else:
        addendum["reason"] = reason
    [finding] = assert_fails("add-reason", addendum, "reason")
    assert finding.message == "the addendum gives no reason for the change"


# add-date ---------------------------------------------------------------------------------------

def test_add_date_passes_on_or_after_the_original(addendum):
    assert_passes("add-date", addendum)
    addendum["date"] = "2026-09-22"
    assert_passes("add-date", addendum)


def test_add_date_fails_before_the_original(addendum):
    addendum["date"] = "2026-09-21"
    [finding] = assert_fails("add-date", addendum, "date")
    assert "2026-09-21" in finding.message and "TP-1001" in finding.message and "2026-09-22" in finding.message


# the signature rules apply to addenda ----------------------------------------------------------

def test_addendum_needs_its_authors_signature(addendum):
    assert_passes("sig-present", addendum)
    addendum["signatures"] = []
    [finding] = assert_fails("sig-present", addendum, "signatures")
    assert "CL-01" in finding.message


def test_addendum_signature_dated_timed_and_credentialed(addendum):
    addendum["signatures"][0].pop("date")
    addendum["signatures"][0].pop("time")
    addendum["signatures"][0].pop("credentials")
    assert [(f.rule, f.path) for f in check(addendum)] == [
        ("sig-dated", "signatures[0].date"), ("sig-credentials", "signatures[0].credentials"),
        ("sig-electronic", "signatures[0].time")]


def test_addendum_by_an_associate_needs_a_cosignature(addendum):
    addendum["clinician"].update(credentials="LPC-Associate", supervisor_id="CL-02")
    addendum["signatures"][0]["credentials"] = "LPC-Associate"
    assert [(f.rule, f.path) for f in check(addendum)] == [("sig-cosign", "signatures")]
    sup = supervisor()
    addendum["signatures"].append(signature("supervisor", sup["name"], credentials=sup["credentials"],
                                            signer_id=sup["id"], date="2026-11-03", time="09:00"))
    assert check(addendum) == []


def test_addendum_signers_come_from_the_profile(addendum, tmp_path):
    agency = tmp_path / "agency.toml"
    agency.write_text('extends = "default"\n[rules.sig-present]\naddendum_roles = ["clinician", "client"]\n',
                      encoding="utf-8")
    profile = load_profile(str(agency))
    [finding] = findings_of("sig-present", addendum, profile)
    assert "client signature" in finding.message
    addendum["signatures"].append(signature("client", "Maria Elena Ortiz", credentials=None, date="2026-11-02"))
    assert findings_of("sig-present", addendum, profile) == []


def test_guardian_and_attestation_rules_do_not_apply_to_addenda(addendum):
    addendum["client"]["date_of_birth"] = "2014-01-01"  # a minor, no guardian
    addendum["signatures"][0]["date"] = "2027-02-01"  # signed three months after its date
    assert [f.rule for f in check(addendum)] == []


# the schema ------------------------------------------------------------------------------------

def _schema_errors(data) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        validate(data)
    return [(f.path, f.message) for f in schema_findings(info.value)]


def test_addendum_schema_names_the_field(addendum):
    addendum["original"].update(sha256="3f2a9c", kind="addendum")
    addendum["changes"][0] = {"section": "goals"}
    addendum["signer"] = "x"
    del addendum["clinician"]
    assert _schema_errors(addendum) == [
        ("clinician", "required field is missing"),
        ("original.kind", "Input should be 'treatment_plan' or 'progress_note'"),
        ("original.sha256", "must be a sha256: 64 hexadecimal digits"),
        ("changes[0].change", "required field is missing"),
        ("signer", "unknown field (not part of the record format)"),
    ]


def test_addendum_cannot_name_itself(addendum):
    addendum["original"]["id"] = addendum["id"]
    assert _schema_errors(addendum) == [
        ("(record)", "an addendum cannot name itself as the original (original.id is its own id)")]


def test_addendum_sha256_in_capitals_is_kept_in_lower_case(addendum):
    digest = addendum["original"]["sha256"]
    addendum["original"]["sha256"] = f" {digest.upper()} "
    assert validate(addendum).original.sha256 == digest


def test_addendum_without_payer_uses_the_default_profile(addendum, plan):
    del addendum["payer"]
    results = [RecordResult("mem", "AD-1001-01", "C-1001", "addendum", record=validate(addendum))]
    [checked] = judge_run(results, as_of=date(2026, 11, 24))
    assert checked.profile == "default" and checked.findings == []
