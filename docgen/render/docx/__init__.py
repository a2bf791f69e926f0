"""Render a composed Document to DOCX through a docxtpl Word template.

The template is compiled once (see :mod:`.template`) and sees the composed Document itself; every
string it prints is escaped on the way out (the environment's ``finalize``, :mod:`.escaping`), so
client text is data, never markup: ``&``, ``<``, ``{{`` and the like come out exactly as typed;
line breaks and tabs become Word breaks and tabs. The zip is written deterministically (fixed entry
dates taken from the record).

One idea a module:

* :mod:`.renderer`: :class:`DocxRenderer`, the Document as the template's context;
* :mod:`.escaping`: client text as WordprocessingML run text, and the Jinja environment printing it;
* :mod:`.template`: the template prepared and compiled once, its on-disk cache, and rendering it;
* :mod:`.package`: the template's zip archive read within limits (size, entries, ratio, names, DTDs);
* :mod:`.table_widths`: the composed tables' column widths, asked for by the template or fixed after;
* :mod:`.images`: the images and charts placed in one document, and the parts they add;
* :mod:`.chart`: the score-trend chart as a native Word chart part;
* :mod:`.zip_writer`: the deterministic zip writer that reuses compressed parts;
* :mod:`.core_properties`: ``docProps/core.xml``.
"""
from __future__ import annotations

from ...errors import TemplateError
from .renderer import DocxRenderer

__all__ = ["DocxRenderer", "TemplateError"]
