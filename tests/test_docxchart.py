"""The score-trend chart as a native Word chart (docgen.render.docx.chart): a DrawingML chart part
that LibreOffice draws as the PDF chart is drawn (bands, line, markers, values, dates, band names),
its XML in the ECMA-376 order Word requires, client text escaped, the same bytes for the same chart."""
from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

import builders
from docgen import api
from docgen.compose import compose
from docgen.compose.blocks import Chart, Series
from docgen.render.chart_geometry import BAND_COLORS, chart_geometry
from docgen.render.docx import chart as docxchart
from docgen.render.docx.chart import CHART_REL, CHART_TYPE, chart_drawing, chart_part
from render_helpers import ROOT, run, tool

C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
NS = {"c": C, "a": A, "r": R, "w": W, "wp": WP}

GAD7_BANDS = ((0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe"))
# values that are none of the value axis' labels (0, 5, 10, ...), so a value in the text is a data label
GAD7 = Chart("GAD-7 over time", Series("GAD-7", (("01/13/2026", 18), ("02/24/2026", 13), ("04/07/2026", 7),
                                                 ("05/19/2026", 2)), 21, GAD7_BANDS))
ODD_DATE, ODD_BAND, ODD_LABEL = '03/03 & <b>"q"</b>', "Amp & <lt> \"dq\" {{ x }} {% y %}", "S&P <{{ z }}>"
ODD = Chart("Odd & <over> time", Series(ODD_LABEL, (("01/05/2026", 3), (ODD_DATE, 8)), 10,
                                        ((0, 4, "low & <calm>"), (5, 10, ODD_BAND))))


@pytest.fixture(scope="module")
def phq9() -> Chart:
    """The PHQ-9 chart composed from a fixture record with two administrations (16 on 09/08/2026,
    11 on 10/20/2026)."""
    result = api.check([ROOT / "fixtures" / "plans" / "plan-adult-mdd-complete.yaml"], as_of=builders.AS_OF)[0]
    doc = compose(result.record, result.findings, result.profile, draft=False)
    charts = [b for s in doc.sections for b in s.blocks if isinstance(b, Chart)]
    assert [c.title for c in charts] == ["PHQ-9 over time"]
    return charts[0]


def local(el) -> str:
    return etree.QName(el).localname


def children(el) -> list[str]:
    return [local(child) for child in el]


# --- 1. a DOCX holding the charts, converted by LibreOffice -----------------------------------
def docx_with_charts(charts: list[Chart], path: Path) -> Path:
    """templates/soap.docx's parts with a body of one page per Chart, a heading and the chart: the
    chart parts, their content-type overrides and their relationships added."""
    template = zipfile.ZipFile(ROOT / "docgen" / "templates" / "soap.docx")
    document = template.read("word/document.xml").decode()
    head = document[:document.index("<w:body>") + len("<w:body>")]
    section = re.sub(r"<w:(header|footer)Reference [^>]*/>", "",  # the template's header and footer are Jinja
                     re.search(r"<w:sectPr.*?</w:sectPr>", document, re.DOTALL).group())
    body, rels, types = [], [], []
    for n, chart in enumerate(charts, 1):
        title = chart.title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        page_break = '<w:r><w:br w:type="page"/></w:r>' if n > 1 else ""  # a page for each chart
        body.append(f'<w:p><w:pPr><w:keepNext/></w:pPr>{page_break}<w:r><w:t>{title}</w:t></w:r></w:p>'
                    f'<w:p><w:r>{chart_drawing(f"rIdChart{n}", n, 140, 55, chart.title)}</w:r></w:p>')
        rels.append(f'<Relationship Id="rIdChart{n}" Type="{CHART_REL}" Target="charts/chart{n}.xml"/>')
        types.append(f'<Override PartName="/word/charts/chart{n}.xml" ContentType="{CHART_TYPE}"/>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in template.infolist():
            data = template.read(info)
            if info.filename == "word/document.xml":
                data = (head + "".join(body) + section + "</w:body></w:document>").encode()
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", "".join(types).encode() + b"</Types>")
            elif info.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", "".join(rels).encode() + b"</Relationships>")
            out.writestr(info.filename, data)
        for n, chart in enumerate(charts, 1):
            out.writestr(f"word/charts/chart{n}.xml", chart_part(chart))
    return path


@pytest.fixture(scope="module")
def converted(phq9, tmp_path_factory) -> tuple[list[str], Path]:
    """The charts' DOCX converted to PDF by LibreOffice (private profile): each page's text (poppler,
    in content-stream order: ``-raw``) and the first page (the PHQ-9 chart) as an image.

    ``-raw`` rather than ``-layout``: where a renderer wraps a long legend entry depends on its version
    and fonts (LibreOffice 7.4 breaks ODD_BAND after ``{% y``), and in a layout the continuation line
    can share its row with an axis label; in stream order a wrapped entry's lines follow each other."""
    base = tmp_path_factory.mktemp("docxchart")
    source = docx_with_charts([phq9, GAD7, ODD], base / "charts.docx")
    done = run(tool("soffice"), f"-env:UserInstallation={(base / 'profile').as_uri()}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", base, source, timeout=240)
    pdf = base / "charts.pdf"
    assert done.returncode == 0 and pdf.is_file(), done.stdout + done.stderr
    text = run(tool("pdftotext"), "-raw", pdf, "-")
    assert text.returncode == 0, text.stderr
    image = run(tool("pdftoppm"), "-r", "100", "-f", "1", "-l", "1", "-png", "-singlefile", pdf, base / "page1")
    assert image.returncode == 0, image.stderr
    return text.stdout.split("\f"), base / "page1.png"


def squash(text: str) -> str:
    """``text`` without any whitespace: the same whichever line a renderer wraps it at."""
    return re.sub(r"\s+", "", text)


def take_each(text: str, wanted) -> str:
    """Take each of ``wanted`` out of ``text`` once, whitespace ignored on both sides, longest first (so
    "moderately severe" cannot also stand for "severe" or "moderate"); fail naming the first one missing.
    Returns what is left."""
    rest = squash(text)
    for item in sorted(wanted, key=lambda s: len(squash(s)), reverse=True):
        assert squash(item) in rest, f"{item!r} is not in the page: {text!r}"
        rest = rest.replace(squash(item), "\n", 1)  # a separator: no match across what was taken
    return rest


def axis_labels(chart: Chart) -> list[str]:
    """The value axis' labels: 0 to the maximum in steps of the chart part's own majorUnit."""
    unit = int(etree.fromstring(chart_part(chart)).find(".//c:valAx/c:majorUnit", NS).get("val"))
    return [str(v) for v in range(0, int(chart.series.maximum) + 1, unit)]


@pytest.mark.slow
def test_libreoffice_draws_the_charts_dates_values_and_band_names(phq9, converted):
    """Each chart's page holds its dates (the category axis), its band names (the legend: client text,
    escaped, shown as typed), its values as data labels besides the value axis' labels, and not the
    line's own name (its legend entry is deleted). Compared with whitespace removed, so it holds
    wherever the renderer wraps a long legend entry or category label."""
    pages, _ = converted
    charts = (phq9, GAD7, ODD)
    assert [page.strip().split("\n")[0] for page in pages[:3]] == [c.title for c in charts]
    assert [p[0] for p in phq9.series.points] == ["09/08/2026", "10/20/2026"]  # the fixture's two administrations
    for page, chart in zip(pages, charts, strict=False):  # pages after the charts have no chart
        series = chart.series
        take_each(page, [chart.title, *(day for day, _ in series.points), *(name for _, _, name in series.bands)])
        numbers = Counter(token for token in page.split() if token.isdigit())
        wanted = Counter(axis_labels(chart) + [str(value) for _, value in series.points])
        assert not wanted - numbers, (chart.title, wanted - numbers, page)  # each data label, besides the axis'
    text = squash("".join(pages))
    assert text.count("PHQ-9") == 1 and text.count("GAD-7") == 1 and squash(ODD_LABEL) not in text


@pytest.mark.slow
def test_libreoffice_paints_the_bands_behind_the_blue_line(converted):
    """The first page (the PHQ-9 chart, five bands) as an image: each band's colour over a broad area
    (not only the legend's keys) and the line's."""
    _, png = converted
    with Image.open(png) as im:
        counts = im.convert("RGB").getcolors(1 << 20)
    found: dict[tuple[int, int, int], int] = {}
    for count, rgb in counts:
        found[rgb] = found.get(rgb, 0) + count

    def near(color: str) -> int:
        want = tuple(int(color.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
        return sum(n for rgb, n in found.items() if max(abs(a - b) for a, b in zip(rgb, want, strict=True)) <= 3)

    for color in BAND_COLORS:
        assert near(color) > 4000, color  # a band: some 10,000 pixels at 100 dpi; its legend key 100
    assert near("#1F4E79") > 150  # the line and its square markers


# --- 2. the XML: a chartSpace, each element's children in the schema's order -----------------------
# ECMA-376 Part 1, dml-chart.xsd (and dml-main.xsd, dml-wordprocessingDrawing.xsd for the few
# DrawingML types used): each complex type's children in sequence; names in one tuple share a place
# (a choice, or an element that may repeat).
_CHARTS = ("areaChart", "area3DChart", "lineChart", "line3DChart", "stockChart", "radarChart", "scatterChart",
           "pieChart", "pie3DChart", "doughnutChart", "barChart", "bar3DChart", "ofPieChart", "surfaceChart",
           "surface3DChart", "bubbleChart")
_FILL = ("noFill", "solidFill", "gradFill", "blipFill", "pattFill", "grpFill")
SEQUENCES = {
    "chartSpace": ("date1904", "lang", "roundedCorners", "AlternateContent", "style", "clrMapOvr", "pivotSource",
                   "protection", "chart", "spPr", "txPr", "externalData", "printSettings", "userShapes", "extLst"),
    "chart": ("title", "autoTitleDeleted", "pivotFmts", "view3D", "floor", "sideWall", "backWall", "plotArea",
              "legend", "plotVisOnly", "dispBlanksAs", "showDLblsOverMax", "extLst"),
    "plotArea": ("layout", _CHARTS, ("valAx", "catAx", "dateAx", "serAx"), "dTable", "spPr", "extLst"),
    "barChart": ("barDir", "grouping", "varyColors", "ser", "dLbls", "gapWidth", "overlap", "serLines", "axId",
                 "extLst"),
    "barChart/ser": ("idx", "order", "tx", "spPr", "invertIfNegative", "pictureOptions", "dPt", "dLbls",
                     "trendline", "errBars", "cat", "val", "shape", "extLst"),
    "lineChart": ("grouping", "varyColors", "ser", "dLbls", "dropLines", "hiLowLines", "upDownBars", "marker",
                  "smooth", "axId", "extLst"),
    "lineChart/ser": ("idx", "order", "tx", "spPr", "marker", "dPt", "dLbls", "trendline", "errBars", "cat", "val",
                      "smooth", "extLst"),
    "ser/marker": ("symbol", "size", "spPr", "extLst"),
    "dLbls": ("dLbl", "delete", "numFmt", "spPr", "txPr", "dLblPos", "showLegendKey", "showVal", "showCatName",
              "showSerName", "showPercent", "showBubbleSize", "separator", "showLeaderLines", "leaderLines", "extLst"),
    "catAx": ("axId", "scaling", "delete", "axPos", "majorGridlines", "minorGridlines", "title", "numFmt",
              "majorTickMark", "minorTickMark", "tickLblPos", "spPr", "txPr", "crossAx", ("crosses", "crossesAt"),
              "auto", "lblAlgn", "lblOffset", "tickLblSkip", "tickMarkSkip", "noMultiLvlLbl", "extLst"),
    "valAx": ("axId", "scaling", "delete", "axPos", "majorGridlines", "minorGridlines", "title", "numFmt",
              "majorTickMark", "minorTickMark", "tickLblPos", "spPr", "txPr", "crossAx", ("crosses", "crossesAt"),
              "crossBetween", "majorUnit", "minorUnit", "dispUnits", "extLst"),
    "scaling": ("logBase", "orientation", "max", "min", "extLst"),
    "legend": ("legendPos", "legendEntry", "layout", "overlay", "spPr", "txPr", "extLst"),
    "legendEntry": ("idx", ("delete", "txPr"), "extLst"),
    "tx": (("strRef", "v"),),
    "cat": (("multiLvlStrRef", "numRef", "numLit", "strRef", "strLit"),),
    "val": (("numRef", "numLit"),),
    "strRef": ("f", "strCache", "extLst"),
    "numRef": ("f", "numCache", "extLst"),
    "strCache": ("ptCount", "pt", "extLst"),
    "numCache": ("formatCode", "ptCount", "pt", "extLst"),
    "pt": ("v",),
    "spPr": ("xfrm", ("custGeom", "prstGeom"), _FILL, "ln", ("effectLst", "effectDag"), "scene3d", "sp3d", "extLst"),
    "ln": (_FILL, ("prstDash", "custDash"), ("round", "bevel", "miter"), "headEnd", "tailEnd", "extLst"),
    "txPr": ("bodyPr", "lstStyle", "p"),
    "p": ("pPr", ("r", "br", "fld"), "endParaRPr"),
    "pPr": ("lnSpc", "spcBef", "spcAft", "buClrTx", "buSzTx", "buFontTx", "buNone", "tabLst", "defRPr", "extLst"),
    "defRPr": ("ln", _FILL, ("effectLst", "effectDag"), "highlight", "uLnTx", "uLn", "latin", "ea", "cs", "sym",
               "hlinkClick", "hlinkMouseOver", "rtl", "extLst"),
    "inline": ("extent", "effectExtent", "docPr", "cNvGraphicFramePr", "graphic"),
}
REPEATING = {"ser", "axId", "pt", "legendEntry", "dLbl", "dPt", "trendline", "errBars", *_CHARTS, "valAx", "catAx",
             "dateAx", "serAx", "r", "br", "fld"}


def _kind(el) -> str:
    name = local(el)
    if name == "ser":
        return f"{local(el.getparent())}/ser"
    if name == "marker" and local(el.getparent()) == "ser":
        return "ser/marker"  # lineChart's c:marker is a boolean
    if name == "chart" and local(el.getparent()) == "graphicData":
        return "graphicData/chart"  # the drawing's reference to the chart part
    return name


def assert_schema_order(root) -> int:
    """Every element of a type in SEQUENCES has only children of that type, in its order, each at
    most once unless it may repeat. Returns how many elements were checked."""
    checked = 0
    for el in root.iter():
        sequence = SEQUENCES.get(_kind(el))
        if sequence is None:
            continue
        place = {name: i for i, names in enumerate(sequence)
                 for name in (names if isinstance(names, tuple) else (names,))}
        names = children(el)
        assert all(n in place for n in names), (_kind(el), names)
        positions = [place[n] for n in names]
        assert positions == sorted(positions), (_kind(el), names)
        repeated = {n for n in names if names.count(n) > 1}
        assert repeated <= REPEATING, (_kind(el), repeated)
        checked += 1
    return checked


def test_chart_part_is_a_chart_space_in_schema_order(phq9):
    root = etree.fromstring(chart_part(phq9))
    assert etree.QName(root) == etree.QName(C, "chartSpace")
    assert assert_schema_order(root) > 60
    # the sequences relied on, exactly
    assert children(root) == ["date1904", "lang", "roundedCorners", "chart", "spPr", "txPr"]  # no externalData
    chart = root.find("c:chart", NS)
    assert children(chart) == ["autoTitleDeleted", "plotArea", "legend", "plotVisOnly", "dispBlanksAs"]  # no title
    assert chart.find("c:autoTitleDeleted", NS).get("val") == "1"
    plot = chart.find("c:plotArea", NS)
    assert children(plot) == ["layout", "barChart", "lineChart", "catAx", "valAx", "spPr"]  # bands drawn first
    bars = plot.find("c:barChart", NS)
    assert children(bars) == ["barDir", "grouping", "varyColors", *["ser"] * 5, "gapWidth", "overlap", "axId", "axId"]
    assert children(bars.find("c:ser", NS)) == ["idx", "order", "tx", "spPr", "invertIfNegative", "cat", "val"]
    line = plot.find("c:lineChart", NS)
    assert children(line) == ["grouping", "varyColors", "ser", "marker", "axId", "axId"]
    assert children(line.find("c:ser", NS)) == ["idx", "order", "tx", "spPr", "marker", "dLbls", "cat", "val",
                                                "smooth"]
    assert children(line.find("c:ser/c:dLbls", NS)) == [
        "numFmt", "spPr", "txPr", "dLblPos", "showLegendKey", "showVal", "showCatName", "showSerName", "showPercent",
        "showBubbleSize"]
    assert children(plot.find("c:catAx", NS)) == [
        "axId", "scaling", "delete", "axPos", "numFmt", "majorTickMark", "minorTickMark", "tickLblPos", "spPr",
        "txPr", "crossAx", "crosses", "auto", "lblAlgn", "lblOffset", "noMultiLvlLbl"]
    assert children(plot.find("c:valAx", NS)) == [
        "axId", "scaling", "delete", "axPos", "numFmt", "majorTickMark", "minorTickMark", "tickLblPos", "spPr",
        "txPr", "crossAx", "crosses", "crossBetween", "majorUnit"]
    assert children(plot.find("c:valAx/c:scaling", NS)) == ["orientation", "max", "min"]
    assert children(chart.find("c:legend", NS)) == ["legendPos", "legendEntry", "overlay", "txPr"]
    # every boolean says its value (an absent val means true to Office)
    for el in root.iter():
        if local(el) in {"varyColors", "roundedCorners", "showVal", "delete", "marker", "smooth", "overlay"} \
                and len(el) == 0:
            assert el.get("val") in {"0", "1"}, local(el)


def test_chart_holds_the_pdf_charts_information(phq9):
    root = etree.fromstring(chart_part(phq9))
    series = phq9.series

    def strings(el) -> list[str]:
        return [v.text for v in el.iterfind(".//c:pt/c:v", NS)]

    line = root.find(".//c:lineChart/c:ser", NS)
    assert strings(line.find("c:cat", NS)) == ["09/08/2026", "10/20/2026"]
    assert strings(line.find("c:val", NS)) == ["16", "11"]
    assert line.find("c:marker/c:symbol", NS).get("val") == "square"
    assert line.find("c:spPr/a:ln/a:solidFill/a:srgbClr", NS).get("val") == "1F4E79"
    labels = line.find("c:dLbls", NS)
    assert labels.find("c:showVal", NS).get("val") == "1" and labels.find("c:dLblPos", NS).get("val") == "t"
    scaling = root.find(".//c:valAx/c:scaling", NS)
    assert (scaling.find("c:min", NS).get("val"), scaling.find("c:max", NS).get("val")) == ("0", "27")
    # one axis pair shared by both chart groups
    ids = [[a.get("val") for a in group.iterfind("c:axId", NS)] for group in root.find(".//c:plotArea", NS)
           if local(group) in ("barChart", "lineChart")]
    assert ids[0] == ids[1] == [root.find(".//c:catAx/c:axId", NS).get("val"),
                                root.find(".//c:valAx/c:axId", NS).get("val")]
    # the bands: chart_geometry's tops, in its colours, named, the same height at every date
    geo = chart_geometry(phq9, 400, 150)
    scale = (geo["y1"] - geo["y0"]) / series.maximum
    bands = root.findall(".//c:barChart/c:ser", NS)
    assert [strings(b.find("c:tx", NS)) for b in bands] == [[name] for _, _, name in series.bands]
    assert [b.find("c:spPr/a:solidFill/a:srgbClr", NS).get("val") for b in bands] == \
        [c.lstrip("#").upper() for c in BAND_COLORS]
    top = 0.0
    for band, drawn in zip(bands, geo["bands"], strict=True):
        heights = {float(v) for v in strings(band.find("c:val", NS))}
        assert len(heights) == 1 and strings(band.find("c:cat", NS)) == ["09/08/2026", "10/20/2026"]
        assert (drawn["y"] - geo["y0"]) / scale == pytest.approx(top)
        top += heights.pop()
        assert (drawn["y"] + drawn["h"] - geo["y0"]) / scale == pytest.approx(top)
    assert top == series.maximum
    # the bands are the legend; the line's entry is deleted
    entry = root.find(".//c:legend/c:legendEntry", NS)
    assert entry.find("c:idx", NS).get("val") == line.find("c:idx", NS).get("val") == "5"
    assert entry.find("c:delete", NS).get("val") == "1"
    assert root.find(".//c:externalData", NS) is None and root.find(".//c:title", NS) is None


def test_chart_drawing_is_an_inline_chart_frame():
    xml = chart_drawing("rIdChart7", 2, 140, 55.5, "PHQ-9 over time")
    run_ = etree.fromstring(f'<w:r xmlns:w="{W}">{xml}</w:r>')  # only w is declared around it
    inline = run_.find("w:drawing/wp:inline", NS)
    assert assert_schema_order(run_) == 1
    assert children(inline) == ["extent", "effectExtent", "docPr", "cNvGraphicFramePr", "graphic"]
    extent = inline.find("wp:extent", NS)
    assert (extent.get("cx"), extent.get("cy")) == ("5040000", "1998000")  # 36000 EMU per mm
    doc_pr = inline.find("wp:docPr", NS)
    assert (doc_pr.get("name"), doc_pr.get("descr")) == ("Chart 2", "PHQ-9 over time")
    assert doc_pr.get("id") != etree.fromstring(f'<w:r xmlns:w="{W}">{chart_drawing("rIdChart8", 3, 140, 55, "x")}'
                                                f'</w:r>').find(".//wp:docPr", NS).get("id")
    data = inline.find("a:graphic/a:graphicData", NS)
    assert data.get("uri") == C
    frame = data.find("c:chart", NS)
    assert frame.get(f"{{{R}}}id") == "rIdChart7" and len(frame) == 0


# --- 3. client text is data ----------------------------------------------------------------------
def test_markup_in_dates_band_names_and_title_is_escaped_and_round_trips():
    raw = chart_part(ODD)
    for markup in (b"<b>", b"<lt>", b"{{", b"}}", b"{%", b"%}", b"<{"):
        assert markup not in raw, markup
    root = etree.fromstring(raw)
    assert [v.text for v in root.iterfind(".//c:lineChart/c:ser/c:cat//c:v", NS)] == ["01/05/2026", ODD_DATE]
    assert [v.text for v in root.iterfind(".//c:barChart/c:ser/c:tx//c:v", NS)] == ["low & <calm>", ODD_BAND]
    assert root.find(".//c:lineChart/c:ser/c:tx//c:v", NS).text == ODD_LABEL
    assert assert_schema_order(root) > 40

    title = 'Tab\there & <x> "q" \'s\' {{ t }} {%p%}\nline\x07'
    xml = chart_drawing("rId9", 1, 100, 50, title)
    assert "{{" not in xml and "{%" not in xml and "<x>" not in xml
    doc_pr = etree.fromstring(f'<w:r xmlns:w="{W}">{xml}</w:r>').find(".//wp:docPr", NS)
    # shown as every renderer shows it (text.display: a control character by its code point)
    assert doc_pr.get("descr") == title.replace("\x07", "[U+0007]")


# --- 4. deterministic ---------------------------------------------------------------------------
def test_same_chart_same_bytes(phq9):
    first = chart_part(phq9)
    copy = Chart(str(phq9.title), Series(phq9.series.label, tuple(phq9.series.points), phq9.series.maximum,
                                         tuple(phq9.series.bands)))
    docxchart._bands.cache_clear()  # noqa: SLF001 - made again, not remembered
    docxchart._value_axis.cache_clear()  # noqa: SLF001
    assert chart_part(copy) == first == chart_part(phq9)
    assert chart_part(GAD7) != first
    assert chart_drawing("rId1", 1, 140, 55, "T") == chart_drawing("rId1", 1, 140, 55, "T")
