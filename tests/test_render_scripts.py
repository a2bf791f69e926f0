"""Every client's script (#14): records whose client name, the person's own words and a goal are in
Korean, Arabic, Hebrew, Devanagari, Thai, emoji, Chinese or a mixed Latin and Arabic line render
with real glyphs (read from the embedded font subsets), a text layer that reads as typed (pypdf and
pdftotext), right-to-left paragraphs aligned right with their lines in order, and a DOCX that marks
right-to-left text for Word and LibreOffice."""
from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pypdf
import pytest

import builders
from docgen import api
from docgen.render import Outcome

SCRIPTS = {
    "korean": ("김민준", "요즘 잠을 잘 못 자고 마음이 불안해요. 가족과 다시 이야기하고 싶어요.",
               "매일 밤 7시간 이상 자기"),
    "arabic": ("مريم الحسن",
               "أشعر بالقلق كل يوم ولا أستطيع النوم جيدا. أريد أن أعود إلى عملي وأن أرى أصدقائي مرة أخرى.",
               "أن أنام سبع ساعات كل ليلة"),
    "hebrew": ("דוד כהן",
               "אני מרגיש חרדה כל בוקר ולא מצליח לישון. אני רוצה לחזור לעבודה ולפגוש את החברים שלי שוב.",
               "לישון שבע שעות בכל לילה"),
    "devanagari": ("प्रिया शर्मा", "मुझे हर दिन चिंता होती है और मैं ठीक से सो नहीं पाती। मैं अपने परिवार से फिर से बात करना "
                   "चाहती हूँ।", "हर रात सात घंटे की नींद लेना"),
    "thai": ("สมชาย ใจดี", "ผมรู้สึกกังวลทุกวันและนอนไม่หลับ อยากกลับไปทำงานและพบเพื่อนอีกครั้ง", "นอนหลับให้ได้เจ็ดชั่วโมงทุกคืน"),
    "emoji": ("Alex 🙂 Rivera", "I feel 😔 most days 👍🏽 but my family ❤️ helps 👨‍👩‍👧 🇲🇽", "Walk 🚶 every day ✅"),
    "chinese": ("王小明", "我每天都感到焦虑\uff0c晚上睡不好。我想重新开始工作。", "每晚睡七个小时"),
    "mixed": ("Maria مريم", "I said: أنا بخير today, 3 times (really) and الحمد لله 2024.", "Sleep 7 hours — أن أنام"),
}
FONTS = {"korean": "NotoSansKR", "arabic": "NotoSansArabic", "hebrew": "NotoSansHebrew",
         "devanagari": "NotoSansDevanagari", "thai": "NotoSansThai", "emoji": "NotoEmoji",
         "chinese": "DroidSansFallback", "mixed": "NotoSansArabic"}
GOAL_TAIL = " (PHQ-9 16 → 9)"
BIDI_MARKS = re.compile("[\u202a-\u202e]")  # pdftotext wraps right-to-left runs in embedding marks


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    folder = tmp_path_factory.mktemp("scripts")
    paths = []
    for key, (name, words, goal) in SCRIPTS.items():
        plan = builders.plan_dict()
        plan["id"] = f"TP-{key.upper()}"
        plan["client"]["name"] = name
        plan["goals"][0]["client_words"] = words
        plan["goals"][0]["statement"] = goal + GOAL_TAIL
        path = folder / f"{key}.json"
        path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    items = api.render(paths, folder / "out", as_of=builders.AS_OF)
    assert all(item.outcome is Outcome.final for item in items)
    return {key: (folder / "out" / f"TP-{key.upper()}.pdf", folder / "out" / f"TP-{key.upper()}.docx")
            for key in SCRIPTS}


# --- glyphs -------------------------------------------------------------------------------------
def _tables(data: bytes) -> dict[str, bytes]:
    count = struct.unpack(">H", data[4:6])[0]
    out = {}
    for i in range(count):
        tag, _, offset, length = struct.unpack(">4sLLL", data[12 + 16 * i:28 + 16 * i])
        out[tag.decode("latin-1")] = data[offset:offset + length]
    return out


def _inked(font) -> dict[int, str]:
    """An embedded subset's codes that draw a glyph with an outline, with the text each stands for
    (its ToUnicode entry): read from the subset itself (its cmap, loca), not from docgen."""
    tables = _tables(font["/FontDescriptor"]["/FontFile2"].get_data())
    cmap = tables["cmap"]
    offset = struct.unpack(">L", cmap[8:12])[0]
    fmt, _, _, first, count = struct.unpack(">HHHHH", cmap[offset:offset + 10])
    assert fmt == 6
    glyphs = struct.unpack(f">{count}H", cmap[offset + 10:offset + 10 + 2 * count])
    long = struct.unpack(">h", tables["head"][50:52])[0]
    loca = tables["loca"]
    n = len(loca) // (4 if long else 2)
    starts = list(struct.unpack(f">{n}{'L' if long else 'H'}", loca))
    starts = starts if long else [s * 2 for s in starts]
    cmap_text = font["/ToUnicode"].get_data().decode("ascii").split("endcodespacerange")[1]
    texts = {int(code, 16): bytes.fromhex(target).decode("utf-16-be")
             for code, target in re.findall(r"<([0-9A-F]{2})> <([0-9A-F]*)>", cmap_text)}
    return {first + i: texts.get(first + i, "") for i, glyph in enumerate(glyphs)
            if glyph and starts[glyph + 1] > starts[glyph]}


def _drawn_letters(pdf: Path) -> tuple[set[str], set[str]]:
    """The letters the PDF's glyphs stand for (outlined glyphs only, never .notdef), and its fonts."""
    letters: set[str] = set()
    fonts: set[str] = set()
    for page in pypdf.PdfReader(pdf).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts.add(str(font["/BaseFont"]))
            if "/FontDescriptor" not in font:  # a standard font (the canvas's initial Helvetica)
                continue
            for text in _inked(font).values():
                letters.update(text)
    return letters, fonts


def _visible(text: str) -> set[str]:
    """The characters of ``text`` that have a glyph of their own (not spaces, marks, joiners, selectors)."""
    return {c for c in text if not c.isspace() and unicodedata.category(c) not in ("Mn", "Me", "Cf")
            and not 0x1F3FB <= ord(c) <= 0x1F3FF}


@pytest.mark.parametrize("key", list(SCRIPTS))
def test_each_script_is_drawn_with_real_glyphs(rendered, key):
    """Every character of the client's name, words and goal is drawn by an outlined glyph of an
    embedded subset (a .notdef box or a missing glyph would leave it out), in the script's font."""
    letters, fonts = _drawn_letters(rendered[key][0])
    name, words, goal = SCRIPTS[key]
    missing = _visible(name + words + goal) - letters
    assert not missing, sorted(missing)
    assert any(FONTS[key] in font for font in fonts), fonts


def test_the_glyph_check_sees_a_character_drawn_as_notdef(tmp_path):
    """The check above on a known-bad path: Hangul drawn in DejaVu Sans alone (as docgen did) is caught."""
    from reportlab.pdfgen.canvas import Canvas

    from docgen.render.pdf.fonts import FONT, register_fonts

    register_fonts()
    path = tmp_path / "bad.pdf"
    canvas = Canvas(str(path))
    canvas.setFont(FONT, 12)
    canvas.drawString(72, 720, "Kim 김민준")
    canvas.save()
    letters, _ = _drawn_letters(path)
    assert "K" in letters and not _visible("김민준") & letters


# --- the text layer -----------------------------------------------------------------------------
def _flat(text: str) -> str:
    """Text as compared: without white space, embedding marks, and U+2060 (the word joiner a shaper's
    extra glyph maps to, since PDF/A and PDF/UA want every drawn glyph mapped to a character)."""
    return "".join(BIDI_MARKS.sub("", text).replace("\u2060", "").split())


@pytest.mark.parametrize("key", list(SCRIPTS))
def test_the_text_layer_reads_as_typed_in_pypdf(rendered, key):
    """pypdf reads the name, the words (over several lines) and the goal in the order typed: shaped
    glyphs carry their letters, right-to-left runs are written in the order typed."""
    text = _flat("".join(page.extract_text() for page in pypdf.PdfReader(rendered[key][0]).pages))
    name, words, goal = SCRIPTS[key]
    for wanted in (name, words, goal + GOAL_TAIL):
        assert _flat(wanted) in text, wanted


@pytest.mark.parametrize("key", ["korean", "arabic", "devanagari", "thai", "emoji", "chinese"])
def test_the_text_layer_reads_as_typed_in_pdftotext(rendered, key):
    """pdftotext too (its own right-to-left reordering misplaces punctuation between right-to-left
    words, and it runs a cell's last line into the next cell: the Arabic words' first line is checked)."""
    out = subprocess.run(["pdftotext", str(rendered[key][0]), "-"], capture_output=True, text=True, check=True).stdout
    text = _flat(out)
    name, words, goal = SCRIPTS[key]
    for wanted in (name, " ".join(words.split()[:6]) if key == "arabic" else words, goal):
        assert _flat(wanted) in text, wanted


def test_a_right_to_left_paragraph_is_aligned_right_with_its_lines_in_order(rendered):
    """The person's words in Arabic fill three lines of their cell: each ends at the cell's right
    edge (the ragged edge is the left), and the first line holds the first words typed."""
    out = subprocess.run(["pdftotext", "-bbox", str(rendered["arabic"][0]), "-"], capture_output=True, text=True,
                         check=True).stdout
    words = [(float(m[0]), float(m[1]), float(m[2]), m[3]) for m in
             re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', out)]
    # (-bbox gives each word's characters in display order: right to left, reversed)
    top = next(w for w in words if w[3][::-1] == "أشعر")
    bottom = next(w for w in words if w[3][::-1].strip(".") == "أخرى")
    assert bottom[1] > top[1] + 20  # two lines further down the page, as typed
    lines = {}
    for x0, y, x1, word in words:
        if top[1] - 1 <= y <= bottom[1] + 1 and x0 > top[0] - 200 and x1 <= top[2] + 1:
            lines.setdefault(round(y), []).append((x0, x1, word))
    assert len(lines) == 3, lines
    right_edges = [max(x1 for _, x1, _ in line) for line in lines.values()]
    assert max(right_edges) - min(right_edges) < 1.0, right_edges  # aligned right
    left_edges = [min(x0 for x0, _, _ in line) for line in lines.values()]
    assert max(left_edges) - min(left_edges) > 20, left_edges  # ragged left
    assert top[2] == max(right_edges)  # the first word typed is the rightmost of the first line


def test_a_latin_document_loads_no_script_font_and_shapes_nothing():
    """Start-up and Latin documents stay as fast as before: no script font is registered and
    HarfBuzz shapes nothing (reportlab itself imports uharfbuzz when it is installed)."""
    code = """
import json, sys
sys.path.insert(0, "tests")
import builders
from docgen import api
from docgen.render.pdf import fonts, shaping
import tempfile, pathlib
folder = pathlib.Path(tempfile.mkdtemp())
(folder / "p.json").write_text(json.dumps(builders.plan_dict(), ensure_ascii=False), encoding="utf-8")
api.render([folder / "p.json"], folder / "out", formats=("pdf",), as_of=builders.AS_OF)
print(json.dumps([sorted(fonts.SCRIPT_FONTS), fonts._fallback.cache_info().currsize,
                  shaping._hb_font.cache_info().currsize, shaping.shaped.cache_info().currsize]))
"""
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout
    assert json.loads(out.splitlines()[-1]) == [[], 0, 0, 0]


# --- the DOCX -----------------------------------------------------------------------------------
def _part(docx: Path, name: str) -> str:
    with zipfile.ZipFile(docx) as archive:
        return archive.read(name).decode("utf-8")


def test_the_docx_marks_right_to_left_paragraphs_and_runs(rendered):
    """Arabic and Hebrew body paragraphs get w:bidi, their runs w:rtl and their language; a Latin
    paragraph and the footer line (the template's, with the client's name in it) stay left to right."""
    body = _part(rendered["arabic"][1], "word/document.xml")
    cell = re.search(r"<w:p>(?:(?!</w:p>).)*مريم الحسن(?:(?!</w:p>).)*</w:p>", body)
    assert cell is not None
    assert re.search(r"<w:pPr>(?:(?!</w:pPr>).)*<w:bidi/></w:pPr>", cell.group())  # the paragraph's own bidi
    assert '<w:rPr><w:rtl/><w:lang w:bidi="ar-SA"/></w:rPr>' in cell.group()
    assert body.count("<w:bidi/>") == 3  # the name, the words and the goal
    assert "<w:bidi/>" not in _part(rendered["korean"][1], "word/document.xml")
    hebrew = _part(rendered["hebrew"][1], "word/document.xml")
    assert 'w:bidi="he-IL"' in hebrew and "<w:bidi/>" in hebrew
    mixed = _part(rendered["mixed"][1], "word/document.xml")
    assert "<w:bidi/>" not in mixed  # "Maria مريم": a left-to-right paragraph with Arabic in it
    assert 'w:bidi="ar-SA"' in mixed
    with zipfile.ZipFile(rendered["arabic"][1]) as archive:
        footers = [archive.read(n).decode() for n in archive.namelist() if n.startswith("word/footer")]
        styles = archive.read("word/styles.xml").decode()
    shown = [f for f in footers if "مريم" in f]
    assert shown and all("<w:bidi/>" not in f for f in shown)
    # the footer's Arabic is drawn at the footer's size: its style sets the complex-script size too
    footer_style = re.search(r'<w:style [^>]*w:styleId="Footer".*?</w:style>', styles, re.S)
    assert footer_style is not None and '<w:szCs w:val="15"/>' in footer_style.group()


def test_the_marked_docx_is_valid_open_xml(rendered, openxml_validator):
    for key in ("arabic", "hebrew", "mixed"):
        result = openxml_validator.validate(rendered[key][1])
        assert result.is_valid, [str(e) for e in result.errors][:5]


# --- bidi and breaking, directly ----------------------------------------------------------------
# (text, display order in a left-to-right paragraph, in a right-to-left one): characters in the
# order shown left to right, before mirroring, as the unicode-bidi crate (Rust) orders them
ORDERS = [
    ("abc مريم (2020) def", "abc )2020( ميرم def", "def )2020( ميرم abc"),
    ("Maria مريم", "Maria ميرم", "ميرم Maria"),
    ("مريم Maria", "ميرم Maria", "Maria ميرم"),
    ("أنا بخير today, 3 times", "ريخب انأ today, 3 times", "today, 3 times ريخب انأ"),
    ("نتن 123 ש״ח", "ח״ש 123 نتن", "ח״ש 123 نتن"),
    ("السعر 25.5% اليوم", "مويلا %25.5 رعسلا", "مويلا %25.5 رعسلا"),
    ("عدد ١٢٣ و 456", "456 و ١٢٣ ددع", "456 و ١٢٣ ددع"),
    ("שלום, world!", "םולש, world!", "!world ,םולש"),
    ("x [א (ב) ג] y", "x [ג )ב( א] y", "y ]ג )ב( א[ x"),
    ("مرحبا 1-2-3 abc-def", "3-2-1 ابحرم abc-def", "abc-def 3-2-1 ابحرم"),
    ("?מה שלומך", "?ךמולש המ", "ךמולש המ?"),
    ("and الحمد لله 2024.", "and 2024 هلل دمحلا.", ".2024 هلل دمحلا and"),
]


@pytest.mark.parametrize(("text", "ltr", "rtl"), ORDERS)
def test_bidi_display_order(text, ltr, rtl):
    from docgen.render.pdf.shaping import _reorder, levels

    for base, wanted in ((False, ltr), (True, rtl)):
        shown = "".join(text[i] for i in _reorder(levels(text, base)))
        assert shown == wanted, (base, shown)


@pytest.mark.parametrize("text", ["ผมรู้สึกกังวลทุกวันและนอนไม่หลับอยากกลับไปทำงานและพบเพื่อนอีกครั้ง",
                                  "प्रियाशर्मामुझेहरदिनचिंताहोतीहैऔरमैंठीकसेसोनहींपाती"])
def test_a_word_cut_to_the_line_keeps_its_clusters_whole_and_fits(text):
    from docgen.render.pdf.fonts import FONT, register_fonts
    from docgen.render.pdf.wrapping import text_width, wrap

    register_fonts()
    lines = wrap(text, FONT, 10, 60)
    assert len(lines) > 3 and "".join(lines) == text
    for line in lines:
        assert text_width(line, FONT, 10) <= 60 + 1e-6, line
        assert unicodedata.category(line[0]) not in ("Mn", "Mc"), line  # no mark without its letter
    assert not any(a.endswith("\u094d") for a in lines[:-1])  # no virama left at a line's end
