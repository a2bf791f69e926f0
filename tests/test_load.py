"""Bad input of any kind gives one-line errors naming file, record id and field path: never a
traceback, never a hang, never client names or clinical text.

Each case writes its file into ``tmp_path``; the slow-to-parse cases (alias bomb, deep nesting)
also run through a real ``docgen`` process with a timeout, so a hang fails the test instead of
stalling the suite.
"""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import date, time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from docgen import api
from docgen.cli import main
from docgen.findings import Status
from docgen.load import parse_yaml, read

ROOT = Path(__file__).resolve().parent.parent
EXEMPLAR = ROOT / "fixtures" / "plans" / "plan-adult-mdd-complete.yaml"
DOCGEN = Path(sys.executable).with_name("docgen")
AS_OF = "2026-11-24"
PLAN_ID = "TP-1001"


# --- helpers -----------------------------------------------------------------------------------
def exemplar() -> dict:
    """The complete exemplar plan as plain data (dates as strings, as the loader reads them)."""
    return copy.deepcopy(_EXEMPLAR)


_EXEMPLAR = parse_yaml(EXEMPLAR.read_text(encoding="utf-8"))


def runner() -> CliRunner:
    """stdout and stderr kept apart: click >= 8.2 always does; 8.1 needs mix_stderr=False."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


def invoke(*args: str):
    result = runner().invoke(main, [str(a) for a in args])
    # an exception other than the command's own sys.exit is a traceback for the user
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def run_docgen(*args: str, timeout: float = 20) -> subprocess.CompletedProcess:
    """A real ``docgen`` process; TimeoutExpired (a hang) fails the test."""
    return subprocess.run([str(DOCGEN), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def only(results):
    assert len(results) == 1, [r.source for r in results]
    return results[0]


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def assert_one_line_errors(stderr: str, file: Path, record_id: str | None) -> list[str]:
    """Every stderr line is ``FILE...: record ID: PATH: MESSAGE``; returns the lines."""
    lines = stderr.splitlines()
    assert lines, "no error on stderr"
    for line in lines:
        assert line.startswith(str(file)), line
        assert f": record {record_id or '(no id)'}: " in line, line
        assert line.count(": ") >= 3, line
    return lines


def billion_laughs() -> str:
    lines = ['kind: treatment_plan', 'id: TP-BOMB', 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def png_bytes() -> bytes:
    return (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
            b"\x1f\xf3\xffa\x00\x00\x00\x00IEND\xaeB`\x82")


# --- the bad inputs ----------------------------------------------------------------------------
# Each case: file name, a writer (Path -> None), the record id expected in messages (None when the
# file cannot be read), the field path one finding must name, and a word its message must hold.
def _plan_with(mutate) -> callable:
    def write(path: Path) -> None:
        data = exemplar()
        mutate(data)
        if path.suffix == ".json":
            write_json(path, data)
        else:
            path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return write


def _set(path_parts, value):
    def mutate(data):
        target = data
        for part in path_parts[:-1]:
            target = target[part]
        target[path_parts[-1]] = value
    return mutate


def _text(content: str):
    return lambda path: path.write_text(content, encoding="utf-8")


def _bytes(content: bytes):
    return lambda path: path.write_bytes(content)


BAD_INPUTS = [
    # unreadable files
    ("empty.json", _text(""), None, "(file)", "empty"),
    ("empty.yaml", _text(""), None, "(file)", "empty"),
    ("empty.jsonl", _text(""), None, "(file)", "empty"),
    ("blank.json", _text("  \n\t\n  "), None, "(file)", "empty"),
    ("blank.yaml", _text("\n\n   \n"), None, "(file)", "empty"),
    ("broken.json", _text('{"kind": "treatment_plan", "id": "TP-1",'), None, "(file)", "broken JSON"),
    ("broken.yaml", _text("kind: treatment_plan\nid: [TP-1\nclient: {\n"), None, "(file)", "broken YAML"),
    ("tabs.yaml", _text("kind: treatment_plan\n\tid: TP-1\n"), None, "(file)", "broken YAML"),
    ("image.json", _bytes(png_bytes()), None, "(file)", "binary"),
    ("image.yaml", _bytes(png_bytes()), None, "(file)", "binary"),
    ("latin1.yaml", _bytes("kind: treatment_plan\nid: TP-1\nnote: caf\xe9\n".encode("latin-1")), None,
     "(file)", "UTF-8"),
    ("bomb.yaml", _text(billion_laughs()), None, "(file)", "alias"),
    ("deep.json", _text("[" * 10_000 + "]" * 10_000), None, "(file)", "nesting"),
    ("deep-objects.json", _text('{"a":' * 10_000 + "1" + "}" * 10_000), None, "(file)", "nesting"),
    ("deep-flow.yaml", _text("kind: treatment_plan\nx: " + "[" * 5_000 + "]" * 5_000 + "\n"), None, "(file)",
     "nesting"),
    ("deep-block.yaml", _text("".join(" " * i + "a:\n" for i in range(5_000))), None, "(file)", "nesting"),
    ("deep-100.json", _text('{"kind": "treatment_plan", "id": "TP-D", "x": ' + "[" * 100 + "]" * 100 + "}"),
     "TP-D", "(file)", "nesting deeper"),
    ("two-docs.yaml", _text("kind: treatment_plan\nid: TP-1\n---\nkind: progress_note\nid: PN-1\n"), None,
     "(file)", "one record"),
    ("dup.json", _text('{"kind": "treatment_plan", "id": "TP-1", "id": "TP-2"}'), None, "(file)",
     "duplicate key"),
    ("dup.yaml", _text("kind: treatment_plan\nid: TP-1\nplan_date: 2026-09-22\nplan_date: 2026-09-23\n"), None,
     "(file)", "duplicate key"),
    ("nan.json", _text('{"kind": "treatment_plan", "id": "TP-1", "review_interval_days": NaN}'), None,
     "(file)", "NaN"),
    ("huge-number.json", _text('{"kind": "treatment_plan", "id": "TP-1", "review_interval_days": '
                               + "9" * 5_000 + "}"), None, "(file)", "number"),
    # YAML numbers stay text until the schema reads them, so the huge number fails on its field.
    ("huge-number.yaml", _text("kind: treatment_plan\nid: TP-1\nreview_interval_days: " + "9" * 5_000 + "\n"),
     "TP-1", "review_interval_days", "integer"),
    ("bad-timestamp-tag.yaml", _text("kind: treatment_plan\nid: TP-1\nplan_date: !!timestamp 2026-02-30\n"),
     None, "(file)", "line 3"),
    ("bad-int-tag.yaml", _text("kind: treatment_plan\nid: TP-1\nreview_interval_days: !!int ninety\n"), None,
     "(file)", "line 3"),
    ("python-tag.yaml", _text("kind: !!python/object/apply:os.system [echo hi]\nid: TP-1\n"), None, "(file)",
     "broken YAML"),
    ("list-key.yaml", _text("kind: treatment_plan\nid: TP-1\n? [a, b]\n: 1\n"), None, "(file)", "key"),
    ("list.yaml", _text("- kind: treatment_plan\n- id: TP-1\n"), None, "(file)", "mapping"),
    ("scalar.json", _text("42"), None, "(file)", "mapping"),
    ("null.yaml", _text("~\n"), None, "(file)", "mapping"),
    ("empty-array.json", _text("[]"), None, "(file)", "empty"),
    ("notes.txt", _text("kind: treatment_plan\n"), None, "(file)", "unsupported"),
    # readable documents that fail the schema
    ("huge-field.json", _plan_with(_set(["presenting_concerns"], "x" * 200_000)), PLAN_ID, "presenting_concerns",
     "100000"),
    ("wrong-int.json", _plan_with(_set(["review_interval_days"], "ninety")), PLAN_ID, "review_interval_days",
     "integer"),
    ("wrong-list.json", _plan_with(_set(["strengths"], "one string")), PLAN_ID, "strengths", "list"),
    ("wrong-mapping.yaml", _plan_with(_set(["client"], ["C-1001"])), PLAN_ID, "client", "dictionary"),
    ("wrong-nested.json", _plan_with(lambda d: d["goals"][0]["objectives"][1].update(target_date=[2026])),
     PLAN_ID, "goals[0].objectives[1].target_date", "date"),
    ("wrong-bool.json", _plan_with(_set(["client", "interpreter_needed"], "perhaps")), PLAN_ID,
     "client.interpreter_needed", "boolean"),
    ("wrong-enum.yaml", _plan_with(_set(["level_of_care"], "sometimes")), PLAN_ID, "level_of_care", "outpatient"),
    ("wrong-enum-nested.json", _plan_with(lambda d: d["signatures"][0].update(method="fax")), PLAN_ID,
     "signatures[0].method", "electronic"),
    ("unknown-kind.json", _plan_with(_set(["kind"], "discharge_summary")), PLAN_ID, "kind", "treatment_plan"),
    ("no-kind.json", _plan_with(lambda d: d.pop("kind")), PLAN_ID, "kind", "missing"),
    ("unknown-instrument.json", _plan_with(lambda d: d["assessments"][1].update(instrument="bdi")), PLAN_ID,
     "assessments[1].instrument", "phq9"),
    ("unknown-field.yaml", _plan_with(lambda d: d["goals"][1].update(colour="blue")), PLAN_ID, "goals[1].colour",
     "unknown field"),
    ("unknown-top-field.json", _plan_with(_set(["favourite_food"], "soup")), PLAN_ID, "favourite_food",
     "unknown field"),
    ("bad-date.yaml", _text(EXEMPLAR.read_text(encoding="utf-8").replace("plan_date: 2026-09-22",
                                                                      "plan_date: 2026-02-30")),
     PLAN_ID, "plan_date", "date"),
    ("bad-date.json", _plan_with(lambda d: d["goals"][0]["objectives"][0].update(target_date="2026-02-30")),
     PLAN_ID, "goals[0].objectives[0].target_date", "date"),
    ("bad-time.json", _plan_with(lambda d: d["signatures"][1].update(time="25:61")), PLAN_ID,
     "signatures[1].time", "time"),
    ("missing-field.json", _plan_with(lambda d: d.pop("payer")), PLAN_ID, "payer", "missing"),
    ("number-key.yaml", _text(EXEMPLAR.read_text(encoding="utf-8") + "2026: a year\n"), PLAN_ID, "2026",
     "unknown field"),
    ("newline-key.json", _plan_with(_set(["bad\nkey\u2028more"], 1)), PLAN_ID, "bad\\nkey\\u2028more",
     "unknown field"),
]
IDS = [case[0] for case in BAD_INPUTS]


@pytest.fixture(params=BAD_INPUTS, ids=IDS)
def bad_file(request, tmp_path):
    name, write, record_id, path, word = request.param
    file = tmp_path / name
    write(file)
    return file, record_id, path, word


def test_bad_input_is_invalid_with_a_finding_naming_the_field(bad_file):
    file, record_id, path, word = bad_file
    result = only(api.validate([file]))
    assert result.status is Status.invalid
    assert result.record is None
    assert result.id == record_id
    assert result.source == str(file)
    assert result.findings, "an invalid record explains why"
    matching = [f for f in result.findings if f.path == path]
    assert matching, [(f.path, f.message) for f in result.findings]
    assert any(word.lower() in f.message.lower() for f in matching), [f.message for f in matching]
    for finding in result.findings:
        assert finding.severity.value == "blocker"
        assert "\n" not in finding.message and "\n" not in finding.path
        assert len(finding.message) <= 300 and len(finding.path) <= 300


def test_bad_input_cli_prints_one_line_per_error_and_exits_1(bad_file):
    file, record_id, path, _ = bad_file
    expected = api.validate([file])
    for command in ("validate", "check"):
        result = invoke(command, file, "--as-of", AS_OF) if command == "check" else invoke(command, file)
        assert result.exit_code == 1, (command, result.output)
        lines = assert_one_line_errors(result.stderr, file, record_id)
        assert len(lines) == sum(len(r.findings) for r in expected)
        assert any(f": {path}: " in line for line in lines), lines
        assert "Traceback" not in result.output + result.stderr
        assert "INVALID" in result.stdout


def test_bad_input_json_report_is_parseable(bad_file):
    file, record_id, path, _ = bad_file
    result = invoke("check", "--format", "json", "--as-of", AS_OF, file)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    (record,) = report["records"]
    assert record["status"] == "invalid"
    assert record["id"] == record_id
    assert record["source"] == str(file)
    assert path in [f["path"] for f in record["findings"]]


@pytest.mark.parametrize("name", ["bomb.yaml", "deep.json", "deep-objects.json", "deep-flow.yaml",
                                  "deep-block.yaml", "huge-field.json", "image.json"])
def test_slow_or_dangerous_inputs_finish_in_a_real_process(tmp_path, name):
    _, write, record_id, _path, _ = next(case for case in BAD_INPUTS if case[0] == name)
    file = tmp_path / name
    write(file)
    proc = run_docgen("check", "--as-of", AS_OF, "--format", "json", file, timeout=20)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert_one_line_errors(proc.stderr, file, record_id)
    assert json.loads(proc.stdout)["records"][0]["status"] == "invalid"


def test_a_folder_of_every_bad_input_in_one_real_run(tmp_path):
    for name, write, *_ in BAD_INPUTS:
        if name.endswith((".json", ".jsonl", ".yaml")):
            write(tmp_path / name)
    proc = run_docgen("check", "--as-of", AS_OF, tmp_path, timeout=20)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    for line in proc.stderr.splitlines():
        assert line.startswith(str(tmp_path)) and ": record " in line, line


# --- YAML keeps what the author typed ---------------------------------------------------------
def test_yaml_times_are_not_sexagesimal_and_words_are_not_booleans(tmp_path):
    file = tmp_path / "note.yaml"
    file.write_text("kind: progress_note\nid: PN-1\nstart_time: 10:30\nend_time: 11:23\n"
                    "answer: no\ncountry: NO\nsession_date: 2026-10-20\nzip: 01234\n", encoding="utf-8")
    (raw,) = read([file])
    assert raw.error is None
    assert raw.data["start_time"] == "10:30"  # not 630 (YAML 1.1 base 60)
    assert raw.data["end_time"] == "11:23"
    assert raw.data["answer"] == "no" and raw.data["country"] == "NO"  # not False
    assert raw.data["session_date"] == "2026-10-20"  # left for the model to parse


def test_unquoted_yaml_time_and_dates_become_real_times_and_dates(tmp_path):
    text = EXEMPLAR.read_text(encoding="utf-8").replace('time: "16:05"', "time: 16:05")
    assert "time: 16:05" in text
    file = tmp_path / "plan.yaml"
    file.write_text(text, encoding="utf-8")
    result = only(api.validate([file]))
    assert result.status is Status.complete, result.findings
    assert result.record.signatures[0].time == time(16, 5)
    assert result.record.plan_date == date(2026, 9, 22)
    assert result.record.client.date_of_birth == date(1987, 4, 12)


def test_yaml_anchor_without_alias_is_fine_but_any_alias_is_refused(tmp_path):
    file = tmp_path / "alias.yaml"
    file.write_text(EXEMPLAR.read_text(encoding="utf-8").replace("author_id: CL-01", "author_id: &a CL-01")
                    + "extra: *a\n", encoding="utf-8")
    result = only(api.validate([file]))
    assert result.status is Status.invalid
    assert "alias" in result.findings[0].message


# --- several documents in one file ------------------------------------------------------------
def test_jsonl_broken_line_among_good_ones(tmp_path):
    first, third = exemplar(), exemplar()
    first["id"], third["id"] = "TP-1", "TP-3"
    file = tmp_path / "batch.jsonl"
    file.write_text(json.dumps(first) + "\n" + '{"kind": "treatment_plan", "id": "TP-2",\n'
                    + "\n" + json.dumps(third) + "\n", encoding="utf-8")
    results = api.validate([file])
    assert [r.source for r in results] == [f"{file}:1", f"{file}:2", f"{file}:4"]
    assert [r.status for r in results] == [Status.complete, Status.invalid, Status.complete]
    assert [r.id for r in results[::2]] == ["TP-1", "TP-3"]
    assert "broken JSON" in results[1].findings[0].message

    result = invoke("check", "--as-of", AS_OF, file)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{file}:2: record (no id): (file): ")
    report = json.loads(invoke("check", "--format", "json", "--as-of", AS_OF, file).stdout)
    assert [r["status"] for r in report["records"]] == ["complete", "invalid", "complete"]


def test_jsonl_line_that_is_not_a_record(tmp_path):
    file = tmp_path / "batch.jsonl"
    good = exemplar()
    file.write_text(json.dumps(good) + "\n[1, 2]\n\"text\"\n", encoding="utf-8")
    results = api.validate([file])
    assert [r.status for r in results] == [Status.complete, Status.invalid, Status.invalid]
    assert results[2].source == f"{file}:3"


def test_json_array_of_records(tmp_path):
    good, bad = exemplar(), exemplar()
    bad["id"] = "TP-2"
    bad["plan_date"] = "2026-13-01"
    file = write_json(tmp_path / "two.json", [good, bad, "not a record"])
    results = api.validate([file])
    assert [r.source for r in results] == [f"{file}[0]", f"{file}[1]", f"{file}[2]"]
    assert [r.status for r in results] == [Status.complete, Status.invalid, Status.invalid]
    assert [f.path for f in results[1].findings] == ["plan_date"]
    result = invoke("validate", file)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"{file}[1]: record TP-2: plan_date: " + results[1].findings[0].message
    assert lines[1].startswith(f"{file}[2]: record (no id): (file): ")


def test_a_valid_record_is_reported_by_its_validated_ids(tmp_path):
    """Ids with plain spaces around them are valid (trimmed): the record is reported by the ids its
    documents and locks use. A trailing newline is refused (an invisible character), and the record is
    still named, escaped, never "(no id)"."""
    data = exemplar()
    data["client"]["id"] = " C-1001 "
    data["id"] = f" {PLAN_ID} "
    result = only(api.validate([write_json(tmp_path / "p.json", data)]))
    assert (result.status, result.id, result.client) == (Status.complete, PLAN_ID, "C-1001")
    data["id"] = f"{PLAN_ID}\n"
    refused = only(api.validate([write_json(tmp_path / "n.json", data)]))
    assert (refused.status, refused.id, [f.path for f in refused.findings]) == (Status.invalid, f"{PLAN_ID}\\n", ["id"])
    data["id"] = PLAN_ID
    shown = invoke("check", tmp_path / "p.json", "--as-of", AS_OF).stdout
    assert shown.startswith(f"OK {PLAN_ID}  treatment_plan  client C-1001  "), shown


def test_invalid_record_gives_one_finding_per_schema_error(tmp_path):
    data = exemplar()
    data["plan_date"] = "2026-02-30"
    data["level_of_care"] = "sometimes"
    data["goals"][0]["colour"] = "blue"
    del data["payer"]
    result = only(api.validate([write_json(tmp_path / "p.json", data)]))
    assert sorted(f.path for f in result.findings) == ["goals[0].colour", "level_of_care", "payer", "plan_date"]


# --- folders --------------------------------------------------------------------------------
def test_folders_are_read_recursively_in_sorted_order_and_skip_other_files(tmp_path):
    names = ["b.json", "a/z.yaml", "a/m/deep.yml", "c.jsonl", "A.json", "a/README.txt", "notes.md",
             "image.png", "a/m/.hidden.yaml"]
    for name in names:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = exemplar()
        data["id"] = name
        if name.endswith(".jsonl"):
            path.write_text(json.dumps(data) + "\n", encoding="utf-8")
        elif name.endswith((".json", ".yaml", ".yml")):
            write_json(path, data)
        else:
            path.write_text("Not a record: kind: treatment_plan\n", encoding="utf-8")
    (tmp_path / "empty-dir.json").mkdir()  # a folder named like a record file is a folder
    results = api.validate([tmp_path])
    record_files = sorted(p for p in tmp_path.rglob("*") if p.is_file() and p.suffix in {".json", ".yaml", ".yml",
                                                                                          ".jsonl"})
    assert [r.source.removesuffix(":1") for r in results] == [str(p) for p in record_files]
    assert not any(r.source.endswith((".txt", ".md", ".png")) for r in results)
    assert all(r.status is Status.complete for r in results)
    result = invoke("check", "--as-of", AS_OF, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_folder_and_file_arguments_mix(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_json(folder / "x.json", exemplar())
    single = write_json(tmp_path / "single.json", {"kind": "progress_note"})
    results = api.validate([single, folder])
    assert [r.source for r in results] == [str(single), str(folder / "x.json")]
    assert [r.status for r in results] == [Status.invalid, Status.complete]


# --- no personal or clinical text in any output -------------------------------------------------
CLIENT_NAME = "Zebulon Quixote-Marchetti"
SENTINEL = "SENTINEL-CLINICAL-4f9c2e"


def _phi_records(tmp_path: Path) -> list[Path]:
    def base():
        data = exemplar()
        data["client"]["name"] = CLIENT_NAME
        data["presenting_concerns"] = f"{CLIENT_NAME} reports {SENTINEL} at home."
        data["consents"][0]["signed_by"] = CLIENT_NAME
        data["signatures"][1]["name"] = CLIENT_NAME
        return data

    files = []
    several = base()  # several schema errors, the text itself in the bad values
    several["id"] = "TP-PHI-1"
    several["level_of_care"] = f"{CLIENT_NAME} {SENTINEL}"
    several["plan_date"] = f"{SENTINEL} 2026-02-30"
    several["review_interval_days"] = CLIENT_NAME
    several["goals"][0]["objectives"][0]["status"] = SENTINEL
    several["signatures"][0]["time"] = SENTINEL
    several["client"]["date_of_birth"] = CLIENT_NAME
    several["payer"]["type"] = CLIENT_NAME
    several["assessments"][0]["items"] = [SENTINEL] * 9
    several["assessments"][1]["instrument"] = SENTINEL
    several["history"]["sleep"] = SENTINEL * 10_000  # too long
    several["client"]["interpreter_needed"] = SENTINEL
    files.append(write_json(tmp_path / "several.json", several))

    kind = base()
    kind["id"] = "TP-PHI-2"
    kind["kind"] = f"{CLIENT_NAME} {SENTINEL}"
    files.append(write_json(tmp_path / "kind.json", kind))

    text = yaml.safe_dump(base(), sort_keys=False, allow_unicode=True)
    (tmp_path / "dup.yaml").write_text(text + f"presenting_concerns: {SENTINEL}\n", encoding="utf-8")
    (tmp_path / "broken.yaml").write_text(text + f"  - {SENTINEL}: [{CLIENT_NAME}\n", encoding="utf-8")
    (tmp_path / "broken.json").write_text(json.dumps(base())[:-40], encoding="utf-8")
    lines = json.dumps(base()) + "\n" + json.dumps(base())[:-3] + "\n"
    (tmp_path / "batch.jsonl").write_text(lines, encoding="utf-8")
    files += [tmp_path / n for n in ("dup.yaml", "broken.yaml", "broken.json", "batch.jsonl")]

    incomplete = base()  # valid but incomplete: rule messages must not quote names either
    incomplete["id"] = "TP-PHI-3"
    del incomplete["signatures"][0]["credentials"]
    del incomplete["consents"]
    incomplete["signatures"][1]["method"] = "typed"
    files.append(write_json(tmp_path / "incomplete.json", incomplete))
    return files


def test_no_client_name_or_clinical_text_in_any_output(tmp_path):
    files = _phi_records(tmp_path)
    results = api.check(files, as_of=date(2026, 11, 24))
    assert {r.status for r in results} == {Status.invalid, Status.incomplete, Status.complete}
    several = next(r for r in results if r.id == "TP-PHI-1")
    assert len(several.findings) >= 10
    runs = []
    for fmt in ("text", "json"):
        runs.append(invoke("validate", "--format", fmt, *files))
        runs.append(invoke("check", "--format", fmt, "--as-of", AS_OF, *files))
        runs.append(invoke("check", "--format", fmt, "--as-of", AS_OF, tmp_path))
    for result in runs:
        assert result.exit_code == 1
        assert result.stderr.strip()
        for stream in (result.stdout, result.stderr):
            assert CLIENT_NAME not in stream
            assert "Zebulon" not in stream and "Quixote" not in stream
            assert "SENTINEL" not in stream
            assert "Traceback" not in stream
    report = json.loads(runs[-1].stdout)
    assert {r["client"] for r in report["records"] if r["client"]} == {"C-1001"}
