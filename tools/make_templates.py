"""Build the shipped Word templates in docgen/templates/ (run once by developers; agencies edit the .docx).

    python tools/make_templates.py

Each template is an ordinary Word document with docxtpl (Jinja2) tags: open it in Word or
LibreOffice, change fonts, colours, the logo, header text and wording, and keep rendering. The body
walks the composed document's sections and blocks, so every template shows everything the record
holds, and nothing more: what the DOCX says, the PDF says (headers, footers, every sentence). The
shipped templates look like docgen's PDF: its font (DejaVu Sans), sizes, margins, table rules,
shading and padding, rows kept whole and headings kept with their tables' first rows.
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Emu, Inches, Pt, RGBColor

ROOT = Path(__file__).resolve().parent.parent
ACCENT = RGBColor(0x1F, 0x4E, 0x79)
MUTED = RGBColor(0x4A, 0x4F, 0x57)
TEXT = RGBColor(0x1D, 0x1D, 0x1F)
MISSING = RGBColor(0x8A, 0x1C, 0x1C)
KINDS = ("treatment_plan", "soap", "birp", "dap", "girp", "addendum")

# What the PDF (docgen/render/pdf, pdf-style.toml's defaults) draws, so that the DOCX looks the same in
# Word and LibreOffice: the embedded DejaVu Sans, its sizes (body 9.5 pt, cells 8.5 pt), light grey
# table rules, the same shading, cell padding and margins.
FONT = "DejaVu Sans"
RULE = "9AA5B1"  # table rules, header and footer rules
HEAD_FILL, HEAD_TEXT, LABEL_FILL = "DBE5F0", "10263D", "F1F4F8"
MARGIN = Inches(0.8)
TEXT_WIDTH = Inches(8.5) - 2 * MARGIN
#: Table cell padding in twips: the PDF's 4 pt left and right, 2.5 pt above, 3 pt below.
CELL_MARGINS = {"top": 50, "left": 80, "bottom": 60, "right": 80}

# The DRAFT watermark: VML text on every page, in front of the text and the shaded cells (as the PDF
# draws it over the page), red at 18% as the PDF's.
WATERMARK = (
    '<w:r %s><w:rPr><w:noProof/></w:rPr><w:pict>'
    '<v:shapetype id="_x0000_t136" coordsize="21600,21600" o:spt="136" adj="10800" path="m@7,l@8,m@5,21600l@6,21600e">'
    '<v:path textpathok="t" o:connecttype="custom"/><v:textpath on="t" fitshape="t"/></v:shapetype>'
    '<v:shape id="DocgenDraftWatermark" o:spid="_x0000_s2049" type="#_x0000_t136" '
    'style="position:absolute;margin-left:0;margin-top:0;width:440pt;height:140pt;rotation:315;z-index:251659264;'
    'mso-position-horizontal:center;mso-position-horizontal-relative:margin;mso-position-vertical:center;'
    'mso-position-vertical-relative:margin" fillcolor="#bf1a1a" stroked="f">'
    f'<v:fill opacity=".18"/><v:textpath style="font-family:&quot;{FONT}&quot;;font-size:1pt;font-weight:bold" '
    'string="DRAFT"/></v:shape></w:pict></w:r>'
) % (nsdecls("w") + ' xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"')


def field_run(paragraph, instruction: str, size: float = 7.5) -> None:
    """A Word field (PAGE, NUMPAGES) that Word and LibreOffice fill in, at the footer's text size."""
    rpr = f'<w:rPr><w:color w:val="1D1D1F"/><w:sz w:val="{int(size * 2)}"/></w:rPr>'
    for xml in (
        f'<w:r {nsdecls("w")}>{rpr}<w:fldChar w:fldCharType="begin"/></w:r>',
        f'<w:r {nsdecls("w")}>{rpr}<w:instrText xml:space="preserve"> {instruction} </w:instrText></w:r>',
        f'<w:r {nsdecls("w")}>{rpr}<w:fldChar w:fldCharType="separate"/></w:r>',
        f'<w:r {nsdecls("w")}>{rpr}<w:t>1</w:t></w:r>',
        f'<w:r {nsdecls("w")}>{rpr}<w:fldChar w:fldCharType="end"/></w:r>',
    ):
        paragraph._p.append(parse_xml(xml))


def _fonts(rpr) -> None:
    """DejaVu Sans for every script (no theme fonts: a theme would bring Calibri back)."""
    for old in rpr.findall(qn("w:rFonts")):
        rpr.remove(old)
    rpr.insert(0, parse_xml(f'<w:rFonts {nsdecls("w")} w:ascii="{FONT}" w:hAnsi="{FONT}" w:eastAsia="{FONT}" '
                            f'w:cs="{FONT}"/>'))


def _style(styles, name: str, size: float, *, bold: bool = False, italic: bool = False, color=TEXT,
           before: float = 0, after: float = 0, line: int | None = None, keep_next: bool = False):
    style = styles[name] if name in [s.name for s in styles] else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.font.name = FONT
    _fonts(style.element.get_or_add_rPr())
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = italic
    style.font.color.rgb = color
    fmt = style.paragraph_format
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    if line is not None:  # a multiple of DejaVu Sans' single line (1.164 em): the PDF's leading
        fmt.line_spacing = line / 240
    fmt.keep_with_next = keep_next or None
    # what python-docx's default styles add that the PDF does not draw: the title's rule and letter
    # spacing, the header's and footer's centre and right tab stops (at a 6.5 inch text width)
    ppr, rpr = style.element.get_or_add_pPr(), style.element.get_or_add_rPr()
    for old in [*ppr.findall(qn("w:pBdr")), *ppr.findall(qn("w:tabs")), *ppr.findall(qn("w:contextualSpacing")),
                *rpr.findall(qn("w:spacing")), *rpr.findall(qn("w:kern"))]:
        old.getparent().remove(old)
    _complex_script(rpr)
    return style


def _complex_script(rpr) -> None:
    """The same size, bold and italic for complex scripts (w:szCs, w:bCs, w:iCs): Arabic and Hebrew are
    drawn with these, so without them a client's Arabic name in the footer comes out at Word's default
    size. Each goes right after its plain twin, as the schema orders them."""
    for plain, complex_ in (("b", "bCs"), ("i", "iCs"), ("sz", "szCs")):
        own = rpr.find(qn(f"w:{plain}"))
        if own is None:
            continue
        for old in rpr.findall(qn(f"w:{complex_}")):
            rpr.remove(old)
        twin = parse_xml(f'<w:{complex_} {nsdecls("w")}/>')
        for key, value in own.attrib.items():
            twin.set(key, value)
        own.addnext(twin)


def style_document(doc) -> None:
    styles = doc.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    _fonts(defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")))
    # the PDF's text styles (render/pdf/layout.py _Styles) at its default font size, 9.5 pt
    normal = _style(styles, "Normal", 9.5, after=3, line=268)
    normal.base_style = None
    _style(styles, "Title", 17.5, bold=True, color=ACCENT, after=2, line=247)
    _style(styles, "Heading 1", 12.5, bold=True, color=ACCENT, before=10, after=4, line=268, keep_next=True)
    _style(styles, "Heading 2", 10, bold=True, before=4, after=2, line=268, keep_next=True)
    quote = _style(styles, "Quote", 9.5, italic=True, color=MUTED, after=3, line=268)
    quote.paragraph_format.left_indent = quote.paragraph_format.right_indent = Pt(14)
    bullet = _style(styles, "List Bullet", 9.5, after=1, line=268)
    bullet.paragraph_format.left_indent = Pt(14)
    bullet.paragraph_format.first_line_indent = Pt(-10)
    _style(styles, "Date Line", 10.5, bold=True, after=8, line=268)
    _style(styles, "Missing", 8.5, color=MISSING, line=258)
    _style(styles, "Table Text", 8.5, line=258)
    _style(styles, "Table Head", 8.5, bold=True, color=RGBColor.from_string(HEAD_TEXT), line=258)
    _style(styles, "Table Label", 8.5, bold=True, line=258)
    _style(styles, "Signature Role", 8.5, bold=True, before=8, line=258, keep_next=True)
    for name in ("Header", "Footer"):
        _style(styles, name, 7.5, color=MUTED)
    section = doc.sections[0]
    section.page_width, section.page_height = Inches(8.5), Inches(11)
    section.left_margin = section.right_margin = MARGIN
    # the PDF: body from 1.15 margins below the top to one margin above the bottom; header at 0.55
    # margins from the top, footer at half a margin from the bottom
    section.top_margin, section.bottom_margin = Inches(0.92), MARGIN
    section.header_distance, section.footer_distance = Inches(0.3), Inches(0.3)


def tag(doc, text: str, style: str | None = None):
    return doc.add_paragraph(text, style=style)


def _cell(text: str, style: str, fill: str = "") -> str:
    """A table cell (its width asked for by the renderer, see render/docx/table_widths.py)."""
    shd = f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' if fill else ""
    return (f'<w:tc><w:tcPr><w:tcW w:w="0" w:type="dxa"/>{shd}</w:tcPr><w:p><w:pPr><w:pStyle w:val="{style}"/>'
            f'</w:pPr><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>')


def _loop_row(tag_text: str, columns: int) -> str:
    """A row holding only a docxtpl row tag ({%tr for ... %}, {%tr endfor %}): it leaves no row."""
    return (f'<w:tr><w:tc><w:tcPr><w:tcW w:w="0" w:type="dxa"/><w:gridSpan w:val="{columns}"/></w:tcPr>'
            f'<w:p><w:r><w:t>{tag_text}</w:t></w:r></w:p></w:tc></w:tr>')


def _table(width_key: str, rows: str) -> str:
    """A block table: the text width, fixed layout, the PDF's rules and padding; marked for the composed
    widths (caption ``docgen:...``)."""
    borders = "".join(f'<w:{side} w:val="single" w:sz="3" w:space="0" w:color="{RULE}"/>'
                      for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    margins = "".join(f'<w:{side} w:w="{w}" w:type="dxa"/>' for side, w in CELL_MARGINS.items())
    return (f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="5000" w:type="pct"/>'
            f'<w:tblInd w:w="0" w:type="dxa"/><w:tblBorders>{borders}</w:tblBorders><w:tblLayout w:type="fixed"/>'
            f'<w:tblCellMar>{margins}</w:tblCellMar>'
            '<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" w:noHBand="0" '
            f'w:noVBand="1" w:val="04A0"/><w:tblCaption w:val="docgen:{width_key}"/></w:tblPr>'
            f'<w:tblGrid><w:gridCol w:w="0"/></w:tblGrid>{rows}</w:tbl>')


# The rows' rules (kept whole, kept with the next row: the PDF's) are added to every marked table when
# a template is prepared (docgen/render/docx/table_widths.py), to an agency's own templates as well.
def fields_table() -> str:
    row = "<w:tr>" + _cell("{{ row[0] }}", "TableLabel", LABEL_FILL) + _cell("{{ row[1] }}", "TableText") + "</w:tr>"
    return _table("fields", _loop_row("{%tr for row in b.rows %}", 2) + row + _loop_row("{%tr endfor %}", 2))


def block_table() -> str:
    head = ('<w:tr><w:trPr><w:tblHeader/></w:trPr>'
            + _cell("{%tc for c in b.columns %}", "TableHead") + _cell("{{ c }}", "TableHead", HEAD_FILL)
            + _cell("{%tc endfor %}", "TableHead") + "</w:tr>")
    row = ("<w:tr>" + _cell("{%tc for cell in row %}", "TableText") + _cell("{{ cell }}", "TableText")
           + _cell("{%tc endfor %}", "TableText") + "</w:tr>")
    return _table("table", head + _loop_row("{%tr for row in b.rows %}", 3) + row + _loop_row("{%tr endfor %}", 3))


def _insert(doc, xml: str) -> None:
    """Raw body XML (a table) at the end of the body."""
    anchor = doc.add_paragraph()
    anchor._p.addprevious(parse_xml(xml))
    anchor._p.getparent().remove(anchor._p)


def spacer(doc) -> None:
    """The 6 points the PDF leaves after a table."""
    p = doc.add_paragraph()
    p.paragraph_format.space_after = Pt(0)
    p.paragraph_format.line_spacing = Pt(6)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY


def rule_border(paragraph, side: str) -> None:
    """A light grey rule along one side of a paragraph (the PDF's header and footer rules)."""
    ppr = paragraph._p.get_or_add_pPr()
    border = parse_xml(f'<w:pBdr {nsdecls("w")}><w:{side} w:val="single" w:sz="8" w:space="4" '
                       f'w:color="{RULE}"/></w:pBdr>')
    # CT_PPr: pStyle, keepNext, ..., pBdr, shd, tabs, ...: before tabs and spacing
    following = [c for c in ppr if c.tag in (qn("w:shd"), qn("w:tabs"), qn("w:spacing"), qn("w:ind"), qn("w:jc"),
                                            qn("w:rPr"))]
    if following:
        following[0].addprevious(border)
    else:
        ppr.append(border)


def build(kind: str, path: Path) -> None:
    doc = Document()
    style_document(doc)
    section = doc.sections[0]

    # header, as the PDF's: agency name with the document type and record id on the right, the
    # agency's lines (program, address, phone, NPI) and a rule; the DRAFT watermark on drafts
    header = section.header
    hp = header.paragraphs[0]
    hp.style = doc.styles["Header"]
    hp.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
    run = hp.add_run("{{ doc.agency }}")
    run.bold = True
    run.font.size = Pt(10.5)
    run.font.color.rgb = ACCENT
    hp.add_run("\t{{ doc.title }} \u00b7 {{ doc.record_id }}")
    sub = header.add_paragraph("{{ doc.agency_line }}", style="Header")
    rule_border(sub, "bottom")
    header.add_paragraph("{%p if doc.draft %}")
    wm = header.add_paragraph()
    wm._p.append(parse_xml(WATERMARK))
    header.add_paragraph("{%p endif %}")

    # footer: client identifiers and page X of Y on every page, under a rule
    footer = section.footer
    fp = footer.paragraphs[0]
    fp.style = doc.styles["Footer"]
    fp.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
    rule_border(fp, "top")
    fp.add_run("{{ doc.footer }}").font.color.rgb = TEXT
    fp.add_run("\tPage ").font.color.rgb = TEXT
    field_run(fp, "PAGE")
    fp.add_run(" of ").font.color.rgb = TEXT
    field_run(fp, "NUMPAGES")

    # title block
    tag(doc, "{{ doc.title }}", "Title")
    tag(doc, "{{ doc.date_line }}", "Date Line")

    # draft notice: what is missing, each rule's id smaller and muted
    tag(doc, "{%p if doc.draft %}")
    tag(doc, "DRAFT \u2014 not final. Missing before this document can be final:", "Heading 2")
    tag(doc, "{%p for m in doc.missing %}")
    notice = doc.add_paragraph(style="List Bullet")
    notice.add_run("{{ m.text }}").font.color.rgb = MISSING
    notice.runs[0].font.size = Pt(8.5)
    rule = notice.add_run(" {{ m.rule }}")  # the rule's id: smaller and muted, as in the PDF
    rule.font.size = Pt(7)
    rule.font.color.rgb = MUTED
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")

    # sections and their blocks, in order
    tag(doc, "{%p for s in doc.sections %}")
    tag(doc, "{{ s.title }}", "Heading 1")
    tag(doc, "{%p for b in s.blocks %}")

    tag(doc, "{%p if b.type == 'para' %}")
    tag(doc, "{%p if b.label %}")
    tag(doc, "{{ b.label }}", "Heading 2")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if b.style == 'quote' %}")
    tag(doc, "{{ b.text }}", "Quote")
    tag(doc, "{%p else %}")
    tag(doc, "{{ b.text }}")
    tag(doc, "{%p endif %}")

    tag(doc, "{%p elif b.type == 'fields' %}")
    tag(doc, "{%p if b.label %}")
    tag(doc, "{{ b.label }}", "Heading 2")
    tag(doc, "{%p endif %}")
    _insert(doc, fields_table())
    spacer(doc)

    tag(doc, "{%p elif b.type == 'bullets' %}")
    tag(doc, "{{ b.label }}", "Heading 2")
    tag(doc, "{%p for item in b.entries %}")
    tag(doc, "{{ item }}", "List Bullet")
    tag(doc, "{%p endfor %}")

    tag(doc, "{%p elif b.type == 'table' %}")
    tag(doc, "{%p if b.caption %}")
    tag(doc, "{{ b.caption }}", "Heading 2")
    tag(doc, "{%p endif %}")
    _insert(doc, block_table())
    spacer(doc)

    tag(doc, "{%p elif b.type == 'chart' %}")
    tag(doc, "{{ b.title }}", "Heading 2")
    tag(doc, "{{ b.image }}")

    tag(doc, "{%p elif b.type == 'signature' %}")
    tag(doc, "{{ b.role }}", "Signature Role")
    tag(doc, "{%p if b.signed %}")
    tag(doc, "{%p if b.image %}")
    tag(doc, "{{ b.image }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{{ b.text }}")
    tag(doc, "{%p else %}")
    # a signature line and a date line, drawn as underlined tabs (rules, not text), where the PDF draws
    # them: 0-55% and 60-90% of the text width, the captions under them
    stops = tuple(Emu(int(TEXT_WIDTH * f)) for f in (0.55, 0.6, 0.9))
    line = doc.add_paragraph()
    line.paragraph_format.space_before = Pt(22)
    line.paragraph_format.keep_with_next = True
    for stop in stops:
        line.paragraph_format.tab_stops.add_tab_stop(stop)
    for underline in (True, False, True):
        line._p.append(parse_xml(f'<w:r {nsdecls("w")}>' + ('<w:rPr><w:u w:val="single"/></w:rPr>' if underline
                                                           else "") + "<w:tab/></w:r>"))
    caption = tag(doc, "{{ b.role }} signature\tDate / time")
    caption.paragraph_format.tab_stops.add_tab_stop(stops[1])
    caption.runs[0].font.size = Pt(8)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endif %}")

    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endfor %}")

    settings = doc.settings.element
    compat = settings.find(qn("w:compat"))
    for setting in compat.findall(qn("w:compatSetting")):
        if setting.get(qn("w:name")) == "compatibilityMode":  # Word 2013 and later: tables on the margin
            setting.set(qn("w:val"), "15")

    core = doc.core_properties
    core.author = "docgen"
    core.title = f"docgen {kind} template"
    core.comments = "Word template for docgen (docxtpl tags). Edit styles, header, wording freely."
    from datetime import datetime  # noqa: PLC0415

    core.created = core.modified = datetime(2026, 1, 1)
    core.last_modified_by = "docgen"
    core.revision = 1
    # python-docx's default document carries a thumbnail of a blank page: file browsers would show
    # it as the preview of every rendered document
    package = doc.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del package.rels[rel_id]
    # python-docx's default package carries Word 2010's stylesWithEffects.xml, a copy of the styles
    # that no longer matches them (Header/Footer are missing): Word may repair a file so made.
    # Word 2013 and later do not write it; leave it out.
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            doc.part.drop_rel(rid)
    doc.save(path)
    _replace_part(path, "docProps/app.xml", APP_XML)
    _replace_part(path, "word/fontTable.xml", FONT_TABLE)


#: The fonts the document uses: DejaVu Sans, with its family and PANOSE so that a computer without it
#: substitutes a sans-serif face (not Times New Roman).
FONT_TABLE = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              b'<w:fonts xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
              b'<w:font w:name="DejaVu Sans"><w:panose1 w:val="020B0603030804020204"/><w:charset w:val="00"/>'
              b'<w:family w:val="swiss"/><w:pitch w:val="variable"/></w:font>'
              b'<w:font w:name="Symbol"><w:panose1 w:val="05050102010706020507"/><w:charset w:val="02"/>'
              b'<w:family w:val="roman"/><w:pitch w:val="variable"/></w:font></w:fonts>')


APP_XML = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
           b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
           b'<Application>docgen</Application><DocSecurity>0</DocSecurity></Properties>')


def _replace_part(path: Path, name: str, data: bytes) -> None:
    """Rewrite one part of a saved package (python-docx's default app.xml names another program)."""
    import zipfile  # noqa: PLC0415

    with zipfile.ZipFile(path) as src:
        parts = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, blob in parts:
            item = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            item.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(item, data if info.filename == name else blob)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for kind in KINDS:
        build(kind, out / f"{kind}.docx")
        print(out / f"{kind}.docx")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docgen" / "templates")
