"""docgen's PDF against its peers, on the same composed documents, in one run.

    pip install -e ".[bench]"     # typst, weasyprint; WeasyPrint needs pango:
                                  # apt-get install libpango-1.0-0 libpangoft2-1.0-0
    .venv/bin/python bench/peers.py [--rounds 7] [--docs 12] [--weasyprint-docs 3]

The same composed plan and note (docgen.compose, from the bench's synthetic records: names varied, a
third beyond ASCII) rendered by:

- docgen: its tagged PDF/UA-1 and PDF/A-2a, the default;
- Typst (the PyPI package ``typst``): Typst markup of the same layout generated from the composed
  document, every text as an escaped string literal; tagged, Typst's default; the same DejaVu fonts;
- WeasyPrint: HTML and CSS of the same layout, client text HTML-escaped; tagged (``pdf/ua-1``, so all
  three carry a structure tree); the same DejaVu fonts.

Contenders are interleaved within each round (the order turns each round) and timed in CPU seconds of
this process (``time.process_time``: every thread's CPU, so a renderer that uses several threads pays
for them): each round prints documents per CPU-second for each, and the ratios of that round. At the
end: median and min-max over the rounds. Before timing, an honesty check: every contender's PDF of
the same documents, its page count, and the share of docgen's words (pypdf's text extraction) that
the peer's text holds.

Its last line reads ``peers: docgen is N.Nx Typst (plan), M.Mx Typst (note) per core`` (medians).
"""
from __future__ import annotations

import argparse
import gc
import html
import io
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench import AS_OF, documents, synthesize  # noqa: E402
from docgen.compose.blocks import Bullets, Chart, Document, Fields, Para, SignatureLine, Table  # noqa: E402

FONTS = ROOT / "docgen" / "fonts"
ACCENT, RULE, MUTED = "#1f4e79", "#9aa5b1", "#4a4f57"
HEAD_FILL, LABEL_FILL = "#dbe5f0", "#f1f4f8"


# --- Typst ------------------------------------------------------------------------------------
def typst_string(text: str) -> str:
    """A Typst string literal of ``text``: nothing in it is markup or code."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif not ch.isprintable() or ch in "\u2028\u2029":
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


TYPST_PREAMBLE = f"""
#let accent = rgb("{ACCENT}")
#let rule = rgb("{RULE}")
#let muted = rgb("{MUTED}")
#set text(font: "DejaVu Sans", size: 9.5pt, fill: rgb("#1d1d1f"), lang: "en")
#set par(justify: false, leading: 0.45em, spacing: 0.7em)
#show heading.where(level: 1): it => block(above: 1.1em, below: 0.5em,
  text(size: 12pt, fill: accent, weight: "bold", it.body))
#show heading.where(level: 2): it => block(above: 0.8em, below: 0.35em,
  text(size: 10pt, fill: accent, weight: "bold", it.body))
#set table(stroke: 0.5pt + rule, inset: 4pt)
#let fields(..rows) = {{
  show table.cell.where(x: 0): strong
  table(columns: (28%, 72%), fill: (x, y) => if x == 0 {{ rgb("{LABEL_FILL}") }}, ..rows)
}}
#let grid-table(widths, header, ..rows) = table(columns: widths, fill: (x, y) => if y == 0 {{ rgb("{HEAD_FILL}") }},
  table.header(..header.map(c => strong(c))), ..rows)
#let chart(points, maximum, bands) = {{
  let w = 400.0
  let h = 110.0
  box(width: w * 1pt, height: h * 1pt, stroke: 0.5pt + rule, {{
    for b in bands {{
      place(dx: 0pt, dy: (h - b.at(1) / maximum * h) * 1pt,
        rect(width: w * 1pt, height: calc.max(0.5, (b.at(1) - b.at(0)) / maximum * h) * 1pt,
          fill: luma(96%), stroke: none))
    }}
    let n = points.len()
    let xy(i, v) = ((20 + i * (w - 40) / calc.max(n - 1, 1)) * 1pt, (h - v / maximum * h) * 1pt)
    if n > 1 {{
      place(curve(stroke: 1.2pt + accent, curve.move(xy(0, points.at(0).at(1))),
        ..range(1, n).map(i => curve.line(xy(i, points.at(i).at(1))))))
    }}
    for (i, p) in points.enumerate() {{
      let (x, y) = xy(i, p.at(1))
      place(dx: x - 2pt, dy: y - 2pt, circle(radius: 2pt, fill: accent))
      place(dx: x - 15pt, dy: (h - 10) * 1pt, text(size: 6.5pt, fill: muted, p.at(0)))
    }}
  }})
}}
"""


def typst_source(doc: Document) -> str:
    s = typst_string
    header_line = " \u00b7 ".join(doc.agency_lines)
    out = [TYPST_PREAMBLE, f"#set document(title: {s(doc.title)}, author: {s(doc.agency)})",
           "#set page(paper: \"us-letter\", margin: 0.8in,",
           f"  header: [#text(fill: accent, weight: \"bold\", {s(doc.agency)}) #h(1fr) "
           f"#text(size: 8pt, fill: muted, {s(doc.title + ' ' + doc.record_id)}) \\ "
           f"#text(size: 7.5pt, fill: muted, {s(header_line)}) #v(-4pt) #line(length: 100%, stroke: 0.5pt + rule)],",
           f"  footer: context [#line(length: 100%, stroke: 0.5pt + rule) #v(-4pt) "
           f"#text(size: 7.5pt, fill: muted, {s(doc.footer)}) #h(1fr) #text(size: 7.5pt, fill: muted, "
           "\"Page \" + str(here().page()) + \" of \" + str(counter(page).final().first()))])",
           f"#title(text(size: 16pt, fill: accent, {s(doc.title)}))",
           f"#text(fill: muted, {s(doc.date_line)})"]
    if doc.draft:
        out.append('#heading(level: 2, "DRAFT \u2014 not final. Missing before this document can be final:")')
        out += [f"- #text(fill: rgb(\"#8a1c1c\"), {s(m.text)}) #text(size: 7pt, fill: muted, {s(m.rule)})"
                for m in doc.missing]
    for section in doc.sections:
        out.append(f"#heading(level: 1, {s(section.title)})")
        for b in section.blocks:
            if isinstance(b, Para):
                if b.label:
                    out.append(f"#heading(level: 2, {s(b.label)})")
                text = f"#emph({s(b.text)})" if b.style == "quote" else f"#{s(b.text)}"
                out.append(text + "\n")
            elif isinstance(b, Fields):
                if b.label:
                    out.append(f"#heading(level: 2, {s(b.label)})")
                out.append("#fields(" + ", ".join(f"{s(k)}, {s(v)}" for k, v in b.rows) + ")")
            elif isinstance(b, Bullets):
                out.append(f"#heading(level: 2, {s(b.label)})")
                out += [f"- #{s(e)}" for e in b.entries]
                out.append("")
            elif isinstance(b, Table):
                if b.caption:
                    out.append(f"#heading(level: 2, {s(b.caption)})")
                widths = "(" + ", ".join(f"{w * 100:.2f}%" for w in b.widths) + ",)"
                header = "(" + ", ".join(s(c) for c in b.columns) + ",)"
                cells = ", ".join(s(c) for row in b.rows for c in row)
                out.append(f"#grid-table({widths}, {header}{', ' + cells if cells else ''})")
            elif isinstance(b, Chart):
                series = b.series
                points = "(" + ", ".join(f"({s(d)}, {v})" for d, v in series.points) + ",)"
                bands = "(" + ", ".join(f"({lo}, {hi})" for lo, hi, _ in series.bands) + ",)"
                out.append(f"#heading(level: 2, {s(b.title)})")
                out.append(f"#figure(chart({points}, {series.maximum}, {bands}), alt: {s(b.title)})")
            elif isinstance(b, SignatureLine):
                out.append(f"#block(above: 1em, breakable: false)[#strong({s(b.role)}) \\ "
                           + (f"#{s(b.text)}]" if b.signed else "#v(14pt) #line(length: 45%, stroke: 0.5pt) "
                              f"#text(size: 7.5pt, fill: muted, {s(b.role + ' signature')})]"))
    return "\n".join(out) + "\n"


class TypstRenderer:
    name = "Typst"

    def __init__(self) -> None:
        import typst

        self.typst = typst

    def render(self, doc: Document) -> bytes:
        return self.typst.compile(typst_source(doc).encode("utf-8"), font_paths=[str(FONTS)],
                                  ignore_system_fonts=True)


# --- WeasyPrint ---------------------------------------------------------------------------------
CSS = f"""
@font-face {{ font-family: "DejaVu Sans"; src: url("{(FONTS / 'DejaVuSans.ttf').as_uri()}"); }}
@font-face {{ font-family: "DejaVu Sans"; font-weight: bold; src: url("{(FONTS / 'DejaVuSans-Bold.ttf').as_uri()}"); }}
@font-face {{ font-family: "DejaVu Sans"; font-style: italic;
              src: url("{(FONTS / 'DejaVuSans-Oblique.ttf').as_uri()}"); }}
@page {{ size: letter; margin: 0.8in;
  @top-left {{ content: element(head); }}
  @bottom-left {{ content: element(foot); font-size: 7.5pt; color: {MUTED}; border-top: 0.5pt solid {RULE}; }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); font-size: 7.5pt; color: {MUTED};
                   border-top: 0.5pt solid {RULE}; }} }}
body {{ font-family: "DejaVu Sans"; font-size: 9.5pt; color: #1d1d1f; line-height: 1.25; }}
header {{ position: running(head); width: 100%; border-bottom: 0.5pt solid {RULE}; font-size: 8pt; color: {MUTED}; }}
header b {{ color: {ACCENT}; font-size: 9.5pt; }}
.foot {{ position: running(foot); }}
h1.title {{ font-size: 16pt; color: {ACCENT}; margin: 0 0 2pt; }}
h2 {{ font-size: 12pt; color: {ACCENT}; margin: 12pt 0 5pt; break-after: avoid; }}
h3 {{ font-size: 10pt; color: {ACCENT}; margin: 8pt 0 3pt; break-after: avoid; }}
p {{ margin: 0 0 6pt; white-space: pre-wrap; }}
table {{ width: 100%; border-collapse: collapse; margin-bottom: 8pt; }}
td, th {{ border: 0.5pt solid {RULE}; padding: 3pt 4pt; vertical-align: top; text-align: left; white-space: pre-wrap; }}
th {{ background: {HEAD_FILL}; }}
td.label {{ background: {LABEL_FILL}; width: 28%; font-weight: bold; }}
tr {{ break-inside: avoid; }}
.sig {{ break-inside: avoid; margin-top: 12pt; }}
.muted {{ color: {MUTED}; }}
"""


def weasy_html(doc: Document) -> str:
    e = html.escape
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           f"<title>{e(doc.title)}</title></head><body>",
           f'<header><b>{e(doc.agency)}</b> {e(doc.title)} {e(doc.record_id)}<br>{e(" · ".join(doc.agency_lines))}'
           "</header>",
           f'<div class="foot">{e(doc.footer)}</div>',
           f'<h1 class="title">{e(doc.title)}</h1><p class="muted">{e(doc.date_line)}</p>']
    if doc.draft:
        out.append("<h3>DRAFT \u2014 not final. Missing before this document can be final:</h3><ul>")
        out += [f'<li>{e(m.text)} <small class="muted">{e(m.rule)}</small></li>' for m in doc.missing]
        out.append("</ul>")
    for section in doc.sections:
        out.append(f"<h2>{e(section.title)}</h2>")
        for b in section.blocks:
            if isinstance(b, Para):
                if b.label:
                    out.append(f"<h3>{e(b.label)}</h3>")
                out.append(f"<p><em>{e(b.text)}</em></p>" if b.style == "quote" else f"<p>{e(b.text)}</p>")
            elif isinstance(b, Fields):
                if b.label:
                    out.append(f"<h3>{e(b.label)}</h3>")
                out.append("<table>" + "".join(f'<tr><td class="label">{e(k)}</td><td>{e(v)}</td></tr>'
                                               for k, v in b.rows) + "</table>")
            elif isinstance(b, Bullets):
                out.append(f"<h3>{e(b.label)}</h3><ul>" + "".join(f"<li>{e(x)}</li>" for x in b.entries) + "</ul>")
            elif isinstance(b, Table):
                if b.caption:
                    out.append(f"<h3>{e(b.caption)}</h3>")
                cols = "".join(f'<col style="width: {w * 100:.2f}%">' for w in b.widths)
                head = "".join(f"<th>{e(c)}</th>" for c in b.columns)
                body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in b.rows)
                out.append(f"<table><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
                           "</table>")
            elif isinstance(b, Chart):
                out.append(f"<h3>{e(b.title)}</h3>{_svg_chart(b)}")
            elif isinstance(b, SignatureLine):
                line = e(b.text) if b.signed else (f'<br><br>______________________________<br><small class="muted">'
                                                   f"{e(b.role)} signature</small>")
                out.append(f'<div class="sig"><b>{e(b.role)}</b><br>{line}</div>')
    out.append("</body></html>")
    return "".join(out)


def _svg_chart(chart: Chart) -> str:
    s, w, h = chart.series, 400, 110
    n = len(s.points)

    def xy(i: int, v: int) -> tuple[float, float]:
        return 20 + i * (w - 40) / max(n - 1, 1), h - v / s.maximum * h

    bands = "".join(f'<rect x="0" y="{h - hi / s.maximum * h:.1f}" width="{w}" '
                    f'height="{max(0.5, (hi - lo) / s.maximum * h):.1f}" fill="#f5f5f5"/>' for lo, hi, _ in s.bands)
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, (_, v) in enumerate(s.points)))
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="{ACCENT}"/>'
                   f'<text x="{x - 15:.1f}" y="{h - 3}" font-size="6.5" fill="{MUTED}">{html.escape(d)}</text>'
                   for (d, _), (x, y) in ((p, xy(i, p[1])) for i, p in enumerate(s.points)))
    return (f'<svg width="{w}pt" height="{h}pt" viewBox="0 0 {w} {h}" role="img" '
            f'aria-label="{html.escape(chart.title)}" style="border: 0.5pt solid {RULE}">{bands}'
            f'<polyline points="{line}" fill="none" stroke="{ACCENT}"'
            f' stroke-width="1.2"/>{dots}</svg>')


class WeasyRenderer:
    name = "WeasyPrint"

    def __init__(self) -> None:
        import logging

        from weasyprint import CSS as Sheet
        from weasyprint import HTML

        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        logging.getLogger("fontTools").setLevel(logging.ERROR)
        self.html, self.css = HTML, Sheet(string=CSS)

    def render(self, doc: Document) -> bytes:
        return self.html(string=weasy_html(doc)).write_pdf(stylesheets=[self.css], pdf_variant="pdf/ua-1")


# --- docgen -------------------------------------------------------------------------------------
class DocgenRenderer:
    name = "docgen"

    def __init__(self, results) -> None:
        from docgen.model.digest import content_hash
        from docgen.render import Renderer, metadata_for

        self.pdf = Renderer(("pdf",)).pdf
        self.meta = {id(doc): metadata_for(result.record, "default", content_hash(result.record))
                     for result, doc in results}

    def render(self, doc: Document) -> bytes:
        return self.pdf.render(doc, self.meta[id(doc)], AS_OF.strftime("%Y%m%d"))


# --- the honesty check and the rounds ------------------------------------------------------------
_WORD = re.compile(r"\w+")


def pdf_facts(blob: bytes) -> tuple[int, set[str]]:
    """Pages, and the words of the text pypdf extracts (lower case)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(blob))
    words: set[str] = set()
    for page in reader.pages:
        words.update(w.lower() for w in _WORD.findall(page.extract_text() or ""))
    return len(reader.pages), words


def check(kind: str, docs, contenders) -> None:
    """Pages and text coverage of each peer's PDF against docgen's, over the documents timed."""
    facts: dict[str, list[tuple[int, set[str]]]] = {c.name: [] for c in contenders}
    for doc in docs:
        for c in contenders:
            facts[c.name].append(pdf_facts(c.render(doc)))
    ours = facts["docgen"]
    for c in contenders:
        pages = [p for p, _ in facts[c.name]]
        cover = [len(words & mine) / len(mine) for (_, words), (_, mine) in zip(facts[c.name], ours, strict=True)]
        print(f"  check {kind} {c.name:10s}: pages {min(pages)}-{max(pages)} (docgen {min(p for p, _ in ours)}-"
              f"{max(p for p, _ in ours)}), docgen's words found {min(cover):.1%}-{max(cover):.1%}")


def rate(contender, docs) -> float:
    """Documents per CPU-second of this process. The garbage of the contender before is collected
    first, outside the clock (WeasyPrint leaves enough that docgen, timed next, ran at half speed)."""
    gc.collect()
    started = time.process_time()
    for doc in docs:
        contender.render(doc)
    return len(docs) / (time.process_time() - started)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--docs", type=int, default=12, help="documents per round for docgen and Typst")
    parser.add_argument("--weasyprint-docs", type=int, default=3, help="documents per round for WeasyPrint")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="docgen-peers-") as work:
        plan_file, note_file = synthesize(Path(work), args.docs, args.docs)
        composed = {"plan": documents(plan_file, args.docs), "note": documents(note_file, args.docs)}
    ratios: dict[str, dict[str, list[float]]] = {}
    for kind, results in composed.items():
        docs = [doc for _, doc in results]
        contenders = [DocgenRenderer(results), TypstRenderer(), WeasyRenderer()]
        print(f"{kind}: {len(docs)} documents ({args.weasyprint_docs} for WeasyPrint), {args.rounds} rounds, "
              "documents per CPU-second")
        check(kind, docs[:3], contenders)
        for c in contenders:  # warm: fonts parsed, templates compiled, caches filled
            c.render(docs[0])
        rates: dict[str, list[float]] = {c.name: [] for c in contenders}
        for r in range(args.rounds):
            order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
            for c in order:
                rates[c.name].append(rate(c, docs[:args.weasyprint_docs] if c.name == "WeasyPrint" else docs))
            mine = rates["docgen"][-1]
            print(f"  round {r + 1}: " + ", ".join(f"{n} {v[-1]:.1f}" for n, v in rates.items()) + " | docgen is "
                  + ", ".join(f"{mine / v[-1]:.1f}x {n}" for n, v in rates.items() if n != "docgen"))
        ratios[kind] = {n: [a / b for a, b in zip(rates["docgen"], v, strict=True)]
                        for n, v in rates.items() if n != "docgen"}
        print(f"  {kind} docs per CPU-second, median (min-max): "
              + "; ".join(f"{n} {spread(v)}" for n, v in rates.items()))
        print(f"  {kind} docgen per core against: " + "; ".join(f"{n} {spread(v)}x" for n, v in ratios[kind].items()))
    print(f"peers: docgen is {statistics.median(ratios['plan']['Typst']):.1f}x Typst (plan), "
          f"{statistics.median(ratios['note']['Typst']):.1f}x Typst (note) per core")


if __name__ == "__main__":
    main()
