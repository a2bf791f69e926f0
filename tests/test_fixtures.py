"""The example records in fixtures/: each one's exact expected findings, status and profile.

The expectations are written from each fixture's intended defect (the `# Complete:` /
`# Incomplete:` comment at the top of a YAML file; fixtures/README.md for JSON, JSONL and CSV), not
copied from the tool's output. A complete record expects no finding at all, warnings included, but
for the Medicare notes' missing prognosis (mcr-note-elems, a warning the medicare profile turns on).
"""
from __future__ import annotations

import contextlib
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from docgen import api
from docgen.check import builtin_names
from docgen.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
AS_OF = date(2026, 11, 24)

B, W = "blocker", "warning"
PLAN, NOTE, ADD = "treatment_plan", "progress_note", "addendum"

#: id -> (file under fixtures/ [":LINE" for JSONL and CSV], kind, profile, status, findings (rule, severity, path))
EXPECTED: dict[str, tuple[str, str, str | None, str, list[tuple[str, str, str]]]] = {
    # --- treatment plans ---------------------------------------------------------------------
    # adult, moderate recurrent MDD, commercial payer
    "TP-1001": ("plans/plan-adult-mdd-complete.yaml", PLAN, "default", "complete", []),
    # 14-year-old, ADHD + GAD; mother (guardian) signs the consent and the plan
    "TP-2001": ("plans/plan-minor-adhd-anxiety-complete.yaml", PLAN, "default", "complete", []),
    # NY Medicaid; LMSW author co-signed by her LCSW-R supervisor; psychiatric NP signs too
    "TP-3001": ("plans/plan-ny-medicaid-lmsw-cosigned-complete.yaml", PLAN, "ny-medicaid", "complete", []),
    # LPC-Associate author, no supervisor co-signature
    "TP-3002": ("plans/plan-lpc-associate-no-cosign-incomplete.yaml", PLAN, "default", "incomplete",
                [("sig-cosign", B, "signatures")]),
    # Medicare; C-SSRS moderate + PHQ-9 item 9 = 2; same-day risk assessment; six-section safety plan;
    # the psychotherapy states its type (individual), session length and a 16-week duration (NGS)
    "TP-4001": ("plans/plan-medicare-elevated-risk-complete.yaml", PLAN, "medicare", "complete", []),
    # C-SSRS moderate (lifetime attempt) + PHQ-9 item 9 = 1; risk assessment done; no safety plan
    "TP-4002": ("plans/plan-elevated-risk-no-safety-plan-incomplete.yaml", PLAN, "default", "incomplete",
                [("risk-safety-plan", B, "safety_plan")]),
    # TX Medicaid SUD IOP, Part 2 program; plan 9 business days after intake
    "TP-5001": ("plans/plan-tx-medicaid-sud-part2-complete.json", PLAN, "tx-medicaid", "complete", []),
    # PTSD after a collision; HIPAA authorization for a disability insurer (release packets)
    "TP-7001": ("plans/plan-adult-ptsd-release-authorization-complete.yaml", PLAN, "default", "complete", []),
    # opioid use disorder in a Part 2 program, no Part 2 consent (packets refused: p2-consent)
    "TP-6001": ("plans/plan-sud-part2-no-consent-complete.yaml", PLAN, "default", "complete", []),
    # TX Medicaid community MH; plan 15 business days after authorization (at intake; limit 10)
    "TP-5002": ("plans/plan-tx-medicaid-late-incomplete.yaml", PLAN, "tx-medicaid", "incomplete",
                [("plan-deadline", B, "plan_date")]),
    # Minnesota SUD outpatient program (agency state MN): plan 15 days after service initiation, client and
    # LADC signed (Minn. Stat. 245G.06)
    "TP-8101": ("plans/plan-mn-245g-sud-outpatient-complete.yaml", PLAN, "mn-245g", "complete", []),
    # --- progress notes ----------------------------------------------------------------------
    # SOAP, 90834 for 45 minutes
    "PN-1001-01": ("notes/notes-ortiz-tp1001.jsonl:1", NOTE, "default", "complete", []),
    # SOAP, 90837 billed for 45 minutes (90837 needs 53+; 45 supports 90834)
    "PN-1001-02": ("notes/notes-ortiz-tp1001.jsonl:2", NOTE, "default", "incomplete",
                   [("pt-band", B, "cpt_codes")]),
    # SOAP, PHQ-9 item 9 = 1 with no risk assessment at all: no same-day assessment, and the
    # positive screen's assessment (ideation, plan, intent...) is missing; nor is there a safety plan,
    # on the note or on plan TP-1001 (risk-note-safety, #13)
    "PN-1001-03": ("notes/notes-ortiz-tp1001.jsonl:3", NOTE, "default", "incomplete",
                   [("risk-phq9-i9", B, "assessments[0].items[8]"),
                    ("risk-level-doc", B, "risk_assessment"),
                    ("risk-note-safety", B, "safety_plan")]),
    # BIRP, 90834 (45 min) + 90785 with the caregiver-interference factor
    "PN-2001-01": ("notes/note-minor-90834-90785-birp-complete.yaml", NOTE, "default", "complete", []),
    # DAP, family 90847 (55 min) with the client present
    "PN-2001-02": ("notes/note-minor-family-90847-dap-complete.yaml", NOTE, "default", "complete", []),
    # GIRP, group 90853 without group_size
    "PN-2001-03": ("notes/note-minor-group-90853-no-size-girp-incomplete.yaml", NOTE, "default", "incomplete",
                   [("group-90853", B, "group_size")]),
    # BIRP by an LMSW (48 min, 90834), supervisor co-signed the next day
    "PN-3001-01": ("notes/note-ny-lmsw-cosigned-birp-complete.yaml", NOTE, "ny-medicaid", "complete", []),
    # SOAP, 99214 + 90833 with 20 psychotherapy minutes documented separately
    "PN-3001-02": ("notes/note-ny-99214-90833-soap-complete.yaml", NOTE, "ny-medicaid", "complete", []),
    # SOAP by an LPC-Associate (telehealth, 46 min, 90834), co-signed
    "PN-3002-01": ("notes/note-lpc-associate-cosigned-soap-complete.yaml", NOTE, "default", "complete", []),
    # session date 2026-19-11: one schema error
    "PN-3002-02": ("notes/note-invalid-schema.yaml", NOTE, None, "invalid",
                   [("schema", B, "session_date")]),
    # BIRP, Medicare, 90837 for 55 min; PHQ-9 item 9 = 1 with a full same-day risk assessment (the
    # plan's safety plan is current); no prognosis stated, a Medicare per-note element (warning, #13)
    "PN-4001-01": ("notes/note-medicare-90837-birp-complete.yaml", NOTE, "medicare", "complete",
                   [("mcr-note-elems", W, "prognosis")]),
    # BIRP, Medicare, Response section left empty; no goal progress and no prognosis (warnings, #13)
    "PN-4001-02": ("notes/note-medicare-empty-response-birp-incomplete.yaml", NOTE, "medicare", "incomplete",
                   [("fmt-sections", B, "response"), ("mcr-note-elems", W, "goals_addressed"),
                    ("mcr-note-elems", W, "prognosis")]),
    # BIRP crisis, 95 minutes: 90839 + one 90840; C-SSRS high with a full same-day risk assessment and
    # the safety plan written in the session (TP-4002 has none)
    "PN-4002-01": ("notes/note-crisis-90839-90840-birp-complete.yaml", NOTE, "default", "complete", []),
    # GIRP group 90853, group_size 8, TX begin/end times, signed the same day
    "PN-5001-01": ("notes/note-tx-sud-group-90853-girp-complete.json", NOTE, "tx-medicaid", "complete", []),
    # BIRP 90832 (35 min), signed 4 business days after the session (TX limit 2)
    "PN-5001-02": ("notes/note-tx-late-signature-birp-incomplete.yaml", NOTE, "tx-medicaid", "incomplete",
                   [("note-timeliness", B, "signatures[0].date")]),
    # BIRP crisis 90839 (70 min), California Medi-Cal: no treatment plan (CalAIM), signed 25 hours later
    "PN-9001-01": ("notes/note-ca-medi-cal-crisis-late-birp-incomplete.yaml", NOTE, "ca-medi-cal", "incomplete",
                   [("crisis-note-due", B, "signatures[0].date")]),
    # SOAP 90834 (50 min); second goal reference G3 does not exist in plan TP-5002
    "PN-5002-01": ("notes/note-tx-unknown-goal-soap-incomplete.yaml", NOTE, "tx-medicaid", "incomplete",
                   [("note-goal-link", B, "goals_addressed[1].goal_id")]),
    # SOAP 90834 (45 min) for TP-7001, with private process notes that never leave the record
    "PN-7001-01": ("notes/note-ptsd-process-notes-soap-complete.yaml", NOTE, "default", "complete", []),
    # SOAP flagged as a psychotherapy note (45 CFR 164.501): withheld from every packet
    "PN-7001-02": ("notes/note-ptsd-psychotherapy-note-flagged-soap-complete.yaml", NOTE, "default", "complete", []),
    # --- progress notes from a CSV export, one row a session (line 1 is the header) -------------
    # SOAP, 90837 for 55 minutes, goals G1 (G1.O1) and G2 (G2.O1) of TP-1001
    "PN-1001-04": ("csv/notes-sample.csv:2", NOTE, "default", "complete", []),
    # SOAP, 90834 for 46 minutes, G1.O2
    "PN-1001-05": ("csv/notes-sample.csv:3", NOTE, "default", "complete", []),
    # SOAP, 90834 for 50 minutes; the risk_level / risk_summary cells left empty: no risk update
    "PN-1001-06": ("csv/notes-sample.csv:4", NOTE, "default", "incomplete",
                   [("note-risk-update", B, "risk_update")]),
    # BIRP by an LMSW (50 min, 90834), supervisor co-signature in the supervisor_* columns
    "PN-3001-03": ("csv/notes-sample.csv:5", NOTE, "ny-medicaid", "complete", []),
    # --- addenda (each names TP-1001 by its real content hash) -----------------------------------
    # objective G2.O1 changed after a knee injury; what, why, dated after the plan, signed by the author
    "AD-1001-01": ("addenda/addendum-tp1001-goal2-complete.yaml", ADD, "default", "complete", []),
    # says what changed (the next review date) but not why
    "AD-1001-02": ("addenda/addendum-tp1001-no-reason-incomplete.yaml", ADD, "default", "incomplete",
                   [("add-reason", B, "reason")]),
    # --- one client's documents across months (Texas Medicaid; tests/test_timeline.py) -----------
    # initial plan, 9 Texas business days after the authorization (13 after intake); its review date
    # (2026-09-09) is past on AS_OF, but the review plan TP-8002 of the same run replaced it
    "TP-8001": ("timeline/2026-06-12-plan-tp8001-initial-complete.yaml", PLAN, "tx-medicaid", "complete", []),
    "PN-8001-01": ("timeline/2026-06-16-note-pn8001-01-complete.yaml", NOTE, "tx-medicaid", "complete", []),
    # Thu 07-02 signed Mon 07-06: 2 Texas business days (07-03, the federal observed holiday, counts)
    "PN-8001-02": ("timeline/2026-07-02-note-pn8001-02-complete.yaml", NOTE, "tx-medicaid", "complete", []),
    "PN-8001-03": ("timeline/2026-08-18-note-pn8001-03-complete.yaml", NOTE, "tx-medicaid", "complete", []),
    # the 90-day review plan (plan_type review, previous_plan_id TP-8001), before TP-8001's review date
    "TP-8002": ("timeline/2026-09-04-plan-tp8002-review-complete.yaml", PLAN, "tx-medicaid", "complete", []),
    "PN-8001-04": ("timeline/2026-09-15-note-pn8001-04-complete.yaml", NOTE, "tx-medicaid", "complete", []),
    "PN-8001-05": ("timeline/2026-10-13-note-pn8001-05-complete.yaml", NOTE, "tx-medicaid", "complete", []),
    # an addendum to TP-8002, naming it by its content hash
    "AD-8001-01": ("timeline/2026-10-20-addendum-ad8001-01-complete.yaml", ADD, "tx-medicaid", "complete", []),
    "PN-8001-06": ("timeline/2026-11-10-note-pn8001-06-complete.yaml", NOTE, "tx-medicaid", "complete", []),
}

#: Numbers the message of a finding must mention, so that it fires for the intended reason.
MESSAGE_MENTIONS = {
    ("PN-1001-02", "pt-band"): ["90837", "45"],
    ("PN-1001-03", "risk-phq9-i9"): ["2026-11-10"],
    ("TP-5002", "plan-deadline"): ["15", "10", "after authorization on 2026-09-14"],
    ("PN-5001-02", "note-timeliness"): ["4", "2"],
    ("PN-5002-01", "note-goal-link"): ["G3"],
    ("PN-9001-01", "crisis-note-due"): ["25", "24"],
    ("TP-4002", "risk-safety-plan"): ["moderate"],
}

#: The one note that deliberately names a goal its plan does not have.
BAD_GOAL_REF = {"PN-5002-01"}


def _relative(where: str) -> str:
    """A result's source (absolute or relative to the repository, ":LINE" for JSONL) relative to fixtures/."""
    path, sep, line = where.rpartition(":")
    if not (sep and line.isdigit()):
        path, line = where, ""
    rel = (ROOT / path).resolve().relative_to(FIXTURES).as_posix()  # ROOT / absolute == absolute
    return f"{rel}:{line}" if line else rel


def _findings(result) -> Counter:
    return Counter((f.rule, f.severity.value, f.path) for f in result.findings)


@pytest.fixture(scope="module")
def results():
    """One check of the whole folder, by id."""
    out = api.check([FIXTURES], as_of=AS_OF)
    ids = [r.id for r in out]
    assert len(ids) == len(set(ids)), f"duplicate record ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    return {r.id: r for r in out}


# --- the records, one by one -----------------------------------------------------------------
def test_no_unexpected_or_missing_records(results):
    assert sorted(results) == sorted(EXPECTED)


@pytest.mark.parametrize("record_id", sorted(EXPECTED))
def test_record(results, record_id):
    where, kind, profile, status, findings = EXPECTED[record_id]
    result = results[record_id]
    assert _relative(result.where) == where
    assert result.kind == kind
    assert result.status.value == status, [f.as_dict() for f in result.findings]
    assert result.profile == profile
    assert _findings(result) == Counter(findings), [f.as_dict() for f in result.findings]


@pytest.mark.parametrize("key", sorted(MESSAGE_MENTIONS), ids="-".join)
def test_finding_message_names_the_defect(results, key):
    record_id, rule = key
    (finding,) = [f for f in results[record_id].findings if f.rule == rule]
    for part in MESSAGE_MENTIONS[key]:
        assert part in finding.message, finding.message


# --- what the set of fixtures covers -----------------------------------------------------------
def test_coverage(results):
    plans = [r.record for r in results.values() if r.kind == PLAN and r.record is not None]
    notes = [r.record for r in results.values() if r.kind == NOTE and r.record is not None]
    assert len(plans) >= 7 and len(notes) >= 11
    formats = Counter(n.format.value for n in notes)
    assert formats["soap"] >= 4 and formats["birp"] >= 4 and formats["dap"] >= 1 and formats["girp"] >= 1
    assert {r.profile for r in results.values() if r.profile} == set(builtin_names())
    statuses = Counter(r.status.value for r in results.values())
    assert statuses["invalid"] == 1 and statuses["complete"] >= 8 and statuses["incomplete"] >= 8
    codes = {c for n in notes for c in n.cpt_codes}
    assert {"90834", "90837", "99214", "90833", "90839", "90840", "90785", "90853", "90847"} <= codes
    assert any(p.client.age_on(p.plan_date) < 18 and p.client.guardian for p in plans)
    assert any(p.agency.part2_program and p.agency.program_type.value == "substance_use" for p in plans)
    names = " ".join(r.record.client.name for r in results.values() if r.record is not None)
    assert any(ord(ch) > 127 for ch in names)


def test_notes_serve_their_plans(results):
    """Every note names a plan of the same client in the fixtures, is dated within the plan's
    period, and addresses goals and objectives that exist (but for the one deliberate defect); only
    under California's CalAIM rules (ca-medi-cal) may a note have no plan."""
    plans = {r.id: r.record for r in results.values() if r.kind == PLAN and r.record is not None}
    for result in results.values():
        note = result.record
        if note is None or result.kind != NOTE:
            continue
        if note.plan_id is None:
            assert result.profile == "ca-medi-cal", note.id
            continue
        plan = plans[note.plan_id]
        assert plan.client.id == note.client.id, note.id
        assert plan.plan_date <= note.session_date <= plan.next_review_date, note.id
        assert note.session_date <= AS_OF, note.id
        refs = {(g.goal_id, o) for g in note.goals_addressed for o in (g.objective_ids or [None])}
        known = {(g.id, o.id) for g in plan.goals for o in g.objectives} | {(g.id, None) for g in plan.goals}
        assert (refs <= known) == (note.id not in BAD_GOAL_REF), (note.id, refs - known)


def test_addenda_name_their_originals_exactly(results):
    """Each addendum names a plan of the fixtures by its real id, kind, date and content hash."""
    from docgen.model.digest import content_hash

    addenda = [r.record for r in results.values() if r.kind == ADD]
    assert len(addenda) == 3
    for addendum in addenda:
        original = results[addendum.original.id].record
        assert (original.kind, original.service_date) == (addendum.original.kind.value, addendum.original.date)
        assert content_hash(original) == addendum.original.sha256, addendum.id
        assert original.client.id == addendum.client.id


def test_yaml_header_states_the_status():
    """Each YAML fixture opens with '# Complete:', '# Incomplete:' or '# Invalid:' matching its record."""
    by_file = {where: status for where, _, _, status, _ in EXPECTED.values()}
    yaml_files = sorted(p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*.yaml"))
    assert yaml_files and set(yaml_files) <= set(by_file)
    for rel in yaml_files:
        first = (FIXTURES / rel).read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(f"# {by_file[rel].capitalize()}: "), (rel, first)


# --- the command line ---------------------------------------------------------------------------
def _cli_check(*paths: str):
    with contextlib.chdir(ROOT):
        result = CliRunner().invoke(main, ["check", *paths, "--as-of", AS_OF.isoformat(), "--format", "json"])
    return result.exit_code, json.loads(result.stdout)["records"]


@pytest.fixture(scope="module")
def cli_report():
    return _cli_check("fixtures/")


def test_cli_whole_folder(cli_report):
    code, records = cli_report
    assert code == 1
    assert sorted(r["id"] for r in records) == sorted(EXPECTED)
    for record in records:
        where, kind, profile, status, findings = EXPECTED[record["id"]]
        assert (record["status"], record["profile"], record["kind"]) == (status, profile, kind), record["id"]
        assert _relative(record["source"]) == where
        got = Counter((f["rule"], f["severity"], f["path"]) for f in record["findings"])
        assert got == Counter(findings), record["id"]


def test_cli_complete_only_exits_0():
    files = sorted({where.split(":")[0] for where, *_ in EXPECTED.values()})
    complete = [f for f in files
                if all(e[3] == "complete" for e in EXPECTED.values() if e[0].split(":")[0] == f)]
    assert len(complete) >= 10
    code, records = _cli_check(*(f"fixtures/{f}" for f in complete))
    assert code == 0
    assert {r["status"] for r in records} == {"complete"}
    assert sorted(r["id"] for r in records) == sorted(i for i, e in EXPECTED.items() if e[0] in complete)
