"""The document's bookmarks: one level, a section each, opening its page fitted to the window
(WCAG 2.4.5). Written as reportlab's outline writes them (``PDFOutlines`` with its entries, each
with a ``/Fit`` destination), numbered as it numbers them, but each object's bytes made when the file
is prepared, from the numbers already given, without reportlab's destinations, name lookups and
outline tree (:class:`Bookmarks`). With the fast paths off, or a file syntax these bytes do not
cover, reportlab's own outline (:func:`bookmarks`)."""
from __future__ import annotations

from reportlab import rl_config
from reportlab.pdfbase import pdfdoc

from . import reportlab_patches
from .reportlab_patches import _Formatted, outline_title


class Bookmarks(pdfdoc.PDFObject):
    """In place of reportlab's ``PDFOutlines`` for one level of bookmarks: the outline's root, and
    its entries made in :meth:`prepare` (reportlab calls it before writing the file)."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, int]] = []  # (title, 1-based page number)
        self.ready = 0
        self.data = b""

    def add(self, title: str, page: int) -> None:
        """A bookmark to page ``page`` (1-based), after the ones before."""
        self.entries.append((title, page))

    def prepare(self, document, canvas) -> None:
        """``PDFOutlines.prepare``: the root registered, then its entries ("Outline.0", "Outline.1",
        ...), in order; no outline at all (``ready`` -1) without bookmarks."""
        if not self.entries:
            self.ready = -1
            return
        number = document.idToObjectNumberAndVersion
        root = number[document.Reference(self).name][0]
        entries = [_Formatted(b"") for _ in self.entries]
        numbers = [number[document.Reference(entry, f"Outline.{index}").name][0] for index, entry in enumerate(entries)]
        last = len(entries) - 1
        for index, (entry, (title, page)) in enumerate(zip(entries, self.entries, strict=True)):
            items = [b"/Dest [ %d 0 R /Fit ]" % number[f"Page{page}"][0]]  # keys in reportlab's order
            if index < last:
                items.append(b"/Next %d 0 R" % numbers[index + 1])
            items.append(b"/Parent %d 0 R" % root)
            if index:
                items.append(b"/Prev %d 0 R" % numbers[index - 1])
            items.append(b"/Title " + outline_title(title, document))
            entry.data = b"<<\n" + b" ".join(items) + b"\n>>"
        self.data = b"<<\n/Count %d /First %d 0 R /Last %d 0 R /Type /Outlines\n>>" % (
            len(entries), numbers[0], numbers[-1])
        self.ready = 1

    def format(self, document) -> bytes:
        return self.data


def bookmarks(canvas) -> Bookmarks | None:
    """Docgen's bookmarks in place of the outline of ``canvas``'s document (a new canvas, nothing
    bookmarked yet), when its file is written so that their bytes are reportlab's; else None (then
    ``canvas.bookmarkPage`` and ``addOutlineEntry``)."""
    doc = canvas._doc  # noqa: SLF001 - reportlab has no API for another outline
    if not reportlab_patches.FAST_PATHS or type(doc.encrypt) is not pdfdoc.NoEncryption or rl_config.pdfMultiLine \
            or (not rl_config.invariant and rl_config.pdfComments):
        return None
    found = Bookmarks()
    doc.outline = doc.Outlines = doc.Catalog.Outlines = found
    return found
