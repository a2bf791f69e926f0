"""Render a composed Document to PDF, laid out and drawn straight onto a reportlab canvas.

Two passes. Layout breaks text into lines (greedy, at spaces; words longer than a line at
characters) and blocks into pages, giving each page a display list; drawing then replays the lists
with the page furniture, so every page can say "Page X of Y". Headings are kept with what follows
them, table header rows repeat on every page a table continues on, and a row taller than a page is
split inside its cells. Client text is only ever drawn as text (never parsed as markup).

Fonts and styles are prepared once per process. The output is deterministic: reportlab's
invariant mode, dates taken from the record, structure elements numbered in drawing order. Every
PDF is tagged (PDF/UA-1) and PDF/A-2a.

One idea a module:

* :mod:`.fonts`: the embedded fonts, their registration (parsed once, kept in the cache folder),
  the memos of subsets and their objects, and the fallback font's runs for characters the main font
  lacks;
* :mod:`.reportlab_patches`: where reportlab's PDF writer is reached into (its zlib level, an
  object formatted once, the file written with them);
* :mod:`.object_bytes`: a document's plain objects (catalog, pages, dictionaries, streams) written
  straight to the bytes reportlab writes for them;
* :mod:`.numbers`: numbers formatted as reportlab formats them, once per value;
* :mod:`.wrapping`: measuring text, breaking it into lines, fitting it to a width;
* :mod:`.layout`: the text styles and the first pass, blocks to pages of drawing operations;
* :mod:`.drawing`: the second pass, a page's drawing operations onto the canvas;
* :mod:`.tagging`: the structure tree (PDF/UA-1): elements made by the layout, content marked while
  drawing, the tree and its ParentTree written at the end;
* :mod:`.bookmarks`: the sections' bookmarks, written as reportlab's outline writes them;
* :mod:`.archival`: PDF/A-2a: XMP with the identification, the sRGB output intent, widget appearances;
* :mod:`.renderer`: :class:`PdfRenderer`, the page furniture and the document's properties.
"""
from __future__ import annotations

from .fonts import BOLD, FALLBACK, FONT, ITALIC, register_fonts
from .renderer import PdfRenderer

__all__ = ["BOLD", "FALLBACK", "FONT", "ITALIC", "PdfRenderer", "register_fonts"]
