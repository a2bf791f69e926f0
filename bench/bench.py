"""Benchmark of `docgen batch` against bare-library baselines run in the same process.

    .venv/bin/python bench/bench.py [--plans 200] [--notes 400] [--workers 1,2]

Builds N synthetic records from the fixtures (a 3-4 page treatment plan, a 1-2 page SOAP note),
runs the real batch (validation, rules, composition, rendering, atomic writes, manifest, audit) for
DOCX only, PDF only and both, at each worker count, and prints records/s, peak worker memory and
the ratio to baselines measured here on the same content:

- PDF floor: the same text drawn on a bare reportlab canvas (untagged) with the same embedded TTF
  font, its subsets and its compressed font files cached as docgen's are, at docgen's zlib level
  and at reportlab's;
- DOCX baseline: one stock docxtpl render of the same Word template with the same context, template
  bytes loaded once, nothing around it; and the bare DOCX floor (:class:`_Floor`).

The renderers and their floors are timed interleaved: each round renders the same documents with
every contender in turn (the order rotated from round to round), in CPU time of this process
(``time.process_time``) and wall time; a ratio is taken per round, and the median and the range over
the rounds are printed. A machine busy with other work moves wall time a lot and CPU time little.

Figures go in the README; they are measurements, not test assertions.
"""
from __future__ import annotations

import argparse
import copy
import io
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def canvas_floor(docs):
    """The bare canvas floor: draws document ``i`` of ``docs`` as the same text on a reportlab canvas
    with the embedded TTF font (the same registered font as docgen's, so the same subset and width
    caches), no tagging, no layout beyond cutting lines. Called inside :func:`deflate_level`, which
    also compresses the font files once per process as docgen's renderer does."""
    from reportlab.lib.pagesizes import LETTER
    from reportlab.pdfgen.canvas import Canvas

    from docgen.render.pdf.fonts import FONT, register_fonts

    register_fonts()
    texts = [[line[:110] for text in doc.texts() for line in text.splitlines() or [""]] for _, doc in docs]

    def draw(index: int) -> bytes:
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=LETTER, invariant=1)
        canvas.setFont(FONT, 9)
        y = 740
        for line in texts[index]:
            canvas.drawString(54, y, line)
            y -= 12
            if y < 60:
                canvas.showPage()
                canvas.setFont(FONT, 9)
                y = 740
        canvas.save()
        return buffer.getvalue()

    return draw


def docxtpl_baseline(docs):
    """Renders document ``i`` with one stock docxtpl render of the same template and context,
    template bytes in memory."""
    from docxtpl import DocxTemplate

    from docgen.render.docx import DocxRenderer
    from docgen.render.docx.images import Images

    renderer = DocxRenderer(ROOT / "docgen" / "templates")
    cache: dict[str, bytes] = {}

    def render(index: int) -> None:
        doc = docs[index][1]
        blob = cache.setdefault(doc.template, renderer.template_path(doc.template).read_bytes())
        tpl = DocxTemplate(io.BytesIO(blob))
        context = renderer._context(doc, Images())  # noqa: SLF001 - the same context, built the same way
        tpl.render({"doc": context}, autoescape=True)
        tpl.save(io.BytesIO())

    return render


class _Floor:
    """The bare DOCX floor for one Word template: the same package docgen writes (document, header,
    footer, core properties, charts and images, byte for byte) built by plain string joins from the
    composed Document, with no template engine: the template's constant markup is cut out once
    beforehand, as its static parts are compressed once. Client text is escaped by the same
    function docgen uses (any writer must escape it). What the shipped templates decide per row (kept
    whole when short, the first and second-to-last rows kept with the next) is decided here the same way."""

    def __init__(self, compiled, path: Path):
        import re

        from docgen.render.docx.template import _prepare

        _, sources = _prepare(path, path.read_bytes())
        body = sources["word/document.xml"]
        self.template = compiled
        self.body_open = body[:body.index("<w:p>")]
        self.sect = body[body.index("<w:sectPr"):]
        # a block table's properties, up to the composed grid (the same for label grids and tables)
        self.tbl_open = body[body.index("<w:tbl>"):body.index("{{ docgen_table.begin() }}")] + "</w:tblPr>"
        self.spacer = re.search(r"</w:tbl>(<w:p><w:pPr><w:spacing [^>]*/></w:pPr></w:p>)", body).group(1)
        unsigned = body.index("{% else %}<w:p><w:pPr><w:keepNext/><w:tabs>") + len("{% else %}")
        self.sig_line = body[unsigned:body.index("{{ b.role }} signature")]
        self.sig_caption = body[body.index("{{ b.role }} signature") + len("{{ b.role }}"):body.index(
            "{% endif %}", unsigned)]
        self.header, self.footer = (n for n in compiled.others)  # word/header1.xml, word/footer1.xml
        head = sources[self.header]
        self.head_open, self.head_close = head[:head.index("<w:p>")], head[head.rindex("{% endif %}") + 11:]
        agency = head.index("{{ doc.agency }}")
        title = head.index("{{ doc.title }}")
        record = head.index("{{ doc.record_id }}")
        agency_line = head.index("{{ doc.agency_line }}")
        draft = head.index("{% if doc.draft %}")
        self.head_agency = head[head.index("<w:p>"):agency]
        self.head_title = head[agency + len("{{ doc.agency }}"):title]
        self.head_record = head[title + len("{{ doc.title }}"):record]
        self.head_middle = head[record + len("{{ doc.record_id }}"):agency_line]
        self.head_end = head[agency_line + len("{{ doc.agency_line }}"):draft]
        self.watermark = head[draft + len("{% if doc.draft %}"):head.index("{% endif %}")]
        foot = sources[self.footer]
        cut = foot.index("{{ doc.footer }}")
        self.foot_open, self.foot_close = foot[:cut], foot[cut + len("{{ doc.footer }}"):]

    def parts(self, doc, core_xml: bytes) -> dict[str, bytes]:
        from docgen.compose.blocks import Bullets, Chart, Fields, Para, SignatureLine, Table
        from docgen.render.docx.escaping import text as t
        from docgen.render.docx.images import Images

        width = self.template.text_width
        images = Images()

        def p(text: str, style: str = "") -> str:
            ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
            return f'<w:p>{ppr}<w:r><w:t xml:space="preserve">{t(text)}</w:t></w:r></w:p>'

        def cell(text: str, w: str, style: str, fill: str = "", keep: bool = False) -> str:
            shd = f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' if fill else ""
            return (f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/>{shd}</w:tcPr><w:p><w:pPr>'
                    f'<w:pStyle w:val="{style}"/>{"<w:keepNext/>" if keep else ""}</w:pPr><w:r>'
                    f'<w:t xml:space="preserve">{t(text)}</w:t></w:r></w:p></w:tc>')

        def grid(fractions) -> tuple[list[str], str]:
            twips = [str(int(width * f)) for f in fractions]
            return twips, self.tbl_open + "<w:tblGrid>" + "".join(f'<w:gridCol w:w="{w}"/>' for w in twips) + \
                "</w:tblGrid>"

        def rows(block_rows, cells) -> list[str]:
            out, n = [], len(block_rows)
            for i, row in enumerate(block_rows):
                keep = i < n - 1 and (i == 0 or i == n - 2)
                split = "<w:cantSplit/>" if len("".join(row)) < 800 else ""
                out.append(f"<w:tr><w:trPr>{split}</w:trPr>{cells(row, keep)}</w:tr>")
            return out

        out = [self.body_open, p(doc.title, "Title"), p(doc.date_line, "DateLine")]
        if doc.draft:
            out.append('<w:p><w:pPr><w:pStyle w:val="Heading2"/></w:pPr>'
                       "<w:r><w:t>DRAFT \u2014 not final. Missing before this document can be final:</w:t></w:r></w:p>")
            out += ['<w:p><w:pPr><w:pStyle w:val="ListBullet"/></w:pPr><w:r><w:rPr><w:color w:val="8A1C1C"/>'
                    f'<w:sz w:val="17"/></w:rPr><w:t xml:space="preserve">{t(m.text)}</w:t></w:r><w:r><w:rPr>'
                    f'<w:color w:val="4A4F57"/><w:sz w:val="14"/></w:rPr><w:t xml:space="preserve"> {t(m.rule)}'
                    "</w:t></w:r></w:p>" for m in doc.missing]
        for section in doc.sections:
            out.append(p(section.title, "Heading1"))
            for b in section.blocks:
                if isinstance(b, Para):
                    if b.label:
                        out.append(p(b.label, "Heading2"))
                    out.append(p(b.text, "Quote" if b.style == "quote" else ""))
                elif isinstance(b, Fields):
                    if b.label:
                        out.append(p(b.label, "Heading2"))
                    (w0, w1), head = grid((0.28, 0.72))
                    out.append(head)
                    out += rows(b.rows, lambda row, keep, w0=w0, w1=w1: cell(row[0], w0, "TableLabel", "F1F4F8", keep)
                                + cell(row[1], w1, "TableText", keep=keep))
                    out.append("</w:tbl>" + self.spacer)
                elif isinstance(b, Bullets):
                    out.append(p(b.label, "Heading2"))
                    out += [p(e, "ListBullet") for e in b.entries]
                elif isinstance(b, Table):
                    if b.caption:
                        out.append(p(b.caption, "Heading2"))
                    twips, head = grid(b.widths)
                    out += [head, "<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>",
                            *(cell(c, w, "TableHead", "DBE5F0", True) for c, w in zip(b.columns, twips, strict=False)),
                            "</w:tr>"]
                    out += rows(b.rows, lambda row, keep, twips=twips: "".join(
                        cell(c, w, "TableText", keep=keep) for c, w in zip(row, twips, strict=False)))
                    out.append("</w:tbl>" + self.spacer)
                elif isinstance(b, Chart):
                    out.append(p(b.title, "Heading2"))
                    out.append(f'<w:p><w:r><w:t xml:space="preserve">{images.chart(b)}</w:t></w:r></w:p>')
                elif isinstance(b, SignatureLine):
                    out.append(p(b.role, "SignatureRole"))
                    if b.signed:
                        out.append(p(b.text))
                    else:
                        out.append(f"{self.sig_line}{t(b.role)}{self.sig_caption}")
        out.append(self.sect)
        template = self.template
        header = [self.head_open, self.head_agency, t(doc.agency), self.head_title, t(doc.title), self.head_record,
                  t(doc.record_id), self.head_middle, t(" \u00b7 ".join(doc.agency_lines)), self.head_end,
                  self.watermark if doc.draft else "", self.head_close]
        parts = {"word/document.xml": template.document_head + "".join(out).encode() + template.document_tail,
                 "docProps/core.xml": core_xml,
                 self.header: "".join(header).encode(),
                 self.footer: f"{self.foot_open}{t(doc.footer)}{self.foot_close}".encode()}
        return _floor_media(parts, template, images)


def _floor_media(parts: dict[str, bytes], template, images) -> dict[str, bytes]:
    """Relationships, content types and the chart parts, as docgen adds them (the same strings)."""
    if images.items or images.charts:
        parts["word/_rels/document.xml.rels"] = images.relationships(template.rels)
    if images.charts:
        parts["[Content_Types].xml"] = images.content_types(template.content_types)
    for _, name, data in images.charts:
        parts[name] = data
    return parts


def docx_floor(docs):
    """Renders document ``i`` as the bare DOCX floor (see :class:`_Floor`), deflated at docgen's level
    with the template's static parts compressed beforehand; and how many of ``docs`` the floor writes
    with the same package parts as docgen, byte for byte (all of them, or the floor is not the same
    content)."""
    import zipfile

    from docgen.render import metadata_for
    from docgen.render.docx import DocxRenderer
    from docgen.render.docx.core_properties import core_properties
    from docgen.render.docx.zip_writer import Entry, write_zip

    renderer = DocxRenderer(ROOT / "docgen" / "templates")
    floors: dict[str, _Floor] = {}
    metas, same = [], 0
    for result, doc in docs:  # outside the clock: what is not the renderer's work
        if doc.template not in floors:
            floors[doc.template] = _Floor(renderer.compiled(doc.template), renderer.template_path(doc.template))
        metas.append(metadata_for(result.record, "default", "0" * 64))
        ours = zipfile.ZipFile(io.BytesIO(renderer.render(doc, metas[-1], AS_OF)))
        parts = floors[doc.template].parts(doc, core_properties(metas[-1], AS_OF))
        same += all(ours.read(name) == data for name, data in parts.items()) and set(parts) <= set(ours.namelist())

    def render(index: int) -> None:
        doc = docs[index][1]
        floor = floors[doc.template]
        fresh = floor.parts(doc, core_properties(metas[index], AS_OF))
        static = floor.template.static
        entries = [Entry.of(n, fresh[n], level=1) if n in fresh else static[n]
                   for n in floor.template.order if n in static or n in fresh]
        entries += [Entry.of(n, fresh[n], level=1) for n in fresh if n.startswith("word/charts/")]
        write_zip(entries, AS_OF)

    return render, same


def docgen_renderer(docs, fmt: str, compression: str = "fast"):
    """Renders document ``i`` with docgen's own renderer for one format, composed document and its
    metadata in, bytes out (PDF: tagged PDF/A-2a, as docgen writes it)."""
    import dataclasses

    from docgen.render import Renderer, metadata_for

    renderer = Renderer((fmt,))
    if fmt == "pdf":
        from docgen.render.pdf import PdfRenderer

        target = PdfRenderer(dataclasses.replace(renderer.style, compression=compression))
    else:
        target = renderer.docx
    metas = [metadata_for(result.record, "default", "0" * 64) for result, _ in docs]

    def render(index: int) -> bytes:
        return target.render(docs[index][1], metas[index], "20261124" if fmt == "pdf" else AS_OF)

    return render


def interleaved(contenders: dict[str, tuple], count: int, rounds: int) -> dict[str, list[tuple[float, float]]]:
    """Per contender, per round: (CPU seconds, wall seconds) per document. ``contenders``: name ->
    (render function of a document index, context manager factory or None). Each round takes the
    ``count`` documents in turn and renders each with every contender, one after the other in an
    order shuffled for every document (seeded: the same each run), so that whatever else the
    machine does falls on all of them alike and no contender always follows the same one (docgen's
    PDF renderer, always run right after stock docxtpl, measured 1.6x slower than alone). The
    garbage collector runs before each render, outside the clock. One round before, unmeasured,
    warms every cache."""
    import gc
    import random
    from contextlib import nullcontext

    names = list(contenders)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    clock, wall_clock = time.process_time, time.perf_counter
    shuffle = random.Random(17).shuffle  # noqa: S311 - an order to run in, not a secret
    for n in range(rounds + 1):
        cpu = dict.fromkeys(names, 0.0)
        wall = dict.fromkeys(names, 0.0)
        for index in range(count):
            order = list(names)
            shuffle(order)
            for name in order:
                render, context = contenders[name]
                gc.collect()
                with context() if context else nullcontext():
                    started, wall_started = clock(), wall_clock()
                    render(index)
                    cpu[name] += clock() - started
                    wall[name] += wall_clock() - wall_started
        if n:
            for name in names:
                times[name].append((cpu[name] / count, wall[name] / count))
    return times


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def spread(values: list[float], digits: int = 2) -> str:
    """"median (min-max)"."""
    return f"{median(values):.{digits}f}x ({min(values):.{digits}f}-{max(values):.{digits}f})"


def render_rounds(docs, rounds: int) -> dict[str, object]:
    """docgen's renderers and their floors on ``docs``, interleaved (see :func:`interleaved`); prints
    the ratios and returns the median docs per CPU-second of each contender (and the DOCX floor's
    byte check)."""
    from functools import partial

    from docgen.render.pdf.reportlab_patches import deflate_level

    floor_docx, same = docx_floor(docs)
    contenders = {
        "pdf": (docgen_renderer(docs, "pdf"), None),  # zlib level 1, docgen's default ("fast")
        "canvas@1": (canvas_floor(docs), partial(deflate_level, 1)),
        "pdf small": (docgen_renderer(docs, "pdf", "small"), None),  # reportlab's level ("small")
        "canvas@6": (canvas_floor(docs), partial(deflate_level, 6)),
        "docx": (docgen_renderer(docs, "docx"), None),
        "docx floor": (floor_docx, None),
        "docxtpl": (docxtpl_baseline(docs), None),
    }
    # each format's renderer interleaved with its floors, and stock docxtpl on its own: its 25 ms of
    # XML work a document slowed whichever render came next (docgen's PDF and DOCX renderers by up to
    # 1.6x and 2x, the floors less), and its ratio (tens) does not need the same precision
    times: dict[str, list[tuple[float, float]]] = {}
    for group in (("pdf", "canvas@1", "pdf small", "canvas@6"), ("docx", "docx floor"), ("docxtpl",)):
        times.update(interleaved({name: contenders[name] for name in group}, len(docs), rounds))

    def ratios(ours: str, floor: str, kind: int) -> list[float]:
        return [a[kind] / b[kind] for a, b in zip(times[ours], times[floor], strict=True)]

    rates = {name: 1 / median([cpu for cpu, _ in t]) for name, t in times.items()}
    print(f"  docs per CPU-second (median of {rounds} rounds of {len(docs)} documents): "
          + ", ".join(f"{name} {rate:.1f}" for name, rate in rates.items()))
    print(f"  (the DOCX floor's parts byte-identical to docgen's for {same} of {len(docs)} documents)")
    for ours, floor, label, target in (("pdf", "canvas@1", "PDF vs bare canvas, both zlib level 1", 1.3),
                                       ("pdf small", "canvas@6", "PDF vs bare canvas, both reportlab's level", 1.3),
                                       ("docx", "docx floor", "DOCX vs bare DOCX floor", 1.5)):
        print(f"  {label}: CPU {spread(ratios(ours, floor, 0))}, wall {spread(ratios(ours, floor, 1))}"
              f" (target <= {target})")
    print(f"  docgen DOCX as fast as stock docxtpl: CPU {spread(ratios('docxtpl', 'docx', 0), 1)}")
    fast, small = (sum(len(contenders[name][0](i)) for i in range(len(docs))) for name in ("pdf", "pdf small"))
    print(f"  docgen PDF at reportlab's zlib level against level 1: CPU {spread(ratios('pdf small', 'pdf', 0))} "
          f"the time, {small / fast:.3f}x the bytes ({fast / len(docs) / 1024:.1f} KiB a document at level 1)")
    return {"rates": rates, "same": same}


_BATCH = """
import json, resource, sys, time
from datetime import date
from pathlib import Path
from docgen import api
inputs, out, workers, formats = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), tuple(sys.argv[4].split(","))
started = time.perf_counter()
summary = api.batch([inputs], out, workers=workers, formats=formats, as_of=date(2026, 11, 24), force=True)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "done": summary.counts["final"] + summary.counts["draft"],
                  "peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def run_batch(inputs: Path, out: Path, workers: int, formats: tuple[str, ...]) -> tuple[float, int, float]:
    """The batch run by a fresh process, as ``docgen batch`` runs it (workers forked from this
    process would carry the baselines' memory): records/s from the batch's start to its end
    (workers' start-up included), records done, and the peak RSS of its workers."""
    import subprocess

    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run(  # noqa: S603 - this interpreter, running the script above
        [sys.executable, "-c", _BATCH, str(inputs), str(out), str(workers), ",".join(formats)],
        capture_output=True, text=True, check=True, cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})  # as installed: bytecode cached
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures["done"] / figures["seconds"], figures["done"], figures["peak"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--notes", type=int, default=400)
    parser.add_argument("--workers", default=f"1,{os.cpu_count() or 1}")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds of the renderers and floors")
    parser.add_argument("--render-only", action="store_true", help="the renderers against their floors only, no batch")
    args = parser.parse_args()
    workers = sorted({int(w) for w in args.workers.split(",")})
    work = Path(tempfile.mkdtemp(prefix="docgen-bench-"))
    try:
        plan_file, note_file = synthesize(work / "in", args.plans, args.notes)
        print(f"docgen benchmark: {args.plans} plans, {args.notes} notes, {os.cpu_count()} cores")
        rows = []
        for kind, path in (("plan", plan_file), ("note", note_file)):
            docs = documents(path)
            print(f"\n{kind}: rendering only, interleaved, time per document against the floor's (median, min-max)")
            rates = render_rounds(docs, args.rounds)["rates"]
            if args.render_only:
                continue
            floor_pdf, base_docx = rates["canvas@1"], rates["docxtpl"]
            for formats, label in ((("docx",), "docx"), (("pdf",), "pdf"), (("docx", "pdf"), "both")):
                for n in workers:
                    rate, done, peak = run_batch(path, work / "out", n, formats)
                    per_worker = rate / n
                    ratio = {"docx": per_worker / base_docx, "pdf": per_worker / floor_pdf,
                             "both": per_worker / (1 / (1 / base_docx + 1 / floor_pdf))}[label]
                    rows.append((kind, label, n, rate, ratio, peak))
                    print(f"  {label:5s} workers={n}: {rate:7.1f} records/s ({done} docs), "
                          f"{ratio:4.2f}x the baseline per worker, peak worker RSS {peak:.0f} MB")
        if rows:
            print("\nkind  format workers records/s  per-worker/baseline  peak RSS MB")
        for kind, label, n, rate, ratio, peak in rows:
            print(f"{kind:5s} {label:6s} {n:7d} {rate:10.1f} {ratio:20.2f} {peak:12.0f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
