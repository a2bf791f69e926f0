"""`docgen schema [KIND]` and `docgen new KIND` (issue #11): the record format for the people who feed
docgen. The schema is pydantic's own, and the tests hold it to the model: every valid fixture passes
both, the invalid fixture and a set of typical mistakes fail both. The skeleton is made from the
models: it passes `docgen validate` as printed, names every field, and uncommented in full is still
a record the schema accepts.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from docgen import api
from docgen.cli import RECORD_KINDS
from docgen.load import parse_yaml
from docgen.model import MODELS
from test_load import invoke as invoke_cli  # the real command line, stdout and stderr apart

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
INVALID_FIXTURE = FIXTURES / "notes" / "note-invalid-schema.yaml"


def invoke(*args: str):
    result = invoke_cli(*args)
    assert "Traceback" not in result.stdout + result.stderr
    return result


class CoreYaml(yaml.SafeLoader):
    """YAML as a YAML 1.2 reader sees it (the core schema: what schema-aware editors and most other
    tools use): numbers are numbers, dates and times stay text. docgen's own reader keeps numbers as
    text too, and pydantic reads them; a JSON Schema validator does not, so the fixtures are checked
    as an export in YAML would be read."""

    yaml_implicit_resolvers: dict = {}


for _tag, _regex, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("int", r"^[-+]?[0-9]+$", "-+0123456789"),
    ("float", r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$", "-+0123456789."),
):
    CoreYaml.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_regex), list(_first))


def documents(path: Path) -> list[dict]:
    """The JSON documents of a record file (CSV rows are not JSON documents: not here)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".yaml":
        return [yaml.load(text, Loader=CoreYaml)]
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


RECORD_FILES = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".yaml", ".json", ".jsonl"))


# --- docgen schema -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", [None, *RECORD_KINDS])
def test_schema_prints_pydantics_schema_deterministically(kind):
    args = ["schema"] + ([kind] if kind else [])
    first, second = invoke(*args), invoke(*args)
    assert first.exit_code == 0 and first.stderr == ""
    assert first.stdout == second.stdout
    printed = json.loads(first.stdout)
    assert first.stdout == json.dumps(printed, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
    assert printed == api.schema(kind)
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    if kind:
        assert {k: v for k, v in printed.items() if k not in ("$schema", "description")} == \
            {k: v for k, v in MODELS[kind].model_json_schema().items() if k != "description"}
        assert printed["properties"]["kind"]["const"] == kind
    else:
        assert {ref["$ref"].rsplit("/", 1)[-1] for ref in printed["oneOf"]} == {
            "TreatmentPlan", "ProgressNote", "Addendum"}
        assert printed["discriminator"]["propertyName"] == "kind"


def test_the_cli_kinds_are_the_models():
    assert RECORD_KINDS == tuple(MODELS)


@pytest.mark.parametrize("command", ["schema", "new"])
def test_an_unknown_kind_is_a_usage_error(command):
    result = invoke(command, "plan")
    assert result.exit_code == 2
    assert "treatment_plan" in result.stderr and result.stdout == ""


def test_api_refuses_an_unknown_kind():
    from docgen.errors import UsageError

    with pytest.raises(UsageError, match="unknown record kind"):
        api.schema("discharge_summary")
    with pytest.raises(UsageError):
        api.new("discharge_summary")


# --- the schema and the model agree ------------------------------------------------------------------
@pytest.fixture(scope="module")
def validators():
    """A JSON Schema validator per kind and one for any record, with format checking (dates)."""
    jsonschema = pytest.importorskip("jsonschema")
    out = {}
    for kind in (None, *RECORD_KINDS):
        schema = api.schema(kind)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        out[kind] = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return out


def schema_errors(validators, document: dict) -> list[str]:
    kind = document.get("kind")
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validators[None].iter_errors(document)]
    if kind in RECORD_KINDS:
        errors += [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
                   for e in validators[kind].iter_errors(document)]
    return errors


def model_accepts(document: dict) -> bool:
    return api.exit_code(r for r in _validate_data(document)) == 0


def _validate_data(document: dict):
    from docgen.load import RawDocument
    from docgen.model.validate import validate_document

    return [validate_document(RawDocument("(test)", copy.deepcopy(document)))]


@pytest.mark.parametrize("path", RECORD_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_the_schema_and_the_model_agree_on_every_fixture(validators, path):
    valid = path != INVALID_FIXTURE
    for result in api.validate([path]):
        assert (result.status.value != "invalid") == valid, result.findings
    for document in documents(path):
        errors = schema_errors(validators, document)
        if valid:
            assert errors == [], errors
        else:
            assert errors and any(e.startswith("session_date: ") for e in errors), errors


def exemplar_note() -> dict:
    return json.loads((FIXTURES / "notes" / "notes-ortiz-tp1001.jsonl").read_text(encoding="utf-8").splitlines()[0])


def _set(path: str, value):
    def mutate(data):
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target = data
        for part in parents:
            target = target[part]
        target[last] = value
    return mutate


def _drop(path: str):
    def mutate(data):
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target = data
        for part in parents:
            target = target[part]
        del target[last]
    return mutate


MISTAKES = {
    "state name": _set("payer.state", "Texas"),
    "date month first": _set("session_date", "10/20/2026"),
    "date without zero": _set("session_date", "2026-10-2"),
    "no such date": _set("session_date", "2026-02-30"),
    "time 25:00": _set("start_time", "25:00"),
    "time 9am": _set("start_time", "9am"),
    "cpt four digits": _set("cpt_codes", ["9083"]),
    "place of service word": _set("place_of_service", "office"),
    "unknown field": _set("colour", "blue"),
    "missing field": _drop("session_date"),
    "unknown kind": _set("kind", "discharge_summary"),
    "unknown enum": _set("format", "narrative"),
    "phq9 eight items": _set("assessments", [{"instrument": "phq9", "date": "2026-10-13",
                                              "items": [1, 1, 1, 1, 1, 1, 1, 1]}]),
    "item out of range": _set("assessments", [{"instrument": "gad7", "date": "2026-10-13",
                                               "items": [4, 1, 1, 1, 1, 1, 1]}]),
    "text in a number": _set("psychotherapy_minutes", "forty-five"),
    "no clinician": _set("clinicians", []),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_the_schema_and_the_model_both_refuse_a_typical_mistake(validators, name):
    document = exemplar_note()
    assert model_accepts(document) and schema_errors(validators, document) == []
    MISTAKES[name](document)
    assert not model_accepts(document)
    assert schema_errors(validators, document)


def test_accepted_forms_are_accepted_by_both(validators):
    """One-digit hours, seconds, ICD-10-CM codes without the dot: docgen and the schema agree."""
    document = exemplar_note()
    document.update(start_time="9:05", end_time="09:50:00")
    assert model_accepts(document) and schema_errors(validators, document) == []
    (plan,) = documents(FIXTURES / "plans" / "plan-adult-mdd-complete.yaml")
    plan["diagnoses"][0]["code"] = "F331"
    plan["goals"][0]["diagnoses"] = ["F331"]
    assert model_accepts(plan) and schema_errors(validators, plan) == []


# --- docgen new --------------------------------------------------------------------------------------
def body_uncommented(text: str) -> str:
    """The skeleton with every commented-out field put back (the heading comment left out)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    out = []
    for line in lines[start:]:
        while (match := re.match(r"( *)# (.*)", line)) is not None:
            line = match.group(1) + match.group(2)
        out.append(line)
    return "\n".join(out) + "\n"


def property_names(schema: dict) -> set[str]:
    """Every field name anywhere in a record of the schema."""
    names = set(schema.get("properties", {}))
    for definition in schema.get("$defs", {}).values():
        names |= set(definition.get("properties", {}))
    return names


@pytest.mark.parametrize("kind", RECORD_KINDS)
def test_new_prints_a_skeleton_that_validates_as_printed(tmp_path, kind):
    result = invoke("new", kind)
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout == api.new(kind)
    assert result.stdout.startswith("# ")
    data = parse_yaml(result.stdout)
    assert data["kind"] == kind
    loaded = yaml.load(result.stdout, Loader=CoreYaml)
    assert loaded == json.loads(json.dumps(loaded))
    file = tmp_path / f"{kind}.yaml"
    file.write_text(result.stdout, encoding="utf-8")
    checked = invoke("validate", "--format", "json", str(file))
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    (record,) = json.loads(checked.stdout)["records"]
    assert (record["kind"], record["status"], record["findings"]) == (kind, "complete", [])


@pytest.mark.parametrize("kind", RECORD_KINDS)
def test_new_names_every_field_of_the_model(kind):
    text = api.new(kind)
    keys = set(re.findall(r"^[ #-]*([a-z0-9_]+):", text, flags=re.MULTILINE))
    missing = property_names(api.schema(kind)) - keys
    assert not missing, missing
    required = api.schema(kind)["required"]
    uncommented = {line.split(":")[0] for line in text.splitlines() if re.match(r"[a-z]", line)}
    assert uncommented == set(required)


@pytest.mark.parametrize("kind", RECORD_KINDS)
def test_new_with_every_field_uncommented_is_a_record_the_schema_accepts(validators, kind):
    full = yaml.load(body_uncommented(api.new(kind)), Loader=CoreYaml)
    assert schema_errors(validators, full) == []
    assert set(full) == set(api.schema(kind)["properties"])


def test_new_skeleton_with_every_plan_field_passes_docgen_validate(tmp_path):
    """A treatment plan with every field filled by its placeholder is a valid record for docgen too."""
    file = tmp_path / "full-plan.yaml"
    file.write_text(body_uncommented(api.new("treatment_plan")), encoding="utf-8")
    result = invoke("validate", str(file))
    assert result.exit_code == 0, result.stdout + result.stderr


# --- the README's CSV layout ---------------------------------------------------------------------------
def readme_csv_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("### CSV layout")
    return text[start:text.index("\n## ", start)]


def test_the_readme_documents_every_csv_column_and_no_other():
    from docgen.load.csvin import COLUMNS

    rows = [line for line in readme_csv_section().splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`([a-z_]+)`", row.split("|")[1])}
    assert documented == COLUMNS


def test_the_readmes_sample_header_line_reads_with_its_required_columns(tmp_path):
    """The sample header, with a row filling the columns the README marks required, is a valid note."""
    section = readme_csv_section()
    header = section.split("```csv\n", 1)[1].split("\n", 1)[0].split(",")
    required = [re.findall(r"`([a-z_]+)`", row.split("|")[1])[0] for row in section.splitlines()
                if row.startswith("| `") and row.rstrip(" |").endswith("| yes")]
    assert header[:len(required)] == required
    values = {"id": "PN-9", "client_id": "C-9", "client_name": "A. Client", "client_dob": "1990-01-02",
              "agency_name": "Agency", "clinician_id": "CL-9", "clinician_name": "A. Clinician",
              "clinician_credentials": "LCSW", "payer_name": "Payer", "payer_type": "commercial", "format": "soap",
              "session_date": "2026-10-20", "service_type": "individual", "place_of_service": "11",
              "cpt_codes": "90834"}
    file = tmp_path / "notes.csv"
    file.write_text(",".join(header) + "\n" + ",".join(values.get(c, "") for c in header) + "\n", encoding="utf-8")
    result = invoke("validate", str(file))
    assert result.exit_code == 0, result.stdout + result.stderr
    for column in required:
        partial = tmp_path / f"without-{column}.csv"
        kept = [c for c in header if c != column]
        partial.write_text(",".join(kept) + "\n" + ",".join(values.get(c, "") for c in kept) + "\n",
                           encoding="utf-8")
        assert invoke("validate", str(partial)).exit_code == 1, column
