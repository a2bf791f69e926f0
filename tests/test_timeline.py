"""One client's documents across months (fixtures/timeline, issue #13): an initial plan, notes, a 90-day
review plan replacing it, more notes and an addendum, checked as current records and disclosed in
packets over the period and parts of it, as `docgen check`, `packet` and `batch` see them."""
from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pypdf
import pytest

from docgen import api
from docgen.batch import run_batch
from docgen.errors import PacketRefused
from docgen.packet import build_packet

ROOT = Path(__file__).resolve().parent.parent
TIMELINE = ROOT / "fixtures" / "timeline"
CLIENT, RECIPIENT = "C-8001", "Superior HealthPlan"
ALL = ["TP-8001", "PN-8001-01", "PN-8001-02", "PN-8001-03", "TP-8002", "PN-8001-04", "PN-8001-05", "AD-8001-01",
       "PN-8001-06"]


def verdicts(as_of: date | None, paths=(TIMELINE,)) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    return {r.id: (r.status.value, [(f.rule, f.message) for f in r.findings])
            for r in api.check(list(paths), as_of=as_of)}


def test_every_document_is_complete_as_of_the_fixtures_day():
    """As of 2026-11-24 every record is complete: the initial plan's review date (2026-09-09) has passed,
    but the review plan TP-8002 replaced it; TP-8002 is not held to a deadline after intake."""
    found = verdicts(date(2026, 11, 24))
    assert list(found) == ALL  # the files' date-first names keep the timeline in order
    assert found == {record_id: ("complete", []) for record_id in ALL}
    assert [r.profile for r in api.check([TIMELINE], as_of=date(2026, 11, 24))] == ["tx-medicaid"] * len(ALL)


def test_check_after_the_review_date_flags_only_the_current_plan():
    found = verdicts(date(2027, 1, 15))
    assert found.pop("TP-8002") == ("incomplete", [
        ("plan-review", "review was due 2026-12-03 and is past (as of 2027-01-15)")])
    assert found == {record_id: ("complete", []) for record_id in ALL if record_id != "TP-8002"}


def test_the_initial_plan_alone_is_overdue_the_run_that_holds_its_review_knows_better():
    alone = verdicts(date(2026, 11, 24), [TIMELINE / "2026-06-12-plan-tp8001-initial-complete.yaml"])
    assert alone == {"TP-8001": ("incomplete", [
        ("plan-review", "review was due 2026-09-09 and is past (as of 2026-11-24)")])}


def test_a_review_plan_written_after_the_previous_review_date_is_late(tmp_path):
    folder = tmp_path / "late"
    shutil.copytree(TIMELINE, folder)
    review = folder / "2026-09-04-plan-tp8002-review-complete.yaml"
    text = review.read_text(encoding="utf-8")
    review.write_text(text.replace("plan_date: 2026-09-04", "plan_date: 2026-09-11")
                      .replace("date: 2026-09-04\n    time:", "date: 2026-09-11\n    time:"), encoding="utf-8")
    found = verdicts(date(2026, 11, 24), [folder])
    assert found["TP-8002"] == ("incomplete", [
        ("plan-succession", "review plan dated 2026-09-11, after the review date 2026-09-09 of the previous plan "
                            "TP-8001")])


def packet(period_from: date, period_to: date, disclosure: date = date(2027, 1, 15)):
    built = build_packet([TIMELINE], CLIENT, "claim", RECIPIENT, period_from, period_to, disclosure=disclosure)
    return [d["id"] for d in built.manifest["documents"]], built


def test_a_packet_over_the_whole_period_disclosed_after_the_last_review_date():
    """Disclosed 2027-01-15, after TP-8002's review date: built, each record judged on its own date."""
    ids, built = packet(date(2026, 6, 1), date(2026, 11, 24))
    assert ids == ["TP-8001", "TP-8002", "PN-8001-01", "PN-8001-02", "PN-8001-03", "PN-8001-04", "PN-8001-05",
                   "AD-8001-01", "PN-8001-06"]
    assert {d["status"] for d in built.manifest["documents"]} == {"final"}
    assert built.manifest["disclosure_date"] == "2027-01-15"


@pytest.mark.parametrize("period, expected", [
    # before the review: the initial plan and its notes; the October addendum to TP-8002 stays out
    ((date(2026, 6, 1), date(2026, 8, 31)), ["TP-8001", "PN-8001-01", "PN-8001-02", "PN-8001-03"]),
    # after the review: the review plan only (TP-8001 was replaced on 2026-09-04), its notes and its addendum
    ((date(2026, 10, 1), date(2026, 11, 24)), ["TP-8002", "PN-8001-05", "AD-8001-01", "PN-8001-06"]),
    # across the review: both plans, each in force for part of the period
    ((date(2026, 8, 15), date(2026, 9, 30)), ["TP-8001", "TP-8002", "PN-8001-03", "PN-8001-04"]),
    # before the addendum: TP-8002 as it stood, without the later amendment
    ((date(2026, 9, 1), date(2026, 10, 19)), ["TP-8001", "TP-8002", "PN-8001-04", "PN-8001-05"]),
])
def test_the_plan_in_force_follows_the_successive_plans(period, expected):
    assert packet(*period)[0] == expected


def test_the_packet_pages_say_which_plan_is_the_review():
    _ids, built = packet(date(2026, 10, 1), date(2026, 11, 24))
    text = " ".join(" ".join(page.extract_text().split()) for page in pypdf.PdfReader(_bytes(built.pdf)).pages)
    assert "Plan type Review of TP-8001" in text
    assert "CBT (individual)" in text


def _bytes(data: bytes):
    import io

    return io.BytesIO(data)


def test_a_note_before_its_plan_was_signed_refuses_the_packet(tmp_path):
    """plan-before-service (1 TAC 354.2609(b)(1)): a session dated before TP-8001 was signed."""
    folder = tmp_path / "early"
    shutil.copytree(TIMELINE, folder)
    note = folder / "2026-06-16-note-pn8001-01-complete.yaml"
    note.write_text(note.read_text(encoding="utf-8").replace("2026-06-16", "2026-06-10"), encoding="utf-8")
    found = verdicts(date(2026, 11, 24), [folder])
    assert found["PN-8001-01"] == ("incomplete", [
        ("note-goal-link", "plan TP-8001 was not current on 2026-06-10 (plan 2026-06-12, review due 2026-09-09)"),
        ("plan-before-service", "service on 2026-06-10 is before plan TP-8001 was signed by its author (2026-06-12): "
                                "the plan must be in place before services")])
    with pytest.raises(PacketRefused) as refused:
        build_packet([folder], CLIENT, "claim", RECIPIENT, date(2026, 6, 1), date(2026, 8, 31),
                     disclosure=date(2027, 1, 15))
    assert {r.rule for r in refused.value.refusals} == {"note-goal-link", "plan-before-service"}


def test_batch_gives_the_verdicts_check_gives(tmp_path):
    """The batch judges each plan with its client's other plans (superseded, plan-succession) and each
    note with its plan's signatures (plan-before-service), as check does."""
    folder = tmp_path / "in"
    shutil.copytree(TIMELINE, folder)
    late = folder / "2026-09-04-plan-tp8002-review-complete.yaml"
    late.write_text(late.read_text(encoding="utf-8").replace("plan_date: 2026-09-04", "plan_date: 2026-09-11")
                    .replace("date: 2026-09-04\n    time:", "date: 2026-09-11\n    time:"), encoding="utf-8")
    early = folder / "2026-06-16-note-pn8001-01-complete.yaml"
    early.write_text(early.read_text(encoding="utf-8").replace("2026-06-16", "2026-06-10"), encoding="utf-8")
    (folder / "2026-10-20-addendum-ad8001-01-complete.yaml").unlink()  # it names TP-8002 as it was
    checked = {r.id: sorted(f.rule for f in r.findings) for r in api.check([folder], as_of=date(2026, 11, 24))}
    with ThreadPoolExecutor(2) as pool:
        run_batch([str(folder)], tmp_path / "out", pool, as_of=date(2026, 11, 24), allow_draft=True)
    rows = [json.loads(line) for line in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert checked["TP-8002"] == ["plan-succession"] and checked["TP-8001"] == []
    assert checked["PN-8001-01"] == ["note-goal-link", "plan-before-service"]
    assert {row["id"]: row["status"] for row in rows} == {
        record_id: "draft" if checked[record_id] else "final" for record_id in checked}


def _packet_text(built) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in pypdf.PdfReader(_bytes(built.pdf)).pages)


def test_an_addendum_in_a_packet_shows_what_it_changes_and_why():
    """The addendum amends a plan the insurer receives: its changes and reason are the point of it. They
    were left out with the notes' section list, leaving only the signature."""
    _ids, built = packet(date(2026, 10, 1), date(2026, 11, 24))
    text = _packet_text(built)
    assert "Individual CBT every other week from 2026-11-01 (was weekly)" in text
    assert "GAD-7 below 10 (8 on 2026-10-13)" in text
    assert "Content hash (SHA-256)" in text  # the original it amends
    attached = {r["id"]: r for r in json.loads(pypdf.PdfReader(_bytes(built.pdf)).attachments["records.json"][0])
                ["records"]}
    assert [c["section"] for c in attached["AD-8001-01"]["changes"]] == ["goals[G1].interventions",
                                                                        "goals[G3].interventions"]


def test_an_addendum_change_to_a_section_the_purpose_leaves_out_is_withheld(tmp_path):
    """Minimum necessary: a change to the plan's history is not disclosed in a claim packet (which leaves
    the history out of the plan), neither on the pages nor in records.json; the cover says so."""
    folder = tmp_path / "timeline"
    shutil.copytree(TIMELINE, folder)
    path = folder / "2026-10-20-addendum-ad8001-01-complete.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "  - section: goals[G3].interventions\n",
        "  - section: history\n    change: HISTORY-MARKER-8101 corrected.\n  - section: goals[G3].interventions\n"),
        encoding="utf-8")
    built = build_packet([folder], CLIENT, "claim", RECIPIENT, date(2026, 10, 1), date(2026, 11, 24),
                         disclosure=date(2027, 1, 15))
    text = _packet_text(built)
    assert "HISTORY-MARKER-8101" not in text
    assert "Individual CBT every other week from 2026-11-01 (was weekly)" in text
    attached = json.loads(pypdf.PdfReader(_bytes(built.pdf)).attachments["records.json"][0])["records"]
    [addendum] = [r for r in attached if r["id"] == "AD-8001-01"]
    assert [c["section"] for c in addendum["changes"]] == ["goals[G1].interventions", "goals[G3].interventions"]
    assert "HISTORY-MARKER-8101" not in json.dumps(attached)
    assert "changes to History" in text  # the cover lists what the purpose left out


@pytest.mark.parametrize("named, withheld", [
    ("History and assessment", "changes to History"),  # the section's title, as a clinician writes it
    ("\u200bhistory", "changes to History"),  # an invisible character before the field name
    ("HISTORY", "changes to History"),
    ("Safety plan", "changes to Safety plan"),
    ("an aside", "changes to an unnamed section"),  # what it touches cannot be told: withheld
])
def test_a_change_to_a_section_left_out_is_withheld_however_it_is_named(tmp_path, named, withheld):
    folder = tmp_path / "timeline"
    shutil.copytree(TIMELINE, folder)
    path = folder / "2026-10-20-addendum-ad8001-01-complete.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "  - section: goals[G3].interventions\n",
        f"  - section: {json.dumps(named)}\n    change: MARKER-8102 corrected.\n"
        "  - section: goals[G3].interventions\n"),
        encoding="utf-8")
    built = build_packet([folder], CLIENT, "claim", RECIPIENT, date(2026, 10, 1), date(2026, 11, 24),
                         disclosure=date(2027, 1, 15))
    text = _packet_text(built)
    attached = json.dumps(json.loads(pypdf.PdfReader(_bytes(built.pdf)).attachments["records.json"][0]))
    assert "MARKER-8102" not in text and "MARKER-8102" not in attached
    assert withheld in text
    assert "Individual CBT every other week from 2026-11-01 (was weekly)" in text  # goals are kept


def test_a_change_to_a_kept_section_or_a_plain_field_is_disclosed():
    from docgen.packet.policy import changed_section

    assert changed_section("treatment_plan", "Goal G2, objective G2.O1") == "goals"
    assert changed_section("treatment_plan", "next_review_date") == "identifying"  # shown in every packet
    assert changed_section("progress_note", "start_time") == "session"
    assert changed_section("treatment_plan", "psychotherapy_notes") == "psychotherapy_notes"
    assert changed_section("treatment_plan", "\u2060") is None
