"""Rendering to files: names from record ids, atomic writes, drafts refused or allowed via the CLI."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pypdf
import pytest
from click.testing import CliRunner

import builders
from docgen import api
from docgen.cli import main
from docgen.render import Outcome
from docgen.render.docx import DocxRenderer
from docgen.render.pdf import PdfRenderer
from docgen.write import safe_name
from render_helpers import FIXTURES, documents_in, invoke, write_records

COMPLETE = FIXTURES / "plans" / "plan-adult-mdd-complete.yaml"
INCOMPLETE = FIXTURES / "plans" / "plan-lpc-associate-no-cosign-incomplete.yaml"
AS_OF = "2026-11-24"
ODD_IDS = ["../../evil", "a/b", "a_b", "a\\b", "CON", "con", "NUL.txt", "x y<z>", "..", ".hidden", "évil",
           "TP-ok", "Z" * 128]
WINDOWS_DEVICES = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])$", re.IGNORECASE)


def _plan(record_id: str, name: str = "Maria Elena Ortiz") -> dict:
    plan = builders.plan_dict()
    plan["id"] = record_id
    plan["client"]["name"] = name
    return plan


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".tmp")


# --- file names ---------------------------------------------------------------------------------
def test_safe_names_are_plain_distinct_and_stable():
    names = [safe_name(i) for i in ODD_IDS]
    assert len(set(names)) == len(names)
    assert len({n.lower() for n in names}) == len(names)  # distinct on case-insensitive disks too
    for identifier, name in zip(ODD_IDS, names, strict=True):
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name), name
        assert ".." not in name and len(name) <= 100
        assert not WINDOWS_DEVICES.match(name.split(".")[0]), name
        assert safe_name(identifier) == name
    assert safe_name("TP-1001") == "TP-1001"  # a plain id is kept as it is


def test_odd_ids_render_inside_out_only(tmp_path):
    source = write_records(tmp_path / "odd.json", [_plan(i) for i in ODD_IDS])
    out = tmp_path / "deep" / "out"
    rendered = api.render([source], out, as_of=builders.AS_OF)
    assert [r.outcome for r in rendered] == [Outcome.final] * len(ODD_IDS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "odd.json"]
    assert [p.name for p in (tmp_path / "deep").iterdir()] == ["out"]
    files = sorted(p for p in out.rglob("*") if p.name in documents_in(out))
    assert all(f.parent == out and f.is_file() for f in files)
    assert sorted(p.name for p in out.iterdir() if p not in files) == ["audit.sqlite"]
    assert len(files) == 2 * len(ODD_IDS)
    for r in rendered:
        stem = safe_name(r.result.id)
        assert sorted(p.name for p in r.files) == [f"{stem}.docx", f"{stem}.pdf"]
        assert all(p.resolve().parent == out.resolve() for p in r.files)
    assert not any("Maria" in f.name or "Ortiz" in f.name for f in files)


# --- atomic writes ------------------------------------------------------------------------------
def test_failed_render_leaves_nothing_and_others_still_render(tmp_path, monkeypatch):
    produced = []
    real_docx = DocxRenderer.render

    def docx_and_note(self, doc, *args):
        data = real_docx(self, doc, *args)
        produced.append((doc.record_id, len(data)))
        return data

    real_pdf = PdfRenderer.render

    def pdf_fails_for_boom(self, doc, *args):
        if doc.record_id == "TP-BOOM":
            raise RuntimeError(f"layout exploded on {doc.client_name}")
        return real_pdf(self, doc, *args)

    monkeypatch.setattr(DocxRenderer, "render", docx_and_note)
    monkeypatch.setattr(PdfRenderer, "render", pdf_fails_for_boom)
    source = write_records(tmp_path / "r.json", [_plan("TP-A"), _plan("TP-BOOM", "Secret Client Name"), _plan("TP-Z")])
    out = tmp_path / "out"
    rendered = {r.result.id: r for r in api.render([source], out, as_of=builders.AS_OF)}
    assert dict(produced)["TP-BOOM"] > 10_000  # its DOCX bytes were made before the PDF failed
    boom = rendered["TP-BOOM"]
    assert boom.outcome is Outcome.failed and boom.files == []
    assert "Secret" not in boom.error and boom.error == "RuntimeError while rendering"
    assert documents_in(out) == ["TP-A.docx", "TP-A.pdf", "TP-Z.docx", "TP-Z.pdf"]
    assert _leftovers(out) == []


def test_failed_write_removes_the_pair_and_temporary_files(tmp_path, monkeypatch):
    from docgen import write

    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith("TP-BOOM.pdf"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(write.os, "replace", replace)
    source = write_records(tmp_path / "r.json", [_plan("TP-BOOM"), _plan("TP-Z")])
    out = tmp_path / "out"
    rendered = {r.result.id: r for r in api.render([source], out, as_of=builders.AS_OF)}
    assert rendered["TP-BOOM"].outcome is Outcome.failed
    assert rendered["TP-BOOM"].error == "OSError: No space left on device"
    assert documents_in(out) == ["TP-Z.docx", "TP-Z.pdf"]  # the DOCX already renamed is gone


def test_a_repeated_record_id_fails_and_leaves_the_first_documents(tmp_path):
    """Two records with one id (or ids differing only in case: one file on Windows and macOS) in a
    run: the first is rendered, the others fail naming where it was, and nothing is overwritten."""
    first = write_records(tmp_path / "a.json", [_plan("TP-A", "First Person")])
    again = write_records(tmp_path / "b.json", [_plan("TP-A", "Second Person")])
    cased = write_records(tmp_path / "c.json", [_plan("tp-a", "Third Person")])
    out = tmp_path / "out"
    result = invoke("render", first, again, cased, "--out", out, "--as-of", AS_OF, "--allow-draft")
    assert result.exit_code == 1
    said = [line for line in result.stderr.splitlines() if ": failed: " in line]
    assert len(said) == 2
    assert "record TP-A: failed: duplicate record id (first in " in said[0] and "a.json" in said[0]
    assert ("record tp-a: failed: record id differs only in case from TP-A (first in " in said[1]
            and "their files would be one on Windows and macOS" in said[1])
    assert documents_in(out) == ["TP-A.docx", "TP-A.pdf"]
    text = pypdf.PdfReader(out / "TP-A.pdf").pages[0].extract_text()
    assert "First Person" in text and "Second Person" not in text


def test_an_id_with_whitespace_around_it_repeats_the_id_it_validates_to(tmp_path):
    """" TP-A " validates to TP-A, the name of its documents: a repeated id that fails, not a second
    record whose documents replace the first one's; "TP-A\n" is invalid (an invisible character)."""
    first = write_records(tmp_path / "a.json", [_plan("TP-A", "First Person")])
    padded = write_records(tmp_path / "b.json", [_plan(" TP-A ", "Second Person"), _plan("TP-A\n", "Third")])
    out = tmp_path / "out"
    rendered = api.render([first, padded], out, as_of=builders.AS_OF, allow_draft=True)
    assert [r.result.id for r in rendered] == ["TP-A", "TP-A", "TP-A\\n"]
    assert rendered[1].outcome is Outcome.failed and rendered[1].error.startswith("duplicate record id (first in ")
    assert rendered[2].outcome is Outcome.invalid
    assert documents_in(out) == ["TP-A.docx", "TP-A.pdf"]
    text = pypdf.PdfReader(out / "TP-A.pdf").pages[0].extract_text()
    assert "First Person" in text and "Second Person" not in text


def test_missing_word_template_fails_the_record_without_output(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    source = write_records(tmp_path / "r.json", [_plan("TP-A")])
    result = invoke("render", source, "--out", tmp_path / "out", "--templates", templates, "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "record TP-A: failed: no Word template treatment_plan.docx in " in result.stderr
    assert documents_in(tmp_path / "out") == []  # only the audit trail, which records the failure


# --- the render command -------------------------------------------------------------------------
def test_incomplete_record_is_refused_without_allow_draft(tmp_path):
    blockers = api.check([INCOMPLETE], as_of=builders.AS_OF)[0].blockers
    assert blockers
    out = tmp_path / "out"
    result = invoke("render", INCOMPLETE, COMPLETE, "--out", out, "--as-of", AS_OF)
    assert result.exit_code == 1
    for f in blockers:
        assert f"record TP-3002: refused: {f.path}: {f.message} [{f.rule}]" in result.stderr
    assert documents_in(out) == ["TP-1001.docx", "TP-1001.pdf"]
    assert "refused" in result.stdout


def test_allow_draft_renders_the_incomplete_record_but_still_exits_1(tmp_path):
    out = tmp_path / "out"
    result = invoke("render", INCOMPLETE, "--out", out, "--allow-draft", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert documents_in(out) == ["TP-3002.docx", "TP-3002.pdf"]


def test_complete_records_exit_0_and_format_option(tmp_path):
    result = invoke("render", COMPLETE, "--out", tmp_path / "both", "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    assert documents_in(tmp_path / "both") == ["TP-1001.docx", "TP-1001.pdf"]
    result = invoke("render", COMPLETE, "--out", tmp_path / "pdf", "--format", "pdf", "--as-of", AS_OF)
    assert result.exit_code == 0
    assert documents_in(tmp_path / "pdf") == ["TP-1001.pdf"]


@pytest.mark.parametrize("args", [["--format", "odt"], ["--format", ""], ["--profile", "no-such-profile"]])
def test_usage_errors_exit_2_and_write_nothing(tmp_path, args):
    result = invoke("render", COMPLETE, "--out", tmp_path / "out", "--as-of", AS_OF, *args)
    assert result.exit_code == 2
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_agency_template_edited_and_saved_by_libreoffice_keeps_rendering(tmp_path):
    """An agency changes the SOAP template's header wording and body font, saves it with LibreOffice
    (which rewrites the whole package), and renders with --templates: its wording shows, and the
    record's text is all there."""
    root = Path(__file__).resolve().parent.parent
    templates = tmp_path / "agency-templates"
    shutil.copytree(root / "docgen" / "templates", templates)
    edited = tmp_path / "edited"
    edited.mkdir()
    word = docx.Document(templates / "soap.docx")
    word.sections[0].header.paragraphs[0].insert_paragraph_before("CONFIDENTIAL - Riverside internal use")
    word.styles["Normal"].font.name = "Liberation Serif"
    word.save(edited / "soap.docx")
    saved = tmp_path / "saved"
    run = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless",
                          "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(saved), str(edited / "soap.docx")],
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0 and (saved / "soap.docx").is_file(), run.stderr
    shutil.copy(saved / "soap.docx", templates / "soap.docx")

    out = tmp_path / "out"
    fixture = root / "fixtures" / "notes" / "notes-ortiz-tp1001.jsonl"
    result = CliRunner().invoke(main, ["render", str(fixture), "--out", str(out), "--templates", str(templates),
                                       "--format", "docx", "--allow-draft", "--as-of", "2026-11-24"])
    assert result.exit_code in (0, 1), result.output
    rendered = docx.Document(out / "PN-1001-01.docx")
    header = [p.text for p in rendered.sections[0].header.paragraphs]
    assert header[0] == "CONFIDENTIAL - Riverside internal use"
    assert "Riverside Community Counseling\tProgress Note (SOAP) \u00b7 PN-1001-01" in header
    assert rendered.paragraphs[1].text == "Date of service: 10/13/2026"
    cells = [c.text for t in rendered.tables for r in t.rows for c in r.cells]
    assert "Maria Elena Ortiz" in cells and "90834" in cells
    body = "\n".join(p.text for p in rendered.paragraphs)
    assert "Introduce thought records" in body


def test_cjk_text_falls_back_to_an_embedded_font(tmp_path):
    """Characters DejaVu Sans lacks (Chinese, Japanese) are drawn with the embedded fallback font,
    in body paragraphs, table cells and the page footer, and read back from the text layer."""
    plan = builders.plan_dict()
    plan["client"]["name"] = "王小明 山田太郎"
    plan["presenting_concerns"] = "睡眠障害と不安 & <anxiety>; 中文测试"
    path = tmp_path / "plan.json"
    path.write_text(__import__("json").dumps(plan, ensure_ascii=False), encoding="utf-8")
    [item] = api.render([path], tmp_path / "out", formats=("pdf",), as_of=builders.AS_OF)
    assert item.outcome is Outcome.final
    pdf = tmp_path / "out" / f"{plan['id']}.pdf"
    pages = [p.extract_text() for p in pypdf.PdfReader(pdf).pages]
    assert "睡眠障害と不安 & <anxiety>; 中文测试" in pages[0]
    assert all("王小明 山田太郎" in page for page in pages)  # footer of every page
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "DroidSansFallback" in fonts
    rows = [line.split() for line in fonts.splitlines()[2:]]
    assert rows and all(row[-5] == "yes" for row in rows)  # emb column: every font embedded


# --- the prepared-template cache ----------------------------------------------------------------
def test_prepared_templates_are_cached_on_disk_and_rebuilt_when_the_template_changes(tmp_path, monkeypatch):
    from docgen.compose import compose
    from docgen.render import DEFAULT_TEMPLATES, metadata_for
    from docgen.render.docx import template

    monkeypatch.setenv("DOCGEN_CACHE", str(tmp_path / "cache"))
    result = api.check([COMPLETE], as_of=builders.AS_OF)[0]
    doc = compose(result.record, result.findings, result.profile, draft=False)
    meta = metadata_for(result.record, result.profile, "0" * 64)
    templates = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATES, templates)
    first = DocxRenderer(templates).render(doc, meta, result.record.service_date)
    assert len(list((tmp_path / "cache").glob("template-*.cache"))) == 1

    real = template._prepare  # noqa: SLF001
    calls = []
    monkeypatch.setattr(template, "_prepare", lambda *a: calls.append(a) or real(*a))
    # a fresh renderer (a new process would do the same) uses the cache: same bytes, no docxtpl work
    assert DocxRenderer(templates).render(doc, meta, result.record.service_date) == first
    assert calls == []
    # an unreadable cache file is prepared again, never trusted
    cached = next((tmp_path / "cache").glob("template-*.cache"))
    cached.write_bytes(b"\x00garbage")
    assert DocxRenderer(templates).render(doc, meta, result.record.service_date) == first
    assert len(calls) == 1
    # an edited template (other bytes) gets its own preparation
    edited = templates / "treatment_plan.docx"
    edited.write_bytes(edited.read_bytes() + b"\0")  # trailing bytes: still a valid zip
    DocxRenderer(templates).render(doc, meta, result.record.service_date)
    assert len(calls) == 2 and len(list((tmp_path / "cache").glob("template-*.cache"))) == 2


def test_the_modules_that_prepare_a_template_are_the_ones_its_cache_key_hashes():
    """What the cache holds (docxtpl's clean-up, the table-widths rewrite, the compressed static
    parts, and the Jinja code the environment's generator compiles) is made by docgen code in the
    modules of ``template.PREPARED_BY`` and in no other: a module added to the preparation path must
    be hashed too, or an edit to it would leave stale preparations in every cache."""
    import sys

    import docgen
    from docgen.render import DEFAULT_TEMPLATES
    from docgen.render.docx import escaping, template

    package = str(Path(docgen.__file__).parent) + os.sep
    ran: set[str] = set()

    def profile(frame, event, arg):  # type: ignore[no-untyped-def]
        if event == "call" and frame.f_code.co_filename.startswith(package):
            ran.add(frame.f_code.co_filename)

    paths = sorted(DEFAULT_TEMPLATES.glob("*.docx"))
    assert paths
    sys.setprofile(profile)
    try:
        env = escaping.environment()
        for path in paths:
            _, sources = template._prepare(path, path.read_bytes())  # noqa: SLF001
            for name, source in sources.items():
                env.compile(source, name)
    finally:
        sys.setprofile(None)
    assert {Path(file) for file in ran} == {Path(module.__file__) for module in template.PREPARED_BY}


def test_the_template_cache_key_changes_with_the_source_of_every_module_that_prepares_it(tmp_path, monkeypatch):
    """The key holds the source of each module of ``template.PREPARED_BY`` (and only theirs): an edit
    to any one of them is a new cache entry."""
    from types import SimpleNamespace

    from docgen.render import DEFAULT_TEMPLATES
    from docgen.render.docx import template

    data = (DEFAULT_TEMPLATES / "treatment_plan.docx").read_bytes()
    key = template.CompiledTemplate._key(data)  # noqa: SLF001
    copies = []
    for module in template.PREPARED_BY:
        copy = tmp_path / Path(module.__file__).name
        copy.write_bytes(Path(module.__file__).read_bytes())
        copies.append(copy)
    assert len(set(copies)) == len(template.PREPARED_BY) >= 4
    monkeypatch.setattr(template, "PREPARED_BY", tuple(SimpleNamespace(__file__=str(c)) for c in copies))
    assert template.CompiledTemplate._key(data) == key  # noqa: SLF001 - these files are what it reads
    for copy in copies:
        source = copy.read_bytes()
        copy.write_bytes(source + b"# edited\n")
        assert template.CompiledTemplate._key(data) != key, copy.name  # noqa: SLF001
        copy.write_bytes(source)
    assert template.CompiledTemplate._key(data) == key  # noqa: SLF001



# --- the content hash ---------------------------------------------------------------------------
def test_content_hash_leaves_out_fields_at_their_default():
    """A field typed at its default hashes like the field left out (so a docgen that adds an optional
    field keeps the hashes of records that do not use it); a changed value changes the hash."""
    from docgen.model.digest import content_hash

    plan = builders.plan_dict()
    base = content_hash(builders.validate(plan))
    plan["client"]["interpreter_needed"] = False
    plan["goals"][0]["progress"] = []
    assert content_hash(builders.validate(plan)) == base
    plan["client"]["interpreter_needed"] = True
    assert content_hash(builders.validate(plan)) != base


# --- PDF compression --------------------------------------------------------------------------------
def test_pdf_compression_setting_fast_or_small(tmp_path):
    """pdf-style.toml's compression: fast (the default, zlib level 1) or small (reportlab's default
    level): both valid and deterministic, small is smaller; anything else is a clear style error."""
    from docgen.render import DEFAULT_TEMPLATES
    from docgen.render.style import PdfStyle, StyleError
    from render_helpers import assert_pdf_sound

    sizes = {}
    for mode in ("fast", "small"):
        templates = tmp_path / mode
        shutil.copytree(DEFAULT_TEMPLATES, templates)
        style = templates / "pdf-style.toml"
        style.write_text(style.read_text(encoding="utf-8").replace('compression = "fast"', f'compression = "{mode}"'),
                         encoding="utf-8")
        assert PdfStyle.load(style).compression == mode
        first = api.render([COMPLETE], tmp_path / f"out-{mode}", formats=("pdf",), templates=templates,
                           as_of=builders.AS_OF)
        again = api.render([COMPLETE], tmp_path / f"again-{mode}", formats=("pdf",), templates=templates,
                           as_of=builders.AS_OF)
        data = first[0].files[0].read_bytes()
        assert data == again[0].files[0].read_bytes()
        assert_pdf_sound(first[0].files[0])
        sizes[mode] = len(data)
    assert sizes["small"] < sizes["fast"] < sizes["small"] * 1.15
    bad = tmp_path / "bad.toml"
    bad.write_text('compression = "maximum"\n', encoding="utf-8")
    with pytest.raises(StyleError, match="compression must be one of fast, small"):
        PdfStyle.load(bad)


def test_font_subsets_and_their_compression_are_built_once_per_distinct_subset():
    """A font subset is a pure function of its characters: the second document with the same
    subsets reuses them (same bytes as a first build); another character set builds its own."""
    from reportlab.pdfbase import pdfmetrics

    from docgen.compose import compose
    from docgen.render import DEFAULT_TEMPLATES, metadata_for
    from docgen.render.pdf import FONT
    from docgen.render.style import PdfStyle

    renderer = PdfRenderer(PdfStyle.load(DEFAULT_TEMPLATES / "pdf-style.toml"))
    subsets = pdfmetrics.getFont(FONT).face.docgen_subsets

    def render(name: str) -> bytes:
        plan = builders.plan_dict()
        plan["client"]["name"] = name
        record = builders.validate(plan)
        result = api.check([COMPLETE], as_of=builders.AS_OF)[0]
        doc = compose(record, result.findings, result.profile, draft=False)
        return renderer.render(doc, metadata_for(record, result.profile, "0" * 64), "20261124")

    first = render("Zqxjv Wkrpl Ascii")
    built = subsets.cache_info().misses
    assert render("Zqxjv Wkrpl Ascii") == first and subsets.cache_info().misses == built  # remembered
    assert subsets.cache_info().hits > 0
    render("\u0166he \u014aame \u0174ith \u0181are \u0141etters")  # characters no earlier document used
    assert subsets.cache_info().misses > built


def test_subset_widths_formatted_once_give_the_bytes_reportlab_formats(monkeypatch):
    """The width arrays of font subsets are formatted once per process; a PDF made with them
    remembered is byte for byte the PDF made without."""
    from docgen.compose import compose
    from docgen.render import DEFAULT_TEMPLATES, metadata_for
    from docgen.render.pdf import fonts
    from docgen.render.style import PdfStyle

    renderer = PdfRenderer(PdfStyle.load(DEFAULT_TEMPLATES / "pdf-style.toml"))
    result = api.check([COMPLETE], as_of=builders.AS_OF)[0]
    doc = compose(result.record, result.findings, result.profile, draft=False)
    meta = metadata_for(result.record, result.profile, "0" * 64)
    fonts._WIDTHS.clear()  # noqa: SLF001 - the memo under test
    fonts._OBJECTS.clear()  # noqa: SLF001 - else fonts formatted by earlier tests skip the widths' step
    first = renderer.render(doc, meta, "20261124")
    remembered = dict(fonts._WIDTHS)  # noqa: SLF001
    assert remembered and all(b"[ " in v.data for v in remembered.values())
    assert renderer.render(doc, meta, "20261124") == first  # every width array from the memo
    monkeypatch.setattr(fonts._Font, "addObjects", fonts.TTFont.addObjects)  # noqa: SLF001 - reportlab's own formatting
    assert renderer.render(doc, meta, "20261124") == first


def test_text_wholly_in_the_fallback_font_is_drawn_with_it():
    """A header, footer or cell whose every character needs the fallback font (an agency or client
    name in Chinese, a one-character cell) is drawn with that font, not as empty boxes."""
    import io

    from docgen.compose.blocks import Document, Section, Table

    doc = Document("treatment_plan", "treatment_plan", "TP-ZH", "Treatment Plan", "\u4e2d\u6587\u673a\u6784", (),
                   "\u738b\u5c0f\u660e", "C-1", "01/01/1990", "Plan date: 01/01/2026",
                   (Section("s", "Section", (Table(("A", "B"), (("\u4e2d", "x"),), (0.5, 0.5)),)),))
    data = PdfRenderer().render(doc, {}, "20260101")
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = reader.pages[0].extract_text()
    assert "\u4e2d\u6587\u673a\u6784" in text and "\u738b\u5c0f\u660e" in text and "\u4e2d" in text
    assert "\x00" not in text
    fonts = {str(f.get_object()["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].values()}
    assert any("DroidSansFallback" in f for f in fonts), fonts


def test_signature_lines_follow_the_profiles_signers_and_adult_age(tmp_path):
    """The signature block shows a line for every signer the profile requires (here a psychiatrist
    too), and a guardian's for a client under the profile's adult age (21 here: the client is 19)."""
    from render_helpers import PdfView

    profile = tmp_path / "agency.toml"
    profile.write_text('name = "agency"\nextends = "default"\n\n[rules.sig-present]\n'
                       'plan_roles = ["clinician", "client", "psychiatrist"]\nadult_age = 21\n', encoding="utf-8")
    plan = builders.plan_dict()
    plan["id"] = "TP-SIGNERS"
    plan["client"]["date_of_birth"] = "2007-06-01"  # 19 on the plan date
    source = write_records(tmp_path / "plan.json", [plan])
    [result] = api.check([source], profile=str(profile), as_of=builders.AS_OF)
    assert result.signers == ("clinician", "guardian", "psychiatrist")
    [rendered] = api.render([source], tmp_path / "out", formats=("pdf",), profile=str(profile), allow_draft=True,
                            as_of=builders.AS_OF)
    lines = [line.strip() for line in PdfView(rendered.files[0]).text.splitlines()]
    block = lines[lines.index("Signatures"):]
    assert "Parent/Guardian signature" in block and "Psychiatrist signature" in block
    assert "Client signature" not in block
    [default] = api.check([source], as_of=builders.AS_OF)  # the default profile: adult at 18, no psychiatrist
    assert default.signers == ("clinician", "client")
