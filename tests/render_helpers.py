"""Helpers for the rendering tests: read back what a DOCX / PDF says, and the records they render.

Readers are deliberately independent of docgen: python-docx for DOCX, pypdf for the PDF text layer,
poppler and qpdf for the files themselves.
"""
from __future__ import annotations

import copy
import io
import itertools
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pypdf
from docx.oxml.ns import qn

import builders
from docgen.render.visible_text import display

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

# Client text that is markup in every layer the renderers use (XML, Jinja, docxtpl, reportlab's
# paragraph markup): it must come out exactly as typed. Lines are short so the PDF never wraps them.
NASTY = ("Amp & lt < gt > \"dq\" 'sq' {{ client.name }}\n"
         "{% if x %}y{% endif %} {_{ guard }_} {_% p %_}\n"
         "tab:\there\n"
         "Nguyễn Thị Ánh · Ελένη Παπαδοπούλου · Дмитрий Иванов\n"
         "bell\x07here \uffff &amp; &#95; <b>not bold</b> <br/> ]]>")
NASTY_SHOWN = NASTY.replace("\x07", "[U+0007]").replace("\uffff", "[U+FFFF]")
CELL_TEXT = "Ελένη Παπαδοπούλου & Дмитрий Иванов <ok>\n{{ cell }} line two"
SECRET = "SECRET-PROCESS-NOTE transference and countertransference material"
UNI_NAME = "Nguyễn Thị Ánh"
ODD_NAME = "Дмитрий O'Brien & <Ελένη> \"Q\" {{ x }}"
ODD_AGENCY = "Smith & Jones <Counseling> {% raw %}"


def ws(text: str) -> str:
    """Whitespace collapsed (the PDF text layer breaks lines inside cells and turns tabs into spaces)."""
    return re.sub(r"\s+", " ", text).strip()


# --- records ------------------------------------------------------------------------------------
def _phq9(day: str, items: list[int]) -> dict:
    return {"instrument": "phq9", "date": day, "items": items}


def _gad7(day: str, items: list[int]) -> dict:
    return {"instrument": "gad7", "date": day, "items": items}


def uni_plan() -> dict:
    """Complete plan TP-UNI: client text in many scripts and markup-looking text, trend charts."""
    plan = builders.plan_dict()
    plan["id"] = "TP-UNI"
    plan["client"]["name"] = UNI_NAME
    plan["consents"][0]["signed_by"] = UNI_NAME
    plan["signatures"][1]["name"] = UNI_NAME
    plan["presenting_concerns"] = NASTY
    plan["goals"][0]["client_words"] = CELL_TEXT
    plan["history"] = {"psychosocial": "Lives with her partner.\nWorks nights.\tTab kept.",
                       "medications": ["Sertraline 50 mg", "Levothyroxine 50 mcg"]}
    plan["assessments"] = [
        _phq9("2026-09-08", [2, 2, 3, 2, 2, 2, 2, 1, 0]), _phq9("2026-10-20", [1, 2, 2, 1, 1, 1, 2, 1, 0]),
        _gad7("2026-09-08", [1, 1, 1, 1, 0, 1, 1]), _gad7("2026-10-20", [1, 0, 1, 0, 0, 1, 0]),
    ]
    return plan


def uni_note() -> dict:
    """Complete SOAP note PN-UNI for TP-UNI, with private psychotherapy notes that must never render."""
    note = builders.note_dict()
    note["id"] = "PN-UNI"
    note["plan_id"] = "TP-UNI"
    note["client"]["name"] = UNI_NAME
    note["participants"] = [{"name": UNI_NAME, "role": "client"}]
    note["subjective"] = NASTY
    note["psychotherapy_notes"] = SECRET
    return note


def draft_plan() -> dict:
    """Incomplete plan TP-DRAFT (the client has not signed): odd client and agency names."""
    plan = builders.plan_dict()
    plan["id"] = "TP-DRAFT"
    plan["client"] = {**plan["client"], "id": "C-2002", "name": ODD_NAME}
    plan["agency"] = {**plan["agency"], "name": ODD_AGENCY}
    plan["consents"][0]["signed_by"] = ODD_NAME
    plan["signatures"] = [s for s in plan["signatures"] if s["role"] != "client"]
    return plan


def corpus_records() -> list[dict]:
    return [uni_plan(), uni_note(), draft_plan()]


def write_records(path: Path, records: list[dict]) -> Path:
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def invoke(*args):
    """The CLI in this process, stderr apart from stdout; an exception other than the exit is a failure."""
    from click.testing import CliRunner

    from docgen.cli import main

    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        runner = CliRunner()
    result = runner.invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def documents_in(folder: Path) -> list[str]:
    """Names of the files in ``folder`` but the audit trail (``audit.sqlite`` and its WAL files), sorted."""
    return sorted(p.name for p in Path(folder).iterdir() if not p.name.startswith("audit.sqlite"))


def many_goals(plan: dict, count: int) -> dict:
    """``plan`` with ``count`` goals, each a copy of its first goal under new ids."""
    plan = copy.deepcopy(plan)
    first = plan["goals"][0]
    goals = []
    for n in range(1, count + 1):
        goal = copy.deepcopy(first)
        goal["id"] = f"G{n}"
        goal.pop("progress", None)
        for m, objective in enumerate(goal["objectives"], 1):
            objective["id"] = f"G{n}.O{m}"
        goals.append(goal)
    plan["goals"] = goals
    return plan


# --- DOCX ---------------------------------------------------------------------------------------
def _inner_texts(container) -> list[str]:
    out = []
    for item in container.iter_inner_content():
        if isinstance(item, docx.text.paragraph.Paragraph):
            out.append(item.text)
        else:  # a table: every cell, nested tables included
            for row in item.rows:
                for cell in row.cells:
                    out.extend(_inner_texts(cell))
    return out


class DocxView:
    """What a reader of the DOCX sees: body (paragraphs and table cells, in order), header, footer."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.document = docx.Document(str(path))
        self.body = _inner_texts(self.document)
        self.paragraphs = [p.text for p in self.document.paragraphs]
        self.header = [t for s in self.document.sections for t in _inner_texts(s.header)]
        self.footer = [t for s in self.document.sections for t in _inner_texts(s.footer)]
        self.cells = [cell.text for table in self.document.tables for row in table.rows for cell in row.cells]

    @property
    def all_text(self) -> str:
        return "\n".join(self.body + self.header + self.footer)

    def parts(self) -> dict[str, bytes]:
        with zipfile.ZipFile(self.path) as z:
            return {name: z.read(name) for name in z.namelist()}

    def xml(self, part: str) -> str:
        return self.parts()[part].decode("utf-8")

    def header_xml(self) -> str:
        return "".join(s.header._element.xml for s in self.document.sections)

    def footer_xml(self) -> str:
        return "".join(s.footer._element.xml for s in self.document.sections)

    def tables(self) -> list[list[list[str]]]:
        return [[[c.text for c in row.cells] for row in t.rows] for t in self.document.tables]

    def table_header_repeats(self, table_index: int) -> bool:
        first = self.document.tables[table_index].rows[0]._tr
        tr_pr = first.find(qn("w:trPr"))
        return tr_pr is not None and tr_pr.find(qn("w:tblHeader")) is not None


# --- PDF ----------------------------------------------------------------------------------------
class PdfView:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.data = self.path.read_bytes()
        self.reader = pypdf.PdfReader(io.BytesIO(self.data))
        self.pages = [page.extract_text() for page in self.reader.pages]

    @property
    def text(self) -> str:
        return "\n".join(self.pages)

    def runs(self, index: int) -> list[str]:
        """The strings of the text-showing operators of one page, each whole (e.g. a rotated 'DRAFT')."""
        found: list[str] = []
        self.reader.pages[index].extract_text(visitor_text=lambda t, *_: found.append(t.strip()) if t.strip() else None)
        return found

    def bodies(self, agency: str) -> list[str]:
        """Each page's text without its page furniture (drawn last on every page, agency first)."""
        out = []
        for text in self.pages:
            cut = text.rfind(agency)
            out.append(text[:cut] if cut >= 0 else text)
        return out

    def placed(self, index: int) -> list[tuple[str, float, float, float, str]]:
        """(text, x, y, size, font) of the untransformed text runs of one page: the page furniture
        and the body's text (the rotated DRAFT is left out)."""
        found: list = []

        def visit(text, cm, tm, font, size):
            if text.strip() and list(cm) == [1, 0, 0, 1, 0, 0] and tm[:4] == [1, 0, 0, 1]:
                found.append((text.strip(), tm[4], tm[5], size, str(font.get("/BaseFont", "")) if font else ""))

        self.reader.pages[index].extract_text(visitor_text=visit)
        return found

    @property
    def info(self) -> dict[str, str]:
        return {k: str(v) for k, v in (self.reader.metadata or {}).items()}


def orphaned_headings(view: PdfView, doc) -> list[tuple[int, str]]:
    """(page, heading) for every page whose text ends with a section title or a block's label."""
    from docgen.compose.blocks import Bullets, Chart, Para, Table

    headings = {s.title for s in doc.sections}
    for section in doc.sections:
        for block in section.blocks:
            label = {Para: "label", Bullets: "label", Table: "caption", Chart: "title"}.get(type(block))
            if label and getattr(block, label):
                headings.add(getattr(block, label))
    found = []
    for number, body in enumerate(view.bodies(doc.agency), 1):
        lines = [line.strip() for line in body.splitlines() if line.strip()]
        if lines and lines[-1] in headings:
            found.append((number, lines[-1]))
    return found


def pdf_has(view: PdfView, wanted: str, agency: str) -> bool:
    """``wanted`` in the PDF's text, whitespace-insensitively; a table row split over a page break may
    put a cell's first words at the foot of one page and the rest at the top of the next."""
    target = ws(wanted)
    if target in ws(view.text):
        return True
    words = target.split(" ")
    bodies = [ws(b) for b in view.bodies(agency)]
    for here, after in itertools.pairwise(bodies):
        for cut in range(1, len(words)):
            if " ".join(words[:cut]) in here and " ".join(words[cut:]) in after:
                return True
    return False


# --- system tools -------------------------------------------------------------------------------
def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"system tool {name} is not installed (CI installs it; see .ci/run)")
    return path


def run(*args, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kwargs)


def assert_pdf_sound(path: Path) -> None:
    """``qpdf --check`` passes and ``pdffonts`` lists only embedded fonts (the DejaVu family)."""
    check = run(tool("qpdf"), "--check", path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No syntax or stream encoding errors found" in check.stdout
    fonts = run(tool("pdffonts"), path)
    assert fonts.returncode == 0, fonts.stderr
    rows = fonts.stdout.splitlines()[2:]
    assert rows, fonts.stdout
    for row in rows:
        columns = row.split()  # name type encoding emb sub uni object ID
        assert columns[-5] == "yes", f"{path.name}: font not embedded: {row}"
        assert "DejaVuSans" in columns[0], row


def non_white_fraction(png: Path) -> float:
    from PIL import Image

    with Image.open(png) as image:
        grey = image.convert("L")
        histogram = grey.histogram()
    dark = sum(histogram[:200])
    return dark / sum(histogram)


def shown(text: str) -> str:
    """How client text reads once rendered: the one normalisation both renderers apply."""
    return display(text)


# --- what a reader must never see -------------------------------------------------------------------
#: Words of a program, not of a document: Python's None/True/False, JSON's null, empty containers, a
#: field name or raw enum value (plan_date, in_progress), a field path (signatures[0], goals[G2]), a
#: repr (<SignerRole.client: 'client'>, SignerRole.client, <object at 0x...>) and "(s)" plurals.
MACHINE = re.compile(
    r"\bNone\b|\bnull\b|\bTrue\b|\bFalse\b|\[\]|\{\}|\(\)"
    r"|\b[a-z][a-z0-9]*_[a-z0-9_]+\b"
    r"|\b[a-z_]+\[[^\]\s]*\]"
    r"|<[A-Za-z_.]+[ :][^>]*>|\b[A-Z][A-Za-z]+\.[a-z_]+\b|\bdatetime\.|\bDecimal\("
    r"|\w\(s\)"
)


def _enum_values() -> frozenset[str]:
    import enum

    from docgen import model
    from docgen.model import addendum, assessments, base, clinical, note, plan

    found = {"cssrs_screener"}  # literals: an assessment's instrument
    for module in (model, addendum, assessments, base, clinical, note, plan):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, enum.Enum):
                found.update(str(member.value) for member in value)
    return frozenset(found)


AS_TYPED = "As typed."


def sanitized(value):
    """``value`` (a raw record, as read) with every string of its author's that looks like a machine
    word (a clinician may answer "None.") replaced by "As typed.", enum values kept: what then
    reads as a machine word in its documents is docgen's own."""
    if isinstance(value, str):
        return AS_TYPED if MACHINE.search(value) and value not in _enum_values() else value
    if isinstance(value, dict):
        return {key: sanitized(item) for key, item in value.items()}
    if isinstance(value, list):
        return [sanitized(item) for item in value]
    return value


def machine_words(text: str) -> list[str]:
    """The machine words in what a reader sees (``text``)."""
    return [m.group(0) for m in MACHINE.finditer(ws(text))]


def docx_reader_text(data: bytes) -> str:
    """Everything a reader of a DOCX sees as text: body, tables, headers and footers."""
    view = docx.Document(io.BytesIO(data))
    parts = _inner_texts(view)
    for section in view.sections:
        parts += _inner_texts(section.header) + _inner_texts(section.footer)
    return "\n".join(parts)


def pdf_reader_text(data: bytes) -> str:
    """The text layer of a PDF as pypdf extracts it, every page."""
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


# --- reading order: the words of a document, as a reader meets them --------------------------------
BULLET = "\u2022"
CONTINUED = "(continued)"


def reading_words(text: str) -> list[str]:
    """The words of ``text`` (no-break spaces are spaces; bullets are not words)."""
    return [w for w in ws(text.replace("\u00a0", " ")).split(" ") if w and w != BULLET]


def docx_body_words(view: DocxView) -> list[str]:
    """The words of a DOCX's body in order: paragraphs and table cells (a header row once)."""
    return reading_words("\n".join(view.body))


def _table_headings(doc) -> tuple[list[list[str]], list[list[str]]]:
    """The headings a continued table may carry at the top of a page, and the header rows it repeats."""
    from docgen.compose.blocks import Fields, Table

    headings, rows = [], []
    for section in doc.sections:
        headings.append(reading_words(section.title))
        for block in section.blocks:
            if isinstance(block, Table):
                rows.append(reading_words(" ".join(block.columns)))
                if block.caption:
                    headings.append(reading_words(block.caption))
            elif isinstance(block, Fields) and block.label:
                headings.append(reading_words(block.label))
    return headings, rows


def _chart_words(doc) -> list[list[str]]:
    """For each chart, in order: its title's words and what the PDF draws as its labels (band names,
    values, dates, the value axis' numbers)."""
    from docgen.compose.blocks import Chart

    out = []
    for section in doc.sections:
        for block in section.blocks:
            if isinstance(block, Chart):
                series = block.series
                labels = [w for _l, _h, name in series.bands for w in reading_words(name)]
                labels += [w for when, value in series.points for w in (*reading_words(when), str(value))]
                labels += [str(n) for n in range(series.maximum + 1)]
                out.append([*reading_words(block.title), "\0", *labels])
    return out


def pdf_body_words(view: PdfView, doc) -> list[str]:
    """The words of a PDF's body in order, without what only a paged layout shows: the page furniture,
    a continued table's "<heading> (continued)" and repeated header row at the top of a page, and a
    chart's labels (the DOCX keeps them in its chart part)."""
    headings, rows = _table_headings(doc)
    words: list[str] = []
    for number, body in enumerate(view.bodies(doc.agency)):
        page = reading_words(body)
        if number and CONTINUED in page[:40]:
            at = page.index(CONTINUED)
            assert page[:at] in headings, ("(continued) after what is not a heading", page[:at + 1])
            page = page[at + 1:]
            row = next((r for r in rows if page[:len(r)] == r), None)
            if row:
                page = page[len(row):]
        words += page
    for chart in _chart_words(doc):
        cut = chart.index("\0")
        title, labels = chart[:cut], chart[cut + 1:]
        for start in range(len(words) - len(title) + 1):
            if words[start:start + len(title)] == title:
                end = start + len(title)
                pool = list(labels)
                while end < len(words) and words[end] in pool:
                    pool.remove(words[end])
                    end += 1
                words = words[:start + len(title)] + words[end:]
                break
    return words


def word_diff(left: list[str], right: list[str], context: int = 6) -> list[str]:
    """Where two word sequences differ, with a few words around each difference."""
    import difflib

    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=left, b=right, autojunk=False).get_opcodes():
        if tag != "equal":
            out.append(f"{tag}: ...{' '.join(left[max(0, i1 - context):i1])} [[{' '.join(left[i1:i2])}]] vs "
                       f"[[{' '.join(right[j1:j2])}]] {' '.join(left[i2:i2 + context])}...")
    return out


def pdf_furniture(view: PdfView, index: int, margin: float = 0.8 * 72) -> tuple[list[str], list[str]]:
    """The header's and the footer's words of one PDF page (text above the body's top, below its bottom)."""
    height = float(view.reader.pages[index].mediabox.height)
    top, bottom = height - margin * 1.15, margin
    header = [t for t, _x, y, _s, _f in view.placed(index) if y > top]
    footer = [t for t, _x, y, _s, _f in view.placed(index) if y < bottom]
    return reading_words(" ".join(header)), reading_words(" ".join(footer))
