"""Property tests: no input makes docgen raise, and free text is kept exactly as typed."""
from __future__ import annotations

import copy
import json
import tempfile
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import builders
from docgen import api
from docgen.findings import Severity, Status
from docgen.load import parse_yaml
from render_helpers import docx_reader_text, machine_words, pdf_reader_text, sanitized

ROOT = Path(__file__).resolve().parent.parent
EXEMPLAR = parse_yaml((ROOT / "fixtures" / "plans" / "plan-adult-mdd-complete.yaml").read_text(encoding="utf-8"))
AS_OF = date(2026, 11, 24)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies ----------------------------------------------------------------------------
scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**30), max_value=10**30)
           | st.floats() | st.text(max_size=20)
           | st.sampled_from(["treatment_plan", "progress_note", "2026-02-30", "2026-09-22", "10:30", "", "phq9",
                              "TP-1", "C-1001", "CL-01", "F33.1", "outpatient", "medicaid", "TX"]))
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=5)
                           | st.dictionaries(st.text(max_size=12), children, max_size=6), max_leaves=25)
record_keys = st.sampled_from(sorted(EXEMPLAR)) | st.text(max_size=12)
record_like = st.fixed_dictionaries(
    {"kind": st.sampled_from(["treatment_plan", "progress_note"]) | scalars, "id": scalars},
).flatmap(lambda head: st.dictionaries(record_keys, json_values, max_size=8).map(lambda rest: {**rest, **head}))


def _leaf_paths(value, prefix=()):
    """Every path into the exemplar: mappings by key, lists by index."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaf_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaf_paths(item, (*prefix, index))


EXEMPLAR_PATHS = [p for p in _leaf_paths(EXEMPLAR) if p]


@st.composite
def mutated_exemplars(draw):
    """The complete exemplar with one to three values replaced by arbitrary ones (or removed)."""
    data = copy.deepcopy(EXEMPLAR)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(EXEMPLAR_PATHS))
        target = data
        try:
            for part in path[:-1]:
                target = target[part]
            if draw(st.booleans()) and isinstance(target, dict):
                target.pop(path[-1], None)
            else:
                target[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement removed this path
    return data


def _check_file(text: str, suffix: str):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"doc{suffix}"
        path.write_text(text, encoding="utf-8")
        results = api.check([path], as_of=AS_OF)
    assert results, "every file yields at least one result"
    for result in results:
        assert result.status in set(Status)
        if result.status is Status.invalid:
            assert result.record is None
            assert result.findings and all(f.severity is Severity.blocker for f in result.findings)
        else:
            assert result.record is not None and result.profile
        for finding in result.findings:
            assert finding.path and finding.message
            assert "\n" not in finding.path + finding.message
        result.as_dict()  # serialisable report
        json.dumps(result.as_dict())
    return results


# --- (a) nothing raises out of api.check --------------------------------------------------------
@pytest.mark.slow
@FAST
@given(value=json_values | record_like)
def test_arbitrary_json_never_raises(value):
    _check_file(json.dumps(value), ".json")


@pytest.mark.slow
@FAST
@given(value=record_like, suffix=st.sampled_from([".json", ".yaml"]))
def test_arbitrary_record_like_documents_never_raise(value, suffix):
    text = json.dumps(value) if suffix == ".json" else yaml.safe_dump(value, allow_unicode=True)
    _check_file(text, suffix)


@FAST
@given(data=mutated_exemplars(), suffix=st.sampled_from([".json", ".yaml", ".jsonl"]))
def test_mutated_exemplar_never_raises(data, suffix):
    if suffix == ".yaml":
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    else:
        text = json.dumps(data) + ("\n" if suffix == ".jsonl" else "")
    _check_file(text, suffix)


@FAST
@given(raw=st.binary(max_size=200), suffix=st.sampled_from([".json", ".yaml", ".jsonl"]))
def test_arbitrary_bytes_never_raise(raw, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"doc{suffix}"
        path.write_bytes(raw)
        results = api.check([path], as_of=AS_OF)
    assert all(r.status is Status.invalid for r in results)


# --- (b) free text is kept exactly as typed -------------------------------------------------------
FREE_TEXT_FIELDS = [
    ("presenting_concerns",),
    ("presenting_concerns_client_words",),
    ("client_vision",),
    ("discharge_criteria",),
    ("history", "psychosocial"),
    ("medical_necessity", "indicated"),
    ("goals", 0, "statement"),
    ("goals", 0, "objectives", 1, "description"),
    ("goals", 0, "progress", 0, "summary"),
    ("strengths", 2),
    ("risk_assessment", "ideation"),
]
TRICKY = (list("&<>{}%#\"'\\\n\r\t\x00\x07\x1b\x7f\u0085\u00a0\u2028\u2029 :-|*!?@`~")
          + list("жяЖЯ東京ひらがなعربيעבריתΣσςﬁé\u0301\ufeff🙂")
          + ["{{", "}}", "{%", "%}", "<script>", "&amp;", "10:30", "1.5e3", "089", "no", "null", "~", "- ", "# ",
             "---", "...", "*a", "&a", "!!int", "\\n"])
free_text = st.text(max_size=300) | st.lists(st.sampled_from(TRICKY), max_size=25).map("".join)


def _get(data, path):
    for part in path:
        data = getattr(data, part) if not isinstance(part, int) else data[part]
    return data


def _put(data, path, value):
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


@FAST
@given(text=free_text, field=st.sampled_from(FREE_TEXT_FIELDS), fmt=st.sampled_from(["json", "yaml"]))
def test_free_text_survives_validation_unchanged(text, field, fmt):
    data = copy.deepcopy(EXEMPLAR)
    _put(data, field, text)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"plan.{fmt}"
        if fmt == "json":
            path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        else:  # typed in double quotes, the YAML way to write any text (escapes for control characters)
            path.write_text(yaml.safe_dump(data, allow_unicode=True, default_style='"', width=10_000),
                            encoding="utf-8")
        (result,) = api.validate([path])
    assert result.status is not Status.invalid, [(f.path, f.message) for f in result.findings]
    assert _get(result.record, field) == text


# --- the PDF layout never loses or reorders text ------------------------------------------------
layout_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:-&<>{}%'\"")),
        st.sampled_from([" ", " ", " ", "\n", "\t", "é", "ñ", "Ω", "Ж", "ễ", "中", "文", "字"]),
    ),
    min_size=1, max_size=700,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(para=layout_text, cell=layout_text, word=st.integers(min_value=1, max_value=400))
def test_pdf_layout_keeps_every_character_in_order(para, cell, word):
    """Whatever the text (runs of spaces, breaks, tabs, long words, scripts needing the fallback
    font), a paragraph and a table cell come out with every character, in order, on the pages."""
    import io

    import pypdf

    from docgen.compose.blocks import Document, Para, Section, Table
    from docgen.render.pdf import PdfRenderer
    from docgen.render.visible_text import display

    long_word = "W" * word
    doc = Document("treatment_plan", "treatment_plan", "TP-P", "Treatment Plan", "Agency", (), "Client Name", "C-1",
                   "01/01/1990", "Plan date: 01/01/2026",
                   (Section("s", "Section",
                            (Para(para), Table(("Col A", "Col B"), ((cell, long_word),), (0.5, 0.5)))),))
    data = PdfRenderer().render(doc, {}, "20260101")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    flat = "".join(text.split())
    position = 0
    for piece in (display(para), display(cell), long_word):
        wanted = "".join(piece.split())
        found = flat.find(wanted, position)
        assert found >= 0, (piece[:80], flat[:200])
        position = found + len(wanted)


big_text = st.text(alphabet=st.one_of(st.sampled_from(list("abcdefghijklmnopqrstuvwxyz0123456789.,&<")),
                                      st.sampled_from([" ", " ", " ", "\n", "\t", "é", "中"])),
                   min_size=1, max_size=6000)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@example(para="0", cell="0", items=["a"] * 11 + ["\n"] * 9 + ["\n\n"] * 2 + ["a\n\n\n\n\n\na"])  # a bullet item
@given(para=big_text, cell=big_text,
       items=st.lists(st.text(alphabet=st.sampled_from(list("abc xyz\n中")), min_size=1, max_size=300), min_size=1,
                      max_size=30))
def test_pdf_layout_across_pages_loses_nothing_and_furnishes_every_page(para, cell, items):
    """Paragraphs, bullets, a table row and a label grid long enough to cross pages: every page has
    its header and footer with "Page N of M", and the body's text is all there, in order."""
    import io

    import pypdf

    from docgen.compose.blocks import Bullets, Document, Fields, Para, Section, Table
    from docgen.render.pdf import PdfRenderer
    from docgen.render.visible_text import display

    doc = Document("treatment_plan", "treatment_plan", "TP-P", "Treatment Plan", "Agency", (), "Client Name", "C-1",
                   "01/01/1990", "Plan date: 01/01/2026",
                   (Section("s", "Section", (Para(para, label="Label"), Bullets("Items", tuple(items)),
                                             Table(("Col A", "Col B"), ((cell, "x"), ("y", cell[:500])), (0.3, 0.7)),
                                             Fields((("K", cell[:2000]),)))),))
    pages = pypdf.PdfReader(io.BytesIO(PdfRenderer().render(doc, {}, "20260101"))).pages
    body = ""
    for number, page in enumerate(pages, 1):
        flat = "".join(page.extract_text().split())
        for furniture in ("AgencyTreatmentPlan\u00b7TP-P", "ClientName\u00b7ClientIDC-1\u00b7DOB01/01/1990",
                          f"Page{number}of{len(pages)}"):
            assert furniture in flat, (number, furniture)
            flat = flat.replace(furniture, "", 1)
        body += flat
    position = 0
    for piece in [para, *items, cell, "x", "y", cell[:500], cell[:2000]]:
        wanted = "".join(display(piece).split())
        found = body.find(wanted, position)
        assert found >= 0, (piece[:60], len(piece))
        position = found + len(wanted)


# --- (c) nothing a reader sees is a machine word -------------------------------------------------
# None, null, [], a field path or a raw enum value never reach a document: in the DOCX, in the PDF, in
# an insurer packet; checked over every fixture and over generated records (optional parts left out,
# every value of every enum shown)
def _reader_texts(record, findings, profile: str = "default"):
    """The DOCX and PDF text of ``record`` as a reader sees it (a draft when a finding blocks)."""
    from docgen.compose import compose
    from docgen.render import Renderer, metadata_for

    draft = any(f.severity is Severity.blocker for f in findings)
    doc = compose(record, findings, profile, draft=draft)
    renderer = _RENDERER.setdefault("r", Renderer())
    meta = metadata_for(record, profile, "0" * 64)
    docx_bytes = renderer.docx.render(doc, meta, record.service_date)
    pdf_bytes = renderer.pdf.render(doc, meta, record.service_date.strftime("%Y%m%d"))
    return docx_reader_text(docx_bytes), pdf_reader_text(pdf_bytes)


_RENDERER: dict = {}


@pytest.fixture(scope="module")
def fixture_folder(tmp_path_factory) -> Path:
    """Every fixture record, its author's machine-looking strings ("None.") replaced (see sanitized)."""
    from docgen.load import read

    folder = tmp_path_factory.mktemp("fixtures")
    records = [sanitized(raw.data) for raw in read([ROOT / "fixtures"]) if raw.error is None]
    (folder / "records.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return folder


def test_no_machine_word_in_any_fixture(fixture_folder):
    results = [r for r in api.check([fixture_folder], as_of=AS_OF) if r.record is not None]
    assert len(results) >= 30
    found = {}
    for result in results:
        for fmt, text in zip(("docx", "pdf"), _reader_texts(result.record, result.findings, result.profile),
                             strict=True):
            words = machine_words(text)
            if words:
                found[f"{result.id}.{fmt}"] = words
    assert found == {}, found


@pytest.mark.parametrize(("client", "purpose", "recipient"), [
    ("C-1001", "claim", "Cascade Health Plan"),  # drafts among them: their notices too
    ("C-5001", "claim", "Superior HealthPlan"),  # Part 2
    ("C-7001", "release", "Northwest Disability Insurance Company"),
])
def test_no_machine_word_in_a_packet(fixture_folder, client, purpose, recipient):
    from docgen.packet import build_packet

    packet = build_packet([fixture_folder], client=client, purpose=purpose, recipient=recipient,
                          allow_draft=True, disclosure=AS_OF)
    assert machine_words(pdf_reader_text(packet.pdf)) == []


def _drop(data: dict, draw, keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in data and draw(st.booleans()):
            del data[key]


@st.composite
def generated_records(draw):
    """A plan, note or addendum from tests/builders.py with optional parts left out and enum values
    drawn from every enum: what compose must word without a None or a raw value."""
    from docgen.model import (
        ConsentType,
        Delivery,
        GoalCategory,
        InteractiveComplexityFactor,
        LevelOfCare,
        Modality,
        ObjectiveStatus,
        RiskLevel,
        ServiceType,
    )
    from docgen.model.base import PayerType, SignerRole

    def enum(kind):
        return draw(st.sampled_from([m.value for m in kind]))

    kind = draw(st.sampled_from(["plan", "note", "addendum"]))
    data = {"plan": builders.plan_dict, "note": builders.note_dict, "addendum": builders.addendum_dict}[kind]()
    data["payer"]["type"] = enum(PayerType)
    data["clinicians" if kind != "addendum" else "clinician"] = (
        [{**builders.AUTHOR, "npi": "1234567893"}] if kind != "addendum" else {**builders.AUTHOR, "npi": "1234567893"})
    if draw(st.booleans()):
        data["agency"]["npi"] = "1987654325"
    for sig in data["signatures"]:
        _drop(sig, draw, ("time", "credentials", "date", "signer_id"))
    if kind == "plan":
        data["level_of_care"] = enum(LevelOfCare)
        goal = data["goals"][0]
        goal["category"] = enum(GoalCategory)
        _drop(goal, draw, ("client_words", "target_date"))
        objective = goal["objectives"][0]
        objective["status"] = enum(ObjectiveStatus)
        _drop(objective, draw, ("baseline", "target", "measure", "target_date"))
        intervention = goal["interventions"][0]
        intervention["modality"] = enum(Modality)
        _drop(intervention, draw, ("frequency", "session_minutes", "duration", "responsible"))
        consent = data["consents"][0]
        consent["type"] = enum(ConsentType)
        _drop(consent, draw, ("signed_by", "signer_role", "date_signed"))
        data["risk_assessment"]["level"] = enum(RiskLevel)
        _drop(data["risk_assessment"], draw, ("method", "plan", "intent", "mitigation"))
        _drop(data["diagnoses"][0], draw, ("description", "primary"))
        _drop(data, draw, ("next_review_date", "projected_length_of_stay", "medical_necessity", "supports"))
        if draw(st.booleans()):
            data["client"] = {**data["client"], "guardian": {"name": "Ana Ortiz", "relationship": "mother"}}
    elif kind == "note":
        data["service_type"] = enum(ServiceType)
        data["delivery"] = enum(Delivery)
        data["place_of_service"] = draw(st.sampled_from(["02", "10", "11", "12", "53", "57", "99", "42"]))
        data["interactive_complexity_factors"] = draw(st.lists(st.sampled_from(
            [m.value for m in InteractiveComplexityFactor]), max_size=2, unique=True))
        data["risk_update"] = {"level": enum(RiskLevel), "changed_since_last": draw(st.booleans())}
        _drop(data, draw, ("start_time", "end_time", "psychotherapy_minutes", "plan_id", "objective"))
        _drop(data["goals_addressed"][0], draw, ("progress", "objective_ids"))
    else:
        _drop(data, draw, ("time", "reason", "payer"))
        data["changes"][0]["section"] = draw(st.sampled_from(
            [None, "goals[G1].objectives[G1.O1]", "goals[0].interventions", "signatures[0].date", "Goals"]))
        if data["changes"][0]["section"] is None:
            del data["changes"][0]["section"]
    if kind != "addendum" and draw(st.booleans()):
        answers = {key: draw(st.booleans()) for key in ("wish_to_be_dead", "suicidal_thoughts",
                                                          "suicidal_behavior_lifetime")}
        data["assessments"] = [{"instrument": "cssrs_screener", "date": "2026-09-08", **answers},
                               {"instrument": "phq9", "date": "2026-09-08", "items": [1] * 9},
                               {"instrument": "phq9", "date": "2026-10-08", "items": [0] * 8 + [draw(
                                   st.sampled_from([0, 1]))]}]
    for sig in data["signatures"]:
        sig["role"] = draw(st.sampled_from([SignerRole.clinician.value, sig["role"]]))
    return data


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=generated_records())
def test_no_machine_word_in_generated_records(data):
    from hypothesis import assume
    from pydantic import ValidationError

    from docgen.model import validate_record

    try:
        record = validate_record(sanitized(data))
    except ValidationError:
        assume(False)
        return
    findings = builders.check(record, plans=[builders.plan_dict()])
    for text in _reader_texts(record, findings):
        assert machine_words(text) == []
