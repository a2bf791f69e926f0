"""The score-trend chart as a native Word chart (a DrawingML chart part), by string formatting.

The same information as the PDF chart (``pdf.drawing._draw_chart``, geometry in
:mod:`..chart_geometry`): the instrument's severity bands behind the totals over time. Word keeps it
as data: crisp at any zoom, its values readable (and read out) in Word, and far cheaper to make than
a PNG.

* the bands: a stacked column chart with no gap between columns, one series per band, its value at
  every date the band's height, so each band's top is where chart_geometry puts it
  (``min(high + 0.5, maximum)``) and the bands fill the plot's width (a stacked *area* chart would
  stop at the first and last dates' centres unless the axis crossed "on tick marks", which puts the
  first and last points on the plot's edges); the columns have no labels; the bands' names are the
  legend, on the right;
* the totals: a line chart on the same axes, drawn over the bands, square markers, the value above
  each point, its legend entry deleted;
* the date labels on the category axis, the value axis from 0 to the instrument's maximum.

The values are kept only as each series' cached points (``c:strCache``/``c:numCache``; the formulas
name the cells a workbook would hold). There is no embedded workbook (no ``c:externalData``): Word
shows the cached values (editing the chart's data in Word would find no workbook). Word is strict
about the order of child elements: every element below is written in the sequence of its ECMA-376
complex type (CT_ChartSpace, CT_Chart, CT_PlotArea, CT_BarChart, CT_BarSer, CT_LineChart,
CT_LineSer, CT_CatAx, CT_ValAx, CT_Scaling, CT_DLbls, CT_Legend, CT_Inline), and every boolean is
given its value (an absent ``c:varyColors`` or ``c:roundedCorners`` means *true* to Office).

Client text (dates, band names, the title in the alt text) is shown as
:func:`..visible_text.display` shows it and XML-escaped, braces too: the drawing goes into a
Jinja/docxtpl body, where ``{{`` or ``{_{`` must stay data.
"""
from __future__ import annotations

from functools import lru_cache

from ...compose.blocks import Chart
from ..chart_geometry import BAND_COLORS, value_step
from ..visible_text import display

CHART_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
CHART_TYPE = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"

EMU_PER_MM = 36000
DOCPR_BASE = 8000  # a chart's docPr id is 8000 + n: apart from the images' (images.Images: 9000 + n)
LINE_COLOR = "1F4E79"  # the PDF's accent colour
AXIS_COLOR = "777777"
LABEL_COLOR = "555555"

_C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"

# Escaped for text and attribute values alike; braces and % as character references (data in any
# templating layer), line feed and tab too (kept in attribute values).
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
                         "{": "&#123;", "}": "&#125;", "%": "&#37;", "\n": "&#10;", "\t": "&#9;"})


def _esc(value: str) -> str:
    return display(value).translate(_ESCAPE)


def _num(value: float) -> str:
    """A number as the chart caches it: an integer without a decimal point, others in shortest form."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _col(index: int) -> str:
    """Spreadsheet column letters of a 0-based column index: A, B, ..., Z, AA, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_unit = value_step  # the value axis' major unit: where the PDF chart puts its numbers
FONT = "DejaVu Sans"  # the PDF's face (a chart without one is drawn in the application's default, a serif)


def _text(size: int, color: str, bold: bool = False) -> str:
    """A c:txPr (CT_TextBody: a:bodyPr, a:lstStyle, a:p) giving the default run properties: size,
    colour and typeface (CT_TextCharacterProperties: the fill before a:latin)."""
    return (f'<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="{size}" b="{int(bold)}">'
            f'<a:solidFill><a:srgbClr val="{color}"/></a:solidFill><a:latin typeface="{FONT}"/>'
            f'<a:cs typeface="{FONT}"/></a:defRPr></a:pPr><a:endParaRPr lang="en-US"/></a:p></c:txPr>')


def _points(values: list[str]) -> str:
    return "".join(f'<c:pt idx="{i}"><c:v>{v}</c:v></c:pt>' for i, v in enumerate(values))


def _str_ref(formula: str, values: list[str]) -> str:
    """A c:strRef (f, strCache: ptCount, pt*) of already escaped strings."""
    return (f'<c:strRef><c:f>{formula}</c:f><c:strCache><c:ptCount val="{len(values)}"/>{_points(values)}'
            f'</c:strCache></c:strRef>')


def _num_ref(formula: str, values: list[str]) -> str:
    """A c:numRef (f, numCache: formatCode, ptCount, pt*)."""
    return (f'<c:numRef><c:f>{formula}</c:f><c:numCache><c:formatCode>General</c:formatCode>'
            f'<c:ptCount val="{len(values)}"/>{_points(values)}</c:numCache></c:numRef>')


_CAT_AX, _VAL_AX = 504711001, 504711002
_AXES = f'<c:axId val="{_CAT_AX}"/><c:axId val="{_VAL_AX}"/>'
_NO_FILL = "<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>"
_AXIS_LINE = (f'<c:spPr><a:noFill/><a:ln w="9525"><a:solidFill><a:srgbClr val="{AXIS_COLOR}"/></a:solidFill>'
              '</a:ln></c:spPr>')
# CT_LineSer after tx: spPr, marker, dLbls (then cat, val, smooth)
_LINE_LOOK = (f'<c:spPr><a:ln w="20320" cap="rnd"><a:solidFill><a:srgbClr val="{LINE_COLOR}"/></a:solidFill>'
              '<a:round/></a:ln></c:spPr>'
              f'<c:marker><c:symbol val="square"/><c:size val="5"/><c:spPr><a:solidFill><a:srgbClr val="{LINE_COLOR}"/>'
              '</a:solidFill><a:ln><a:noFill/></a:ln></c:spPr></c:marker>'
              # CT_DLbls: numFmt, spPr, txPr, dLblPos, showLegendKey, showVal, showCatName, showSerName,
              # showPercent, showBubbleSize
              f'<c:dLbls><c:numFmt formatCode="General" sourceLinked="0"/>{_NO_FILL}{_text(700, "000000", True)}'
              '<c:dLblPos val="t"/><c:showLegendKey val="0"/><c:showVal val="1"/><c:showCatName val="0"/>'
              '<c:showSerName val="0"/><c:showPercent val="0"/><c:showBubbleSize val="0"/></c:dLbls>')
_CAT_AXIS = (f'<c:catAx><c:axId val="{_CAT_AX}"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
             '<c:delete val="0"/><c:axPos val="b"/><c:numFmt formatCode="General" sourceLinked="0"/>'
             '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="low"/>'
             f'{_AXIS_LINE}{_text(650, "000000")}<c:crossAx val="{_VAL_AX}"/><c:crosses val="autoZero"/>'
             '<c:auto val="1"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="1"/></c:catAx>')
_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         f'<c:chartSpace xmlns:c="{_C}" xmlns:a="{_A}" xmlns:r="{_R}">'
         '<c:date1904 val="0"/><c:lang val="en-US"/><c:roundedCorners val="0"/>'
         '<c:chart><c:autoTitleDeleted val="1"/><c:plotArea><c:layout/>')
_LEGEND = f'{_NO_FILL}</c:plotArea><c:legend><c:legendPos val="r"/>'  # the plot area's spPr, the legend
_TAIL = (f'<c:overlay val="0"/>{_text(650, LABEL_COLOR)}</c:legend>'
         '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart>'
         f'{_NO_FILL}{_text(700, "000000")}</c:chartSpace>')


@lru_cache(maxsize=64)
def _bands(bands: tuple[tuple[int, int, str], ...], maximum: int, n: int) -> tuple[tuple[str, str], ...]:
    """Each band's series as the XML before and after its categories (``c:cat``): the same for every
    chart of an instrument with ``n`` dates.

    A stack has no gaps: each band reaches from the band below's top (0 for the first) to
    chart_geometry's top, ``min(high + 0.5, maximum)``; for contiguous bands (as compose makes them)
    its bottom is chart_geometry's too, ``low - 0.5`` (0 for the first)."""
    out, below = [], 0.0
    for i, (_low, high, name) in enumerate(bands):
        top = max(min(high + 0.5, maximum), below)
        color = BAND_COLORS[min(i, len(BAND_COLORS) - 1)].lstrip("#").upper()
        col = _col(i + 1)
        # CT_BarSer: idx, order, tx, spPr, invertIfNegative, cat, val; the outline in the fill's colour
        # closes the hairline seams a renderer may leave between adjacent columns
        out.append((f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/>'
                    f'<c:tx>{_str_ref(f"Sheet1!${col}$1", [_esc(name)])}</c:tx>'
                    f'<c:spPr><a:solidFill><a:srgbClr val="{color}"/></a:solidFill>'
                    f'<a:ln w="6350"><a:solidFill><a:srgbClr val="{color}"/></a:solidFill></a:ln></c:spPr>'
                    '<c:invertIfNegative val="0"/>',
                    f'<c:val>{_num_ref(f"Sheet1!${col}$2:${col}${n + 1}", [_num(top - below)] * n)}</c:val></c:ser>'))
        below = top
    return tuple(out)


@lru_cache(maxsize=64)
def _value_axis(maximum: int) -> str:
    return (f'<c:valAx><c:axId val="{_VAL_AX}"/><c:scaling><c:orientation val="minMax"/>'
            f'<c:max val="{_num(maximum)}"/><c:min val="0"/></c:scaling>'
            '<c:delete val="0"/><c:axPos val="l"/><c:numFmt formatCode="General" sourceLinked="0"/>'
            '<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
            f'{_AXIS_LINE}{_text(650, LABEL_COLOR)}<c:crossAx val="{_CAT_AX}"/><c:crosses val="autoZero"/>'
            f'<c:crossBetween val="between"/><c:majorUnit val="{_unit(maximum)}"/></c:valAx>')


def chart_part(chart: Chart) -> bytes:
    """UTF-8 bytes of word/charts/chartN.xml for the composed Chart (docgen.compose.blocks.Chart)."""
    series = chart.series
    n = len(series.points)
    cat = f"<c:cat>{_str_ref(f'Sheet1!$A$2:$A${n + 1}', [_esc(when) for when, _ in series.points])}</c:cat>"
    bands = _bands(series.bands, series.maximum, n)
    k = len(bands)  # the line series comes last: index k, the legend entry deleted
    col = _col(k + 1)
    values = _num_ref(f"Sheet1!${col}$2:${col}${n + 1}", [_num(value) for _, value in series.points])
    return "".join((
        _HEAD,
        # CT_BarChart: barDir, grouping, varyColors, ser*, gapWidth, overlap, axId, axId
        '<c:barChart><c:barDir val="col"/><c:grouping val="stacked"/><c:varyColors val="0"/>',
        *(before + cat + after for before, after in bands),
        f'<c:gapWidth val="0"/><c:overlap val="100"/>{_AXES}</c:barChart>',
        # CT_LineChart: grouping, varyColors, ser, marker, axId, axId
        '<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>',
        f'<c:ser><c:idx val="{k}"/><c:order val="{k}"/>'
        f'<c:tx>{_str_ref(f"Sheet1!${col}$1", [_esc(series.label)])}</c:tx>',
        _LINE_LOOK, cat, f'<c:val>{values}</c:val><c:smooth val="0"/></c:ser>',
        f'<c:marker val="1"/>{_AXES}</c:lineChart>',
        _CAT_AXIS, _value_axis(series.maximum),
        _LEGEND, f'<c:legendEntry><c:idx val="{k}"/><c:delete val="1"/></c:legendEntry>', _TAIL,
    )).encode()


def chart_drawing(rid: str, n: int, width_mm: float, height_mm: float, title: str) -> str:
    """The <w:drawing>…</w:drawing> run content (wp:inline) that places chart part rId `rid`;
    `n` makes the docPr id unique in the document; `title` goes in docPr's descr (alt text), XML-escaped."""
    cx, cy = round(width_mm * EMU_PER_MM), round(height_mm * EMU_PER_MM)
    # CT_Inline: extent, effectExtent, docPr, cNvGraphicFramePr, a:graphic
    return (f'<w:drawing><wp:inline xmlns:wp="{_WP}" distT="0" distB="0" distL="0" distR="0">'
            f'<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
            f'<wp:docPr id="{DOCPR_BASE + n}" name="Chart {n}" descr="{_esc(title)}"/><wp:cNvGraphicFramePr/>'
            f'<a:graphic xmlns:a="{_A}"><a:graphicData uri="{_C}">'
            f'<c:chart xmlns:c="{_C}" xmlns:r="{_R}" r:id="{_esc(rid)}"/></a:graphicData></a:graphic>'
            '</wp:inline></w:drawing>')
