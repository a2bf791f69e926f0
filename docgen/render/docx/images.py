"""The images and native charts placed in one document while it renders (signature images, the
score-trend chart of :mod:`.chart`): their run markup, and the relationships, content types and
parts they add to the package."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from markupsafe import Markup

from .escaping import _markup

if TYPE_CHECKING:
    from ...compose.blocks import Chart

R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
EMU_PER_MM = 36000
_RUN_BREAK = ('</w:t></w:r><w:r>', '</w:r><w:r><w:t xml:space="preserve">')  # a drawing as a run of its own
CHART_SIZE_MM = (140, 55)  # the chart's legend (the severity bands' names) needs the height


@dataclass
class Images:
    """Images and charts placed while rendering one document: relationships and parts to add."""

    items: list[tuple[str, str, bytes]] = field(default_factory=list)  # (rId, media name, bytes)
    charts: list[tuple[str, str, bytes]] = field(default_factory=list)  # (rId, part name, chart XML)

    def chart(self, chart: Chart) -> Markup:
        """A native Word chart of the composed Chart (:mod:`.chart`), as run markup."""
        from .chart import chart_drawing, chart_part  # noqa: PLC0415

        n = len(self.charts) + 1
        rid = f"rIdDocgenChart{n}"
        self.charts.append((rid, f"word/charts/docgen-chart{n}.xml", chart_part(chart)))
        return _markup(Markup, _RUN_BREAK[0] + chart_drawing(rid, n, *CHART_SIZE_MM, chart.title) + _RUN_BREAK[1])

    def inline(self, data: bytes, width_mm: float, ext: str = "png") -> Markup:
        from PIL import Image  # noqa: PLC0415

        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
        n = len(self.items) + 1
        rid, name = f"rIdDocgen{n}", f"docgen-image{n}.{ext}"
        self.items.append((rid, name, data))
        cx = int(width_mm * EMU_PER_MM)
        cy = int(cx * h / w) if w else cx
        pid = 9000 + n
        drawing = (
            f'<w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
            f'distT="0" distB="0" distL="0" distR="0"><wp:extent cx="{cx}" cy="{cy}"/>'
            f'<wp:docPr id="{pid}" name="Picture {pid}"/><wp:cNvGraphicFramePr>'
            f'<a:graphicFrameLocks xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" noChangeAspect="1"/>'
            f'</wp:cNvGraphicFramePr><a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
            f'<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
            f'<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:nvPicPr>'
            f'<pic:cNvPr id="{pid}" name="{name}"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill>'
            f'<a:blip xmlns:r="{R}" r:embed="{rid}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
            f'<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
            f'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic>'
            f'</wp:inline></w:drawing>')
        return Markup(_RUN_BREAK[0] + drawing + _RUN_BREAK[1])  # noqa: S704 - numbers and names made here

    def relationships(self, rels: bytes) -> bytes:
        """The document's relationships with this document's images and charts added."""
        if not (self.items or self.charts):
            return rels
        from .chart import CHART_REL  # noqa: PLC0415

        extra = "".join([*(f'<Relationship Id="{rid}" Type="{IMAGE_REL}" Target="media/{name}"/>'
                           for rid, name, _ in self.items),
                         *(f'<Relationship Id="{rid}" Type="{CHART_REL}" Target="{name[len("word/"):]}"/>'
                           for rid, name, _ in self.charts)])
        return rels.replace(b"</Relationships>", extra.encode() + b"</Relationships>")

    def content_types(self, types: bytes) -> bytes:
        """``[Content_Types].xml`` with an override for each chart part."""
        from .chart import CHART_TYPE  # noqa: PLC0415

        extra = "".join(f'<Override PartName="/{name}" ContentType="{CHART_TYPE}"/>' for _, name, _ in self.charts)
        return types.replace(b"</Types>", extra.encode() + b"</Types>")
