"""The DOCX as LibreOffice lays it out looks like docgen's PDF (issue #14): every fixture converted
with LibreOffice runs to docgen's PDF's page count (within one), no column header is broken inside a
word, tables stay inside the margins with light grey rules, and the draft watermark is drawn over
shaded cells."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import builders
from docgen import api
from docgen.compose import compose
from docgen.compose.blocks import Table
from docgen.findings import Outcome
from render_helpers import FIXTURES, PdfView, run, tool

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Every fixture rendered (drafts too), and each DOCX converted by LibreOffice in one run."""
    base = tmp_path_factory.mktemp("lo")
    out = base / "out"
    results = api.render([FIXTURES], out, allow_draft=True, as_of=builders.AS_OF)
    docs = {}
    for r in results:
        if r.outcome in (Outcome.final, Outcome.draft):
            docs[r.result.id] = compose(r.result.record, r.result.findings, r.result.profile or "",
                                        draft=r.outcome is Outcome.draft, signers=r.result.signers)
    converted = base / "lo"
    profile = (base / "profile").as_uri()
    done = run(tool("soffice"), f"-env:UserInstallation={profile}", "--headless", "--norestore", "--convert-to", "pdf",
               "--outdir", converted, *sorted(out.glob("*.docx")), timeout=540)
    assert done.returncode == 0, done.stdout + done.stderr
    return out, converted, docs


def test_every_fixture_converts_to_about_the_pdfs_page_count(rendered):
    out, converted, docs = rendered
    assert len(docs) >= 30
    counts = {key: (len(PdfView(converted / f"{key}.pdf").pages), len(PdfView(out / f"{key}.pdf").pages))
              for key in docs}
    assert {key: pair for key, pair in counts.items() if abs(pair[0] - pair[1]) > 1} == {}
    # and most to exactly its page count (a 4-page plan ran to 5, its last page one signature)
    assert len([key for key, (lo, pdf) in counts.items() if lo != pdf]) <= len(docs) // 8, counts


def test_every_face_is_the_pdfs_sans_serif(rendered):
    """Text, tables and charts in DejaVu Sans as in the PDF: no serif face (the chart fell back to one)."""
    _out, converted, docs = rendered
    faces = set()
    for key in docs:
        listed = run(tool("pdffonts"), converted / f"{key}.pdf")
        faces |= {row.split()[0].split("+")[-1] for row in listed.stdout.splitlines()[2:] if row.strip()}
    assert faces and {face for face in faces if "Serif" in face or "Times" in face} == set(), faces


def _broken_words(text: str, words: set[str]) -> list[str]:
    found = []
    for word in words:
        for cut in range(1, len(word)):
            pattern = rf"(?<![\w-]){re.escape(word[:cut])}[ \t]*\n\s*{re.escape(word[cut:])}(?![\w-])"
            if re.search(pattern, text):
                found.append(f"{word[:cut]}/{word[cut:]}")
    return found


def test_no_column_header_breaks_inside_a_word(rendered):
    _out, converted, docs = rendered
    broken = {}
    for key, doc in docs.items():
        words = {w for s in doc.sections for b in s.blocks if isinstance(b, Table) for c in b.columns
                 for w in re.split(r"[\s/]+", c) if len(w) > 1}
        found = _broken_words(PdfView(converted / f"{key}.pdf").text, words)
        if found:
            broken[key] = found
    assert broken == {}


def test_the_check_for_broken_words_can_fail():
    assert _broken_words("Goals\nGoa\nl Category", {"Goal"}) == ["Goa/l"]
    assert _broken_words("Objecti\nve", {"Objective"}) == ["Objecti/ve"]
    assert _broken_words("Target \ndate", {"Target", "date"}) == []


def _png(pdf: Path, page: int, out: Path, dpi: int = 50) -> Path:
    done = run(tool("pdftoppm"), "-r", dpi, "-f", page, "-l", page, "-png", "-singlefile", pdf, out)
    assert done.returncode == 0, done.stderr
    return out.with_suffix(".png")


def test_tables_stay_inside_the_margins_with_light_rules(rendered, tmp_path):
    """LibreOffice's page of a plan: nothing dark left of the left margin (tables stuck out), and the
    table rules grey (the PDF's #9aa5b1), not black."""
    from PIL import Image

    _out, converted, _docs = rendered
    image = Image.open(_png(converted / "TP-1001.pdf", 1, tmp_path / "plan", dpi=72)).convert("RGB")
    margin = int(0.8 * 72)
    left = [image.getpixel((x, y)) for x in range(0, margin - 2) for y in range(image.height)]
    assert all(min(p) > 200 for p in left), "something drawn left of the left margin"
    # a black rule is a long run of dark pixels down one column (text makes short ones); the grey rules
    # (#9aa5b1) are not dark
    longest = 0
    for x in range(margin, image.width - margin):
        run_ = 0
        for y in range(image.height):
            run_ = run_ + 1 if max(image.getpixel((x, y))) < 110 else 0
            longest = max(longest, run_)
    assert longest < 20, f"a dark rule {longest} pixels long: heavy black borders"


def test_the_draft_watermark_shows_over_shaded_cells(rendered, tmp_path):
    """A draft plan's first page as LibreOffice draws it: the watermark's red tints the label column's
    shaded cells it crosses (it was hidden behind them)."""
    from PIL import Image

    _out, converted, docs = rendered
    draft = next(key for key, doc in docs.items() if doc.draft and doc.kind == "treatment_plan")
    image = Image.open(_png(converted / f"{draft}.pdf", 1, tmp_path / "draft", dpi=50)).convert("RGB")
    reddish = sum(1 for x in range(image.width) for y in range(image.height)
                  if (p := image.getpixel((x, y)))[0] > p[2] + 25 and p[0] > 150)
    assert reddish > 2000, reddish
