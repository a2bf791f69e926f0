"""The `docgen` command: exit codes, the JSON report's shape, `docgen rules`, agency profiles."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from docgen.check import RULES, load_profile
from docgen.cli import main
from docgen.load import parse_yaml
from docgen.model import validate_record

ROOT = Path(__file__).resolve().parent.parent
EXEMPLAR = ROOT / "fixtures" / "plans" / "plan-adult-mdd-complete.yaml"
DOCGEN = Path(sys.executable).with_name("docgen")
AS_OF = "2026-11-24"

RECORD_KEYS = {"source", "id", "client", "kind", "profile", "status", "findings"}
FINDING_KEYS = {"rule", "severity", "path", "message", "source"}
_EXEMPLAR = parse_yaml(EXEMPLAR.read_text(encoding="utf-8"))


def exemplar() -> dict:
    return copy.deepcopy(_EXEMPLAR)


def runner() -> CliRunner:
    """stdout and stderr kept apart: click >= 8.2 always does; 8.1 needs mix_stderr=False."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


def invoke(*args):
    result = runner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output + result.stderr
    return result


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def complete(tmp_path) -> Path:
    return write_json(tmp_path / "complete.json", exemplar())


@pytest.fixture
def no_consent(tmp_path) -> Path:
    """Valid, and incomplete only because the treatment consent is missing (rule consent-treatment)."""
    data = exemplar()
    data["id"] = "TP-NOCONSENT"
    del data["consents"]
    return write_json(tmp_path / "no-consent.json", data)


@pytest.fixture
def invalid(tmp_path) -> Path:
    data = exemplar()
    data["id"] = "TP-BAD"
    data["plan_date"] = "2026-02-30"
    data["level_of_care"] = "sometimes"
    data["goals"][0]["objectives"][0]["colour"] = "blue"
    del data["payer"]
    return write_json(tmp_path / "invalid.json", data)


def check_json(*args) -> tuple[int, dict]:
    result = invoke("check", "--format", "json", "--as-of", AS_OF, *args)
    return result.exit_code, json.loads(result.stdout)


# --- exit codes ------------------------------------------------------------------------------
def test_complete_record_exits_0(complete):
    for args in (["validate", complete], ["check", "--as-of", AS_OF, complete], ["check", "--as-of", AS_OF, EXEMPLAR]):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert result.stderr == ""
        assert ("1 valid" if args[0] == "validate" else "1 complete") in result.stdout


def test_incomplete_record_exits_1_without_stderr(no_consent):
    result = invoke("check", "--as-of", AS_OF, no_consent)
    assert result.exit_code == 1
    assert "INCOMPLETE" in result.stdout and "consent-treatment" in result.stdout
    assert result.stderr == ""  # stderr lines are for invalid records
    assert invoke("validate", no_consent).exit_code == 0  # schema-valid


def test_invalid_record_exits_1_with_one_stderr_line_per_error(invalid):
    for command in (["validate"], ["check", "--as-of", AS_OF]):
        result = invoke(*command, invalid)
        assert result.exit_code == 1
        lines = result.stderr.splitlines()
        assert sorted(line.split(": ")[2] for line in lines) == [
            "goals[0].objectives[0].colour", "level_of_care", "payer", "plan_date"]
        assert all(line.startswith(f"{invalid}: record TP-BAD: ") for line in lines)


def test_one_bad_record_among_good_ones_exits_1(complete, no_consent, invalid):
    assert invoke("check", "--as-of", AS_OF, complete, complete).exit_code == 0
    assert invoke("check", "--as-of", AS_OF, complete, no_consent).exit_code == 1
    assert invoke("validate", complete, invalid).exit_code == 1


def test_summaries_count_in_words(complete, no_consent):
    """'1 record', '2 records': not 'record(s)'."""
    assert invoke("check", "--as-of", AS_OF, complete).stdout.splitlines()[-1] == \
        "1 record: 1 complete, 0 incomplete, 0 invalid"
    assert invoke("check", "--as-of", AS_OF, complete, no_consent).stdout.splitlines()[-1] == \
        "2 records: 1 complete, 1 incomplete, 0 invalid"
    assert invoke("validate", complete, complete).stdout.splitlines()[-1] == "2 records: 2 valid, 0 invalid"


@pytest.mark.parametrize("args", [
    ["validate", "does/not/exist.json"],
    ["check", "does/not/exist.json"],
    ["validate"],
    ["check"],
    ["validate", "--format", "xml", "{complete}"],
    ["check", "--format", "html", "{complete}"],
    ["rules", "--format", "yaml"],
    ["check", "--as-of", "24/11/2026", "{complete}"],
    ["check", "--profile", "no-such-profile", "{complete}"],
    ["rules", "--profile", "no-such-profile"],
    ["frobnicate"],
    ["check", "--bogus-option", "{complete}"],
], ids=" ".join)
def test_usage_errors_exit_2(args, complete):
    result = invoke(*[a.replace("{complete}", str(complete)) for a in args])
    assert result.exit_code == 2, result.output
    assert "Error" in result.stderr or result.stderr.startswith(f"docgen {args[0]}: --profile: ")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


PROFILE_ERRORS = {
    "malformed-toml": ("name = 'agency'\n[rules.plan-deadline\ndays = 5\n", "profile"),
    "not-toml-at-all": ("\x00\x01 this is not TOML = = =\n", "profile"),
    "unknown-rule": ('extends = "default"\n[rules.no-such-rule]\nenabled = false\n', "no-such-rule"),
    "unknown-parameter": ('extends = "default"\n[rules.plan-deadline]\nweeks = 2\n', "weeks"),
    "bad-severity": ('[rules.plan-deadline]\nseverity = "fatal"\n', "severity"),
    "rule-not-a-table": ('[rules]\nplan-deadline = 5\n', "table"),
    "unknown-top-key": ('colour = "blue"\n', "colour"),
    "extends-unknown": ('extends = "no-such-base"\n', "no-such-base"),
    "extends-itself": ('extends = "{self}"\n', "loops"),
}


@pytest.mark.parametrize("name", PROFILE_ERRORS)
def test_bad_profile_files_exit_2(tmp_path, complete, name):
    text, word = PROFILE_ERRORS[name]
    profile = tmp_path / f"{name}.toml"
    profile.write_text(text.replace("{self}", str(profile)), encoding="utf-8")
    for args in (["check", "--as-of", AS_OF, "--profile", profile, complete], ["rules", "--profile", profile]):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output, result.stderr)
        assert "--profile" in result.stderr and word in result.stderr
        assert result.stdout == ""


@pytest.mark.parametrize("text", ["rules = 5\n", "extends = 5\n"])
def test_profile_values_of_the_wrong_type_exit_2(tmp_path, text):
    profile = tmp_path / "typed.toml"
    profile.write_text(text, encoding="utf-8")
    result = runner().invoke(main, ["rules", "--profile", str(profile)])
    assert result.exit_code == 2


# --- the JSON report -------------------------------------------------------------------------
def test_json_report_shape(complete, no_consent, invalid):
    code, report = check_json(complete, no_consent, invalid)
    assert code == 1
    assert set(report) >= {"records"}
    records = report["records"]
    assert [r["status"] for r in records] == ["complete", "incomplete", "invalid"]
    for record in records:
        assert set(record) >= RECORD_KEYS
        assert isinstance(record["findings"], list)
        for finding in record["findings"]:
            assert set(finding) >= FINDING_KEYS
            assert finding["severity"] in ("blocker", "warning")
            assert all(isinstance(finding[k], str) and finding[k] for k in FINDING_KEYS)
    first, second, third = records
    assert first == {"source": str(complete), "id": "TP-1001", "client": "C-1001", "kind": "treatment_plan",
                     "profile": "default", "status": "complete", "findings": []} | {
                         k: v for k, v in first.items() if k not in RECORD_KEYS}
    assert [(f["rule"], f["severity"], f["path"]) for f in second["findings"]] == [
        ("consent-treatment", "blocker", "consents")]
    assert third["id"] == "TP-BAD" and third["kind"] == "treatment_plan" and third["profile"] is None


def test_invalid_record_has_one_finding_per_schema_error(invalid):
    with pytest.raises(ValidationError) as caught:
        validate_record(json.loads(invalid.read_text()))
    _, report = check_json(invalid)
    (record,) = report["records"]
    assert record["status"] == "invalid"
    assert len(record["findings"]) == caught.value.error_count() == 4
    assert {f["rule"] for f in record["findings"]} == {"schema"}
    assert {f["severity"] for f in record["findings"]} == {"blocker"}


def test_validate_json_report_has_the_same_shape(complete, invalid):
    result = invoke("validate", "--format", "json", complete, invalid)
    assert result.exit_code == 1
    records = json.loads(result.stdout)["records"]
    assert [r["status"] for r in records] == ["complete", "invalid"]
    assert all(set(r) >= RECORD_KEYS for r in records)


def test_json_report_keeps_non_ascii_ids_as_text(tmp_path):
    data = exemplar()
    data["id"] = "TP-ÄÖ-东京"
    result = invoke("check", "--format", "json", "--as-of", AS_OF, write_json(tmp_path / "u.json", data))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["records"][0]["id"] == "TP-ÄÖ-东京"


def test_text_report_prints_ids_that_look_like_markup(tmp_path):
    data = exemplar()
    data["id"] = "TP-[/bold]-[red]x"
    data["[/odd]"] = 1
    result = invoke("check", "--as-of", AS_OF, write_json(tmp_path / "m.json", data))
    assert result.exit_code == 1
    assert "TP-[/bold]-[red]x" in result.stdout and "[/odd]" in result.stdout



@pytest.mark.parametrize("command", [["check", "--as-of", AS_OF], ["render", "--as-of", AS_OF, "--format", "docx"]])
def test_text_reports_print_ids_that_look_like_emoji_codes_as_typed(tmp_path, command):
    """rich turns ':smile:' into an emoji unless told not to: an id prints as typed."""
    data = exemplar()
    data["id"], data["client"]["id"] = "TP-:smile:-1", "C-:thumbs_up:"
    extra = ["--out", str(tmp_path / "out")] if command[0] == "render" else []
    result = invoke(*command, *extra, write_json(tmp_path / "e.json", data))
    assert "TP-:smile:-1" in result.stdout and "C-:thumbs_up:" in result.stdout, result.stdout
    assert "\U0001f604" not in result.stdout and "\U0001f44d" not in result.stdout

# --- docgen rules ----------------------------------------------------------------------------
def test_rules_text_lists_every_rule_with_params():
    result = invoke("rules")
    assert result.exit_code == 0
    assert result.stdout.startswith("profile default:")
    for rule in RULES.values():
        assert f"\n{rule.id} [" in result.stdout
    assert "params: days=30, day_type=calendar" in result.stdout  # plan-deadline, from default.toml


@pytest.mark.parametrize("profile", ["default", "tx-medicaid", "medicare", "ny-medicaid"])
def test_rules_json_lists_every_rule_with_the_profiles_params(profile):
    result = invoke("rules", "--profile", profile, "--format", "json")
    assert result.exit_code == 0
    listing = json.loads(result.stdout)
    assert listing["profile"] == profile
    chosen = load_profile(profile)
    assert [row["rule"] for row in listing["rules"]] == list(RULES)
    for row in listing["rules"]:
        rule = RULES[row["rule"]]
        assert set(row) >= {"rule", "applies_to", "enabled", "severity", "params", "source", "summary"}
        assert row["params"] == json.loads(json.dumps(chosen.params(rule.id, rule.defaults)))
        assert set(row["params"]) == set(rule.defaults)
        assert row["enabled"] == chosen.enabled(rule.id, rule.enabled_by_default)
        assert row["applies_to"] == sorted(rule.applies_to)


def test_rules_tx_medicaid_overrides():
    listed = json.loads(invoke("rules", "--profile", "tx-medicaid", "--format", "json").stdout)["rules"]
    rows = {r["rule"]: r for r in listed}
    assert rows["plan-deadline"]["params"] == {"days": 10, "day_type": "business", "start": "authorization"}
    assert rows["plan-before-service"]["enabled"] is True and rows["u21-plan"]["enabled"] is True
    assert rows["note-timeliness"]["enabled"] is True
    assert rows["note-timeliness"]["params"] == {"days": 2, "day_type": "business"}
    assert rows["pt-time"]["params"] == {"require_start_stop": True}
    assert rows["tx-sud-plan"]["enabled"] is True
    assert "354.2609" in rows["plan-deadline"]["source"]


# --- help ----------------------------------------------------------------------------------
def test_help_and_version():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("validate", "check", "rules"):
        assert command in result.stdout
    for command in ("validate", "check", "rules"):
        sub = invoke(command, "--help")
        assert sub.exit_code == 0 and "--format" in sub.stdout
    assert "--as-of" in invoke("check", "-h").stdout
    version = invoke("--version")
    assert version.exit_code == 0 and version.stdout.startswith("docgen")


# --- agency profiles -----------------------------------------------------------------------
def test_agency_profile_switching_a_rule_off_changes_the_outcome(tmp_path, no_consent):
    agency = tmp_path / "agency.toml"
    agency.write_text('name = "riverside"\nextends = "default"\n[rules.consent-treatment]\nenabled = false\n',
                      encoding="utf-8")
    code, report = check_json(no_consent)
    assert code == 1 and report["records"][0]["status"] == "incomplete"
    code, report = check_json("--profile", agency, no_consent)
    assert code == 0
    (record,) = report["records"]
    assert record["status"] == "complete" and record["findings"] == [] and record["profile"] == "riverside"
    assert "consent-treatment [blocker] (off)" in invoke("rules", "--profile", agency).stdout


def test_agency_profile_making_a_rule_a_warning(tmp_path, no_consent):
    agency = tmp_path / "soft.toml"
    agency.write_text('extends = "default"\n[rules.consent-treatment]\nseverity = "warning"\n'
                      'source = "Riverside policy 4.2"\n', encoding="utf-8")
    code, report = check_json("--profile", agency, no_consent)
    assert code == 0
    (record,) = report["records"]
    assert record["status"] == "complete" and record["profile"] == "soft"
    assert [(f["rule"], f["severity"], f["source"]) for f in record["findings"]] == [
        ("consent-treatment", "warning", "Riverside policy 4.2")]


def test_agency_profile_extending_a_sibling_file(tmp_path, complete):
    (tmp_path / "base.toml").write_text('extends = "default"\n[rules.plan-deadline]\ndays = 5\n', encoding="utf-8")
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\n', encoding="utf-8")
    rows = {r["rule"]: r for r in json.loads(invoke("rules", "--profile", child, "--format", "json").stdout)["rules"]}
    assert rows["plan-deadline"]["params"] == {"days": 5, "day_type": "calendar", "start": "intake"}  # from default
    code, report = check_json("--profile", child, complete)  # intake 09-08, plan 09-22: 14 days > 5
    assert code == 1
    assert [f["rule"] for f in report["records"][0]["findings"]] == ["plan-deadline"]


# --- real processes ------------------------------------------------------------------------
def run_docgen(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(DOCGEN), *map(str, args)], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_real_process_complete_json_and_usage_error():
    proc = run_docgen("check", "--format", "json", "--as-of", AS_OF, "fixtures/plans/plan-adult-mdd-complete.yaml")
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)["records"]
    assert [(r["source"], r["status"]) for r in records] == [
        ("fixtures/plans/plan-adult-mdd-complete.yaml", "complete")]
    proc = run_docgen("check", "--format", "xml", "fixtures/")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stdout == ""


def test_real_process_invalid_and_help(invalid):
    proc = run_docgen("validate", invalid)
    assert proc.returncode == 1
    assert len(proc.stderr.splitlines()) == 4 and "Traceback" not in proc.stderr
    assert all(line.startswith(f"{invalid}: record TP-BAD: ") for line in proc.stderr.splitlines())
    proc = run_docgen("--help")
    assert proc.returncode == 0 and "check" in proc.stdout
