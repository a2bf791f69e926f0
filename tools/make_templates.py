"""Build the shipped Word templates in docgen/templates/ (run once by developers; agencies edit the .docx).

    python tools/make_templates.py

Each template is an ordinary Word document with docxtpl (Jinja2) tags: open it in Word or
LibreOffice, change fonts, colours, the logo, header text and wording, and keep rendering. The body
walks the composed document's sections and blocks, so every template shows everything the record
holds; the three templates differ in their title styling and the guidance line under the title.
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Inches, Pt, RGBColor

ROOT = Path(__file__).resolve().parent.parent
ACCENT = RGBColor(0x1F, 0x4E, 0x79)
MUTED = RGBColor(0x4A, 0x4F, 0x57)

GUIDANCE = {
    "treatment_plan": "Person-centred plan: goals in the person's own words, measurable objectives, "
                      "reviewed on schedule.",
    "soap": "SOAP: Subjective, Objective, Assessment, Plan.",
    "birp": "BIRP: Behavior, Intervention, Response, Plan.",
    "dap": "DAP: Data, Assessment, Plan.",
    "girp": "GIRP: Goal, Intervention, Response, Plan.",
    "addendum": "Addendum: the original stays as it was signed; this document names it by id and content hash "
                "and records what changed, why, and who signed the change.",
}

WATERMARK = (
    '<w:r %s><w:rPr><w:noProof/></w:rPr><w:pict>'
    '<v:shapetype id="_x0000_t136" coordsize="21600,21600" o:spt="136" adj="10800" path="m@7,l@8,m@5,21600l@6,21600e">'
    '<v:path textpathok="t" o:connecttype="custom"/><v:textpath on="t" fitshape="t"/></v:shapetype>'
    '<v:shape id="DocgenDraftWatermark" o:spid="_x0000_s2049" type="#_x0000_t136" '
    'style="position:absolute;margin-left:0;margin-top:0;width:440pt;height:140pt;rotation:315;z-index:-251657216;'
    'mso-position-horizontal:center;mso-position-horizontal-relative:margin;mso-position-vertical:center;'
    'mso-position-vertical-relative:margin" fillcolor="#e6b8b8" stroked="f">'
    '<v:fill opacity=".5"/><v:textpath style="font-family:&quot;Calibri&quot;;font-size:1pt" string="DRAFT"/>'
    '</v:shape></w:pict></w:r>'
) % (nsdecls("w") + ' xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"')


def field_run(paragraph, instruction: str, size: float = 8) -> None:
    """A Word field (PAGE, NUMPAGES) that Word and LibreOffice fill in, at the footer's text size."""
    rpr = f'<w:rPr><w:sz w:val="{int(size * 2)}"/></w:rPr>'
    for xml in (
        f'<w:r {nsdecls("w")}>{rpr}<w:fldChar w:fldCharType="begin"/></w:r>',
        f'<w:r {nsdecls("w")}>{rpr}<w:instrText xml:space="preserve"> {instruction} </w:instrText></w:r>',
        f'<w:r {nsdecls("w")}>{rpr}<w:fldChar w:fldCharType="separate"/></w:r>',
        f'<w:r {nsdecls("w")}>{rpr}<w:t>1</w:t></w:r>',
        f'<w:r {nsdecls("w")}>{rpr}<w:fldChar w:fldCharType="end"/></w:r>',
    ):
        paragraph._p.append(parse_xml(xml))


def style_document(doc) -> None:
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10)
    normal.paragraph_format.space_after = Pt(3)
    for name, size in (("Title", 20), ("Heading 1", 13), ("Heading 2", 10.5)):
        style = styles[name]
        style.font.name = "Calibri"
        style.font.size = Pt(size)
        style.font.color.rgb = ACCENT
        style.font.bold = True
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            if fonts is not None and fonts.get(qn(attr)) is not None:
                del fonts.attrib[qn(attr)]
    styles["Title"].paragraph_format.space_after = Pt(2)
    styles["Heading 1"].paragraph_format.space_before = Pt(12)
    styles["Heading 1"].paragraph_format.keep_with_next = True
    styles["Heading 2"].paragraph_format.space_before = Pt(6)
    styles["Heading 2"].paragraph_format.keep_with_next = True
    quote = styles["Quote"]
    quote.font.italic = True
    quote.font.color.rgb = RGBColor(0x4A, 0x4F, 0x57)
    section = doc.sections[0]
    section.page_width, section.page_height = Inches(8.5), Inches(11)
    section.left_margin = section.right_margin = Inches(0.8)
    section.top_margin = section.bottom_margin = Inches(0.9)


def tag(doc, text: str, style: str | None = None):
    return doc.add_paragraph(text, style=style)


def shade(cell, fill: str) -> None:
    cell._tc.get_or_add_tcPr().append(
        parse_xml(f'<w:shd {nsdecls("w")} w:val="clear" w:color="auto" w:fill="{fill}"/>'))


def mark_table(table, width_key: str) -> None:
    """Tag a block table so the renderer can give its columns the composed widths."""
    tbl_pr = table._tbl.tblPr
    # one tblW, the full text width, where the schema puts it (after tblStyle); the caption last
    for old in tbl_pr.findall(qn("w:tblW")):
        tbl_pr.remove(old)
    style = tbl_pr.find(qn("w:tblStyle"))
    tbl_w = parse_xml(f'<w:tblW {nsdecls("w")} w:w="5000" w:type="pct"/>')
    if style is None:
        tbl_pr.insert(0, tbl_w)
    else:
        style.addnext(tbl_w)
    tbl_pr.append(parse_xml(f'<w:tblCaption {nsdecls("w")} w:val="docgen:{width_key}"/>'))


def header_row_repeat(row) -> None:
    row._tr.get_or_add_trPr().append(parse_xml(f'<w:tblHeader {nsdecls("w")}/>'))


def build(kind: str, path: Path) -> None:
    doc = Document()
    style_document(doc)
    section = doc.sections[0]

    # header: agency name and lines; DRAFT watermark when the document is a draft
    header = section.header
    hp = header.paragraphs[0]
    run = hp.add_run("{{ doc.agency }}")
    run.bold = True
    run.font.size = Pt(11)
    run.font.color.rgb = ACCENT
    sub = header.add_paragraph("{{ doc.agency_line }}")
    sub.runs[0].font.size = Pt(8)
    sub.runs[0].font.color.rgb = RGBColor(0x4A, 0x4F, 0x57)
    header.add_paragraph("{%p if doc.draft %}")
    wm = header.add_paragraph()
    wm._p.append(parse_xml(WATERMARK))
    header.add_paragraph("{%p endif %}")

    # footer: client identifiers and page X of Y on every page
    footer = section.footer
    fp = footer.paragraphs[0]
    fp.add_run("{{ doc.footer }}").font.size = Pt(8)
    fp.add_run("\t\tPage ").font.size = Pt(8)
    field_run(fp, "PAGE")
    fp.add_run(" of ").font.size = Pt(8)
    field_run(fp, "NUMPAGES")

    # title block
    tag(doc, "{{ doc.title }}", "Title")
    date_p = tag(doc, "{{ doc.date_line }}")
    date_p.runs[0].bold = True
    date_p.runs[0].font.size = Pt(11)
    guide = tag(doc, GUIDANCE[kind])
    guide.runs[0].italic = True
    guide.runs[0].font.size = Pt(8)
    guide.runs[0].font.color.rgb = RGBColor(0x4A, 0x4F, 0x57)

    # draft notice: what is missing
    tag(doc, "{%p if doc.draft %}")
    warn = tag(doc, "DRAFT \u2014 not final. Missing before this document can be final:", "Heading 2")
    warn.runs[0].font.color.rgb = RGBColor(0x8A, 0x1C, 0x1C)
    tag(doc, "{%p for m in doc.missing %}")
    notice = doc.add_paragraph(style="List Bullet")
    notice.add_run("{{ m.text }}").font.color.rgb = RGBColor(0x8A, 0x1C, 0x1C)
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
    table = doc.add_table(rows=3, cols=2)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    mark_table(table, "fields")
    table.cell(0, 0).merge(table.cell(0, 1)).paragraphs[0].text = "{%tr for row in b.rows %}"
    table.cell(1, 0).paragraphs[0].add_run("{{ row[0] }}").bold = True
    shade(table.cell(1, 0), "F1F4F8")
    table.cell(1, 1).paragraphs[0].text = "{{ row[1] }}"
    table.cell(2, 0).merge(table.cell(2, 1)).paragraphs[0].text = "{%tr endfor %}"
    tag(doc, "")

    tag(doc, "{%p elif b.type == 'bullets' %}")
    tag(doc, "{{ b.label }}", "Heading 2")
    tag(doc, "{%p for item in b.entries %}")
    tag(doc, "{{ item }}", "List Bullet")
    tag(doc, "{%p endfor %}")

    tag(doc, "{%p elif b.type == 'table' %}")
    tag(doc, "{%p if b.caption %}")
    tag(doc, "{{ b.caption }}", "Heading 2")
    tag(doc, "{%p endif %}")
    grid = doc.add_table(rows=4, cols=3)
    grid.style = doc.styles["Table Grid"]
    mark_table(grid, "table")
    head = grid.rows[0]
    header_row_repeat(head)
    head.cells[0].paragraphs[0].text = "{%tc for c in b.columns %}"
    head.cells[1].paragraphs[0].add_run("{{ c }}").bold = True
    shade(head.cells[1], "DBE5F0")
    head.cells[2].paragraphs[0].text = "{%tc endfor %}"
    grid.cell(1, 0).merge(grid.cell(1, 2)).paragraphs[0].text = "{%tr for row in b.rows %}"
    body = grid.rows[2]
    body.cells[0].paragraphs[0].text = "{%tc for cell in row %}"
    body.cells[1].paragraphs[0].text = "{{ cell }}"
    body.cells[2].paragraphs[0].text = "{%tc endfor %}"
    grid.cell(3, 0).merge(grid.cell(3, 2)).paragraphs[0].text = "{%tr endfor %}"
    tag(doc, "")

    tag(doc, "{%p elif b.type == 'chart' %}")
    tag(doc, "{{ b.title }}", "Heading 2")
    tag(doc, "{{ b.image }}")

    tag(doc, "{%p elif b.type == 'signature' %}")
    role = tag(doc, "{{ b.role }}")
    role.runs[0].bold = True
    role.paragraph_format.keep_with_next = True
    role.paragraph_format.space_before = Pt(8)
    tag(doc, "{%p if b.signed %}")
    tag(doc, "{%p if b.image %}")
    tag(doc, "{{ b.image }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{{ b.text }}")
    tag(doc, "{%p else %}")
    # an empty signature line and a date line, aligned on a tab stop
    line = tag(doc, "_" * 44 + "\t" + "_" * 22)
    line.paragraph_format.space_before = Pt(16)
    line.paragraph_format.tab_stops.add_tab_stop(Inches(4.3))
    line.paragraph_format.keep_with_next = True
    caption = tag(doc, "{{ b.role }} signature\tDate / time")
    caption.paragraph_format.tab_stops.add_tab_stop(Inches(4.3))
    caption.runs[0].font.size = Pt(8)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endif %}")

    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endfor %}")

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
    for kind in GUIDANCE:
        build(kind, out / f"{kind}.docx")
        print(out / f"{kind}.docx")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docgen" / "templates")
