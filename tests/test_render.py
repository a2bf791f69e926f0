"""Rendering: what the DOCX and PDF files actually say, read back with independent readers.

One module-scoped corpus (three built records and two fixtures) is rendered once in process, again
in process and once through the CLI in another process (for byte identity); LibreOffice converts its
five DOCX files in a single run.
"""
from __future__ import annotations

import html
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import pytest
from lxml import etree

import builders
from docgen import api
from docgen.compose import Document, compose
from docgen.compose.blocks import Chart, Table
from docgen.findings import Outcome
from docgen.model.digest import content_hash
from render_helpers import (
    CELL_TEXT,
    FIXTURES,
    NASTY,
    NASTY_SHOWN,
    ODD_AGENCY,
    ODD_NAME,
    SECRET,
    UNI_NAME,
    DocxView,
    PdfView,
    assert_pdf_sound,
    corpus_records,
    documents_in,
    docx_body_words,
    non_white_fraction,
    orphaned_headings,
    pdf_body_words,
    pdf_furniture,
    pdf_has,
    reading_words,
    run,
    shown,
    tool,
    word_diff,
    write_records,
    ws,
)

DOCGEN = Path(sys.executable).with_name("docgen")
FIXTURE_PLAN = FIXTURES / "plans" / "plan-adult-mdd-complete.yaml"
FIXTURE_DRAFT = FIXTURES / "plans" / "plan-lpc-associate-no-cosign-incomplete.yaml"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
ALL = ["TP-UNI", "PN-UNI", "TP-DRAFT", "TP-1001", "TP-3002"]


@dataclass
class Item:
    id: str
    outcome: Outcome
    doc: Document
    record: object
    profile: str
    docx: DocxView
    pdf: PdfView


@dataclass
class Corpus:
    out: Path
    items: dict[str, Item]
    again: Path  # a second in-process render of the same input
    cli: Path  # the same input rendered by the CLI in another process
    cli_run: object

    def __getitem__(self, key: str) -> Item:
        return self.items[key]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Corpus:
    base = tmp_path_factory.mktemp("render")
    source = base / "src"
    source.mkdir()
    write_records(source / "records.json", corpus_records())
    for fixture in (FIXTURE_PLAN, FIXTURE_DRAFT):
        (source / fixture.name).write_bytes(fixture.read_bytes())
    out = base / "out"
    rendered = api.render([source], out, allow_draft=True, as_of=builders.AS_OF)
    items = {}
    for r in rendered:
        result = r.result
        assert r.outcome in (Outcome.final, Outcome.draft), (result.id, r.outcome, r.error)
        doc = compose(result.record, result.findings, result.profile, draft=r.outcome is Outcome.draft)
        items[result.id] = Item(result.id, r.outcome, doc, result.record, result.profile,
                                DocxView(out / f"{result.id}.docx"), PdfView(out / f"{result.id}.pdf"))
    again = base / "again"
    api.render([source], again, allow_draft=True, as_of=builders.AS_OF)
    cli = base / "cli"
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    cli_run = run(DOCGEN, "render", source, "--out", cli, "--allow-draft", "--as-of", "2026-11-24",
                  env=env, timeout=120)
    return Corpus(out, items, again, cli, cli_run)


def test_corpus_outcomes(corpus):
    outcomes = {i.id: i.outcome for i in corpus.items.values()}
    assert outcomes == {"TP-UNI": Outcome.final, "PN-UNI": Outcome.final, "TP-DRAFT": Outcome.draft,
                        "TP-1001": Outcome.final, "TP-3002": Outcome.draft}
    assert documents_in(corpus.out) == sorted(f"{i}.{x}" for i in outcomes for x in ("docx", "pdf"))
    assert (corpus.out / "audit.sqlite").is_file()  # every render keeps an audit trail (default: in --out)
    assert sorted(outcomes) == sorted(ALL)


# --- parity: the same composition in both formats -----------------------------------------------
@pytest.mark.parametrize("key", ALL)
def test_every_composed_text_is_in_both_formats(corpus, key):
    item = corpus[key]
    texts = [shown(t) for t in item.doc.texts()]
    assert len(texts) > 40
    docx_text = ws(item.docx.all_text)
    missing_docx = [t for t in texts if ws(t) not in docx_text]
    missing_pdf = [t for t in texts if not pdf_has(item.pdf, t, item.doc.agency)]
    assert missing_docx == []
    assert missing_pdf == []


@pytest.mark.parametrize("key", ALL)
def test_docx_and_pdf_say_the_same_words_in_the_same_order(corpus, key):
    """Every sentence, in order: the DOCX's body (paragraphs, then table cells row by row) reads word for
    word as the PDF's pages, but for what only paged layout shows (furniture, "(continued)" headings
    and repeated header rows, the chart's labels, which the DOCX holds in its chart)."""
    item = corpus[key]
    docx_words, pdf_words = docx_body_words(item.docx), pdf_body_words(item.pdf, item.doc)
    assert len(docx_words) > 100
    assert word_diff(docx_words, pdf_words) == []


@pytest.mark.parametrize("key", ALL)
def test_docx_and_pdf_headers_and_footers_say_the_same(corpus, key):
    """The PDF's header on every page (agency, its lines, the document type and record id) and footer
    (client, client id, date of birth, "Page X of Y") are the DOCX's header and footer."""
    item = corpus[key]
    doc = item.doc
    expected_header = reading_words(" ".join((doc.agency, f"{doc.title} \u00b7 {doc.record_id}",
                                              " \u00b7 ".join(doc.agency_lines))))
    docx_header = reading_words(" ".join(item.docx.header))
    assert sorted(docx_header) == sorted(expected_header)
    docx_footer = reading_words(re.sub(r"Page \S+ of \S+", "Page X of Y", " ".join(item.docx.footer)))
    for index in range(len(item.pdf.pages)):
        header, footer = pdf_furniture(item.pdf, index)
        assert sorted(header) == sorted(docx_header), index
        assert sorted(reading_words(re.sub(r"Page \d+ of \d+", "Page X of Y", " ".join(footer)))) == \
            sorted(docx_footer), index


def test_parity_check_can_fail(corpus):
    """The comparison above is not vacuous: text that is not in the document is not found."""
    item = corpus["TP-UNI"]
    assert not pdf_has(item.pdf, "Presenting concerns that nobody wrote", item.doc.agency)
    assert ws("Presenting concerns that nobody wrote") not in ws(item.docx.all_text)
    # a cell split at the page break still needs both halves, in order
    assert not pdf_has(item.pdf, "Client ID Identifying information", item.doc.agency)
    # and the word-for-word comparison finds one word changed, left out or added
    words = docx_body_words(item.docx)
    assert word_diff(words, [*words[:50], "Changed", *words[51:]]) != []
    assert word_diff(words, words[:-1]) != [] and word_diff(words, [*words, "more"]) != []


def test_table_cells_are_whole_cells_in_docx(corpus):
    item = corpus["TP-UNI"]
    tables = item.docx.tables()
    diagnoses = next(t for t in tables if t[0] == ["Code", "Diagnosis", "Type", "Supporting evidence"])
    assert diagnoses[1][:2] == ["F33.1", "Major depressive disorder, recurrent, moderate"]
    goals = next(t for t in tables if t[0] == ["Goal", "Category", "Goal statement", "In the person's words",
                                                 "Target date"])
    assert goals[1][0] == "G1" and goals[1][3] == CELL_TEXT  # line break kept inside the cell
    objectives = next(t for t in tables if t[0][:3] == ["Goal", "Objective", "Description"])
    assert objectives[1][:2] == ["G1", "G1.O1"]
    interventions = next(t for t in tables if t[0][:3] == ["Goal", "Modality", "Intervention"])
    assert interventions[1][1:3] == ["CBT (individual)", "Cognitive behavioural therapy with behavioural activation"]
    for index, table in enumerate(tables):
        if table[0] and table[0][0] in ("Code", "Goal"):
            assert item.docx.table_header_repeats(index), table[0]


def test_block_tables_get_the_composed_column_widths(corpus):
    """DOCX tables use the composed relative widths (docxtpl would otherwise spread columns evenly)."""
    item = corpus["TP-UNI"]
    section = item.docx.document.sections[0]
    usable = (section.page_width - section.left_margin - section.right_margin) / 635  # twips
    composed = {b.columns: b.widths for s in item.doc.sections for b in s.blocks if isinstance(b, Table)}
    checked = 0
    for table in item.docx.document.tables:
        columns = tuple(c.text for c in table.rows[0].cells)
        if columns in composed:
            grid = [int(c.get(W + "w")) for c in table._tbl.tblGrid]
            assert [round(w / usable, 2) for w in grid] == list(composed[columns]), columns
            checked += 1
    assert checked == len(composed) >= 5


def test_docx_rows_follow_the_pdfs_rules(corpus):
    """Word and LibreOffice keep a row whole (cantSplit), a table's first row with the next (its heading
    and header row keep two rows) and its second-to-last with its last (the last never alone)."""
    from docgen.render.docx.table_widths import SPLIT_ROW_CHARS

    item = corpus["TP-1001"]
    checked = 0
    for table in item.docx.document.tables:
        rows = table.rows
        body = rows[1:] if rows[0]._tr.find(f"{W}trPr/{W}tblHeader") is not None else rows
        for index, row in enumerate(body):
            tr = row._tr
            text = "".join(c.text for c in row.cells)
            assert (tr.find(f"{W}trPr/{W}cantSplit") is not None) == (len(text) < SPLIT_ROW_CHARS)
            keeps = {p.find(f"{W}pPr/{W}keepNext") is not None for p in tr.iter(f"{W}p")}
            assert keeps == {index < len(body) - 1 and index in (0, len(body) - 2)}, (index, text[:40])
            checked += 1
    assert checked > 40


# --- client text is data ------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["TP-UNI", "PN-UNI"])
def test_markup_like_and_unicode_text_exact_in_docx(corpus, key):
    view = corpus[key].docx
    assert NASTY_SHOWN in view.paragraphs  # one paragraph, exactly as typed; \n kept as line breaks
    xml = view.xml("word/document.xml")
    assert "\x07" not in xml and "[U+0007]" in xml and "[U+FFFF]" in xml
    paragraph = next(p for p in view.document.paragraphs if p.text == NASTY_SHOWN)
    assert len(paragraph._p.findall(f".//{W}br")) == 4
    assert len(paragraph._p.findall(f".//{W}tab")) == 1


@pytest.mark.parametrize("key", ["TP-UNI", "PN-UNI"])
def test_markup_like_and_unicode_text_exact_in_pdf(corpus, key):
    view = corpus[key].pdf
    lines = NASTY_SHOWN.split("\n")
    # each typed line is a line of the text layer, in order; the tab shows as blank space
    pattern = r"\s*\n\s*".join(r"[\s\u00a0]+".join(re.escape(part) for part in line.split("\t")) for line in lines)
    assert re.search(pattern, view.text), view.text[:2000]
    assert "\x07" not in view.text and "bell[U+0007]here [U+FFFF] &amp;" in view.text
    assert "<b>not bold</b> <br/> ]]>" in view.text


def test_odd_names_in_header_and_footer(corpus):
    item = corpus["TP-DRAFT"]
    assert item.docx.header[0] == f"{ODD_AGENCY}\tTreatment Plan \u00b7 TP-DRAFT"
    footer = f"{ODD_NAME} \u00b7 Client ID C-2002 \u00b7 DOB 04/12/1987"
    assert any(line.startswith(footer) for line in item.docx.footer)
    for page in item.pdf.pages:
        assert ODD_AGENCY in page.splitlines()
        assert footer in page.splitlines()


def test_every_docx_part_is_well_formed_xml(corpus):
    strict = etree.XMLParser(recover=False, resolve_entities=False)
    for item in corpus.items.values():
        for name, data in item.docx.parts().items():
            if name.endswith((".xml", ".rels")):
                etree.fromstring(data, strict)
                assert b"\x07" not in data


@pytest.mark.slow
def test_every_docx_is_valid_office_open_xml(corpus, openxml_validator):
    """Every DOCX passes the Open XML SDK's validation (schemas, package, and its Word app-compat
    checks; openxml-audit, a pure-Python port): Word opens it without offering to repair it."""
    for key, item in corpus.items.items():
        result = openxml_validator.validate(item.docx.path)
        assert result.is_valid, (key, [e.description for e in result.errors[:5]])


# ECMA-376 sequences (CT_TblPr, CT_TcPr, CT_TrPr is a choice): Word reports a file whose properties
# repeat an element or break the order as unreadable content and offers to repair it
TBL_PR = ("tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize", "tblW",
          "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook", "tblCaption",
          "tblDescription")
TC_PR = ("cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar", "textDirection",
         "tcFitText", "vAlign", "hideMark")


def test_table_properties_follow_the_schema_order_once_each(corpus):
    checked = 0
    for key, item in corpus.items.items():
        root = etree.fromstring(item.docx.parts()["word/document.xml"])
        for props, order in ((f"{W}tblPr", TBL_PR), (f"{W}tcPr", TC_PR)):
            for element in root.iter(props):
                names = [etree.QName(child).localname for child in element]
                assert len(set(names)) == len(names), (key, names)
                assert names == sorted(names, key=order.index), (key, names)
                checked += 1
    assert checked > 100


# --- page furniture -----------------------------------------------------------------------------
@pytest.mark.parametrize("key", ALL)
def test_pdf_header_and_footer_on_every_page(corpus, key):
    item = corpus[key]
    doc, pages = item.doc, item.pdf.pages
    assert len(pages) >= 2
    for number, page in enumerate(pages, 1):
        lines = page.splitlines()
        assert doc.agency in lines
        assert f"{doc.client_name} \u00b7 Client ID {doc.client_id} \u00b7 DOB {doc.client_dob}" in lines
        assert f"Page {number} of {len(pages)}" in lines
        assert f"{doc.title} \u00b7 {doc.record_id}" in lines


@pytest.mark.parametrize("key", ALL)
def test_no_heading_is_left_alone_at_the_foot_of_a_pdf_page(corpus, key):
    item = corpus[key]
    assert orphaned_headings(item.pdf, item.doc) == []


@pytest.mark.parametrize("key", ["TP-UNI", "PN-UNI"])
def test_docx_header_and_footer(corpus, key):
    item = corpus[key]
    view, doc = item.docx, item.doc
    assert len(view.document.sections) == 1  # one header and one footer for every page
    sect_pr = view.document.sections[0]._sectPr
    assert sect_pr.find(W + "titlePg") is None  # no different first-page header or footer
    # the agency, and on the right the document type and record id, as on every page of the PDF
    assert view.header[:2] == [f"{doc.agency}\t{doc.title} \u00b7 {doc.record_id}", " \u00b7 ".join(doc.agency_lines)]
    footer = "\n".join(view.footer)
    assert f"{UNI_NAME} \u00b7 Client ID C-1001 \u00b7 DOB 04/12/1987" in footer
    instructions = [i.strip() for i in re.findall(r"<w:instrText[^>]*>([^<]*)</w:instrText>", view.footer_xml())]
    assert instructions == ["PAGE", "NUMPAGES"]
    assert re.search(r"Page \S+ of \S+", footer)


def test_note_shows_date_of_service_at_the_top(corpus):
    item = corpus["PN-UNI"]
    assert item.docx.paragraphs[:2] == ["Progress Note (SOAP)", "Date of service: 11/23/2026"]
    first = item.pdf.pages[0].splitlines()
    assert first[:2] == ["Progress Note (SOAP)", "Date of service: 11/23/2026"]
    assert corpus["TP-UNI"].pdf.pages[0].splitlines()[:2] == ["Treatment Plan", "Plan date: 09/22/2026"]


# --- signatures ---------------------------------------------------------------------------------
def test_electronic_signature_line(corpus):
    # a no-break space between the date and the time: never the time alone on a line
    line = "Electronically signed by Daniel Kim, LCSW on 11/23/2026\u00a011:05"
    item = corpus["PN-UNI"]
    assert line in item.docx.paragraphs
    assert line.replace("\u00a0", " ") in item.pdf.text.splitlines()  # the text layer reads a plain space
    client = f"Electronically signed by {UNI_NAME} on 09/22/2026\u00a016:20"
    assert client in corpus["TP-UNI"].docx.paragraphs
    assert client.replace("\u00a0", " ") in corpus["TP-UNI"].pdf.text.splitlines()


def _signature_fields(view) -> dict[str, tuple[int, list[float]]]:
    """Signature form fields of a PDF: name -> (page index, rectangle)."""
    found = {}
    for index, page in enumerate(view.reader.pages):
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            if annot.get("/FT") == "/Sig":
                found[str(annot["/T"])] = (index, [float(v) for v in annot["/Rect"]])
    return found


def test_final_pdfs_carry_an_empty_signature_field_on_each_signature_block(corpus):
    fields = _signature_fields(corpus["TP-UNI"].pdf)
    assert sorted(fields) == ["sig_client", "sig_clinician"]
    acro = corpus["TP-UNI"].pdf.reader.trailer["/Root"]["/AcroForm"]
    assert sorted(str(f.get_object()["/T"]) for f in acro["/Fields"]) == sorted(fields)
    last = len(corpus["TP-UNI"].pdf.pages) - 1
    for name, (page, (x1, y1, x2, y2)) in fields.items():
        assert page == last and x2 - x1 > 150 and y2 - y1 > 30, name
        assert all(f.get_object().get("/V") is None for f in acro["/Fields"])  # empty: nobody signed yet
    # the clinician's field lies level with the clinician's block, above the client's
    assert fields["sig_clinician"][1][1] > fields["sig_client"][1][1]
    assert sorted(_signature_fields(corpus["PN-UNI"].pdf)) == ["sig_clinician"]
    assert _signature_fields(corpus["TP-DRAFT"].pdf) == _signature_fields(corpus["TP-3002"].pdf) == {}  # drafts


def test_unsigned_required_signature_shows_a_line_with_the_role(corpus):
    item = corpus["TP-DRAFT"]
    paragraphs = item.docx.paragraphs
    at = paragraphs.index("Client", paragraphs.index("Signatures"))
    # the signature line and the date line: underlined tabs, rules as in the PDF (no underscores as text)
    assert paragraphs[at + 1] == "\t\t\t"
    line = next(p for p in item.docx.document.paragraphs if p.text == "\t\t\t")
    assert [r.underline for r in line.runs] == [True, None, True]
    assert ws(paragraphs[at + 2]) == "Client signature Date / time"
    lines = [line.strip() for line in item.pdf.text.splitlines() if line.strip()]
    signatures = lines[lines.index("Signatures"):]
    at = signatures.index("Client")
    assert signatures[at:at + 3] == ["Client", "Client signature", "Date / time"]
    # the supervisor of a not-co-signed associate gets a line as well (fixture TP-3002)
    assert "Clinical Supervisor signature" in [line.strip() for line in corpus["TP-3002"].pdf.text.splitlines()]
    assert any(ws(p).startswith("Clinical Supervisor signature") for p in corpus["TP-3002"].docx.paragraphs)


# --- trend chart --------------------------------------------------------------------------------
def test_trend_chart_vector_in_pdf_and_native_chart_in_docx(corpus):
    item = corpus["TP-UNI"]
    assert [c.title for s in item.doc.sections for c in s.blocks if isinstance(c, Chart)] == [
        "PHQ-9 over time", "GAD-7 over time"]
    page = next(i for i, text in enumerate(item.pdf.pages) if "PHQ-9 over time" in text)
    runs = item.pdf.runs(page)
    assert {"16", "11", "09/08/2026", "10/20/2026", "moderately severe"} <= set(runs)  # drawn as text and paths
    # the value axis' numbers, where the DOCX chart has them (its major unit: 5 for the PHQ-9's 27)
    assert {"0", "5", "10", "15", "20", "25"} <= set(runs)
    resources = item.pdf.reader.pages[page].get("/Resources", {})
    xobjects = resources.get("/XObject", {}) if resources else {}
    assert not any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.values())
    # the DOCX: a Word chart part per chart, placed by the body, declared and related; no image
    parts = item.docx.parts()
    charts = sorted(n for n in parts if n.startswith("word/charts/"))
    assert charts == ["word/charts/docgen-chart1.xml", "word/charts/docgen-chart2.xml"]
    assert not [n for n in parts if n.startswith("word/media/")]
    phq9 = etree.fromstring(parts[charts[0]])
    c = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
    line = phq9.find(f".//{c}lineChart/{c}ser")
    assert [v.text for v in line.iterfind(f"{c}cat//{c}pt/{c}v")] == ["09/08/2026", "10/20/2026"]
    assert [v.text for v in line.iterfind(f"{c}val//{c}pt/{c}v")] == ["16", "11"]
    bands = [s.findtext(f"{c}tx//{c}v") for s in phq9.iterfind(f".//{c}barChart/{c}ser")]
    assert "moderately severe" in bands
    types = parts["[Content_Types].xml"].decode()
    rels = parts["word/_rels/document.xml.rels"].decode()
    body = item.docx.xml("word/document.xml")
    for n in (1, 2):
        assert f'PartName="/word/charts/docgen-chart{n}.xml"' in types
        assert f'Id="rIdDocgenChart{n}"' in rels and f'Target="charts/docgen-chart{n}.xml"' in rels
        assert f'r:id="rIdDocgenChart{n}"' in body
    assert "PHQ-9 over time" in item.docx.paragraphs and "GAD-7 over time" in item.docx.paragraphs
    # one administration each: no chart
    assert not [n for n in corpus["PN-UNI"].docx.parts() if n.startswith(("word/media/", "word/charts/"))]
    assert "word/charts" not in corpus["PN-UNI"].docx.parts()["[Content_Types].xml"].decode()


# --- drafts -------------------------------------------------------------------------------------
def test_draft_has_watermark_on_every_page_and_lists_what_is_missing(corpus):
    item = corpus["TP-DRAFT"]
    assert [(n.text, n.rule) for n in item.doc.missing] == [
        ("Signatures \u2014 no client signature (or documented reason the client did not sign)", "sig-present")]
    first = ws(item.pdf.pages[0])
    assert "DRAFT \u2014 not final. Missing before this document can be final:" in first
    notice = item.doc.missing[0]
    assert f"{notice.text} {notice.rule}" in first  # the rule's id after the words, smaller
    assert "string=\"DRAFT\"" in item.docx.header_xml()
    assert f"{notice.text} {notice.rule}" in item.docx.paragraphs
    final = corpus["TP-UNI"]
    assert "DRAFT" not in final.docx.header_xml() and "DRAFT" not in final.pdf.text
    assert all("DRAFT" not in final.pdf.runs(i) for i in range(len(final.pdf.pages)))


def _tinted(png) -> int:
    """Pixels of the middle third of a page image the watermark's red tints."""
    from PIL import Image

    with Image.open(png) as image:
        rgb = image.convert("RGB")
        w, h = rgb.size
        return sum(1 for x in range(w // 3, 2 * w // 3) for y in range(h // 3, 2 * h // 3)
                   if (p := rgb.getpixel((x, y)))[0] > p[2] + 20 and p[0] > 150)


def test_the_draft_watermark_is_seen_on_every_page_but_is_not_text(corpus, tmp_path):
    """Copying or extracting a draft's text never mixes the watermark's letters into it ("D", "R", "A",
    "FT" did): it is drawn as outlines, not text. It is still there: the middle of every page is red."""
    item = corpus["TP-DRAFT"]
    pages = len(item.pdf.pages)
    assert pages >= 2
    for index in range(pages):
        assert "DRAFT" not in item.pdf.runs(index)
    word = re.compile(r"(?<![\w-])DRAFT(?![\w-])")  # not the record id TP-DRAFT
    assert len(word.findall(item.pdf.text)) == 1  # the notice at the top of the first page, nothing else
    extracted = run(tool("pdftotext"), item.pdf.path, "-").stdout
    assert len(word.findall(extracted)) == 1
    assert not set(extracted.split()) & {"D", "R", "A", "F", "T", "FT", "DR", "RA", "AF"}
    done = run(tool("pdftoppm"), "-r", "30", "-png", item.pdf.path, tmp_path / "draft")
    assert done.returncode == 0, done.stderr
    for number in range(1, pages + 1):
        assert _tinted(next(tmp_path.glob(f"draft-*{number}.png"))) > 300, number
    done = run(tool("pdftoppm"), "-r", "30", "-f", "1", "-l", "1", "-png", corpus["TP-UNI"].pdf.path,
               tmp_path / "final")
    assert _tinted(next(tmp_path.glob("final-*1.png"))) < 20  # a final document: no watermark


# --- determinism --------------------------------------------------------------------------------
def test_same_input_same_bytes(corpus):
    assert corpus.cli_run.returncode == 1, corpus.cli_run.stderr  # drafts are not final
    names = documents_in(corpus.out)
    assert names == documents_in(corpus.again) == documents_in(corpus.cli)
    for name in names:
        data = (corpus.out / name).read_bytes()
        assert data == (corpus.again / name).read_bytes(), name
        assert data == (corpus.cli / name).read_bytes(), f"{name} differs in another process"


# --- metadata -----------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["TP-UNI", "PN-UNI", "TP-DRAFT"])
def test_metadata_names_the_record_never_the_client(corpus, key):
    item = corpus[key]
    digest = content_hash(item.record)
    kind = item.record.kind
    info = item.pdf.info
    core = item.docx.document.core_properties
    for title, author, subject, keywords in ((info["/Title"], info["/Author"], info["/Subject"], info["/Keywords"]),
                                             (core.title, core.author, core.subject, core.keywords)):
        assert key in title and item.doc.title in title
        assert author == item.doc.agency
        assert kind in subject and f"profile {item.profile}" in subject
        assert f"record={key}" in keywords and f"kind={kind}" in keywords
        assert f"profile={item.profile}" in keywords and f"sha256={digest}" in keywords
    name = item.doc.client_name
    tokens = [name] + [t for t in re.split(r"[\s&<>\"'{}]+", name) if len(t) > 3]
    # the XMP packet (PDF/UA and PDF/A require one) says what the Info dictionary says, and no more
    xmp = item.pdf.reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert xml_escape(info["/Title"]) in xmp and xml_escape(info["/Keywords"]) in xmp
    meta_pdf = " ".join(info.values()) + xmp + html.unescape(xmp)
    meta_docx = " ".join(data.decode("utf-8") for part, data in item.docx.parts().items()
                         if part.startswith("docProps/") and part.endswith(".xml"))
    for token in tokens:
        assert token not in meta_pdf and token not in meta_docx
        assert token not in item.pdf.path.name and token not in item.docx.path.name
    assert not [n for n in item.docx.parts() if n.startswith("docProps/thumbnail")]  # no stale preview


# --- psychotherapy notes ------------------------------------------------------------------------
def test_psychotherapy_notes_never_rendered(corpus):
    item = corpus["PN-UNI"]
    assert item.record.psychotherapy_notes == SECRET
    probe = "SECRET-PROCESS-NOTE"
    assert not any(probe in t for t in item.doc.texts())
    assert probe not in item.docx.all_text and probe not in item.pdf.text
    assert not any(probe.encode() in data for data in item.docx.parts().values())
    assert "countertransference" not in ws(item.pdf.text)


# --- the files themselves -----------------------------------------------------------------------
def test_every_pdf_passes_qpdf_check_and_embeds_every_font(corpus):
    for item in corpus.items.values():
        assert_pdf_sound(item.pdf.path)


@pytest.fixture(scope="module")
def converted(corpus, tmp_path_factory) -> dict[str, Path]:
    """Every DOCX of the corpus converted to PDF by LibreOffice (one run, private profile)."""
    soffice = tool("soffice")
    base = tmp_path_factory.mktemp("soffice")
    profile = (base / "profile").as_uri()
    sources = [item.docx.path for item in corpus.items.values()]
    done = run(soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--convert-to", "pdf",
               "--outdir", base, *sources, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    return {path.stem: base / f"{path.stem}.pdf" for path in sources}


@pytest.mark.slow
def test_every_docx_converts_with_libreoffice_and_fields_become_page_numbers(corpus, converted):
    assert sorted(converted) == sorted(corpus.items)
    for key, path in converted.items():
        doc = corpus[key].doc
        view = PdfView(path)
        total = len(view.pages)
        assert total >= 2
        for number, text in enumerate(view.pages, 1):
            assert doc.agency in text
            assert f"{doc.client_name} \u00b7 Client ID {doc.client_id} \u00b7 DOB {doc.client_dob}" in text
            assert re.search(rf"Page\s*{number}\s*of\s*{total}", text), text[-300:]
        assert "SECRET-PROCESS-NOTE" not in view.text
    assert "Date of service: 11/23/2026" in PdfView(converted["PN-UNI"]).pages[0]
    assert NASTY_SHOWN.split("\n")[0] in PdfView(converted["PN-UNI"]).text
    plan = PdfView(converted["TP-UNI"]).text  # LibreOffice drew the native charts: dates, values, bands
    for label in ("09/08/2026", "10/20/2026", "16", "11", "moderately severe", "minimal"):
        assert label in plan, label


@pytest.mark.slow
def test_first_pages_are_not_blank(corpus, converted, tmp_path):
    pdftoppm = tool("pdftoppm")
    sources = {"docx-plan": converted["TP-UNI"], "docx-note": converted["PN-UNI"],
               "pdf-plan": corpus["TP-UNI"].pdf.path, "pdf-note": corpus["PN-UNI"].pdf.path}
    for label, pdf in sources.items():
        done = run(pdftoppm, "-r", "40", "-f", "1", "-l", "1", "-png", "-singlefile", pdf, tmp_path / label)
        assert done.returncode == 0, done.stderr
        fraction = non_white_fraction(tmp_path / f"{label}.png")
        assert 0.01 < fraction < 0.6, (label, fraction)


def test_source_text_examples_are_what_the_brief_asks_for():
    """Guard the test data itself: markup, braces, tab, line breaks, control character, scripts."""
    for needle in ("&", "<", ">", '"', "'", "{{", "}}", "{%", "%}", "\t", "\n", "{_{", "\x07", "Nguyễn Thị Ánh",
                   "Ελένη Παπαδοπούλου", "Дмитрий Иванов"):
        assert needle in NASTY


def test_table_widths_asked_for_by_the_template_equal_the_xml_tree_path(tmp_path, monkeypatch):
    """The template rewritten at preparation to ask for the composed tables' widths (the normal path)
    gives the same XML as fixing the rendered body's tree (the path for a template it cannot
    rewrite), for every fixture; a nested table is left to the tree path."""
    from docgen.render import DEFAULT_TEMPLATES
    from docgen.render.docx import DocxRenderer
    from docgen.render.docx import template as preparation
    from docgen.render.docx.images import Images
    from docgen.render.docx.renderer import _block_rows, _block_widths
    from docgen.render.docx.table_widths import TableWidths, _widths_in_template, fix_tables

    monkeypatch.setenv("DOCGEN_CACHE", str(tmp_path / "asking"))
    asking = DocxRenderer(DEFAULT_TEMPLATES)
    for name in ("treatment_plan", "soap", "birp", "dap", "girp", "addendum"):
        assert asking.compiled(name).widths_in_template, name  # prepared before the patch below
    monkeypatch.setenv("DOCGEN_CACHE", str(tmp_path / "plain"))
    monkeypatch.setattr(preparation, "_widths_in_template", lambda source: None)
    plain = DocxRenderer(DEFAULT_TEMPLATES)
    checked = 0
    for result in api.check([FIXTURES], as_of=builders.AS_OF):
        if result.record is None:
            continue
        doc = compose(result.record, result.findings, result.profile or "", draft=False)
        widths, rows = _block_widths(doc), _block_rows(doc)
        template = plain.compiled(doc.template)
        assert not template.widths_in_template
        context = plain._context(doc, Images())  # noqa: SLF001
        tree = fix_tables(template._finish(template.body.render({"doc": context})), widths,  # noqa: SLF001
                          template.text_width, rows)
        rewritten = asking.compiled(doc.template)
        asked = rewritten._finish(rewritten.body.render({"doc": context},  # noqa: SLF001
                                                        docgen_table=TableWidths(widths, template.text_width,
                                                                                 rows)))
        assert "docgen:" not in asked and "<w:gridCol" in asked
        assert etree.tostring(etree.fromstring(asked.encode()), method="c14n") == \
            etree.tostring(etree.fromstring(tree), method="c14n"), result.id
        checked += 1
    assert checked >= 20
    assert _widths_in_template("<w:tbl><w:tblPr><w:tblCaption w:val=\"docgen:x\"/></w:tblPr><w:tblGrid/>"
                               "<w:tr><w:tc><w:tbl><w:tblGrid/></w:tbl></w:tc></w:tr></w:tbl>") is None  # nested


def test_client_text_is_escaped_whatever_the_template_says():
    """Templates see the composed strings themselves, escaped as they are printed: a template's
    ``|safe``, ``|e`` or ``{% autoescape false %}`` cannot print client text as markup, while markup a
    template makes itself (a macro) and numbers print as usual."""
    from docgen.render.docx.escaping import environment

    typed = "a<b> & {{c}} {_{d}_} \"d\" 'e'\nnext\tcol"
    run = ("a&lt;b&gt; &amp; {{c}} {&#95;{d}&#95;} &#34;d&#34; &#39;e&#39;</w:t><w:br/><w:t xml:space=\"preserve\">next"
           "</w:t><w:tab/><w:t xml:space=\"preserve\">col")
    source = ("{{ x }}|{{ x|safe }}|{{ x|e }}|{% autoescape false %}{{ x }}{% endautoescape %}|"
              "{% macro m(v) %}<w:br/>{{ v }}{% endmacro %}{{ m(x) }}|{{ n }}|{{ x ~ '<' }}|{{ missing }}|{{ none }}")
    assert environment().from_string(source).render(x=typed, n=3, none=None) == "|".join(
        [run, run, run, run, "<w:br/>" + run, "3", run + "&lt;", "", "None"])
