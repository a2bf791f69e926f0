"""Benchmark of `docgen batch` against bare-library baselines run in the same process.

    .venv/bin/python bench/bench.py [--plans 200] [--notes 400] [--workers 1,2]

Builds N synthetic records from the fixtures (a 3-4 page treatment plan, a 1-2 page SOAP note),
runs the real batch (validation, rules, composition, rendering, atomic writes, manifest, audit) for
DOCX only, PDF only and both, at each worker count, and prints records/s, peak worker memory and
the ratio to two baselines measured here on the same content:

- PDF floor: the same text drawn on a bare reportlab canvas with the same embedded TTF font;
- DOCX baseline: one stock docxtpl render of the same Word template with the same context, template
  bytes loaded once, nothing around it.

Figures go in the README; they are measurements, not test assertions.
"""
from __future__ import annotations

import argparse
import copy
import io
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docgen import api  # noqa: E402
from docgen.check import check_record, profile_of  # noqa: E402
from docgen.compose import compose  # noqa: E402
from docgen.load import read  # noqa: E402
from docgen.model.validate import validate_document  # noqa: E402

AS_OF = date(2026, 11, 24)
PLAN_FIXTURE = ROOT / "fixtures/plans/plan-adult-mdd-complete.yaml"
NOTE_FIXTURE = ROOT / "fixtures/notes/notes-ortiz-tp1001.jsonl"


def _first(path: Path) -> dict:
    return next(iter(read([path]))).data


GIVEN = ("Maria", "James", "José", "Aisha", "Chen", "Zoë", "Liam", "Fatima", "Nguyễn", "Olivia", "Søren",
         "Priya", "Mateo", "Ana", "Kwame", "Émilie", "Noah", "Yuki", "Grace", "Björn", "Leila")
FAMILY = ("Ortiz", "Smith", "Álvarez", "Okafor", "Wang", "Müller", "O'Brien", "Haddad", "Thị Ánh", "Johnson",
          "Kowalczyk", "Patel", "García", "Mensah", "Dubois", "Brown", "Tanaka", "Nováková", "Lindqvist", "Reyes")


def _name(i: int) -> str:
    """A client name from a fixed list: about a third carry letters beyond ASCII, as real rosters do."""
    return f"{GIVEN[i % len(GIVEN)]} {FAMILY[(i // len(GIVEN)) % len(FAMILY)]}"


def synthesize(folder: Path, plans: int, notes: int) -> tuple[Path, Path]:
    """``plans`` copies of the plan fixture and ``notes`` copies of the note fixture, new ids and
    client names each (see :func:`_name`), as two JSONL files; every note points at a plan of the
    same client."""
    plan, note = _first(PLAN_FIXTURE), _first(NOTE_FIXTURE)
    folder.mkdir(parents=True, exist_ok=True)
    plan_file, note_file = folder / "plans.jsonl", folder / "notes.jsonl"
    with plan_file.open("w", encoding="utf-8") as out:
        for i in range(plans):
            p = copy.deepcopy(plan)
            p["id"], p["client"]["id"], p["client"]["name"] = f"TP-B{i:06d}", f"C-B{i:06d}", _name(i)
            out.write(json.dumps(p, default=str, ensure_ascii=False) + "\n")
    with note_file.open("w", encoding="utf-8") as out:
        for i in range(notes):
            n = copy.deepcopy(note)
            client = i % max(plans, 1)
            n["id"], n["client"]["id"], n["plan_id"] = f"PN-B{i:06d}", f"C-B{client:06d}", f"TP-B{client:06d}"
            n["client"]["name"] = _name(client)
            out.write(json.dumps(n, default=str, ensure_ascii=False) + "\n")
    return plan_file, note_file


def documents(path: Path, limit: int = 20):
    """Composed documents of the first records of a file (for the baselines)."""
    out = []
    for raw in read([path]):
        result = validate_document(raw)
        profile = profile_of(result.record)
        result.findings.extend(check_record(result.record, profile, AS_OF))
        out.append((result, compose(result.record, result.findings, profile.name)))
        if len(out) >= limit:
            break
    return out


def baseline_canvas(docs, seconds: float = 2.0) -> float:
    """Docs/s drawing the same text on a bare reportlab canvas with the embedded TTF font."""
    from reportlab.lib.pagesizes import LETTER
    from reportlab.pdfgen.canvas import Canvas

    from docgen.render.pdf import FONT, register_fonts

    register_fonts()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        _, doc = docs[count % len(docs)]
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=LETTER, invariant=1)
        canvas.setFont(FONT, 9)
        y = 740
        for text in doc.texts():
            for line in text.splitlines() or [""]:
                canvas.drawString(54, y, line[:110])
                y -= 12
                if y < 60:
                    canvas.showPage()
                    canvas.setFont(FONT, 9)
                    y = 740
        canvas.save()
        count += 1
    return count / (time.perf_counter() - started)


def baseline_docxtpl(docs, seconds: float = 2.0) -> float:
    """Docs/s of one stock docxtpl render of the same template and context, template bytes in memory."""
    from docxtpl import DocxTemplate

    from docgen.render.docx import DocxRenderer
    from docgen.render.docxc import Images

    renderer = DocxRenderer(ROOT / "templates")
    cache: dict[str, bytes] = {}
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        _, doc = docs[count % len(docs)]
        blob = cache.setdefault(doc.template, renderer.template_path(doc.template).read_bytes())
        tpl = DocxTemplate(io.BytesIO(blob))
        context = renderer._context(doc, Images())  # noqa: SLF001 - the same context, built the same way
        context["footer"], context["agency_line"] = doc.footer, " ".join(doc.agency_lines)
        tpl.render({"doc": context}, autoescape=True)
        tpl.save(io.BytesIO())
        count += 1
    return count / (time.perf_counter() - started)


def _floor_body(doc, text_width: int) -> str:
    """WordprocessingML for the document built by plain string joins: the same paragraphs, headings,
    tables (grid, cell widths, header row) and signature lines as the template gives, nothing else."""
    from xml.sax.saxutils import escape

    from docgen.compose.blocks import Bullets, Chart, Fields, Para, SignatureLine, Table

    def p(text: str, style: str = "") -> str:
        ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        return f'{ppr and "<w:p>" + ppr or "<w:p>"}<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'

    def table(rows, widths, header: bool) -> str:
        twips = [int(text_width * w) for w in widths]
        out = ['<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="5000" w:type="pct"/></w:tblPr><w:tblGrid>',
               "".join(f'<w:gridCol w:w="{w}"/>' for w in twips), "</w:tblGrid>"]
        for index, row in enumerate(rows):
            out.append("<w:tr>" + ("<w:trPr><w:tblHeader/></w:trPr>" if header and index == 0 else ""))
            for cell, w in zip(row, twips):
                out.append(f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/></w:tcPr>{p(cell)}</w:tc>')
            out.append("</w:tr>")
        return "".join(out) + "</w:tbl>"

    parts = [p(doc.title, "Title"), p(doc.date_line)]
    for section in doc.sections:
        parts.append(p(section.title, "Heading1"))
        for block in section.blocks:
            if isinstance(block, Para):
                parts += [p(block.label, "Heading2")] if block.label else []
                parts.append(p(block.text))
            elif isinstance(block, Fields):
                parts.append(table(block.rows, (0.28, 0.72), False))
            elif isinstance(block, Bullets):
                parts += [p(block.label, "Heading2")] + [p(e, "ListBullet") for e in block.entries]
            elif isinstance(block, Table):
                parts += [p(block.caption, "Heading2")] if block.caption else []
                parts.append(table([block.columns, *block.rows], block.widths, True))
            elif isinstance(block, Chart):
                parts.append(p(block.title, "Heading2"))
            elif isinstance(block, SignatureLine):
                parts += [p(block.role, "Heading3"), p(block.text or "______________________")]
    return "".join(parts)


def baseline_docx_floor(docs, seconds: float = 2.0) -> float:
    """Docs/s of the bare DOCX floor: the document's body XML (same paragraphs and tables) built by
    string joins and deflated, in a zip with the template's static parts compressed beforehand."""
    from docgen.render.docx import DocxRenderer
    from docgen.render.docxc import Entry, write_zip

    renderer = DocxRenderer(ROOT / "templates")
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        _, doc = docs[count % len(docs)]
        template = renderer.compiled(doc.template)
        body = _floor_body(doc, template.text_width)
        document = template.document_head + b"<w:body>" + body.encode("utf-8") + b"</w:body>" + template.document_tail
        entries = [template.static[n] if n in template.static else Entry.of(n, document)
                   for n in template.order if n in template.static or n == "word/document.xml"]
        write_zip(entries, AS_OF)
        count += 1
    return count / (time.perf_counter() - started)


def render_only(docs, fmt: str, seconds: float = 2.0) -> float:
    """Docs/s of docgen's own renderer for one format, composed documents in, bytes out."""
    from docgen.render import Renderer, metadata_for

    renderer = Renderer(Path(tempfile.gettempdir()), (fmt,))
    target = renderer.pdf if fmt == "pdf" else renderer.docx
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        result, doc = docs[count % len(docs)]
        meta = metadata_for(result.record, "default", "0" * 64)
        if fmt == "pdf":
            target.render(doc, meta, "20261124")
        else:
            target.render(doc, meta, AS_OF)
        count += 1
    return count / (time.perf_counter() - started)


def run_batch(inputs: Path, out: Path, workers: int, formats: tuple[str, ...]) -> tuple[float, int, float]:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    summary = api.batch([inputs], out, workers=workers, formats=formats, as_of=AS_OF, force=True)
    seconds = time.perf_counter() - started
    done = summary.counts["complete"] + summary.counts["draft"]
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return done / seconds, done, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--notes", type=int, default=400)
    parser.add_argument("--workers", default=f"1,{os.cpu_count() or 1}")
    args = parser.parse_args()
    workers = sorted({int(w) for w in args.workers.split(",")})
    work = Path(tempfile.mkdtemp(prefix="docgen-bench-"))
    try:
        plan_file, note_file = synthesize(work / "in", args.plans, args.notes)
        print(f"docgen benchmark: {args.plans} plans, {args.notes} notes, {os.cpu_count()} cores")
        rows = []
        for kind, path in (("plan", plan_file), ("note", note_file)):
            docs = documents(path)
            floor_pdf = baseline_canvas(docs)
            from docgen.render.pdf import deflate_level
            with deflate_level(1):  # the floor at docgen's default compression level too
                floor_pdf_fast = baseline_canvas(docs)
            base_docx = baseline_docxtpl(docs)
            floor_docx = baseline_docx_floor(docs)
            ours_pdf, ours_docx = render_only(docs, "pdf"), render_only(docs, "docx")
            print(f"\n{kind}: baselines in this process: bare canvas PDF {floor_pdf:.1f} docs/s, "
                  f"stock docxtpl DOCX {base_docx:.1f} docs/s, bare DOCX floor {floor_docx:.1f} docs/s")
            print(f"  rendering only, one process: PDF {ours_pdf:.1f} docs/s = {ours_pdf / floor_pdf:.2f}x the "
                  f"canvas floor ({ours_pdf / floor_pdf_fast:.2f}x the floor at zlib level 1, {floor_pdf_fast:.1f} docs/s);"
                  f" DOCX {ours_docx:.1f} docs/s = {ours_docx / floor_docx:.2f}x the DOCX floor, "
                  f"{ours_docx / base_docx:.1f}x stock docxtpl")
            for formats, label in ((("docx",), "docx"), (("pdf",), "pdf"), (("docx", "pdf"), "both")):
                for n in workers:
                    rate, done, peak = run_batch(path, work / "out", n, formats)
                    per_worker = rate / n
                    ratio = {"docx": per_worker / base_docx, "pdf": per_worker / floor_pdf,
                             "both": per_worker / (1 / (1 / base_docx + 1 / floor_pdf))}[label]
                    rows.append((kind, label, n, rate, ratio, peak))
                    print(f"  {label:5s} workers={n}: {rate:7.1f} records/s ({done} docs), "
                          f"{ratio:4.2f}x the baseline per worker, peak worker RSS {peak:.0f} MB")
        print("\nkind  format workers records/s  per-worker/baseline  peak RSS MB")
        for kind, label, n, rate, ratio, peak in rows:
            print(f"{kind:5s} {label:6s} {n:7d} {rate:10.1f} {ratio:20.2f} {peak:12.0f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
