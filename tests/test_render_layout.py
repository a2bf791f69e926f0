"""Rendering big records: a 40-goal plan over many pages, single text fields of 30,000 characters,
and agency / client names too long for the page header and footer."""
from __future__ import annotations

import itertools
import re

import pytest
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth

import builders
from docgen import api
from docgen.compose import compose
from docgen.load import parse_yaml
from docgen.render import DEFAULT_TEMPLATES, Outcome
from docgen.render.pdf import BOLD, FONT, register_fonts
from docgen.render.style import PdfStyle
from docgen.write import safe_name
from render_helpers import (
    FIXTURES,
    DocxView,
    PdfView,
    assert_pdf_sound,
    many_goals,
    orphaned_headings,
    pdf_body_words,
    write_records,
    ws,
)

LONG_AGENCY = "Riverside Community Counseling and Behavioral Health Services of the Greater Willamette Valley, Inc."
LONG_CLIENT = "Maria Elena Guadalupe Ortiz de la Fuente y Hernández-Villanueva Rodríguez del Castillo"
OBJECTIVE_HEADER = ["Goal", "Objective", "Description", "Measure", "Target date", "Status"]
AGENCY = "Riverside Community Counseling"


def _plan_fixture() -> dict:
    return parse_yaml((FIXTURES / "plans" / "plan-adult-mdd-complete.yaml").read_text(encoding="utf-8"))


def _checked(source, record_id: str) -> tuple:
    result = next(r for r in api.check([source], as_of=builders.AS_OF) if r.id == record_id)
    return result.record, result.findings, result.profile


def _long_words(prefix: str, chars: int) -> str:
    """About ``chars`` characters of distinct numbered words: p00000 p00001 ..."""
    return " ".join(f"{prefix}{n:05d}" for n in range(chars // 7))


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    base = tmp_path_factory.mktemp("big")
    many = many_goals(_plan_fixture(), 40)
    many["id"] = "TP-40"
    para, cell = _long_words("p", 30_000), _long_words("c", 30_000)
    word = "ABCDEFGHIJ" * 3_000
    long_text = builders.plan_dict()
    long_text["id"] = "TP-LONG"
    long_text["presenting_concerns"] = para
    long_text["goals"][0]["objectives"][0]["description"] = cell
    long_text["history"] = {"psychosocial": word}
    long_names = builders.plan_dict()
    long_names["id"] = "TP-LONG-NAMES"
    long_names["agency"]["name"] = LONG_AGENCY
    long_names["client"]["name"] = LONG_CLIENT
    absurd = builders.plan_dict()
    absurd["id"] = "TP-ABSURD-" + "X" * 110
    absurd["agency"]["name"] = "Agency " * 42
    absurd["client"]["name"] = "Client " * 42
    write_records(base / "big.json", [many, long_text, long_names, absurd])
    rendered = {r.result.id: r for r in api.render([base / "big.json"], base / "out", as_of=builders.AS_OF)}
    return {"source": base / "big.json", "out": base / "out", "rendered": rendered, "para": para, "cell": cell,
            "word": word}


def test_forty_goal_plan_renders_final(big):
    r = big["rendered"]["TP-40"]
    assert r.outcome is Outcome.final, (r.error, r.result.findings)
    assert sorted(p.name for p in r.files) == ["TP-40.docx", "TP-40.pdf"]


def test_objective_table_header_repeats_on_every_page_it_continues_on(big):
    pdf = PdfView(big["out"] / "TP-40.pdf")
    assert len(pdf.pages) >= 8
    pages = [[line.strip() for line in body.splitlines() if line.strip()] for body in pdf.bodies(AGENCY)]
    with_objectives = [i for i, lines in enumerate(pages) if any(re.fullmatch(r"G\d+\.O\d", x) for x in lines)]
    assert len(with_objectives) >= 3, with_objectives
    assert with_objectives == list(range(with_objectives[0], with_objectives[-1] + 1))  # one run of pages
    for index in with_objectives:
        lines = pages[index]
        first_row = next(n for n, x in enumerate(lines) if re.fullmatch(r"G\d+\.O\d", x))
        starts = [n for n in range(len(lines)) if lines[n:n + len(OBJECTIVE_HEADER)] == OBJECTIVE_HEADER]
        assert starts and starts[0] < first_row, f"page {index + 1} has objective rows without the header row"
    ids = re.findall(r"\bG\d+\.O\d\b", "\n".join(pdf.bodies(AGENCY)))
    assert sorted(set(ids)) == sorted(f"G{g}.O{o}" for g in range(1, 41) for o in (1, 2))
    assert orphaned_headings(pdf, compose(*_checked(big["source"], "TP-40"))) == []
    # the page furniture is on every one of the many pages
    for number, text in enumerate(pdf.pages, 1):
        assert f"Page {number} of {len(pdf.pages)}" in text.splitlines()


def test_forty_goal_docx_tables_are_complete_with_repeating_header(big):
    view = DocxView(big["out"] / "TP-40.docx")
    tables = view.tables()
    index = next(i for i, t in enumerate(tables) if t[0] == OBJECTIVE_HEADER)
    assert len(tables[index]) == 1 + 80
    assert view.table_header_repeats(index)
    assert [row[1] for row in tables[index][1:]] == [f"G{g}.O{o}" for g in range(1, 41) for o in (1, 2)]


def test_thirty_thousand_character_fields_render(big):
    r = big["rendered"]["TP-LONG"]
    assert r.outcome is Outcome.final, (r.error, r.result.findings)
    assert len(big["para"]) > 29_900 and len(big["cell"]) > 29_900 and len(big["word"]) == 30_000
    pdf = PdfView(big["out"] / "TP-LONG.pdf")
    assert len(pdf.pages) >= 10
    bodies = "\n".join(pdf.bodies(AGENCY))
    # the paragraph flows across pages: every word, in order, nothing lost or repeated
    assert re.findall(r"\bp\d{5}\b", bodies) == big["para"].split(" ")
    # the table cell splits across pages inside its row: every word, in order
    assert re.findall(r"\bc\d{5}\b", bodies) == big["cell"].split(" ")
    # the 30,000-letter word is broken into lines, never dropped (past the "(continued)" heading and
    # the table's label at the top of every page it continues on)
    doc = compose(r.result.record, r.result.findings, r.result.profile)
    assert big["word"] in "".join(pdf_body_words(pdf, doc))
    view = DocxView(big["out"] / "TP-LONG.docx")
    assert big["para"] in view.paragraphs
    assert big["cell"] in view.cells and big["word"] in view.cells


def _furniture_fits(pdf: PdfView) -> None:
    """Every header and footer run lies inside the margins and none overlaps its neighbour."""
    register_fonts()
    style = PdfStyle.load(DEFAULT_TEMPLATES / "pdf-style.toml")
    width = LETTER[0]
    margin = style.margin_inch * inch
    body_top, body_bottom = LETTER[1] - margin * 1.15, margin
    for index in range(len(pdf.pages)):
        runs = [run for run in pdf.placed(index) if not body_bottom <= run[2] <= body_top]  # header, footer
        assert len(runs) >= 4
        lines: dict[float, list] = {}
        for text, x, y, size, font in runs:
            right = x + stringWidth(text, BOLD if font.endswith("-Bold") else FONT, size)
            assert margin - 0.5 <= x and right <= width - margin + 0.5, (index, text, x, right)
            assert size >= 6
            lines.setdefault(round(y, 1), []).append((x, right, text))
        for line in lines.values():
            line.sort()
            for (_, end, text), (start, _, after) in itertools.pairwise(line):
                assert end + 6 <= start, f"{text!r} runs into {after!r}"


def test_long_agency_and_client_names_fit_header_and_footer(big):
    pdf = PdfView(big["out"] / "TP-LONG-NAMES.pdf")
    _furniture_fits(pdf)
    for number, text in enumerate(pdf.pages, 1):
        lines = text.splitlines()
        assert LONG_AGENCY in lines  # smaller, but whole
        assert f"{LONG_CLIENT} \u00b7 Client ID C-1001 \u00b7 DOB 04/12/1987" in lines
        assert f"Page {number} of {len(pdf.pages)}" in lines
        assert "Treatment Plan \u00b7 TP-LONG-NAMES" in lines


def test_absurdly_long_names_are_cut_in_the_furniture_only(big):
    record_id = "TP-ABSURD-" + "X" * 110
    pdf = PdfView(big["out"] / f"{safe_name(record_id)}.pdf")
    _furniture_fits(pdf)
    runs = [text for text, *_ in pdf.placed(0)]
    assert any(t.startswith("Agency Agency") and t.endswith("\u2026") for t in runs)
    assert any(t.startswith("Client Client") and t.endswith("\u2026") for t in runs)
    assert f"Page 1 of {len(pdf.pages)}" in runs
    assert ("Client " * 42).strip() in ws(pdf.pages[0])  # whole in the body


def test_big_pdfs_are_sound(big):
    pdfs = sorted(big["out"].glob("*.pdf"))
    assert len(pdfs) == 4
    for path in pdfs:
        assert_pdf_sound(path)


# --- tables across pages: headings kept with rows, no last row alone, "(continued)" ------------------
def _table_rows_by_page(renderer, doc, marker: str) -> list[list[str]]:
    """For each page of ``doc``'s layout, the first cells of the body rows whose first cell starts
    with ``marker``; and the headings (text lines) drawn on it."""
    pages = []
    for ops in renderer.layout(doc):
        pages.append([op[4][0][0] for op in ops if op[0] == "row" and op[4][0][0].startswith(marker)])
    return pages


def _filled(rows: int, filler_lines: int, caption: str = "Objectives"):
    from docgen.compose.blocks import Document, Para, Section, Table

    table = Table(("Goal", "Objective"), tuple((f"R{i}", "text " * 30) for i in range(rows)), (0.3, 0.7), caption)
    return Document("treatment_plan", "treatment_plan", "TP-L", "Treatment Plan", "Agency", (), "Client", "C-1",
                    "01/01/1990", "Plan date: 01/01/2026",
                    (Section("s", "Goals", (Para("\n".join(["line"] * filler_lines)), table)),))


@pytest.mark.parametrize("rows", [2, 3, 4, 7])
def test_a_tables_heading_keeps_two_rows_and_its_last_row_never_stands_alone(rows):
    """Whatever fills the page before it, a table's rows are never one alone on a page: the heading
    and header keep two rows (three of three), and the second-to-last goes with the last."""
    from docgen.render.pdf import PdfRenderer

    renderer = PdfRenderer()
    seen_split = False
    for filler in range(0, 60):
        doc = _filled(rows, filler)
        pages = [p for p in _table_rows_by_page(renderer, doc, "R") if p]
        seen_split |= len(pages) > 1
        assert [r for p in pages for r in p] == [f"R{i}" for i in range(rows)]
        assert all(len(p) >= 2 for p in pages), (filler, pages)
        for ops in renderer.layout(doc):  # the caption is on the page of the table's first rows
            texts = [line for op in ops if op[0] == "text" for line in op[4]]
            if "Objectives" in texts:
                assert any(op[0] == "row" and op[4][0][0] == "R0" for op in ops), filler
    assert seen_split or rows <= 3


def test_a_table_continued_on_a_page_says_so_in_its_heading():
    from docgen.render.pdf import PdfRenderer

    doc = _filled(40, 30)
    data = PdfRenderer().render(doc, {}, "20260101")
    import io

    import pypdf

    pages = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages]
    assert len(pages) >= 2
    for text in pages[1:]:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        assert lines[:3] == ["Objectives (continued)", "Goal", "Objective"], lines[:3]  # and the header row
    # a label grid without a caption continues under its section's title
    from docgen.compose.blocks import Document, Fields, Section

    grid = Document("treatment_plan", "treatment_plan", "TP-L", "Treatment Plan", "Agency", (), "Client", "C-1",
                    "01/01/1990", "Plan date: 01/01/2026",
                    (Section("h", "History and assessment",
                             (Fields(tuple((f"K{i}", "v " * 40) for i in range(60))),)),))
    second = pypdf.PdfReader(io.BytesIO(PdfRenderer().render(grid, {}, "20260101"))).pages[1].extract_text()
    assert second.splitlines()[0].strip() == "History and assessment (continued)"


def test_signature_keeps_date_and_time_on_one_line():
    """A signer line long enough to wrap in the signature's text column wraps before the date, never
    between the date and the time (fixture TP-5002: its time stood alone on a line)."""
    import io

    import pypdf

    from docgen.render.pdf import PdfRenderer

    record, findings, profile = _checked(FIXTURES / "plans" / "plan-tx-medicaid-late-incomplete.yaml", "TP-5002")
    doc = compose(record, findings, profile)
    pages = pypdf.PdfReader(io.BytesIO(PdfRenderer().render(doc, {}, "20261005"))).pages
    lines = [line.strip() for page in pages for line in page.extract_text().splitlines()]
    assert not [line for line in lines if re.fullmatch(r"\d\d:\d\d", line)]
    assert any(line.endswith("10/05/2026 16:30") for line in lines)
