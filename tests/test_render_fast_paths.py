"""docgen's PDF fast paths write the very bytes of reportlab's generic ones: a line of printable ASCII
written without reportlab's per-character subset split, string widths, CMaps and each font subset's
objects (dictionary, descriptor, ToUnicode, file) made once per process. Every fixture, a record in
each script and the markup-laden plan are rendered with the fast paths (twice: caches cold, then
warm) and without them, and the files compared byte for byte."""
from __future__ import annotations

import copy
import hashlib
import io
import json
import shutil

import pypdf
import pytest

import builders
from docgen import api
from docgen.load import read
from docgen.render.pdf import reportlab_patches
from render_helpers import FIXTURES, ROOT, uni_note, uni_plan
from test_render_scripts import GOAL_TAIL, SCRIPTS

pytestmark = pytest.mark.slow


def _records() -> list[dict]:
    records = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix in (".yaml", ".json", ".jsonl") and "invalid" not in path.name:
            records += [raw.data for raw in read([path])][:3]
    for key, (name, words, goal) in SCRIPTS.items():
        plan = builders.plan_dict()
        plan["id"], plan["client"]["name"] = f"TP-{key.upper()}", name
        plan["goals"][0]["client_words"], plan["goals"][0]["statement"] = words, goal + GOAL_TAIL
        records.append(plan)
    return [*records, uni_plan(), uni_note()]


def _pdfs(records: list[dict]) -> dict[str, str]:
    out = {}
    for index, data in enumerate(records):
        # JSON round trip: rendering must not depend on which dict objects come in
        rendered = api.render_record(json.loads(json.dumps(data, default=str)), formats=("pdf",), allow_draft=True,
                                     as_of=builders.AS_OF)
        if rendered.documents and "pdf" in rendered.documents:
            out[f"{index}:{data.get('id')}"] = hashlib.sha256(rendered.documents["pdf"]).hexdigest()
    return out


def test_the_fast_paths_write_the_bytes_of_the_generic_ones(monkeypatch):
    records = _records()
    cold, warm = _pdfs(records), _pdfs(records)
    monkeypatch.setattr(reportlab_patches, "FAST_PATHS", False)
    generic = _pdfs(records)
    assert len(generic) >= 40  # fixtures (finals and drafts), every script, the markup-laden plan and note
    assert cold == generic
    assert warm == generic


def test_the_page_furniture_written_as_recorded_is_the_furniture_drawn(monkeypatch, tmp_path):
    """The running header and footer are drawn on a document's first page and written as recorded on
    the next: with a logo (an image on every page, drawn every time) and a draft's watermark (a
    transparency) around them, on plans of several pages, the bytes are those drawn page by page."""
    from PIL import Image

    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "docgen" / "templates", templates)
    style = templates / "pdf-style.toml"
    style.write_text(style.read_text(encoding="utf-8") + 'logo = "logo.png"\n', encoding="utf-8")
    Image.new("RGB", (240, 80), (0x1F, 0x4E, 0x79)).save(templates / "logo.png", "PNG")
    final = next(iter(read([FIXTURES / "plans" / "plan-adult-mdd-complete.yaml"]))).data
    draft = copy.deepcopy(final)
    draft["goals"] = []  # missing goals: a draft, with its watermark on every page

    def pdfs() -> list[bytes]:
        out = []
        for data, status in ((final, "final"), (draft, "draft"), (uni_plan(), "final")):
            for folder in (templates, None):
                rendered = api.render_record(json.loads(json.dumps(data, default=str)), formats=("pdf",),
                                             allow_draft=True, as_of=builders.AS_OF, templates=folder)
                assert rendered.status == status
                out.append(rendered.documents["pdf"])
        return out

    fast = pdfs()
    monkeypatch.setattr(reportlab_patches, "FAST_PATHS", False)
    generic = pdfs()
    for pdf in generic[0:4:2]:  # the logo on every page of plans of several pages
        pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
        assert len(pages) >= 3
        assert all(len(page["/Resources"]["/XObject"]) == 1 for page in pages)
    assert fast == generic


def test_bookmarks_written_straight_to_bytes_are_reportlabs(monkeypatch):
    """Outline entries (docgen's bookmarks) are formatted without reportlab's generic dictionary: the
    same bytes for nested, closed, non-Latin and escaped titles, with entries of seven keys (a
    dictionary reportlab breaks after six)."""
    from reportlab.pdfgen.canvas import Canvas

    from docgen.render.pdf import PdfRenderer

    PdfRenderer()  # docgen's patches of reportlab, as the renderer makes them

    def pdf() -> bytes:
        buffer = io.BytesIO()
        canvas = Canvas(buffer, invariant=1)
        titles = ["Plan", "Ziele (Ärger)", "目標", "Back\\slash (open", "Risk", "Sign"]
        for page, title in enumerate(titles):
            canvas.drawString(72, 720, str(page))
            canvas.bookmarkPage(f"p{page}")
            canvas.addOutlineEntry(title, f"p{page}", level=0 if page % 3 == 0 else 1, closed=page == 3)
            canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    fast = pdf()
    monkeypatch.setattr(reportlab_patches, "FAST_PATHS", False)
    generic = pdf()
    assert b"/Count" in generic and b"/First" in generic and b" \n  /Title" in generic  # seven keys: broken
    assert fast == generic


def test_only_font_files_are_kept_compressed_between_documents():
    """The compressed-once store is for font files, met again in document after document; a page's
    contents (client text) were kept too when longer than 8 KB, and stayed in the process's memory
    after its document was done, pushing font files out."""
    plan = builders.plan_dict()
    plan["id"] = "TP-LONG"
    plan["presenting_concerns"] = "Sleeps four hours a night and worries about the rent. " * 300
    api.render_record(plan, formats=("pdf",), allow_draft=True)
    kept = list(reportlab_patches._DEFLATED)  # noqa: SLF001
    assert kept, "the document's font files are kept"
    assert all(data[:4] in (b"\x00\x01\x00\x00", b"true", b"OTTO") for data, _level in kept), \
        [data[:20] for data, _level in kept]
