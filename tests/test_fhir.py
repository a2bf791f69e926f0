"""FHIR R4 export and import (issue #15): every fixture exported as valid R4 (fhir.resources) and US Core
(docgen's must-support checks); the round trip gives the same record and the same check verdict, and
without docgen's record rest still every field FHIR carries; EHR-shaped Bundles import into records
that check and render; a total that disagrees with its items is a finding; psychotherapy notes never
leave; hostile input is one line and nothing written."""
from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
from pathlib import Path

import pypdf
import pytest

import builders
from docgen import api
from docgen.fhir.export import check_structure, export_client, stored
from docgen.fhir.reader import carried
from docgen.fhir.uscore import bundle_problems
from docgen.findings import Outcome, Status
from docgen.load import parse_yaml
from docgen.model import validate_record
from docgen.model.digest import content_hash
from test_cli import invoke

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
EHR = ROOT / "tests" / "data" / "fhir"
AS_OF = builders.AS_OF


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """Every fixture exported, one Bundle per client, through the real command line."""
    out = tmp_path_factory.mktemp("fhir") / "bundles"
    result = invoke("fhir", "export", FIXTURES, "--out", out)
    assert result.exit_code == 1, result.output  # the one invalid fixture is not exported, and says so
    assert "note-invalid-schema.yaml: record PN-3002-02: session_date" in result.stderr
    return out


def _fixture_records():
    return [r.record for r in api.validate([FIXTURES]) if r.record is not None]


def _resources(bundle: dict) -> list[dict]:
    return [e["resource"] for e in bundle["entry"]]


def test_every_fixture_exports_as_valid_r4_and_us_core(exported):
    bundles = sorted(exported.glob("*.json"))
    clients = {r.client.id for r in _fixture_records()}
    assert {p.stem for p in bundles} == clients
    from fhir.resources.R4B.bundle import Bundle  # an independent reader: the library's own models

    kinds: set[str] = set()
    for path in bundles:
        bundle = json.loads(path.read_text(encoding="utf-8"))
        Bundle.model_validate(bundle)
        assert bundle["type"] == "collection"
        assert bundle_problems(bundle) == [], path.name
        kinds |= {r["resourceType"] for r in _resources(bundle)}
    assert kinds >= {"Patient", "Organization", "Practitioner", "PractitionerRole", "Coverage", "Condition",
                     "CarePlan", "Goal", "QuestionnaireResponse", "Observation", "Encounter", "Consent",
                     "Provenance"}
    assert (exported / "C-1001.json").stat().st_mode & 0o077 == 0  # PHI: owner only


def test_phq9_is_a_panel_with_item_members_and_a_total_derived_from_the_response(exported):
    bundle = json.loads((exported / "C-1001.json").read_text(encoding="utf-8"))
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    panels = [r for r in _resources(bundle) if r["resourceType"] == "Observation"
              and r["code"]["coding"][0]["code"] == "44249-1"]
    plan = validate_record(parse_yaml((FIXTURES / "plans" / "plan-adult-mdd-complete.yaml").read_text()))
    phq9 = [a for a in plan.assessments if a.instrument == "phq9"]
    first = next(p for p in panels if p["effectiveDateTime"] == phq9[0].date.isoformat()
                 and "encounter" not in p)
    members = [by_url[m["reference"]] for m in first["hasMember"]]
    codes = [m["code"]["coding"][0]["code"] for m in members]
    assert codes == ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3",
                     "44260-8", "44261-6"]
    total = members[-1]
    assert total["valueInteger"] == phq9[0].total == 16 and total["interpretation"][0]["text"] == "moderately severe"
    qr = by_url[first["derivedFrom"][0]["reference"]]
    assert qr["resourceType"] == "QuestionnaireResponse" and qr["questionnaire"] == "http://loinc.org/q/44249-1"
    assert [i["answer"][0]["valueCoding"]["code"] for i in qr["item"]][:3] == ["LA6570-1", "LA6570-1", "LA6571-9"]


def test_export_is_deterministic(exported, tmp_path):
    again = tmp_path / "again"
    assert invoke("fhir", "export", FIXTURES, "--out", again).exit_code == 1
    for path in exported.glob("*.json"):
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name


def _expected(record) -> str:
    """The content hash a record has once exported: the same, without a note's process notes."""
    data = stored(record.model_dump(mode="json", exclude_defaults=True))
    data.pop("psychotherapy_notes", None)
    return content_hash(validate_record(data))


@pytest.mark.slow
def test_round_trip_gives_the_same_records_and_the_same_check_verdict(exported, tmp_path):
    back = tmp_path / "back"
    result = invoke("fhir", "import", *sorted(exported.glob("*.json")), "--out", back)
    assert result.exit_code == 0, result.output
    records = {r.id: r for r in _fixture_records()}
    imported = {r.id: r for r in api.validate([back])}
    exportable = {i for i, r in records.items()
                  if r.kind != "addendum" and not getattr(r, "psychotherapy_note", False)}
    assert set(imported) == exportable
    for record_id in exportable:
        assert imported[record_id].record is not None, imported[record_id].findings
        assert content_hash(imported[record_id].record) == _expected(records[record_id]), record_id
    original = {r.id: r.status for r in api.check([FIXTURES], as_of=AS_OF)}
    again = {r.id: r.status for r in api.check([back], as_of=AS_OF)}
    assert {i: again[i] for i in exportable} == {i: original[i] for i in exportable}


def _without_rest(bundle: dict) -> dict:
    """The Bundle as an EHR that drops extensions it does not know keeps it."""
    bundle = copy.deepcopy(bundle)
    for resource in _resources(bundle):
        kept = [e for e in resource.pop("extension", []) if "record-rest" not in e["url"]]
        if kept:
            resource["extension"] = kept
    return bundle


@pytest.mark.slow
def test_without_the_record_rest_every_field_fhir_carries_comes_back(tmp_path):
    """An EHR that keeps only FHIR elements: each record exported alone, its rest removed, imported: the
    fields the README lists as carried are the same."""
    checked = 0
    for record in _fixture_records():
        if record.kind == "addendum" or getattr(record, "psychotherapy_note", False):
            continue
        bundle = _without_rest(export_client(record.client.id, [record]).bundle)
        assert "record-rest" not in json.dumps(bundle)
        path = tmp_path / f"{record.id}.json"
        path.write_text(json.dumps(bundle), encoding="utf-8")
        [item] = api.fhir_import([path], tmp_path / f"out-{record.id}").records
        back = validate_record(parse_yaml((tmp_path / f"out-{record.id}" / f"{item.id}.yaml").read_text()))
        want = carried(record.model_dump(mode="json", exclude_defaults=True), record.kind)
        got = carried(back.model_dump(mode="json", exclude_defaults=True), record.kind)
        assert got == want, record.id
        checked += 1
    assert checked >= 25


def test_ehr_bundles_import_into_records_that_check_and_render(tmp_path):
    out = tmp_path / "records"
    result = invoke("fhir", "import", EHR / "ehr-everything-phq9-careplan.json",
                    EHR / "ehr-bulk-telehealth-note.ndjson", "--out", out)
    assert result.exit_code == 0, result.output
    checked = api.check([out], as_of=AS_OF)
    assert {r.id: r.kind for r in checked} == {"eCP1": "treatment_plan", "eEn1": "progress_note",
                                               "bE1": "progress_note"}
    assert all(r.status is not Status.invalid for r in checked), [r.findings for r in checked]
    plan = next(r.record for r in checked if r.id == "eCP1")
    assert [(a.instrument, a.date.isoformat(), a.total) for a in plan.assessments] == [
        ("phq9", "2026-08-26", 16), ("phq9", "2026-09-30", 11), ("phq9", "2026-10-28", 6)]
    assert plan.client.id == "E4411207" and plan.diagnoses[0].code == "F32.1" and plan.payer.type.value == "medicaid"
    assert plan.agency.npi == "1234567893" and plan.clinicians[0].credentials == "PhD, LP"
    assert plan.goals[0].target_date.isoformat() == "2026-12-01" and plan.consents[0].type.value == "treatment"
    note = next(r.record for r in checked if r.id == "bE1")
    assert (note.delivery.value, note.place_of_service, note.cpt_codes, note.minutes) == (
        "telehealth_video", "10", ["90837"], 58)
    assert note.assessments[0].total == 4
    # everything left out is said, per resource
    assert "unmapped: Immunization/eIm1: not mapped to any docgen record" in result.stdout
    assert "unmapped: CarePlan/eCP1: left out: title" in result.stdout
    assert "unmapped: Encounter/eEn1: left out: reasonCode" in result.stdout
    rendered = api.render([out], tmp_path / "docs", formats=("pdf",), allow_draft=True, as_of=AS_OF)
    assert {r.id: r.outcome for r in rendered} == {"eCP1": Outcome.draft, "eEn1": Outcome.draft,
                                                   "bE1": Outcome.draft}
    text = "".join(p.extract_text() for p in pypdf.PdfReader(tmp_path / "docs" / "eCP1.pdf").pages)
    assert "Lucia M Reyes" in text and "F32.1" in text


def test_a_total_that_disagrees_with_its_items_is_a_finding_never_copied(tmp_path):
    out = tmp_path / "records"
    result = invoke("fhir", "import", EHR / "ehr-transaction-gad7-total-mismatch.json", "--out", out)
    assert result.exit_code == 1
    [line] = [ln for ln in result.stdout.splitlines() if ln.startswith("finding:")]
    assert "GAD-7 total 12 disagrees with its items (sum 10)" in line
    [path] = out.glob("*.yaml")
    text = path.read_text(encoding="utf-8")
    assert f"# {line}" in text and "12" not in text.split("assessments:")[1]
    [result_] = api.check([path], as_of=AS_OF)
    assert result_.record.assessments[0].total == 10 and result_.record.assessments[0].severity == "moderate"


def test_a_client_with_only_a_psychotherapy_note_gets_no_file(tmp_path):
    source = FIXTURES / "notes" / "note-ptsd-psychotherapy-note-flagged-soap-complete.yaml"
    result = invoke("fhir", "export", source, "--out", tmp_path / "pn.json")
    assert result.exit_code == 1 and "never exported" in result.stderr and "no records found" in result.stderr
    assert not (tmp_path / "pn.json").exists()


def test_psychotherapy_notes_never_leave(tmp_path):
    out = tmp_path / "c7001.json"
    result = invoke("fhir", "export", FIXTURES, "--client", "C-7001", "--out", out, "--with-documents")
    assert result.exit_code == 0, result.output
    assert "record PN-7001-02: a psychotherapy note: never exported" in result.stderr
    text = out.read_text(encoding="utf-8")
    assert "PN-7001-02" not in text
    flagged = validate_record(parse_yaml(
        (FIXTURES / "notes" / "note-ptsd-psychotherapy-note-flagged-soap-complete.yaml").read_text()))
    process = validate_record(parse_yaml(
        (FIXTURES / "notes" / "note-ptsd-process-notes-soap-complete.yaml").read_text()))
    assert process.psychotherapy_notes and process.psychotherapy_notes not in text
    for doc in [r for r in _resources(json.loads(text)) if r["resourceType"] == "DocumentReference"]:
        pdf = base64.b64decode(doc["content"][0]["attachment"]["data"])
        words = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
        assert process.psychotherapy_notes[:40] not in words
    assert flagged.id == "PN-7001-02"


def test_with_documents_attaches_each_final_pdf_with_size_and_sha1(tmp_path):
    out = tmp_path / "one.json"
    source = FIXTURES / "plans" / "plan-adult-mdd-complete.yaml"
    assert invoke("fhir", "export", source, "--out", out, "--with-documents").exit_code == 0
    bundle = json.loads(out.read_text(encoding="utf-8"))
    [doc] = [r for r in _resources(bundle) if r["resourceType"] == "DocumentReference"]
    attachment = doc["content"][0]["attachment"]
    pdf = base64.b64decode(attachment["data"])
    assert attachment["contentType"] == "application/pdf" and attachment["size"] == len(pdf)
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(pdf).digest()).decode()  # noqa: S324
    assert doc["type"]["coding"][0]["code"] == "18776-5"
    [on_disk] = api.render([source], tmp_path / "r", formats=("pdf",), as_of=AS_OF)
    assert pdf == on_disk.documents["pdf"]  # the same document render makes
    assert bundle_problems(bundle) == []


def test_purpose_keeps_only_what_the_purpose_needs_and_part2_is_labelled(tmp_path):
    out = tmp_path / "claim.json"
    assert invoke("fhir", "export", FIXTURES / "plans" / "plan-sud-part2-no-consent-complete.yaml", "--out", out,
                  "--purpose", "claim").exit_code == 0
    bundle = json.loads(out.read_text(encoding="utf-8"))
    text = json.dumps(bundle)
    plan = parse_yaml((FIXTURES / "plans" / "plan-sud-part2-no-consent-complete.yaml").read_text())
    assert plan["history"]["substance_use"] not in text  # history is not needed for a claim
    for resource in _resources(bundle):
        codes = {s["code"] for s in resource.get("meta", {}).get("security", [])}
        assert codes == {"42CFRPart2", "R"}, resource["resourceType"]
    assert check_structure(export_client("C-6001", [validate_record(plan)])) == []
    with_pdf = tmp_path / "claim-pdf.json"
    assert invoke("fhir", "export", FIXTURES / "plans" / "plan-sud-part2-no-consent-complete.yaml", "--out",
                  with_pdf, "--purpose", "claim", "--with-documents").exit_code == 0
    [doc] = [r for r in _resources(json.loads(with_pdf.read_text())) if r["resourceType"] == "DocumentReference"]
    pdf = base64.b64decode(doc["content"][0]["attachment"]["data"])
    words = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert plan["presenting_concerns"][:30] in " ".join(words.split()) or "TP-6001" in words
    assert plan["history"]["substance_use"] not in " ".join(words.split())  # the PDF leaves history out too


def test_one_client_goes_to_the_file_several_to_a_folder_and_ndjson(tmp_path):
    out = tmp_path / "c1001.ndjson"
    assert invoke("fhir", "export", FIXTURES, "--client", "C-1001", "--ndjson", "--out", out).exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line)["resourceType"] != "Bundle" for line in lines)
    back = tmp_path / "back"
    assert invoke("fhir", "import", out, "--out", back).exit_code == 0
    assert {p.stem for p in back.glob("*.yaml")} >= {"TP-1001", "PN-1001-01"}


# --- hostile input: one line, non-zero exit, nothing written -------------------------------------------------
def _bundle(*resources: dict, kind: str = "collection") -> dict:
    return {"resourceType": "Bundle", "type": kind, "entry": [{"resource": r} for r in resources]}


PATIENT = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Doe", "given": ["Ann"]}],
           "birthDate": "1990-01-01"}
PLAN = {"resourceType": "CarePlan", "id": "cp1", "status": "active", "intent": "plan",
        "subject": {"reference": "Patient/p1"}, "created": "2026-10-01"}


@pytest.mark.parametrize(("content", "message"), [
    (b"{not json", "broken JSON"),
    (b"", "empty file"),
    (b"\x00\x01binary", "binary file"),
    (json.dumps([1, 2]).encode(), "not a FHIR resource or Bundle"),
    (json.dumps({"resourceType": "Bundle", "type": "collection", "entry": "x"}).encode(), "Bundle.entry is not a list"),
    (json.dumps(_bundle({"resourceType": "Spaceship", "id": "s"})).encode(), "unknown resourceType 'Spaceship'"),
    (json.dumps(_bundle({**PATIENT, "birthDate": 19900101})).encode(), "Patient/p1: not valid FHIR R4: birthDate"),
    (json.dumps(_bundle(PATIENT, {**PLAN, "subject": {"reference": "Patient/nobody"}})).encode(),
     "CarePlan/cp1: subject: reference to nowhere (Patient/nobody)"),
    (json.dumps(_bundle(PATIENT, {**PLAN, "author": {"reference": "Patient/p1"}})).encode(),
     "author: points at a Patient, not a Practitioner or PractitionerRole"),
    (json.dumps(_bundle(PATIENT, {**PLAN, "extension": [{"url": "urn:docgen:fhir:StructureDefinition:record-rest",
                                                           "valueString": "{\"$items\": 5}"}]})).encode(),
     "record rest"),
    (("[" * 5000 + "]" * 5000).encode(), "nesting"),
])
def test_hostile_input_is_one_line_and_nothing_written(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    good = EHR / "ehr-everything-phq9-careplan.json"
    out = tmp_path / "out"
    result = invoke("fhir", "import", good, bad, "--out", out)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("docgen fhir import: input: ") and message in lines[0], lines
    assert not out.exists()


def test_a_huge_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from docgen.fhir import resources

    monkeypatch.setattr(resources, "MAX_FILE_BYTES", 1000)
    result = invoke("fhir", "import", EHR / "ehr-everything-phq9-careplan.json", "--out", tmp_path / "out")
    assert result.exit_code == 2 and "file too large" in result.stderr and not (tmp_path / "out").exists()


def test_no_client_text_in_errors(tmp_path):
    secret = "Patient says she hears voices at night"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_bundle({**PATIENT, "birthDate": secret, "gender": [secret]})), encoding="utf-8")
    result = invoke("fhir", "import", bad, "--out", tmp_path / "out")
    assert result.exit_code == 2 and secret not in result.stderr + result.stdout


def test_export_usage_errors(tmp_path):
    result = invoke("fhir", "export", FIXTURES, "--out", tmp_path / "x", "--purpose", "gossip")
    assert result.exit_code == 2 and result.stderr.startswith("docgen fhir export: unknown purpose 'gossip'")
    assert not (tmp_path / "x").exists()


# --- packets: the Bundle next to records.json, and a CDex $submit-attachment ---------------------------------
def test_packet_fhir_attaches_the_bundle_and_cdex_carries_the_packet(tmp_path):
    out, cdex = tmp_path / "packet.pdf", tmp_path / "packet.cdex.json"
    result = invoke("packet", FIXTURES, "--client", "C-5001", "--from", "2026-10-01", "--to", "2026-10-28",
                    "--purpose", "claim", "--recipient", "Superior HealthPlan", "--as-of", "2026-11-24",
                    "--out", out, "--fhir", "--cdex", cdex)
    assert result.exit_code == 0, result.output
    pdf = out.read_bytes()
    attachments = {name: blobs[0] for name, blobs in pypdf.PdfReader(io.BytesIO(pdf)).attachments.items()}
    records = json.loads(attachments["records.json"])["records"]
    bundle = json.loads(attachments["records.fhir.json"])
    manifest = json.loads(attachments["manifest.json"])
    assert manifest["attachments"]["records.fhir.json"] == hashlib.sha256(attachments["records.fhir.json"]).hexdigest()
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.parameters import Parameters

    Bundle.model_validate(bundle)
    assert bundle_problems(bundle) == []
    ids = {r["identifier"][0]["value"] for r in _resources(bundle) if r["resourceType"] in ("CarePlan", "Encounter")}
    assert ids == {r["id"] for r in records}
    # minimum necessary as records.json: what the claim leaves out of records.json is not in the Bundle
    plan = next(r for r in records if r["kind"] == "treatment_plan")
    full = parse_yaml(json.dumps(json.load((FIXTURES / "plans" / "plan-tx-medicaid-sud-part2-complete.json").open())))
    assert "history" not in plan and full["history"]["psychosocial"] not in json.dumps(bundle)
    params = json.loads(cdex.read_text(encoding="utf-8"))
    Parameters.model_validate(params)
    names = [p["name"] for p in params["parameter"]]
    assert names[:2] == ["TrackingId", "AttachTo"] and "MemberId" in names and names.count("Attachment") == 2
    attach = next(p for p in params["parameter"] if p["name"] == "AttachTo")
    assert attach["valueCode"] == "claim"
    doc = params["parameter"][names.index("Attachment")]["part"][1]["resource"]["content"][0]["attachment"]
    assert base64.b64decode(doc["data"]) == pdf and doc["size"] == len(pdf)
    assert doc["hash"] == base64.b64encode(hashlib.sha1(pdf).digest()).decode()  # noqa: S324


def test_cdex_is_for_claims_and_authorizations_only(tmp_path):
    result = invoke("packet", FIXTURES, "--client", "C-5001", "--purpose", "audit", "--recipient", "Auditor",
                    "--as-of", "2026-11-24", "--out", tmp_path / "p.pdf", "--cdex", tmp_path / "c.json")
    assert result.exit_code == 2 and "--cdex: a CDex attachment goes with a claim or an authorization" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_input_text_cannot_break_out_of_the_yaml_comments(tmp_path):
    """A linkId (or file name) holding a line break and YAML is shown escaped in the header comments."""
    lines = (EHR / "ehr-bulk-telehealth-note.ndjson").read_text(encoding="utf-8").splitlines()
    hostile = []
    for line in lines:
        resource = json.loads(line)
        if resource["resourceType"] == "QuestionnaireResponse":
            resource["item"].append({"linkId": "x\nkind: addendum\nid: EVIL", "answer": [{"valueInteger": 1}]})
        hostile.append(json.dumps(resource))
    source = tmp_path / "bulk.ndjson"
    source.write_text("\n".join(hostile) + "\n", encoding="utf-8")
    result = invoke("fhir", "import", source, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "out" / "bE1.yaml").read_text(encoding="utf-8")
    data = parse_yaml(text)
    assert data["kind"] == "progress_note" and data["id"] == "bE1" and "EVIL" not in json.dumps(data)
    assert all(line.startswith("#") for line in text.split("kind: progress_note")[0].splitlines())


@pytest.mark.slow
def test_with_documents_and_a_key_the_payer_receives_the_signed_pdf(tmp_path):
    """#15: "the signed PDFs attached": with --sign-with the DocumentReference carries the PDF signed
    as render --sign-with signs it; its size and SHA-1 are the signed file's, and the signature verifies."""
    import pki
    from docgen.sign import verify_pdf

    ca = pki.make_ca("FHIR Test CA")
    key = pki.pkcs12(tmp_path / "signer.p12", pki.make_signer(ca, "Daniel Kim"), ca, None)
    out = tmp_path / "signed.json"
    source = FIXTURES / "plans" / "plan-adult-mdd-complete.yaml"
    result = invoke("fhir", "export", source, "--out", out, "--with-documents", "--sign-with", key,
                    "--sign-role", "clinician")
    assert result.exit_code == 0, result.output
    [doc] = [r for r in _resources(json.loads(out.read_text(encoding="utf-8")))
             if r["resourceType"] == "DocumentReference"]
    attachment = doc["content"][0]["attachment"]
    pdf = base64.b64decode(attachment["data"])
    assert attachment["size"] == len(pdf)
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(pdf).digest()).decode()  # noqa: S324
    [report] = verify_pdf(pdf)
    assert report.field == "sig_clinician" and report.intact and report.signer == "Daniel Kim"
    # a key without documents to sign is a usage error, before any work
    refused = invoke("fhir", "export", source, "--out", tmp_path / "x.json", "--sign-with", key)
    assert refused.exit_code == 2 and "--sign-with" in refused.output and not (tmp_path / "x.json").exists()
