"""`docgen batch` and `docgen audit`: statuses and exit code over a corpus with broken files, the
manifest against the files on disk, the output layout, incremental re-runs and --force, a batch
killed with SIGKILL and resumed, the Dask path, the audit trail, and no progress bar off a terminal.

Batches run as real `docgen` processes (2 workers at most), so the parallel, killed and piped paths
are the ones a user gets. The Dask test runs last: it leaves threads in the test process.
"""
from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

import builders
from docgen import api
from docgen.batch import CSV_FIELDS
from docgen.cli import main
from docgen.load import read
from test_fixtures import EXPECTED  # each fixture's source, status and findings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
DOCGEN = Path(sys.executable).with_name("docgen")
AS_OF = date(2026, 11, 24)
BATCH = ("batch", "in", "--out", "out", "--workers", "2", "--as-of", AS_OF.isoformat())
META = {"manifest.jsonl", "manifest.csv", "audit.sqlite", "audit.sqlite-wal", "audit.sqlite-shm"}
LAYOUT = re.compile(r"(?P<client>[^/]+)/(?P<kind>treatment_plan|progress_note|addendum)-\d{4}-\d{2}-\d{2}-(?P<id>[^/]+)"
                    r"\.(?P<ext>docx|pdf)")
PRODUCED = {"final", "draft", "skipped"}

# --- the corpus: a copy of fixtures/ plus broken files ----------------------------------------------
#: source under the batch folder -> (record id, status, what stderr must say about it)
BROKEN = {
    "in/signed/note-signed.json": ("PN-1001-95", "final", ()),  # a signature image next to the record
    "in/zz-broken/broken.json": (None, "invalid", ("broken JSON",)),
    "in/zz-broken/binary.yaml": (None, "invalid", ("binary file, not text",)),
    "in/zz-broken/unknown-kind.yaml": ("DS-1", "invalid", ("kind: unknown value",)),
    "in/zz-broken/bad.csv:2": ("PN-1001-90", "final", ()),
    "in/zz-broken/bad.csv:3": ("PN-3001-91", "invalid", ("row has more cells than the header",)),
    "in/zz-broken/bad.csv:4": ("PN-1001-92", "invalid", ("session_date: no such date: YYYY-MM-DD",)),
    # line 5 is blank: the next rows keep their own line numbers
    "in/zz-broken/bad.csv:6": ("PN-1001-94", "invalid", ("row is not UTF-8 text",)),
    "in/zz-broken/bad.csv:7": ("PN-1001-93", "refused", ("[note-risk-update]",)),
    "in/zz-broken/dup.yaml": ("PN-2001-01", "failed",
                              ("duplicate record id (first in in/notes/note-minor-90834-90785-birp-complete.yaml)",)),
    "in/zz-broken/dup-case.yaml": ("pn-2001-01", "failed",
                                   ("record id differs only in case from PN-2001-01 (first in "
                                    "in/notes/note-minor-90834-90785-birp-complete.yaml): their files would be one "
                                    "on Windows and macOS",)),
}
STATUS_OF = {"complete": "final", "incomplete": "refused", "invalid": "invalid"}


def expected_rows() -> dict[str, tuple[str | None, str, tuple[str, ...]]]:
    """source -> (id, status, what stderr says (one of)) for every record of the corpus."""
    rows = dict(BROKEN)
    for record_id, (where, _kind, _profile, status, findings) in EXPECTED.items():
        rows[f"in/{where}"] = (record_id, STATUS_OF[status], tuple(f"[{rule}]" for rule, _, _ in findings))
    return rows


def _csv_line(values: dict) -> str:
    buffer = io.StringIO()
    csv.DictWriter(buffer, fieldnames=list(values), lineterminator="\n").writerow(values)
    return buffer.getvalue()


def note(line: int = 0) -> dict:
    """A note of fixtures/notes/notes-ortiz-tp1001.jsonl (line 0: PN-1001-01, complete)."""
    return json.loads((FIXTURES / "notes" / "notes-ortiz-tp1001.jsonl").read_text(encoding="utf-8").splitlines()[line])


def make_corpus(folder: Path) -> None:
    from PIL import Image, ImageDraw

    shutil.copytree(FIXTURES, folder, ignore=shutil.ignore_patterns("*.md"))
    signed = folder / "signed"
    signed.mkdir()
    image = Image.new("RGB", (300, 100), "white")
    ImageDraw.Draw(image).line([(10, 80), (80, 20), (150, 70), (290, 30)], fill="navy", width=4)
    image.save(signed / "signature-cl01.png")
    record = note()
    record["id"] = "PN-1001-95"
    record["signatures"][0]["image"] = "signature-cl01.png"  # relative to the record's folder
    (signed / "note-signed.json").write_text(json.dumps(record), encoding="utf-8")
    broken = folder / "zz-broken"  # sorts after the fixtures: the fixture keeps its id, the copy is the duplicate
    broken.mkdir()
    (broken / "broken.json").write_text('{"kind": "progress_note", "id": "PN-X-1",\n', encoding="utf-8")
    (broken / "binary.yaml").write_bytes(b"kind: progress_note\nid: PN-X-2\n\x00\x01\x02\xff\xfe")
    (broken / "unknown-kind.yaml").write_text("kind: discharge_summary\nid: DS-1\nclient:\n  id: C-1001\n",
                                              encoding="utf-8")
    shutil.copy(folder / "notes" / "note-minor-90834-90785-birp-complete.yaml", broken / "dup.yaml")
    same = (folder / "notes" / "note-minor-90834-90785-birp-complete.yaml").read_text(encoding="utf-8")
    assert "id: PN-2001-01\n" in same
    (broken / "dup-case.yaml").write_text(same.replace("id: PN-2001-01\n", "id: pn-2001-01\n", 1), encoding="utf-8")
    with (FIXTURES / "csv" / "notes-sample.csv").open(encoding="utf-8", newline="") as handle:
        sample = {row["id"]: row for row in csv.DictReader(handle)}
    header = ",".join(sample["PN-1001-04"]) + "\n"
    good = _csv_line({**sample["PN-1001-04"], "id": "PN-1001-90"})
    extra = _csv_line({**sample["PN-3001-03"], "id": "PN-3001-91"}).rstrip("\n") + ",one cell too many\n"
    bad_date = _csv_line({**sample["PN-1001-05"], "id": "PN-1001-92", "session_date": "2026-13-03"})
    latin = _csv_line({**sample["PN-1001-05"], "id": "PN-1001-94", "subjective": "Coffee at the CAFE_ with Ana."})
    refused = _csv_line({**sample["PN-1001-06"], "id": "PN-1001-93"})
    data = (header + good + extra + bad_date + "\n").encode("utf-8")
    data += latin.encode("utf-8").replace(b"CAFE_", b"caf\xe9")  # a cp1252 export's byte
    data += refused.encode("utf-8")
    (broken / "bad.csv").write_bytes(data)


def docgen(*args, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # off a terminal must be enough to hide the bar
    return subprocess.run([str(DOCGEN), *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def documents(out: Path) -> dict[str, Path]:
    """Every file under ``out`` but the manifests and the audit trail, by relative path."""
    return {p.relative_to(out).as_posix(): p for p in out.rglob("*") if p.is_file() and p.name not in META}


def assert_whole_documents(out: Path) -> int:
    """Every PDF parses and every DOCX is a sound zip with its main part; returns how many files."""
    count = 0
    for path in out.rglob("*.pdf"):
        assert len(PdfReader(path).pages) >= 1, path
        count += 1
    for path in out.rglob("*.docx"):
        with zipfile.ZipFile(path) as docx:
            assert docx.testzip() is None, path
            assert "word/document.xml" in docx.namelist(), path
        count += 1
    return count


HAS_PROC = Path("/proc/self/stat").is_file()


def live_processes(group: int) -> list[int]:
    """Processes of a process group that are still running (zombies excluded); Linux /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue
        if int(pgrp) == group and state != "Z":
            found.append(int(stat.parent.name))
    return found


def under_way(proc: subprocess.Popen, journal: Path, rows: int = 12) -> bool:
    """Wait (at most a minute) until a running batch has journalled ``rows`` rows; whether it is still
    running then."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.is_file() and journal.read_bytes().count(b"\n") >= rows:
            break
        time.sleep(0.02)
    return proc.poll() is None


def by_id(rows: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in rows if r["id"] and r["status"] != "failed"}


@pytest.fixture(scope="module")
def first(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The corpus and one batch over it (local processes, 2 workers)."""
    base = tmp_path_factory.mktemp("batch")
    make_corpus(base / "in")
    return base, docgen(*BATCH, cwd=base)


# --- statuses, exit code, stderr -------------------------------------------------------------------
def test_statuses_exit_code_and_stderr(first):
    base, run = first
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    rows = manifest(base / "out")
    expected = expected_rows()
    assert sorted(r["source"] for r in rows) == sorted(expected)
    docs = list(read([base / "in"]))
    addenda = [isinstance(raw.data, dict) and raw.data.get("kind") == "addendum" for raw in docs]
    order = [raw.source.replace(f"{base}{os.sep}", "")
             for raw, last in sorted(zip(docs, addenda, strict=True), key=lambda t: t[1])]
    assert [r["source"] for r in rows] == order  # input order (addenda last), whatever order the workers finished in
    lines = run.stderr.splitlines()
    for row in rows:
        record_id, status, text = expected[row["source"]]
        assert (row["id"], row["status"]) == (record_id, status), row
        said = [line for line in lines if line.startswith(f"{row['source']}: record {record_id or '(no id)'}: ")]
        if status in PRODUCED:
            assert said == [], said
        else:
            assert len(said) == 1, (row["source"], lines)
            assert f": {status}: " in said[0] and any(t in said[0] for t in text), said[0]
    counts = Counter(r["status"] for r in rows)
    assert counts == {"final": 34, "refused": 13, "invalid": 7, "failed": 2}  # 9 final in fixtures/timeline
    assert "docgen batch" in run.stdout and "records/s" in run.stdout


def test_render_failure_is_reported_and_the_batch_goes_on(tmp_path):
    """A broken SOAP template fails the SOAP notes only; the others render, exit code 1."""
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "docgen" / "templates", templates)
    (templates / "soap.docx").write_bytes((ROOT / "docgen" / "templates" / "soap.docx").read_bytes()[:1000])
    (tmp_path / "in").mkdir()
    shutil.copy(FIXTURES / "csv" / "notes-sample.csv", tmp_path / "in")
    shutil.copy(FIXTURES / "plans" / "plan-adult-mdd-complete.yaml", tmp_path / "in")
    run = docgen(*BATCH, "--templates", templates, cwd=tmp_path)
    assert run.returncode == 1
    status = {r["id"]: r["status"] for r in manifest(tmp_path / "out")}
    assert status == {"PN-1001-04": "failed", "PN-1001-05": "failed", "PN-1001-06": "refused",
                      "PN-3001-03": "final", "TP-1001": "final"}
    for record_id, line in (("PN-1001-04", 2), ("PN-1001-05", 3)):
        assert re.search(rf"^in/notes-sample\.csv:{line}: record {record_id}: failed: refused template soap\.docx: "
                         "not a zip archive", run.stderr, re.MULTILINE), run.stderr  # the template and the reason named
    assert sorted(documents(tmp_path / "out")) == sorted(
        ["C-3001/progress_note-2026-11-19-PN-3001-03.docx", "C-3001/progress_note-2026-11-19-PN-3001-03.pdf",
         "C-1001/treatment_plan-2026-09-22-TP-1001.docx", "C-1001/treatment_plan-2026-09-22-TP-1001.pdf"])


# --- the manifest and the layout ---------------------------------------------------------------------
def test_manifest_matches_the_files_on_disk(first):
    base, _ = first
    out = base / "out"
    rows = manifest(out)
    listed = {}
    for row in rows:
        assert {"source", "id", "kind", "status", "blockers", "warnings", "outputs", "duration_ms"} <= set(row)
        if row["status"] not in PRODUCED:
            assert row["outputs"] == [], row
            continue
        assert sorted(Path(o["path"]).suffix for o in row["outputs"]) == [".docx", ".pdf"], row
        for item in row["outputs"]:
            match = LAYOUT.fullmatch(item["path"])
            assert match and (match["client"], match["kind"], match["id"]) == (row["client"], row["kind"], row["id"])
            path = out / item["path"]
            assert sha256(path) == item["sha256"] and path.stat().st_size == item["bytes"], item
            listed[item["path"]] = path
    assert documents(out) == listed  # nothing else: no temporary file, no journal
    assert ".manifest-journal.jsonl" not in {p.name for p in out.iterdir()}
    for path in ("C-1001/treatment_plan-2026-09-22-TP-1001.pdf", "C-1001/progress_note-2026-10-20-PN-1001-04.docx",
                 "C-3001/progress_note-2026-11-19-PN-3001-03.pdf", "C-1001/progress_note-2026-10-13-PN-1001-01.pdf"):
        assert path in listed
    assert assert_whole_documents(out) == len(listed)
    signed = "C-1001/progress_note-2026-10-13-PN-1001-95"
    with zipfile.ZipFile(out / f"{signed}.docx") as docx:
        assert any(n.startswith("word/media/") for n in docx.namelist())
    unsigned = out / "C-1001/progress_note-2026-10-13-PN-1001-01.pdf"
    assert (out / f"{signed}.pdf").stat().st_size > unsigned.stat().st_size

    with (out / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == len(rows)
    for line, row in zip(table, rows, strict=True):
        assert tuple(line) == CSV_FIELDS
        want = {k: "" if row.get(k) is None else str(row[k]) for k in CSV_FIELDS if k in row}
        want.update(outputs=" ".join(o["path"] for o in row["outputs"]),
                    sha256=" ".join(o["sha256"] for o in row["outputs"]),
                    bytes=" ".join(str(o["bytes"]) for o in row["outputs"]))
        assert {k: line[k] for k in want} == want


# --- incremental re-runs and --force ------------------------------------------------------------------
@pytest.mark.slow
def test_rerun_skips_unchanged_redoes_changed_and_force_redoes_all(first, tmp_path):
    base = tmp_path / "batch"
    shutil.copytree(first[0], base)  # copy2: the copies keep the first run's mtimes
    out = base / "out"
    before = manifest(out)
    produced = {r["id"] for r in before if r["status"] == "final"}
    files = documents(out)
    stamp = {k: (p.stat().st_mtime_ns, sha256(p)) for k, p in files.items()}

    # 1. unchanged: every produced record skipped, files untouched, manifest rows kept
    run = docgen(*BATCH, cwd=base)
    assert run.returncode == 1  # the broken records are still reported
    rows = manifest(out)
    assert [(r["source"], r["id"]) for r in rows] == [(r["source"], r["id"]) for r in before]
    assert {r["id"] for r in rows if r["status"] == "skipped"} == produced
    assert Counter(r["status"] for r in rows)["final"] == 0
    for old, new in zip(before, rows, strict=True):
        assert new["outputs"] == old["outputs"]
        assert new["status"] == ("skipped" if old["status"] == "final" else old["status"])
    assert {k: (p.stat().st_mtime_ns, sha256(p)) for k, p in documents(out).items()} == stamp

    # 2. one refused CSV row completed: that record only is rendered; a final (so locked) row edited
    #    is refused as locked, its documents untouched
    sample = base / "in" / "csv" / "notes-sample.csv"
    text = sample.read_text(encoding="utf-8")
    assert text.count("next session 2026-11-10.") == 1 and text.count("due 2026-12-21.,,,,,,") == 1
    text = text.replace("next session 2026-11-10.", "next session 2026-11-10 at 17:00.")  # PN-1001-05, final
    text = text.replace("due 2026-12-21.,,,,,,", "due 2026-12-21.,,,,low,Denies suicidal ideation.,")  # PN-1001-06
    sample.write_text(text, encoding="utf-8")
    run = docgen(*BATCH, cwd=base)
    assert run.returncode == 1
    rows = by_id(manifest(out))
    assert rows["PN-1001-06"]["status"] == "final"
    assert rows["PN-1001-05"]["status"] == "locked" and rows["PN-1001-05"]["outputs"] == []
    assert re.search(r"^in/csv/notes-sample\.csv:3: record PN-1001-05: locked: finalized and signed on 2026-11-03 "
                     r"\(locked \d{4}-\d{2}-\d{2}, sha256 [0-9a-f]{12}\.\.\.\); changes go in an addendum", run.stderr,
                     re.MULTILINE), run.stderr
    assert {i for i in produced if rows[i]["status"] == "skipped"} == produced - {"PN-1001-05"}
    changed = {k for k, p in documents(out).items() if k not in stamp or (p.stat().st_mtime_ns, sha256(p)) != stamp[k]}
    assert changed == {o["path"] for o in rows["PN-1001-06"]["outputs"]}  # PN-1001-05's files kept as locked

    # 3. --force: everything rendered again, to the same bytes for the unchanged records; still locked
    run = docgen(*BATCH, "--force", cwd=base)
    assert run.returncode == 1
    rows = by_id(manifest(out))
    assert {i for i in produced if rows[i]["status"] == "final"} == produced - {"PN-1001-05"}
    assert rows["PN-1001-05"]["status"] == "locked"
    assert "skipped" not in {r["status"] for r in rows.values()}
    for record_id in produced - {"PN-1001-05"}:
        for item in rows[record_id]["outputs"]:
            assert item["sha256"] == stamp[item["path"]][1] == sha256(out / item["path"])
    assert {k: (p.stat().st_mtime_ns, sha256(p)) for k, p in documents(out).items() if "PN-1001-05" in k} == \
        {k: v for k, v in stamp.items() if "PN-1001-05" in k}
    assert len(documents(out)) == len(files) + 2  # PN-1001-06's pair


# --- a batch killed with SIGKILL, then run again -------------------------------------------------------
@pytest.mark.slow
def test_sigkill_leaves_no_partial_file_and_a_rerun_completes(tmp_path):
    (tmp_path / "in").mkdir()
    shutil.copy(FIXTURES / "plans" / "plan-adult-mdd-complete.yaml", tmp_path / "in")
    ids = [f"PN-SYN-{n:04d}" for n in range(400)]  # long enough to be cut short (tasks of up to 16)
    (tmp_path / "in" / "synthetic.jsonl").write_text(
        "".join(json.dumps({**note(), "id": i}) + "\n" for i in ids), encoding="utf-8")
    out, journal = tmp_path / "out", tmp_path / "out" / ".manifest-journal.jsonl"
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    proc = subprocess.Popen([str(DOCGEN), *BATCH], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert under_way(proc, journal), "the batch ended before it could be killed"
        if HAS_PROC:
            assert len(live_processes(proc.pid)) >= 3  # the runner and 2 workers
        os.kill(proc.pid, signal.SIGKILL)  # the runner only, in the middle of its work
        proc.wait(timeout=30)
        if HAS_PROC:  # its workers see it gone and exit (they would wait for work forever)
            deadline = time.monotonic() + 10
            while live_processes(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert live_processes(proc.pid) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    assert not (out / "manifest.jsonl").exists()
    written = assert_whole_documents(out)
    assert written >= 2  # some documents were there when it was killed, all of them whole

    run = docgen(*BATCH, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    rows = manifest(out)
    assert sorted(r["id"] for r in rows) == sorted([*ids, "TP-1001"])  # every record once
    status = Counter(r["status"] for r in rows)
    assert set(status) <= {"final", "skipped"} and status["skipped"] >= 10, status
    want = {f"C-1001/progress_note-2026-10-13-{i}.{ext}" for i in ids for ext in ("docx", "pdf")}
    want |= {f"C-1001/treatment_plan-2026-09-22-TP-1001.{ext}" for ext in ("docx", "pdf")}
    assert set(documents(out)) == want  # each document exactly once, no .tmp leftover, no journal
    assert not list(out.rglob("*.tmp")) and not journal.exists()
    for row in rows:
        for item in row["outputs"]:
            assert sha256(out / item["path"]) == item["sha256"]
    assert assert_whole_documents(out) == len(want)
    # the records done before the kill and skipped now have their generation event too
    events = api.audit(out)
    generated = {(e["record_id"], o["sha256"]) for e in events if e["outcome"] == "final" for o in e["outputs"]}
    assert {(r["id"], o["sha256"]) for r in rows for o in r["outputs"]} <= generated


WORKER_KILLED = "its worker process was killed while processing it, and again when it was tried alone (out of memory?)"


def _notes_and_plan(folder: Path, count: int) -> list[str]:
    folder.mkdir()
    shutil.copy(FIXTURES / "plans" / "plan-adult-mdd-complete.yaml", folder)
    ids = [f"PN-SYN-{n:04d}" for n in range(count)]
    (folder / "synthetic.jsonl").write_text("".join(json.dumps({**note(), "id": i}) + "\n" for i in ids),
                                            encoding="utf-8")
    return ids


def test_what_a_library_prints_in_a_worker_reaches_no_log(tmp_path, monkeypatch, capfd):
    """A worker's stdout is the batch's (a terminal, a cron mail, a service's log): a library that
    prints there (reportlab prints a PDF dictionary when its formatting is interrupted) could put client
    text in it. Workers print nowhere; the batch's own summary is all that appears."""
    from docgen.batch import worker

    _notes_and_plan(tmp_path / "in", 3)
    real = worker.process

    def chatty(task, config):
        print("Ortiz, Maria: debug output of some library")
        return real(task, config)

    monkeypatch.setattr(worker, "process", chatty)
    summary = api.batch([tmp_path / "in"], tmp_path / "out", workers=2, as_of=AS_OF)
    assert summary.counts["final"] == 4
    out, err = capfd.readouterr()
    assert "Ortiz" not in out and "Ortiz" not in err


def test_a_record_that_kills_its_worker_fails_alone_and_the_batch_goes_on(tmp_path, monkeypatch):
    """A worker killed while it processes a record (the kernel's OOM killer on a huge document, a crash
    in a C library) used to end the whole batch with BrokenProcessPool's traceback. The records of the
    lost tasks are tried again one at a time on new workers: the one that kills its worker again fails
    with one line, every other record comes out, once. (The worker processes are forked from this one,
    so they run the patched function.)"""
    from docgen.batch import worker

    ids = _notes_and_plan(tmp_path / "in", 60)
    real = worker.process

    def deadly(task, config):
        if isinstance(task.data, dict) and task.data.get("id") == "PN-SYN-0033":
            folder = Path(config.out) / "C-1001"
            folder.mkdir(exist_ok=True)
            (folder / ".progress_note-PN-SYN-0033.pdf.tmp").write_bytes(b"%PDF-1.7 cut")
            os.kill(os.getpid(), signal.SIGKILL)  # in the middle of writing its PDF
        return real(task, config)

    monkeypatch.setattr(worker, "process", deadly)
    out = tmp_path / "out"
    summary = api.batch([tmp_path / "in"], out, workers=2, as_of=AS_OF)
    rows = manifest(out)
    assert sorted(r["id"] for r in rows) == sorted([*ids, "TP-1001"])  # every record once
    assert summary.counts["final"] == 60 and summary.counts["failed"] == 1
    assert summary.workers_lost == 2  # in its task, then alone
    [lost] = [r for r in rows if r["status"] == "failed"]
    assert (lost["id"], lost["error"], lost["outputs"]) == ("PN-SYN-0033", WORKER_KILLED, [])
    assert len(documents(out)) == 2 * 60 and not list(out.rglob("*.tmp"))
    assert assert_whole_documents(out) == 120


def test_a_plan_that_kills_its_worker_in_the_first_pass_does_not_stop_the_batch(tmp_path, monkeypatch):
    """The first pass validates plans on the workers too: a worker lost there is replaced and the
    plans of the lost task are validated again one at a time; the batch runs to its end."""
    from docgen.batch import plan_index

    _notes_and_plan(tmp_path / "in", 5)
    real, here = plan_index.validate_document, os.getpid()

    def deadly(raw):
        if os.getpid() != here and isinstance(raw.data, dict) and raw.data.get("id") == "TP-1001":
            os.kill(os.getpid(), signal.SIGKILL)  # in a worker of the first pass only
        return real(raw)

    monkeypatch.setattr(plan_index, "validate_document", deadly)
    summary = api.batch([tmp_path / "in"], tmp_path / "out", workers=2, as_of=AS_OF)
    assert summary.records == 6 and summary.counts["final"] + summary.counts["refused"] == 6
    assert summary.workers_lost == 2
    assert {r["id"] for r in manifest(tmp_path / "out")} == {"TP-1001", *(f"PN-SYN-{n:04d}" for n in range(5))}


@pytest.mark.slow
@pytest.mark.skipif(not HAS_PROC, reason="finds the workers in /proc")
def test_a_worker_killed_from_outside_costs_no_record(tmp_path):
    """The real command: one of its workers killed in the middle of the batch. Every record comes
    out once, the exit code is 0, and one warning line tells the operator what happened (memory may
    be short on the machine)."""
    ids = _notes_and_plan(tmp_path / "in", 400)
    out, journal = tmp_path / "out", tmp_path / "out" / ".manifest-journal.jsonl"
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    proc = subprocess.Popen([str(DOCGEN), *BATCH], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert under_way(proc, journal), "the batch ended before a worker could be killed"
        workers = [pid for pid in live_processes(proc.pid)
                   if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(proc.pid)]
        assert len(workers) == 2  # the pool's processes, children of the batch
        os.kill(workers[0], signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, stderr
    assert stderr.splitlines() == ["docgen: warning: a worker process stopped during the batch (killed by the "
                                   "system, perhaps out of memory): the records held were tried again one at a time"]
    rows = manifest(out)
    assert sorted(r["id"] for r in rows) == sorted([*ids, "TP-1001"])
    assert {r["status"] for r in rows} == {"final"}
    assert assert_whole_documents(out) == 2 * 401 and not list(out.rglob("*.tmp"))


def test_a_journal_line_cut_short_does_not_swallow_the_next_row(tmp_path):
    """A kill in the middle of a journal line: the next run ends that line before appending, so
    its own rows stay readable if it is killed too. (Any Executor will do: threads here.)"""
    from concurrent.futures import ThreadPoolExecutor

    from docgen.batch import JOURNAL, run_batch

    source = tmp_path / "refused.jsonl"
    source.write_text("".join(json.dumps(note(line)) + "\n" for line in (1, 2)), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / JOURNAL).write_text('{"id": "PN-1001-01", "status": "compl', encoding="utf-8")

    def killed(row, total):
        raise KeyboardInterrupt  # the batch stops after its first row

    with ThreadPoolExecutor(1) as pool, pytest.raises(KeyboardInterrupt):
        run_batch([str(source)], out, pool, as_of=AS_OF, progress=killed)
    first, second, *rest = (out / JOURNAL).read_text(encoding="utf-8").splitlines()
    assert first == '{"id": "PN-1001-01", "status": "compl' and rest == []
    assert json.loads(second)["status"] == "refused"
    assert not (out / "manifest.jsonl").exists() and not list(out.glob(".*.tmp"))
    assert [e["record_id"] for e in api.audit(out)] == [json.loads(second)["id"]]  # committed with it


def test_a_task_is_in_the_trail_before_the_journal_and_a_run_killed_between_is_redone(tmp_path):
    """A task's records are committed to the trail together, before the journal says any is done: a run
    killed after its first journal line has that record's event (and its task's others), and the next
    run does the rest."""
    from concurrent.futures import ThreadPoolExecutor

    from docgen.batch import JOURNAL, chunk_size, run_batch

    source = tmp_path / "notes.jsonl"
    source.write_text("".join(json.dumps({**note(0), "id": f"PN-K-{n:02d}"}) + "\n" for n in range(1, 81)),
                      encoding="utf-8")
    out = tmp_path / "out"
    first_task = chunk_size(80, 1)
    assert first_task > 1

    def killed(row, total):
        raise KeyboardInterrupt

    with ThreadPoolExecutor(1) as pool, pytest.raises(KeyboardInterrupt):
        run_batch([str(source)], out, pool, as_of=AS_OF, progress=killed)
    journaled = [json.loads(line)["id"] for line in (out / JOURNAL).read_text(encoding="utf-8").splitlines()]
    events = [e["record_id"] for e in api.audit(out)]
    assert len(journaled) == 1 and journaled[0] == events[0] and len(events) == first_task
    with ThreadPoolExecutor(1) as pool:
        summary = run_batch([str(source)], out, pool, as_of=AS_OF)
    assert [r["id"] for r in manifest(out)] == [f"PN-K-{n:02d}" for n in range(1, 81)]
    assert summary.records == 80 and not (out / JOURNAL).exists()


@pytest.mark.skipif(sys.platform != "linux", reason="a file name of any bytes")
def test_a_file_name_that_is_not_utf8(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from docgen.batch import run_batch

    (tmp_path / "in").mkdir()
    odd = tmp_path / "in" / os.fsdecode(b"caf\xe9.yaml")  # a Latin-1 name
    shutil.copy(FIXTURES / "notes" / "note-invalid-schema.yaml", odd)
    shutil.copy(FIXTURES / "notes" / "note-invalid-schema.yaml", tmp_path / "in" / "copy.yaml")
    with ThreadPoolExecutor(1) as pool:
        summary = run_batch([str(tmp_path / "in")], tmp_path / "out", pool, as_of=AS_OF)
    assert (summary.counts["invalid"], summary.counts["failed"]) == (1, 1)
    rows = manifest(tmp_path / "out")
    assert [(r["source"], r["status"]) for r in rows] == [(str(odd), "invalid"),
                                                           (str(tmp_path / "in" / "copy.yaml"), "failed")]
    assert "caf\\udce9.yaml" in rows[1]["error"]
    assert b"caf\xe9.yaml," in (tmp_path / "out" / "manifest.csv").read_bytes()  # the name's own bytes


# --- the audit trail ----------------------------------------------------------------------------------------
def test_audit_trail_one_event_per_generated_record_no_names(first):
    base, _ = first
    out = base / "out"
    rows = manifest(out)
    events = api.audit(out)
    assert len(events) == len(rows)  # every record processed (nothing skipped in a first run)
    generated = [e for e in events if e["outcome"] in ("final", "draft")]
    assert sorted(e["record_id"] for e in generated) == sorted(r["id"] for r in rows if r["status"] == "final")
    produced = by_id(rows)
    for event in generated:
        row = produced[event["record_id"]]
        assert event["outputs"] == [{"path": o["path"], "sha256": o["sha256"]} for o in row["outputs"]]
        assert event["input_sha256"] == row["input_sha256"] and event["profile"] == row["profile"]
        assert event["os_user"] and event["host"] and event["docgen_version"]

    checked = api.check([base / "in"], as_of=AS_OF)
    names = {r.record.client.name for r in checked if r.record is not None}
    assert len(names) >= 7
    words = {w.lower() for n in names for w in re.split(r"\W+", n) if len(w) >= 5}
    stored = b"".join(p.read_bytes() for p in out.glob("audit.sqlite*"))
    db = sqlite3.connect(out / "audit.sqlite")
    text = " ".join(str(v) for row in db.execute("SELECT * FROM events") for v in row).lower()
    db.close()
    for name in names:
        assert name.encode("utf-8") not in stored and name.lower() not in text, name
    for word in words:  # a surname in a file name (notes-ortiz-tp1001.jsonl) is a client name too
        assert word not in text, word
    assert "thought record" not in text and "suicid" not in text  # no clinical text


def test_audit_trail_refuses_update_and_delete(first):
    db = sqlite3.connect(first[0] / "out" / "audit.sqlite")
    try:
        count = db.execute("SELECT count(*) FROM events").fetchone()[0]
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE events SET outcome = 'final'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("DELETE FROM events WHERE record_id = 'TP-1001'")
        db.rollback()
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] == count
    finally:
        db.close()


def test_audit_command_record_since_and_text(first, tmp_path):
    out = first[0] / "out"
    events = {r["id"]: r for r in manifest(out) if r["status"] == "final"}
    result = CliRunner().invoke(main, ["audit", str(out), "--record", "PN-1001-04", "--format", "json"])
    assert result.exit_code == 0, result.output
    (event,) = json.loads(result.stdout)["events"]
    assert event["record_id"] == "PN-1001-04" and event["outcome"] == "final"
    assert [o["sha256"] for o in event["outputs"]] == [o["sha256"] for o in events["PN-1001-04"]["outputs"]]

    # --since: an older event appended to a copy of the trail (INSERT is allowed, the trail only grows,
    # if the row is chained: see tests/test_chain.py)
    from docgen.ledger.chain import HASHED, link

    trail = tmp_path / "audit.sqlite"
    shutil.copy(out / "audit.sqlite", trail)
    rows, head = api.trail_head(trail)
    db = sqlite3.connect(trail)
    seq = db.execute("SELECT max(seq) FROM events").fetchone()[0] + 1
    row = {"seq": seq, "chain": rows + 1, "at": "2026-01-05T09:00:00+00:00", "os_user": "u", "host": "h",
           "docgen_version": "0.0.1", "profile": None, "record_id": "PN-1001-04", "kind": "progress_note",
           "outcome": "final", "source": None, "input_sha256": None, "outputs": "[]"}
    columns = (*HASHED["events"], "prev_sha256", "row_sha256")
    db.execute(f"INSERT INTO events ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
               (*(row[c] for c in HASHED["events"]), head, link(head, "events", row)))
    db.commit()
    db.close()
    assert api.verify_trail(trail).intact

    def ats(*args) -> list[str]:
        got = CliRunner().invoke(main, ["audit", str(trail), "--record", "PN-1001-04", "--format", "json", *args])
        assert got.exit_code == 0, got.output
        return [e["at"] for e in json.loads(got.stdout)["events"]]

    assert ats() == [event["at"], "2026-01-05T09:00:00+00:00"]  # in the order they were appended
    assert ats("--since", "2026-01-01") == [event["at"], "2026-01-05T09:00:00+00:00"]
    assert ats("--since", "2026-06-01") == [event["at"]]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert ats("--since", tomorrow) == []

    text = CliRunner().invoke(main, ["audit", str(out), "--record", "TP-1001"])
    assert text.exit_code == 0 and "TP-1001" in text.stdout and "1 events" in text.stdout
    missing = CliRunner().invoke(main, ["audit", str(tmp_path / "nothing")])
    assert missing.exit_code == 2


# --- progress output ---------------------------------------------------------------------------------------
def test_no_progress_output_off_a_terminal(first):
    _, run = first
    for stream in (run.stdout, run.stderr):
        assert "\x1b[" not in stream and "\r" not in stream
    assert not re.search(r"\b\d+/\d+\b", run.stderr)  # the bar's "12/36"
    assert all(": record " in line for line in run.stderr.splitlines())


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_progress_bar_on_a_terminal_goes_to_stderr(tmp_path):
    """The bar is drawn on stderr when stderr is a terminal, even with stdout redirected to a file."""
    import pty

    (tmp_path / "in").mkdir()
    shutil.copy(FIXTURES / "csv" / "notes-sample.csv", tmp_path / "in")
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    with (tmp_path / "stdout.txt").open("wb") as stdout:
        proc = subprocess.Popen([str(DOCGEN), "batch", "in", "--out", "out", "--workers", "1", "--as-of",
                                 AS_OF.isoformat()], cwd=tmp_path, env=env, stdout=stdout, stderr=follower,
                                stdin=subprocess.DEVNULL)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 1
    assert b"records" in seen and b"/4" in seen, seen[:500]
    written = (tmp_path / "stdout.txt").read_text(encoding="utf-8")
    assert written.lstrip().startswith("docgen batch") and "\x1b" not in written


# --- the Dask path (last: the client leaves threads behind) ---------------------------------------------------
@pytest.mark.slow
def test_dask_cluster_produces_the_same_files(first, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    import logging

    base, _ = first
    local = manifest(base / "out")
    monkeypatch.chdir(tmp_path)  # the workers start in another folder than the batch's (as on a real cluster)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster:
        monkeypatch.chdir(base)  # the same relative sources as the local run
        summary = api.batch(["in"], tmp_path / "out", scheduler=cluster.scheduler_address, as_of=AS_OF)
    assert not summary.ok and summary.counts == dict(Counter(r["status"] for r in local), draft=0, skipped=0, locked=0)
    remote = manifest(tmp_path / "out")
    keys = ("source", "id", "kind", "client", "profile", "status", "blockers", "warnings", "outputs", "input_sha256")
    assert [{k: r.get(k) for k in keys} for r in remote] == [{k: r.get(k) for k in keys} for r in local]
    assert {k: sha256(p) for k, p in documents(tmp_path / "out").items()} == \
        {k: sha256(p) for k, p in documents(base / "out").items()}
    assert len(api.audit(tmp_path / "out")) == len(remote)


# --- flushing to disk -----------------------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform != "linux", reason="file names of descriptors from /proc")
def test_a_local_batch_flushes_once_at_its_end_and_a_remote_one_each_file(tmp_path, monkeypatch):
    """Local workers skip the per-file fsync (a killed process loses nothing the kernel holds) and the
    batch calls sync once before committing its manifest; an executor whose workers may be on other
    machines (anything but a local pool: Dask) fsyncs every file it writes."""
    from concurrent.futures import Executor, Future, ThreadPoolExecutor

    from docgen.batch import run_batch

    calls = {"fsync": 0, "sync": 0}  # fsync of documents (the manifest is always flushed)
    real_fsync = os.fsync

    def fsync(fd):
        if re.search(r"\.(pdf|docx)\.[^/]*\.tmp$", os.readlink(f"/proc/self/fd/{fd}")):
            calls["fsync"] += 1
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "sync", lambda: calls.__setitem__("sync", calls["sync"] + 1))
    source = FIXTURES / "plans" / "plan-adult-mdd-complete.yaml"
    with ThreadPoolExecutor(1) as pool:
        summary = run_batch([str(source)], tmp_path / "local", pool, as_of=AS_OF)
    assert summary.counts["final"] == 1 and len(documents(tmp_path / "local")) == 2
    assert calls == {"fsync": 0, "sync": 1}

    class Remote(Executor):  # stands in for a Dask client's executor
        _max_workers = 1

        def submit(self, fn, /, *args, **kwargs):
            future: Future = Future()
            future.set_result(fn(*args, **kwargs))
            return future

    summary = run_batch([str(source)], tmp_path / "remote", Remote(), as_of=AS_OF)
    assert summary.counts["final"] == 1
    assert calls == {"fsync": 2, "sync": 1}  # the two documents, each flushed; no global sync


def test_first_pass_parses_only_lines_that_can_hold_a_plan_or_addendum(tmp_path):
    """The index pass counts every JSONL line but parses only those that can be plans or addenda,
    including a plan whose kind is spelled with JSON escapes."""
    from docgen.batch import _neither_plan_nor_addendum, index_plans

    plan = builders.plan_dict()
    escaped = json.dumps(plan, default=str).replace('"treatment_plan"', '"\\u0074reatment_plan"')
    note = json.dumps({"kind": "progress_note", "id": "PN-X", "text": "caf\u00e9"}, default=str)  # \u00e9: not a letter
    source = tmp_path / "mixed.jsonl"
    source.write_text("\n".join([note, escaped, note]) + "\n", encoding="utf-8")
    assert _neither_plan_nor_addendum(note.encode()) and not _neither_plan_nor_addendum(escaped.encode())
    plans, count, addenda = index_plans([source])
    assert count == 3 and list(plans) == [plan["id"]] and addenda == []


def test_a_batch_reports_nesting_too_deep_from_its_worker(tmp_path):
    """The main process reads records for their ids only; the worker that validates a record checks its
    nesting, as render and check do (a plan too deep is not indexed either)."""
    from concurrent.futures import ThreadPoolExecutor

    from docgen.batch import run_batch

    plan, deep = builders.plan_dict(), builders.plan_dict()
    deep["id"], deep["client"]["id"] = "TP-DEEP", "C-DEEP"
    deep["goals"][0]["objectives"][0]["x"] = json.loads("[" * 40 + "]" * 40)
    note = builders.note_dict()
    note["plan_id"] = "TP-DEEP"
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r, default=str) for r in (plan, deep, note)) + "\n", encoding="utf-8")
    with ThreadPoolExecutor(2) as pool:
        summary = run_batch([str(source)], tmp_path / "out", pool, formats=("pdf",), as_of=AS_OF, allow_draft=True)
    rows = {row["id"]: row for row in summary.rows}
    assert summary.counts["final"] + summary.counts["draft"] == 2 and rows["TP-DEEP"]["status"] == "invalid"
    assert rows["TP-DEEP"]["findings"][0]["message"] == "nesting deeper than 32 levels"
