"""Error messages a clinic admin can act on (issue #11): dates, times, codes and CSV files typed or
saved the usual wrong ways get a finding that says what docgen expects and how to fix it, never
pydantic's wording or a regular expression, and never the value typed (it may be clinical text
typed in the wrong field).

Every case runs the real command line (``docgen validate``) on a file, as an admin would.
"""
from __future__ import annotations

import copy
import csv
import io
import json
from datetime import time
from pathlib import Path

import pytest

from docgen import api
from docgen.load import parse_yaml
from test_load import invoke  # the real command line, stdout and stderr apart

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
_PLAN = parse_yaml((FIXTURES / "plans" / "plan-adult-mdd-complete.yaml").read_text(encoding="utf-8"))
_NOTE = json.loads((FIXTURES / "notes" / "notes-ortiz-tp1001.jsonl").read_text(encoding="utf-8").splitlines()[0])

DATE = "date must be YYYY-MM-DD (e.g. 2026-11-05)"
TIME = "time must be HH:MM (24-hour, e.g. 09:30)"
STATE = "two-letter state code (e.g. TX)"
#: What a message must never say: pydantic's own wording, or a regular expression.
PYDANTIC_WORDING = ("Input should", "String should match pattern", "[A-Z]", "[0-9]", "^", "$")


def validate(file: Path) -> tuple[int, list[dict], str]:
    """``docgen validate --format json FILE``: exit code, the findings of every record, stderr."""
    result = invoke("validate", "--format", "json", file)
    assert "Traceback" not in result.stdout + result.stderr
    records = json.loads(result.stdout)["records"]
    return result.exit_code, records, result.stderr


def findings_of(file: Path) -> list[tuple[str, str]]:
    """(field path, message) of the one record in ``file``, which must be invalid, via the CLI;
    stderr must carry the same messages, one line each."""
    code, records, stderr = validate(file)
    assert code == 1
    (record,) = records
    assert record["status"] == "invalid", record
    found = [(f["path"], f["message"]) for f in record["findings"]]
    for path, message in found:
        assert f": {path}: {message}" in stderr, stderr
    return found


def record_file(tmp_path: Path, exemplar: dict, mutate, name: str) -> Path:
    """A copy of ``exemplar`` changed by ``mutate``, written as JSON to ``tmp_path / name``."""
    data = copy.deepcopy(exemplar)
    mutate(data)
    file = tmp_path / name
    file.write_text(json.dumps(data), encoding="utf-8")
    return file


def plan_file(tmp_path: Path, mutate) -> Path:
    """The complete exemplar plan TP-1001, changed."""
    return record_file(tmp_path, _PLAN, mutate, "plan.json")


def note_file(tmp_path: Path, mutate) -> Path:
    """The complete note PN-1001-01, changed."""
    return record_file(tmp_path, _NOTE, mutate, "note.json")


def assert_plain(message: str, typed: object) -> None:
    """``message`` is docgen's own words: it does not repeat ``typed`` (where ``typed`` is long enough
    not to occur in any message by chance) nor use pydantic's wording or a regular expression."""
    if len(str(typed)) >= 5:
        assert str(typed) not in message, message
    for word in PYDANTIC_WORDING:
        assert word not in message, message


# --- dates ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["11/05/2026", "2026-11-5", "5 Nov 2026", "2026/11/05", "20261105",
                                   "2026-11-05T10:00", "1762300800", 1762300800, ""])
def test_a_date_not_typed_yyyy_mm_dd_says_so(tmp_path, typed):
    def mutate(data):
        data["plan_date"] = typed

    assert findings_of(plan_file(tmp_path, mutate)) == [("plan_date", DATE)]
    assert_plain(DATE, typed)


def test_a_date_in_yaml_typed_month_first_says_so(tmp_path):
    text = (FIXTURES / "plans" / "plan-adult-mdd-complete.yaml").read_text(encoding="utf-8")
    assert "plan_date: 2026-09-22\n" in text
    file = tmp_path / "plan.yaml"
    file.write_text(text.replace("plan_date: 2026-09-22\n", "plan_date: 09/22/2026\n"), encoding="utf-8")
    assert findings_of(file) == [("plan_date", DATE)]


def test_a_date_that_does_not_exist_says_so(tmp_path):
    """YYYY-MM-DD, but no such day: typed day-first (2026-19-11) or the 30th of February."""
    def mutate(data):
        data["plan_date"] = "2026-19-11"
        data["goals"][0]["objectives"][0]["target_date"] = "2026-02-30"

    found = dict(findings_of(plan_file(tmp_path, mutate)))
    assert set(found) == {"plan_date", "goals[0].objectives[0].target_date"}
    for message in found.values():
        assert message.startswith("no such date") and "YYYY-MM-DD" in message and "(e.g. 2026-11-05)" in message
        assert_plain(message, "2026-19-11")


def test_the_invalid_fixture_says_what_a_date_is():
    (path, message), = findings_of(FIXTURES / "notes" / "note-invalid-schema.yaml")
    assert path == "session_date" and "YYYY-MM-DD" in message and "2026-19-11" not in message


# --- times ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, expected", [("9:00", time(9, 0)), ("09:00", time(9, 0)), ("0:05", time(0, 5)),
                                             ("23:59", time(23, 59)), ("16:05:30", time(16, 5, 30))])
def test_a_time_of_hh_mm_is_accepted_with_one_digit_hours(tmp_path, typed, expected):
    def mutate(data):
        data["signatures"][0]["time"] = typed

    code, records, stderr = validate(plan_file(tmp_path, mutate))
    assert (code, records[0]["status"], stderr) == (0, "complete", "")
    (result,) = api.validate([tmp_path / "plan.json"])
    assert result.record.signatures[0].time == expected


@pytest.mark.parametrize("typed", ["25:00", "9am", "9", "09:60", "9.30", "0930", "24:00", 3600, "noon"])
def test_an_impossible_time_says_hh_mm(tmp_path, typed):
    def mutate(data):
        data["signatures"][0]["time"] = typed

    assert findings_of(plan_file(tmp_path, mutate)) == [("signatures[0].time", TIME)]
    assert_plain(TIME, typed)


def test_note_times_say_hh_mm_too(tmp_path):
    def mutate(data):
        data["start_time"] = "5pm"
        data["end_time"] = "17:45"

    assert findings_of(note_file(tmp_path, mutate)) == [("start_time", TIME)]


# --- codes ---------------------------------------------------------------------------------------
#: Clinical text typed into a code field: no message may repeat it.
CLINICAL = "Client reports panic at work since March"


def test_a_state_name_says_two_letter_code(tmp_path):
    def mutate(data):
        data["payer"]["state"] = "Texas"

    assert findings_of(plan_file(tmp_path, mutate)) == [("payer.state", STATE)]
    assert_plain(STATE, "Texas")


@pytest.mark.parametrize("field, value, words", [
    (("payer", "state"), CLINICAL, ("two-letter state code",)),
    (("cpt_codes",), [CLINICAL], ("CPT", "90834")),
    (("cpt_codes",), ["9083"], ("CPT", "five digits")),
    (("cpt_codes",), ["90834 x2"], ("CPT", "five digits")),
    (("place_of_service",), CLINICAL, ("place-of-service code", "two digits")),
    (("place_of_service",), "clinic", ("place-of-service code", "two digits")),
    (("place_of_service",), 11.0, ("place-of-service code", "two digits")),
])
def test_every_code_field_says_what_a_code_looks_like_never_what_was_typed(tmp_path, field, value, words):
    def mutate(data):
        target = data
        for part in field[:-1]:
            target = target[part]
        target[field[-1]] = value

    found = findings_of(note_file(tmp_path, mutate))
    assert len(found) == 1, found
    path, message = found[0]
    assert path == ".".join(field) + ("[0]" if isinstance(value, list) else "")
    for word in words:
        assert word in message, message
    assert_plain(message, value[0] if isinstance(value, list) else value)


def test_a_bad_sha256_keeps_its_plain_message(tmp_path):
    from builders import addendum_dict

    data = addendum_dict()
    data["original"]["sha256"] = CLINICAL
    file = tmp_path / "addendum.json"
    file.write_text(json.dumps(data), encoding="utf-8")
    assert findings_of(file) == [("original.sha256", "must be a sha256: 64 hexadecimal digits")]


# --- CSV files saved the usual wrong ways ----------------------------------------------------------
def sample_rows() -> list[dict[str, str]]:
    """The C-1001 rows of the sample CSV (plain Latin text: encodable as Windows-1252)."""
    with (FIXTURES / "csv" / "notes-sample.csv").open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["client_id"] == "C-1001"]
    assert len(rows) == 3
    return rows


def csv_text(rows: list[dict[str, str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def csv_findings(file: Path) -> list[dict]:
    """The records of a CSV file that is (partly) invalid: no client names in any message, and
    every message whole (not cut short for length)."""
    code, records, stderr = validate(file)
    assert code == 1
    assert "María" not in stderr and "Maria" not in stderr
    for record in records:
        for finding in record["findings"]:
            assert not finding["message"].endswith("..."), finding["message"]
    return records


def test_a_semicolon_separated_csv_says_so_and_how_to_save_it(tmp_path):
    file = tmp_path / "notes.csv"
    file.write_text(csv_text(sample_rows(), delimiter=";"), encoding="utf-8")
    (record,) = csv_findings(file)
    assert record["status"] == "invalid"
    ((rule, path, message),) = [(f["rule"], f["path"], f["message"]) for f in record["findings"]]
    assert (rule, path) == ("load", "(file)")
    assert message.startswith("separated by semicolons; docgen reads comma-separated CSV: save it with commas")


def test_a_tab_separated_csv_says_so(tmp_path):
    file = tmp_path / "notes.csv"
    file.write_text(csv_text(sample_rows(), delimiter="\t"), encoding="utf-8")
    (record,) = csv_findings(file)
    (finding,) = record["findings"]
    assert finding["message"].startswith("separated by tabs; docgen reads comma-separated CSV")


def test_a_windows_1252_csv_says_so_and_how_to_save_it(tmp_path):
    rows = sample_rows()
    rows[1]["client_name"] = "María Elena Ortiz"  # the row an admin retyped in Excel
    file = tmp_path / "notes.csv"
    file.write_bytes(csv_text(rows).encode("cp1252"))
    records = csv_findings(file)
    by_id = {r["id"]: r for r in records}
    assert by_id["PN-1001-04"]["status"] == by_id["PN-1001-06"]["status"] == "complete"  # plain ASCII rows
    bad = by_id["PN-1001-05"]
    assert bad["status"] == "invalid"
    ((rule, path, message),) = [(f["rule"], f["path"], f["message"]) for f in bad["findings"]]
    assert (rule, path) == ("load", "(file)")
    assert "not UTF-8" in message and "looks like Windows-1252" in message
    assert 'save it as "CSV UTF-8 (Comma delimited)" in Excel' in message


def test_a_windows_1252_header_says_so(tmp_path):
    text = csv_text(sample_rows()).replace("client_name", "client_name\u00a0", 1)  # Excel's no-break space
    file = tmp_path / "notes.csv"
    file.write_bytes(text.encode("cp1252"))
    (record,) = csv_findings(file)
    (finding,) = record["findings"]
    assert finding["path"] == "(file)"
    assert "not UTF-8: looks like Windows-1252" in finding["message"]
    assert "CSV UTF-8 (Comma delimited)" in finding["message"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_csv_says_so_and_how_to_save_it(tmp_path, encoding):
    file = tmp_path / "notes.csv"
    file.write_bytes(csv_text(sample_rows()).encode(encoding))
    (record,) = csv_findings(file)
    assert record["status"] == "invalid"
    (finding,) = record["findings"]
    assert (finding["rule"], finding["path"]) == ("load", "(file)")
    assert finding["message"].startswith("not UTF-8: looks like UTF-16")
    assert 'save it as "CSV UTF-8 (Comma delimited)" in Excel' in finding["message"]


def test_a_utf8_csv_with_one_digit_hours_is_valid(tmp_path):
    rows = sample_rows()
    rows[0]["start_time"], rows[0]["signed_at_time"] = "9:05", "9:59"
    rows[0]["end_time"] = "10:00"
    file = tmp_path / "notes.csv"
    file.write_text(csv_text(rows), encoding="utf-8")
    code, records, stderr = validate(file)
    assert stderr == "" and [r["status"] for r in records] == ["complete"] * 3


# --- clinical text typed into a diagnosis code field ---------------------------------------------------
def test_a_diagnosis_name_typed_as_the_code_is_not_repeated_by_the_rules(tmp_path):
    """The model reads any text as a code (upper case, a dot after three characters); the code-set
    rule then refuses it without quoting it back: it may be clinical text."""
    def mutate(data):
        data["diagnoses"][0]["code"] = "Major depressive disorder, recurrent"
        data["goals"][0]["diagnoses"] = ["Generalized anxiety disorder"]

    file = plan_file(tmp_path, mutate)
    result = invoke("check", "--format", "json", "--as-of", "2026-11-24", file)
    assert result.exit_code == 1
    (record,) = json.loads(result.stdout)["records"]
    found = {f["path"]: f["message"] for f in record["findings"] if f["rule"] == "dx-valid"}
    assert found["diagnoses[0].code"] == "this is not an ICD-10-CM code"
    assert found["goals[0].diagnoses[0]"].startswith("goal G1 addresses a code, which is not a plan diagnosis")
    assert "DEPRESSIVE" not in (result.stdout + result.stderr).upper()
    assert "ANXIETY" not in (result.stdout + result.stderr).upper()
