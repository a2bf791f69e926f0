"""One record lifecycle: check, render and batch agree on every record; the in-memory API; settings;
usage errors before any work; one message for one failure wherever it happens."""
from __future__ import annotations

import ast
import copy
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pypdf
import pytest

import builders
from docgen import api
from docgen.batch import run_batch
from docgen.cli import main
from docgen.findings import Outcome, Status
from test_cli import invoke

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
AS_OF = "2026-11-24"
DOCGEN = Path(sys.executable).with_name("docgen")

#: What each verdict of check becomes in render and batch without drafts.
OUTCOME_OF = {Status.complete: Outcome.final, Status.incomplete: Outcome.refused, Status.invalid: Outcome.invalid}


def corpus(tmp_path: Path) -> Path:
    """Every fixture, plus a complete plan whose payer names a profile docgen does not have."""
    folder = tmp_path / "in"
    shutil.copytree(FIXTURES, folder, ignore=shutil.ignore_patterns("*.md"))
    unknown = builders.plan_dict()
    unknown["id"], unknown["payer"]["profile"] = "TP-UNKNOWN-PROFILE", "acme-custom"
    (folder / "zz-unknown-profile.json").write_text(json.dumps(unknown), encoding="utf-8")
    return folder


def test_check_render_and_batch_agree_on_every_record(tmp_path):
    folder = corpus(tmp_path)
    checked = {(r.source, r.id): r.status for r in api.check([folder], as_of=builders.AS_OF)}
    rendered = {(r.result.source, r.id): r.outcome
                for r in api.render([folder], tmp_path / "render", as_of=builders.AS_OF)}
    with ThreadPoolExecutor(2) as pool:
        run_batch([str(folder)], tmp_path / "batch", pool, as_of=builders.AS_OF)
    rows = [json.loads(line) for line in (tmp_path / "batch" / "manifest.jsonl").read_text().splitlines()]
    batched = {(r["source"], r["id"]): Outcome(r["status"]) for r in rows}
    assert len(checked) >= 30
    expected = {key: OUTCOME_OF[status] for key, status in checked.items()}
    assert rendered == expected
    # the batch names sources relative to where it runs; compare by id (ids are unique in the corpus)
    by_id = {record_id: outcome for (_source, record_id), outcome in expected.items()}
    assert {record_id: outcome for (_source, record_id), outcome in batched.items()} == by_id
    assert by_id["TP-UNKNOWN-PROFILE"] is Outcome.refused


def _crisis(note_id: str, day: str, minutes: int = 60) -> dict:
    note = builders.note_dict()
    note.update(id=note_id, service_type="crisis", cpt_codes=["90839"], session_date=day, psychotherapy_minutes=minutes)
    del note["start_time"], note["end_time"]
    note["signatures"][0]["date"] = day
    return note


def test_check_render_and_batch_agree_on_two_crisis_notes_of_one_day(tmp_path):
    """90839 once per day for the client: two crisis notes of one day, in different files, are refused by
    check, render and batch alike; a crisis note of another day stays final."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(_crisis("PN-CR-1", "2026-11-23")), encoding="utf-8")
    (folder / "b.jsonl").write_text(json.dumps(_crisis("PN-CR-2", "2026-11-23", 45)) + "\n"
                                    + json.dumps(_crisis("PN-CR-3", "2026-11-20")) + "\n", encoding="utf-8")
    (folder / "plan.json").write_text(json.dumps(builders.plan_dict()), encoding="utf-8")
    checked = {r.id: OUTCOME_OF[r.status] for r in api.check([folder], as_of=builders.AS_OF)}
    rendered = {r.id: r.outcome for r in api.render([folder], tmp_path / "render", as_of=builders.AS_OF)}
    with ThreadPoolExecutor(2) as pool:
        run_batch([str(folder)], tmp_path / "batch", pool, as_of=builders.AS_OF)
    rows = [json.loads(line) for line in (tmp_path / "batch" / "manifest.jsonl").read_text().splitlines()]
    batched = {r["id"]: Outcome(r["status"]) for r in rows}
    assert checked == rendered == batched
    assert checked == {"PN-CR-1": Outcome.refused, "PN-CR-2": Outcome.refused, "PN-CR-3": Outcome.final,
                       "TP-1001": Outcome.final}
    rules = {r["id"]: {f["rule"] for f in r.get("findings", [])} for r in rows}
    assert rules["PN-CR-1"] == rules["PN-CR-2"] == {"crisis-time"}


def test_a_record_naming_an_unknown_profile_is_never_locked_by_a_batch(tmp_path):
    folder = corpus(tmp_path)
    with ThreadPoolExecutor(2) as pool:
        summary = run_batch([str(folder)], tmp_path / "out", pool, as_of=builders.AS_OF)
    assert summary.counts["refused"] >= 1
    assert api.locks(tmp_path / "out", record="TP-UNKNOWN-PROFILE") == []
    [result] = [r for r in api.check([folder], as_of=builders.AS_OF) if r.id == "TP-UNKNOWN-PROFILE"]
    assert [f.rule for f in result.blockers] == ["profile"]


# --- the in-memory API --------------------------------------------------------------------------
def test_check_record_and_render_record_work_on_a_dict_in_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DOCGEN_AUDIT", raising=False)
    plan = builders.plan_dict()
    result = api.check_record(plan, as_of=builders.AS_OF)
    assert result.status is Status.complete and result.profile == "default"
    rendered = api.render_record(plan, as_of=builders.AS_OF)
    assert rendered.status is Outcome.final and set(rendered.documents) == {"docx", "pdf"}
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(rendered.documents["pdf"])).pages)
    assert plan["id"] in text and plan["client"]["name"] in text
    with zipfile.ZipFile(io.BytesIO(rendered.documents["docx"])) as docx:
        assert plan["client"]["name"] in docx.read("word/document.xml").decode("utf-8")
    assert list(tmp_path.iterdir()) == [], "pure: no file, no lock, no audit trail"


def test_render_record_refuses_or_drafts_an_incomplete_record_and_never_renders_an_invalid_one():
    plan = builders.plan_dict()
    del plan["consents"]
    refused = api.render_record(plan, as_of=builders.AS_OF, formats=("pdf",))
    assert refused.status is Outcome.refused and refused.documents == {}
    assert "consent-treatment" in {f.rule for f in refused.findings}
    draft = api.render_record(plan, as_of=builders.AS_OF, formats=("pdf",), allow_draft=True)
    assert draft.status is Outcome.draft and draft.documents["pdf"].startswith(b"%PDF")
    invalid = api.render_record({"kind": "treatment_plan", "id": "TP-X"}, as_of=builders.AS_OF)
    assert invalid.status is Outcome.invalid and invalid.documents == {} and invalid.findings


def test_check_record_checks_a_note_against_the_plan_given():
    note = builders.note_dict()
    note["goals_addressed"][0]["goal_id"] = "G-NOT-IN-PLAN"
    alone = api.check_record(note, as_of=builders.AS_OF)
    with_plan = api.check_record(note, as_of=builders.AS_OF, plan=builders.plan_dict())
    assert "note-goal-link" not in {f.rule for f in alone.findings}  # the plan is not known: not verifiable
    assert "note-goal-link" in {f.rule for f in with_plan.blockers}


def test_the_same_record_gives_the_same_bytes_in_memory_and_on_disk(tmp_path):
    source = FIXTURES / "plans" / "plan-adult-mdd-complete.yaml"
    from docgen.load import parse_yaml

    data = parse_yaml(source.read_text(encoding="utf-8"))
    [on_disk] = api.render([source], tmp_path / "out", formats=("pdf",), as_of=builders.AS_OF)
    in_memory = api.render_record(data, formats=("pdf",), as_of=builders.AS_OF)
    assert on_disk.outcome is in_memory.outcome is Outcome.final
    # the record's file only tells where signature images are; this plan has none
    assert (tmp_path / "out" / "TP-1001.pdf").read_bytes() == in_memory.documents["pdf"]


# --- settings -----------------------------------------------------------------------------------
def test_docgen_audit_is_honoured_by_the_api_as_by_the_cli(tmp_path, monkeypatch):
    trail = tmp_path / "agency" / "trail.sqlite"
    monkeypatch.setenv("DOCGEN_AUDIT", str(trail))
    api.render([FIXTURES / "plans" / "plan-adult-mdd-complete.yaml"], tmp_path / "out", as_of=builders.AS_OF)
    assert not (tmp_path / "out" / "audit.sqlite").exists()
    assert [lock["record_id"] for lock in api.locks(trail)] == ["TP-1001"]
    # check reads the same trail: a changed TP-1001 is locked there
    changed = builders.plan_dict()
    changed["presenting_concerns"] = "Changed after it was signed."
    source = tmp_path / "changed.json"
    source.write_text(json.dumps(changed), encoding="utf-8")
    [result] = api.check([source], as_of=builders.AS_OF)
    assert "locked" in {f.rule for f in result.blockers}


def test_every_environment_variable_is_read_in_the_settings_module_only():
    readers = []
    for path in (ROOT / "docgen").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"os\.environ|os\.getenv|envvar=", text) and path.name != "settings.py":
            readers.append(path.relative_to(ROOT).as_posix())
    assert readers == []
    from docgen.settings import ENVIRONMENT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ENVIRONMENT:
        assert f"`{name}`" in readme, f"{name} is not in the README's settings table"


# --- usage errors before any work, and one message per failure ----------------------------------
@pytest.mark.parametrize("command", ["render", "batch"])
def test_a_bad_pdf_style_is_one_usage_error_naming_the_setting_before_any_work(tmp_path, command):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "docgen" / "templates", templates)
    (templates / "pdf-style.toml").write_text('page_size = "tabloid"\n', encoding="utf-8")
    out = tmp_path / "out"
    result = invoke(command, FIXTURES / "plans" / "plan-adult-mdd-complete.yaml", "--out", out,
                    "--templates", templates, "--as-of", AS_OF)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"docgen {command}: --templates: ") and "page_size" in lines[0]
    assert not out.exists() or [p.name for p in out.rglob("*")] == []


@pytest.mark.parametrize("command", ["render", "batch"])
def test_a_missing_word_template_gives_the_same_message_in_render_and_batch(tmp_path, command):
    templates = tmp_path / "templates"
    templates.mkdir()
    shutil.copy(ROOT / "docgen" / "templates" / "pdf-style.toml", templates)
    result = invoke(command, FIXTURES / "plans" / "plan-adult-mdd-complete.yaml", "--out", tmp_path / "out",
                    "--templates", templates, "--as-of", AS_OF, "--workers", "1") if command == "batch" else \
        invoke(command, FIXTURES / "plans" / "plan-adult-mdd-complete.yaml", "--out", tmp_path / "out",
               "--templates", templates, "--as-of", AS_OF)
    assert result.exit_code == 1
    [line] = [line for line in result.stderr.splitlines() if "TP-1001" in line]
    assert line.endswith(f"record TP-1001: failed: no Word template treatment_plan.docx in {templates}")


@pytest.mark.parametrize("command", ["render", "batch"])
def test_out_under_a_regular_file_is_one_line_and_exit_2(tmp_path, command):
    report = tmp_path / "report.txt"
    report.write_text("not a folder", encoding="utf-8")
    for out in (report, report / "sub"):
        result = invoke(command, FIXTURES / "plans" / "plan-adult-mdd-complete.yaml", "--out", out,
                        "--as-of", AS_OF)
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "report.txt" in lines[-1] and "Traceback" not in result.stderr


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root to mount")
@pytest.mark.parametrize("command", ["render", "batch"])
def test_a_new_out_folder_on_a_read_only_filesystem_is_one_line_and_exit_2(tmp_path, command):
    mount = tmp_path / "ro"
    mount.mkdir()
    script = (f"mount -t tmpfs -o ro,size=1m none {mount} && exec {DOCGEN} {command} "
              f"{FIXTURES / 'plans' / 'plan-adult-mdd-complete.yaml'} --out {mount / 'new'} --as-of {AS_OF}")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert (len(lines) == 1 and "Read-only file system" in lines[0]) or "read-only" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", ["validate", "check", "render", "batch"])
def test_an_empty_input_folder_is_a_warning_and_exit_1_unless_allowed(tmp_path, command):
    empty = tmp_path / "empty"
    empty.mkdir()
    extra = ["--out", str(tmp_path / "out")] if command in ("render", "batch") else []
    result = invoke(command, empty, *extra)
    assert result.exit_code == 1 and "no records found" in result.stderr
    allowed = invoke(command, empty, *extra, "--allow-empty")
    assert allowed.exit_code == 0 and "no records found" in allowed.stderr


# --- structure ----------------------------------------------------------------------------------
#: Commands of the service stage (docgen.serve, after the API: the API does not depend on the web stack):
#: their functions are in docgen.serve, not docgen.api.
SERVICE_COMMANDS = {"serve", "keys"}


def _commands():
    """(command words, function name, module) for every command; a group's subcommands one by one
    (``docgen keys add`` is ``keys_add``)."""
    import click

    from docgen import serve

    for name, command in main.commands.items():
        module = serve if name in SERVICE_COMMANDS else api
        if isinstance(command, click.Group):
            for sub in command.commands:
                yield f"{name} {sub}", f"{name}_{sub}", module
        else:
            yield name, name, module


def test_every_command_has_an_api_function_of_the_same_name_and_a_readme_row():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ("fhir export", "fhir_export", api) in list(_commands())
    for words, function, module in _commands():
        assert callable(getattr(module, function, None)), f"docgen {words} has no {module.__name__}.{function}"
        assert re.search(rf"^\| `docgen {words}[ `]", readme, re.MULTILINE), f"docgen {words} has no README row"


#: The stages in data-flow order: a module may import its own stage and earlier ones only.
STAGES = ["load", "model", "check", "compose", "render", "sign", "ledger", "pipeline", "batch", "fhir", "packet",
          "api", "serve", "cli"]
FOUNDATION = {"errors", "settings", "findings", "write", "pdfguard", "cache", "wording", "__init__"}


def _stage(module: str) -> int:
    top = module.split(".", maxsplit=1)[0]
    if top in FOUNDATION or top == "__version__":  # the foundation, or a name of the docgen package itself
        return -1
    return STAGES.index(top)


def _imports(path: Path) -> list[str]:
    """Every docgen module ``path`` imports (at the top or inside functions), as 'stage.rest'."""
    parts = path.relative_to(ROOT / "docgen").with_suffix("").parts
    package = parts[:-1]  # a module's package; for __init__.py, the package itself
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - (node.level - 1)]
            if node.module:
                found.append(".".join((*base, node.module)))
            else:
                found.extend(".".join((*base, a.name)) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("docgen."):
            found.append(node.module[len("docgen."):])
        elif isinstance(node, ast.Import):
            found.extend(a.name[len("docgen."):] for a in node.names if a.name.startswith("docgen."))
    return found


def test_stages_import_one_way():
    wrong = []
    for path in sorted((ROOT / "docgen").rglob("*.py")):
        own = path.relative_to(ROOT / "docgen").with_suffix("").as_posix().replace("/", ".")
        for target in _imports(path):
            if _stage(target) > _stage(own):
                wrong.append(f"{own} imports {target}")
    assert wrong == []


def test_the_import_scan_sees_a_late_import():
    """The scan itself: a relative import inside a function of an earlier stage is found."""
    assert _stage("check.rules.plan") < _stage("render.pdf")
    found = _imports(ROOT / "docgen" / "check" / "__init__.py")
    assert "findings" in found and "check.rules.signatures" in found  # the second inside a function


def test_no_assert_guards_docgen_code():
    """Safety checks are real raises: ``python -O`` drops asserts."""
    offenders = [path.relative_to(ROOT).as_posix() for path in (ROOT / "docgen").rglob("*.py")
                 if any(isinstance(n, ast.Assert) for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))]
    assert offenders == []


def test_cli_has_one_error_boundary():
    tree = ast.parse((ROOT / "docgen" / "cli.py").read_text(encoding="utf-8"))
    handlers = [n for n in ast.walk(tree) if isinstance(n, ast.Try)]
    assert len(handlers) == 1


def test_api_options_are_keyword_only():
    import inspect

    for name, function, module in _commands():
        fn = getattr(module, function)
        positional = [p.name for p in inspect.signature(fn).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        assert positional in ([], ["paths"], ["path"], ["paths", "out"], ["inputs", "out"], ["path", "out"],
                              ["kind"], ["name"]), (name, positional)
    for fn in (api.check_record, api.render_record):
        assert [p.name for p in inspect.signature(fn).parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD] == \
            ["data"]


def test_copy_of_data_is_not_changed_by_check_record():
    plan = builders.plan_dict()
    before = copy.deepcopy(plan)
    api.check_record(plan, as_of=builders.AS_OF)
    assert plan == before
