"""Locking and addenda, end to end: a final render locks the record in the audit trail's lock ledger;
rendering it again with other content is refused (nothing overwritten, exit 1), unchanged it renders
to the same bytes; drafts never lock; an addendum renders in both formats naming the original by id
and hash, and is refused when the hash is wrong; batches report locked records and go on; the
ledger only grows and holds no names or clinical text."""
from __future__ import annotations

import io
import json
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docx
import pypdf
import pytest
from click.testing import CliRunner

import builders
from docgen import __version__, api
from docgen.batch import Task, run_batch
from docgen.cli import main
from docgen.compose import compose
from docgen.findings import Outcome
from docgen.ledger.locks import Lock, lock_of
from docgen.ledger.trail import AuditTrail
from docgen.model.digest import content_hash
from render_helpers import DocxView, PdfView, documents_in, pdf_has, shown, write_records, ws

AS_OF = "2026-11-24"
LOCKED_LINE = re.compile(r"record TP-1001: locked: finalized and signed on 2026-09-22 \(locked \d{4}-\d{2}-\d{2}, "
                         r"sha256 (?P<short>[0-9a-f]{12})\.\.\.\); changes go in an addendum naming this id and hash$",
                         re.MULTILINE)


def invoke(*args, env: dict | None = None):
    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        runner = CliRunner()
    result = runner.invoke(main, [str(a) for a in args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def plan_file(folder: Path, **changes) -> Path:
    plan = builders.plan_dict()
    plan.update(changes)
    folder.mkdir(parents=True, exist_ok=True)
    return write_records(folder / "plan.json", [plan])


def snapshot(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in documents_in(out)}


def ledger_rows(trail: Path) -> list[dict]:
    db = sqlite3.connect(trail)
    try:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM locks ORDER BY seq")]
    finally:
        db.close()


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(path.read_bytes())).pages)


def docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


# --- render: lock, refuse, re-render --------------------------------------------------------------
def test_final_render_locks_the_record(tmp_path):
    source = plan_file(tmp_path / "in")
    out = tmp_path / "out"
    [item] = api.render([source], out, as_of=builders.AS_OF)
    assert item.outcome is Outcome.final
    digest = content_hash(item.result.record)
    [row] = ledger_rows(out / "audit.sqlite")
    assert (row["record_id"], row["kind"], row["client_id"], row["sha256"], row["document_date"]) == \
        ("TP-1001", "treatment_plan", "C-1001", digest, "2026-09-22")
    assert json.loads(row["signers"]) == [
        {"role": "clinician", "signer_id": "CL-01", "date": "2026-09-22", "time": "16:05"},
        {"role": "client", "signer_id": None, "date": "2026-09-22", "time": "16:20"}]
    assert row["docgen_version"] == __version__ and row["locked_at"][:4] >= "2026" and row["os_user"]
    [lock] = api.locks(out, record="TP-1001")
    assert lock["sha256"] == digest
    [event] = api.audit(out)
    assert (event["record_id"], event["outcome"]) == ("TP-1001", "final")
    assert sorted(o["path"] for o in event["outputs"]) == ["TP-1001.docx", "TP-1001.pdf"]
    assert event["input_sha256"] and len(event["input_sha256"]) == 64


def test_a_final_record_that_fails_to_render_is_not_locked(tmp_path, monkeypatch):
    """The lock is taken once the documents are made, before they are written: a render that fails
    (a template error, a time limit that interrupts the service's worker) leaves no lock behind, so
    the record can still be corrected. It used to stay locked with content whose document never
    existed, and every correction was refused as 'locked'."""
    import docgen.api

    def broken(*args, **kwargs):
        raise RuntimeError("the template failed")

    monkeypatch.setattr(docgen.api, "produce", broken)
    out = tmp_path / "out"
    [item] = api.render([plan_file(tmp_path / "v1")], out, as_of=builders.AS_OF)
    assert item.outcome is Outcome.failed and not item.files
    assert ledger_rows(out / "audit.sqlite") == []
    monkeypatch.undo()
    [item] = api.render([plan_file(tmp_path / "v2", discharge_criteria="Corrected.")], out, as_of=builders.AS_OF)
    assert item.outcome is Outcome.final
    assert [r["sha256"] for r in ledger_rows(out / "audit.sqlite")] == [content_hash(item.result.record)]


def test_changed_locked_record_is_refused_and_nothing_is_overwritten(tmp_path):
    out = tmp_path / "out"
    first = invoke("render", plan_file(tmp_path / "v1"), "--out", out, "--as-of", AS_OF)
    assert first.exit_code == 0, first.stderr
    before = snapshot(out)
    assert sorted(before) == ["TP-1001.docx", "TP-1001.pdf"]
    locked = ledger_rows(out / "audit.sqlite")[0]["sha256"]

    changed = plan_file(tmp_path / "v2", discharge_criteria="PHQ-9 below 5 three times in a row.")
    result = invoke("render", changed, "--out", out, "--as-of", AS_OF)
    assert result.exit_code == 1
    match = LOCKED_LINE.search(result.stderr)
    assert match and match["short"] == locked[:12], result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # one line, naming no client or clinical text
    assert "Ortiz" not in result.stderr and "PHQ-9" not in result.stderr
    assert "locked" in result.stdout
    assert snapshot(out) == before
    # a draft of the changed record is refused the same way: a locked id never gets another document
    drafted = plan_file(tmp_path / "v3", discharge_criteria=None, next_review_date=None)
    result = invoke("render", drafted, "--out", out, "--allow-draft", "--as-of", AS_OF)
    assert result.exit_code == 1 and LOCKED_LINE.search(result.stderr), result.stderr
    assert snapshot(out) == before
    assert [r["sha256"] for r in ledger_rows(out / "audit.sqlite")] == [locked]  # still the first lock only
    outcomes = [e["outcome"] for e in api.audit(out)]
    assert outcomes == ["final", "locked", "locked"]


def test_unchanged_locked_record_renders_again_to_the_same_bytes(tmp_path):
    out = tmp_path / "out"
    source = plan_file(tmp_path / "in")
    assert invoke("render", source, "--out", out, "--as-of", AS_OF).exit_code == 0
    before = snapshot(out)
    again = invoke("render", source, "--out", out, "--as-of", AS_OF)
    assert again.exit_code == 0, again.stderr
    assert snapshot(out) == before
    assert len(ledger_rows(out / "audit.sqlite")) == 1


def test_a_draft_never_locks(tmp_path):
    out = tmp_path / "out"
    draft = plan_file(tmp_path / "draft", next_review_date=None)
    [item] = api.render([draft], out, allow_draft=True, as_of=builders.AS_OF)
    assert item.outcome is Outcome.draft
    assert ledger_rows(out / "audit.sqlite") == []
    [item] = api.render([plan_file(tmp_path / "final")], out, as_of=builders.AS_OF)  # completed: not locked before
    assert item.outcome is Outcome.final
    assert [r["record_id"] for r in ledger_rows(out / "audit.sqlite")] == ["TP-1001"]


def test_an_agency_trail_locks_across_output_folders(tmp_path):
    trail = tmp_path / "agency" / "audit.sqlite"
    v1, v2 = plan_file(tmp_path / "v1"), plan_file(tmp_path / "v2", discharge_criteria="Changed.")
    assert invoke("render", v1, "--out", tmp_path / "monday", "--audit", trail, "--as-of", AS_OF).exit_code == 0
    assert not (tmp_path / "monday" / "audit.sqlite").exists()
    refused = invoke("render", v2, "--out", tmp_path / "tuesday", "--as-of", AS_OF, env={"DOCGEN_AUDIT": str(trail)})
    assert refused.exit_code == 1 and LOCKED_LINE.search(refused.stderr), refused.stderr
    assert not (tmp_path / "tuesday").exists()  # nothing written, not even a folder
    # a folder with a trail of its own does not know the lock: why an agency points every run at one trail
    alone = invoke("render", v2, "--out", tmp_path / "wednesday", "--as-of", AS_OF)
    assert alone.exit_code == 0


def test_check_with_audit_reports_the_lock(tmp_path):
    out = tmp_path / "out"
    api.render([plan_file(tmp_path / "v1")], out, as_of=builders.AS_OF)
    changed = plan_file(tmp_path / "v2", discharge_criteria="Changed.")
    assert invoke("check", changed, "--as-of", AS_OF).exit_code == 0  # no ledger: nothing to say
    result = invoke("check", changed, "--as-of", AS_OF, "--audit", out, "--format", "json")
    assert result.exit_code == 1
    [record] = json.loads(result.stdout)["records"]
    [finding] = record["findings"]
    assert (record["status"], finding["rule"], finding["path"], finding["severity"]) == \
        ("incomplete", "locked", "id", "blocker")
    assert finding["message"].startswith("finalized and signed on 2026-09-22 (locked ")
    same = invoke("check", plan_file(tmp_path / "v3"), "--as-of", AS_OF, "--audit", out / "audit.sqlite")
    assert same.exit_code == 0


# --- addenda ----------------------------------------------------------------------------------------
def _addendum(folder: Path, **changes) -> Path:
    record = builders.addendum_dict()
    record.update(changes)
    folder.mkdir(parents=True, exist_ok=True)
    return write_records(folder / "addendum.json", [record])


def test_addendum_renders_in_both_formats_naming_the_original(tmp_path, openxml_validator):
    out = tmp_path / "out"
    plan = plan_file(tmp_path / "in")
    addendum = _addendum(tmp_path / "in")  # addendum.json sorts before plan.json: checked after it anyway
    result = invoke("render", tmp_path / "in", "--out", out, "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    digest = builders.addendum_dict()["original"]["sha256"]
    assert digest == content_hash(api.check([plan])[0].record)
    for text in (ws(docx_text(out / "AD-1001-01.docx")), ws(pdf_text(out / "AD-1001-01.pdf"))):
        for wanted in ("Addendum to Treatment Plan of 09/22/2026", "Original document", "TP-1001", digest,
                       "Target raised from 3 to 4 pleasant activities a week.", "Goal G1, objective G1.O1",
                       "Objective met early", "Electronically signed by Daniel Kim, LCSW on 11/02/2026 15:55"):
            assert wanted in text, wanted
    # parity: every text of the composition is in both files (as the render suite checks for plans and notes)
    [checked] = [r for r in api.check([tmp_path / "in"], as_of=builders.AS_OF) if r.id == "AD-1001-01"]
    doc = compose(checked.record, checked.findings, checked.profile)
    assert doc.template == "addendum" and len(doc.texts()) > 30
    view_docx, view_pdf = DocxView(out / "AD-1001-01.docx"), PdfView(out / "AD-1001-01.pdf")
    assert [t for t in doc.texts() if ws(shown(t)) not in ws(view_docx.all_text)] == []
    assert [t for t in doc.texts() if not pdf_has(view_pdf, shown(t), doc.agency)] == []
    info = pypdf.PdfReader(out / "AD-1001-01.pdf").metadata
    assert info["/Title"] == "Addendum to Treatment Plan of 09/22/2026 AD-1001-01"
    assert "kind=addendum" in info["/Keywords"]
    core = docx.Document(str(out / "AD-1001-01.docx")).core_properties
    assert core.title == info["/Title"] and core.category == "addendum"
    valid = openxml_validator.validate(out / "AD-1001-01.docx")  # Word opens it without repair
    assert valid.is_valid, [e.description for e in valid.errors[:5]]
    locked = {r["record_id"]: r for r in ledger_rows(out / "audit.sqlite")}
    assert sorted(locked) == ["AD-1001-01", "TP-1001"]  # the addendum, final and signed, is locked too
    assert locked["TP-1001"]["sha256"] == digest
    assert locked["AD-1001-01"]["document_date"] == "2026-11-02"
    again = invoke("render", addendum, "--out", out, "--as-of", AS_OF)  # the original now from the ledger
    assert again.exit_code == 0, again.stderr


def test_addendum_with_a_wrong_hash_is_refused(tmp_path):
    out = tmp_path / "out"
    api.render([plan_file(tmp_path / "plan")], out, as_of=builders.AS_OF)
    original = dict(builders.addendum_dict()["original"], sha256="ab" * 32)
    result = invoke("render", _addendum(tmp_path / "wrong", original=original), "--out", out, "--as-of", AS_OF)
    assert result.exit_code == 1
    locked = ledger_rows(out / "audit.sqlite")[0]["sha256"]
    assert (f"record AD-1001-01: refused: original.sha256: addendum names sha256 abababababab... but the locked "
            f"TP-1001 has {locked[:12]}... [add-original]") in result.stderr
    assert documents_in(out) == ["TP-1001.docx", "TP-1001.pdf"]


def test_addendum_to_a_record_never_locked_is_refused(tmp_path):
    result = invoke("render", _addendum(tmp_path / "in"), "--out", tmp_path / "out", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "record AD-1001-01: refused: original.id: TP-1001 is not locked" in result.stderr


def test_the_fixture_addendum_renders_with_the_readme_job(tmp_path):
    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    rendered = {r.result.id: r for r in api.render([fixtures], tmp_path / "out", allow_draft=True,
                                                    as_of=builders.AS_OF)}
    assert rendered["AD-1001-01"].outcome is Outcome.final
    assert rendered["AD-1001-02"].outcome is Outcome.draft
    assert "Addendum to Treatment Plan of 09/22/2026" in docx_text(tmp_path / "out" / "AD-1001-02.docx")


# --- batch ----------------------------------------------------------------------------------------------
def _batch(inputs: Path, out: Path, **options):
    with ThreadPoolExecutor(1) as pool:
        return run_batch([str(inputs)], out, pool, as_of=builders.AS_OF, **options)


def test_batch_locks_reports_locked_and_goes_on(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    plan_file(src)
    _addendum(src)  # the same batch as its original: addenda are processed after everything else
    first = _batch(src, out)
    assert first.ok and first.counts["final"] == 2
    rows = {json.loads(line)["id"]: json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()}
    assert list(rows) == ["TP-1001", "AD-1001-01"]  # addenda last
    assert rows["TP-1001"]["content_sha256"] == builders.addendum_dict()["original"]["sha256"]
    assert "lock" not in rows["TP-1001"]
    outputs = {o["path"]: (out / o["path"]).read_bytes() for row in rows.values() for o in row["outputs"]}
    assert "C-1001/addendum-2026-11-02-AD-1001-01.pdf" in outputs

    plan_file(src, discharge_criteria="Changed after signing.")
    note = builders.note_dict()
    write_records(src / "note.json", [note])
    result = invoke("batch", src, "--out", out, "--workers", "1", "--as-of", AS_OF)
    assert result.exit_code == 1
    rows = {json.loads(line)["id"]: json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()}
    assert {k: r["status"] for k, r in rows.items()} == \
        {"TP-1001": "locked", "PN-2001": "final", "AD-1001-01": "skipped"}
    assert rows["TP-1001"]["outputs"] == [] and rows["TP-1001"]["error"].startswith("finalized and signed on")
    assert LOCKED_LINE.search(result.stderr.replace(f"{src}/plan.json: ", "")), result.stderr
    assert "locked" in result.stdout  # the summary table's column
    assert {p: (out / p).read_bytes() for p in outputs} == outputs  # the locked plan's documents untouched
    with (out / "manifest.csv").open(encoding="utf-8") as handle:
        assert "content_sha256" in handle.readline()


def test_batch_loses_a_race_for_the_lock_cleanly(tmp_path):
    """Another run sharing the trail locks other content of TP-1001 while this batch renders it:
    this batch's documents are removed and the record is reported locked."""
    src, out = tmp_path / "in", tmp_path / "out"
    plan_file(src)
    trail = out / "audit.sqlite"

    class Racing(ThreadPoolExecutor):
        def submit(self, fn, tasks, *args):  # chunks of records, and the first pass's chunks of plans
            if any(isinstance(task, Task) and task.data.get("id") == "TP-1001" for task in tasks):
                other = AuditTrail(trail, "another run")
                other.lock(lock_of(builders.validate(builders.plan_dict()), "c" * 64))
                other.close()
            return super().submit(fn, tasks, *args)

    with Racing(1) as pool:
        summary = run_batch([str(src)], out, pool, as_of=builders.AS_OF)
    assert summary.counts["locked"] == 1 and not summary.ok
    [row] = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert row["status"] == "locked" and row["outputs"] == [] and "sha256 cccccccccccc..." in row["error"]
    assert not list((out / "C-1001").glob("*.pdf")) and not list((out / "C-1001").glob("*.docx"))


# --- the ledger itself -------------------------------------------------------------------------------------
def test_the_ledger_only_grows(tmp_path):
    out = tmp_path / "out"
    api.render([plan_file(tmp_path / "in")], out, as_of=builders.AS_OF)
    db = sqlite3.connect(out / "audit.sqlite")
    try:
        for sql in ("UPDATE locks SET sha256 = 'x'", "DELETE FROM locks",
                    "INSERT OR REPLACE INTO locks (seq, record_id, kind, client_id, sha256, document_date, signers,"
                    " locked_at, docgen_version, os_user, host) VALUES (1, 'TP-1001', 'treatment_plan', 'C-1001',"
                    " 'x', '2026-09-22', '[]', 'now', '0', 'u', 'h')",
                    "INSERT INTO locks (record_id, kind, client_id, sha256, document_date, signers, locked_at,"
                    " docgen_version, os_user, host) VALUES ('TP-1001', 'treatment_plan', 'C-1001', 'x',"
                    " '2026-09-22', '[]', 'now', '0', 'u', 'h')",
                    "INSERT OR REPLACE INTO events (seq, at, os_user, host, docgen_version, outcome, outputs)"
                    " VALUES (1, 'now', 'u', 'h', '0', 'final', '[]')"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                db.execute(sql)
        db.rollback()
        assert [r[0] for r in db.execute("SELECT sha256 FROM locks")] != ["x"]
    finally:
        db.close()


def test_a_second_lock_for_an_id_returns_the_first(tmp_path):
    trail = AuditTrail(tmp_path / "audit.sqlite", "test")
    try:
        plan = builders.validate(builders.plan_dict())
        first = trail.lock(lock_of(plan, "a" * 64))
        assert isinstance(first, Lock) and first.sha256 == "a" * 64 and first.locked_at
        again = trail.lock(lock_of(plan, "b" * 64))
        assert again == first
        assert trail.get("TP-1001") == first and trail.get("TP-9999") is None
    finally:
        trail.close()


def test_no_names_or_clinical_text_in_the_ledger(tmp_path):
    out = tmp_path / "out"
    plan_file(tmp_path / "in")
    _addendum(tmp_path / "in")
    api.render([tmp_path / "in"], out, as_of=builders.AS_OF)
    assert len(ledger_rows(out / "audit.sqlite")) == 2
    stored = b"".join(p.read_bytes() for p in out.glob("audit.sqlite*")).lower()
    plan, addendum = builders.plan_dict(), builders.addendum_dict()
    words = {"maria", "elena", "ortiz", "daniel", "kim", "luis", "riverside", "cascade", "depressive",
             "pleasant", "objective met early", "heavy"}
    words |= {w.lower() for w in re.findall(r"[A-Za-z]{8,}", addendum["reason"] + plan["presenting_concerns"])}
    for word in sorted(words):
        assert word.encode() not in stored, word


def test_ledger_views_tolerate_a_trail_from_before_locks(tmp_path):
    from docgen.ledger.trail import Ledger

    old = tmp_path / "audit.sqlite"
    db = sqlite3.connect(old)
    db.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, at TEXT)")
    db.commit()
    db.close()
    assert Ledger(old).get("TP-1001") is None and Ledger(tmp_path / "none.sqlite").get("TP-1001") is None
    assert api.locks(old) == []
