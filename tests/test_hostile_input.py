"""Hostile input and failing machines (issue #12): invisible characters in ids, lone surrogates, CSV
formula injection, two batches in one folder, a full disk, damaged trails, modes, symlinks, failed
records that must be redone."""
from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import builders
from docgen import api
from docgen.batch import run_batch
from docgen.findings import Outcome, Status
from test_cli import invoke

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
AS_OF = "2026-11-24"
DOCGEN = Path(sys.executable).with_name("docgen")


def write(path: Path, records) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def plan(record_id: str = "TP-1001", **changes) -> dict:
    data = builders.plan_dict()
    data["id"] = record_id
    data.update(changes)
    return data


def batch(inputs, out, **options):
    with ThreadPoolExecutor(2) as pool:
        return run_batch([str(i) for i in inputs], out, pool, as_of=builders.AS_OF, **options)


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]


# --- ids ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("invisible", ["\u00a0", "\u200b", "\u202e", "\ufeff", "\u2028", "\t", "\u3000"])
def test_an_id_holding_an_invisible_or_bidi_character_is_invalid_with_a_finding_on_id(invisible):
    result = api.check_record(plan(f"TP-1001{invisible}X"), as_of=builders.AS_OF)
    assert result.status is Status.invalid
    assert [f.path for f in result.findings] == ["id"]
    assert "TP-1001" not in result.findings[0].message  # the value is not echoed


def test_ids_are_nfc_normalised_and_a_decomposed_twin_is_a_duplicate(tmp_path):
    composed, decomposed = "TP-CAF\u00c9", "TP-CAFE\u0301"
    result = api.check_record(plan(decomposed), as_of=builders.AS_OF)
    assert result.record.id == composed
    write(tmp_path / "in" / "a.json", [plan(composed)])
    write(tmp_path / "in" / "b.json", [plan(decomposed, presenting_concerns="Other content.")])
    rendered = api.render([tmp_path / "in"], tmp_path / "out", as_of=builders.AS_OF)
    assert [r.outcome for r in rendered] == [Outcome.final, Outcome.failed]
    assert "duplicate record id" in rendered[1].error
    summary = batch([tmp_path / "in"], tmp_path / "batch")
    assert summary.counts["final"] == 1 and summary.counts["failed"] == 1


def test_a_trailing_space_does_not_make_a_second_record_that_overwrites_the_first(tmp_path):
    write(tmp_path / "in" / "a.json", [plan("TP-1001"), plan("TP-1001 ", presenting_concerns="Other.")])
    summary = batch([tmp_path / "in"], tmp_path / "out")
    assert summary.counts["final"] == 1 and summary.counts["failed"] == 1


def test_night_two_with_an_invisible_character_never_deletes_the_locked_documents(tmp_path):
    """The attack: night 1 renders TP-1001 final; night 2 holds 'TP-1001<NBSP>' with changed content."""
    write(tmp_path / "n1" / "plan.json", [plan("TP-1001")])
    batch([tmp_path / "n1"], tmp_path / "out")
    documents = sorted(p for p in (tmp_path / "out").rglob("*") if p.suffix in (".pdf", ".docx"))
    before = {p: p.read_bytes() for p in documents}
    write(tmp_path / "n2" / "plan.json", [plan("TP-1001\u00a0", presenting_concerns="Changed after signing.")])
    summary = batch([tmp_path / "n2"], tmp_path / "out")
    assert summary.counts["invalid"] == 1 and not summary.ok
    assert {p: p.read_bytes() for p in documents} == before
    for row in rows(tmp_path / "out"):
        for item in row["outputs"]:
            assert (tmp_path / "out" / item["path"]).is_file()
    events = api.audit(tmp_path / "out")
    assert all(e["record_id"] for e in events), "every event names its record"


# --- text ---------------------------------------------------------------------------------------
def test_a_lone_surrogate_makes_the_record_invalid_and_the_others_go_on(tmp_path):
    bad = plan("TP-BAD")
    bad["presenting_concerns"] = "cut at a code unit \ud800"
    source = tmp_path / "in" / "records.json"
    source.parent.mkdir()
    source.write_text(json.dumps([bad, plan("TP-GOOD")]), encoding="utf-8")  # json escapes it as \ud800
    result = invoke("render", source, "--out", tmp_path / "out", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "presenting_concerns" in result.stderr and "TP-BAD" in result.stderr
    assert (tmp_path / "out" / "TP-GOOD.pdf").is_file()
    summary = batch([tmp_path / "in"], tmp_path / "batch")
    assert summary.counts == {**summary.counts, "final": 1, "invalid": 1}
    assert (tmp_path / "batch" / "manifest.jsonl").is_file()


# --- manifest -----------------------------------------------------------------------------------
@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_manifest_csv_cells_cannot_be_formulas(tmp_path, lead):
    record = plan(f"{lead}HYPERLINK(\"http://x\")")
    record["client"]["id"] = f"{lead}CMD"
    write(tmp_path / "in" / "a.json", [record])
    batch([tmp_path / "in"], tmp_path / "out")
    with (tmp_path / "out" / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in cells), cells


# --- runs, disks, trails, modes -----------------------------------------------------------------
def test_a_second_batch_into_the_same_folder_is_refused_and_deletes_nothing(tmp_path):
    import fcntl

    write(tmp_path / "in" / "a.json", [plan("TP-1001")])
    out = tmp_path / "out"
    out.mkdir()
    leftover = out / ".manifest.jsonl.other-run.tmp"
    leftover.write_text("another run's file", encoding="utf-8")
    held = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running batch holds its folder
        result = invoke("batch", tmp_path / "in", "--out", out, "--as-of", AS_OF, "--workers", "1")
    finally:
        os.close(held)
    assert result.exit_code == 2 and "another batch is writing" in result.stderr
    assert leftover.is_file(), "never delete another run's files"


def test_a_record_that_failed_is_redone_on_the_next_run_and_an_edited_output_too(tmp_path):
    write(tmp_path / "in" / "a.json", [plan("TP-1001")])
    out = tmp_path / "out"
    assert batch([tmp_path / "in"], out).counts["final"] == 1
    pdf = next((out / "C-1001").glob("*.pdf"))
    pdf.unlink()
    pdf.mkdir()  # a folder in the way of the file
    failed = batch([tmp_path / "in"], out)
    assert failed.counts["failed"] == 1 and failed.counts["skipped"] == 0
    pdf.rmdir()
    again = batch([tmp_path / "in"], out)
    assert again.counts["final"] == 1 and again.counts["skipped"] == 0, "a record without its outputs is redone"
    assert batch([tmp_path / "in"], out).counts["skipped"] == 1
    data = bytearray(pdf.read_bytes())
    data[-20] ^= 1  # a same-size edit
    pdf.write_bytes(bytes(data))
    edited = batch([tmp_path / "in"], out)
    assert edited.counts["final"] == 1 and edited.counts["skipped"] == 0


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root to mount")
def test_a_full_disk_is_one_line_leaves_nothing_partial_and_a_rerun_completes(tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    records = [plan(f"TP-{i:04d}") for i in range(40)]
    write(tmp_path / "in" / "plans.json", records)
    script = (f"mount -t tmpfs -o size=600k none {small} && {DOCGEN} batch {tmp_path / 'in'} --out {small / 'out'} "
              f"--as-of {AS_OF} --workers 1 --format pdf; echo \"rc=$?\"; ls -a {small / 'out'} | grep -c tmp || true")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300,
                          check=False)
    assert "Traceback" not in proc.stderr
    assert "rc=1" in proc.stdout, proc.stdout + proc.stderr
    assert "No space left on device" in proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "0", "no temporary file left behind"


def test_a_damaged_trail_is_one_line_and_exit_2(tmp_path):
    trail = tmp_path / "audit.sqlite"
    trail.write_bytes(b"this is not a database" * 100)
    source = FIXTURES / "plans" / "plan-adult-mdd-complete.yaml"
    for args in (["check", source, "--audit", trail, "--as-of", AS_OF], ["audit", trail],
                 ["render", source, "--out", tmp_path / "out", "--audit", trail, "--as-of", AS_OF],
                 ["batch", source, "--out", tmp_path / "bout", "--audit", trail, "--as-of", AS_OF]):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1 and "damaged" in result.stderr, result.stderr


def test_output_folders_and_the_trail_are_the_owners_only(tmp_path):
    write(tmp_path / "in" / "a.json", [plan("TP-1001")])
    api.render([tmp_path / "in"], tmp_path / "render", as_of=builders.AS_OF)
    batch([tmp_path / "in"], tmp_path / "batch")
    for path in (tmp_path / "render", tmp_path / "batch", tmp_path / "batch" / "C-1001"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in (tmp_path / "render" / "audit.sqlite", tmp_path / "batch" / "audit.sqlite",
                 tmp_path / "batch" / "manifest.jsonl", tmp_path / "batch" / "manifest.csv"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_client_folder_that_is_a_symlink_is_refused(tmp_path):
    write(tmp_path / "in" / "a.json", [plan("TP-1001")])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "C-1001").symlink_to(elsewhere, target_is_directory=True)
    summary = batch([tmp_path / "in"], out)
    assert summary.counts["failed"] == 1 and list(elsewhere.iterdir()) == []
    assert "symbolic link" in summary.rows[0]["error"]


def test_a_read_only_trail_can_still_be_read(tmp_path):
    source = FIXTURES / "plans" / "plan-adult-mdd-complete.yaml"
    api.render([source], tmp_path / "out", as_of=builders.AS_OF)
    trail = tmp_path / "out" / "audit.sqlite"
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    shutil.copy(trail, snapshot / "audit.sqlite")
    script = (f"mount -o bind,ro {snapshot} {snapshot} && {DOCGEN} audit {snapshot / 'audit.sqlite'} --format json "
              f"&& {DOCGEN} check {source} --audit {snapshot / 'audit.sqlite'} --as-of {AS_OF}")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root to mount")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert '"record_id": "TP-1001"' in proc.stdout


def test_sqlite_trail_has_no_client_names(tmp_path):
    write(tmp_path / "in" / "a.json", [plan("TP-1001")])
    batch([tmp_path / "in"], tmp_path / "out")
    dump = "\n".join(sqlite3.connect(tmp_path / "out" / "audit.sqlite").iterdump())
    assert builders.CLIENT["name"] not in dump


# --- pdf-style.toml -----------------------------------------------------------------------------
@pytest.mark.parametrize("setting, named", [
    ("font_size = 95", "font_size"), ("font_size = 300", "font_size"), ("font_size = 0.001", "font_size"),
    ("font_size = -9", "font_size"), ('font_size = "9.5"', "font_size"), ("font_size = true", "font_size"),
    ("margin_inch = 4.2", "margin_inch"), ("margin_inch = 6", "margin_inch"), ("margin_inch = 8", "margin_inch"),
    ("margin_inch = -5", "margin_inch"), ("page_size = 4", "page_size"), ("text_color = 12", "text_color"),
    ("compression = 9", "compression"),
])
def test_a_style_out_of_range_is_one_usage_error_naming_the_key_and_the_range(tmp_path, setting, named):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "docgen" / "templates", templates)
    (templates / "pdf-style.toml").write_text(setting + "\n", encoding="utf-8")
    result = invoke("render", FIXTURES / "plans" / "plan-adult-mdd-complete.yaml", "--out", tmp_path / "out",
                    "--templates", templates, "--as-of", AS_OF, "--format", "pdf")
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert named in line and ("between" in line or "must be" in line), line
    assert not (tmp_path / "out").exists()


def test_the_layout_fails_the_record_instead_of_looping_when_nothing_fits():
    """A style that gets past the checks (or a future bug) must never make a page loop forever."""
    from docgen.errors import LayoutError
    from docgen.render.pdf.layout import _Layout

    class Tiny:  # a page with no room at all between its margins
        class style:
            margin_inch = 0.5
        pagesize = (72.0, 72.0)
        styles = None

    layout = _Layout(Tiny())
    with pytest.raises(LayoutError):
        for _ in range(100_000):
            layout.new_page()
