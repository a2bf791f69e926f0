"""Tagged PDF (PDF/UA-1): the document's logical structure, collected while laying out and drawing,
and written with reportlab's own PDF objects (reportlab has no tagging API).

Three steps, one class each:

* :class:`Structure` (the layout pass): the tree of structure elements, in reading order: Document,
  then H1/H2/H3, P, BlockQuote, L/LI/Lbl/LBody, Table/TR/TH/TD, Figure, Div and Form. Every
  drawing operation of the layout carries the leaf element its content belongs to, or None for an
  artifact (a table header row repeated on a continued page).
* :class:`Marker` (the drawing pass): wraps each piece of content in a marked-content sequence,
  ``/P <</MCID n>> BDC ... EMC``, numbering them per page, and everything else a page paints in an
  ``/Artifact`` sequence (page furniture as /Pagination; backgrounds, grid and rules as /Layout).
* :meth:`Marker.write` (before the canvas is saved): one StructElem object per element, the
  StructTreeRoot with its ParentTree (the number tree from each page's marked content, and each
  signature widget, back to its element), /StructParents and /Tabs /S on the pages, and the
  catalog's /MarkInfo, /Lang and /ViewerPreferences /DisplayDocTitle.

Everything is numbered in drawing order: the same document gives the same objects, the same bytes.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFString

#: What a page paints that is not content: running header and footer, page numbers, the watermark,
#: a table header row repeated on a continued page (/Pagination); cell backgrounds, grid lines and
#: the lines to sign on (/Layout).
PAGINATION = "/Artifact <</Type /Pagination>> BDC"
LAYOUT = "/Artifact <</Type /Layout>> BDC"
END = "EMC"

#: Leaves whose content may be nothing at all and that stay in the tree even then (a table keeps
#: its grid: an empty cell is still a cell).
KEEP_EMPTY = frozenset({"TD", "TH"})


class Node:
    """A structure element: its role, attributes (/Alt, /Lang, /T and the /A attribute dictionary's
    entries under ``owner``), and its kids in reading order: elements, and marked content as
    ``(page index, MCID)`` or a widget as ``(page index, annotation name)``."""

    __slots__ = ("attrs", "kids", "owner", "parent", "role")

    def __init__(self, role: str, parent: Node | None = None, owner: str = "", **attrs: Any):
        self.role, self.parent, self.owner, self.attrs = role, parent, owner, attrs
        self.kids: list[Node | tuple[int, int] | tuple[int, str]] = []
        if parent is not None:
            parent.kids.append(self)

    def elements(self) -> Iterator[Node]:
        """This element and every element below it, in reading order."""
        yield self
        for kid in self.kids:
            if isinstance(kid, Node):
                yield from kid.elements()

    def __repr__(self) -> str:  # for test failures
        return f"Node({self.role})"


class Structure:
    """The tree being built by the layout: :meth:`group` (or :meth:`enter` ... :meth:`leave`) opens an
    element whose kids follow, :meth:`leaf` adds an element that content will be drawn into.

    ``lang``: the document's language (BCP 47); ``others``: languages the client's own words may be in
    (the client's preferred languages, see :mod:`docgen.render.language`)."""

    def __init__(self, lang: str = "en-US", others: tuple[str, ...] = ()):
        self.root = Node("Document")
        self.lang, self.others = lang, others
        self._open = [self.root]

    def enter(self, role: str, owner: str = "", **attrs: Any) -> Node:
        node = Node(role, self._open[-1], owner, **attrs)
        self._open.append(node)
        return node

    def leave(self) -> None:
        self._open.pop()

    def words(self, text: str) -> str:
        """The /Lang of a paragraph in the client's own words: one of the client's languages when the
        text is in it, else "" (the document's language)."""
        from ..language import written_in  # noqa: PLC0415 - only records with client quotes

        lang = written_in(text, self.others, self.lang) if self.others else self.lang
        return "" if lang == self.lang else lang

    @contextmanager
    def group(self, role: str, owner: str = "", **attrs: Any) -> Iterator[Node]:
        node = Node(role, self._open[-1], owner, **attrs)
        self._open.append(node)
        try:
            yield node
        finally:
            self._open.pop()

    def leaf(self, role: str, owner: str = "", **attrs: Any) -> Node:
        return Node(role, self._open[-1], owner, **attrs)

    def node(self, role: str, parent: Node, owner: str = "", **attrs: Any) -> Node:
        """An element under ``parent`` (table rows and cells, made before the row is drawn)."""
        return Node(role, parent, owner, **attrs)


class Marker:
    """The drawing pass's side: marked-content sequences numbered per page, then the objects."""

    def __init__(self, structure: Structure):
        self.structure = structure
        self.page = 0
        self.mcids: list[list[Node]] = [[]]  # per page: MCID -> its element
        self.widgets: list[tuple[Node, int, str, PDFDictionary]] = []  # (Form, page index, name, widget)

    # drawing ---------------------------------------------------------------------------------
    def start_page(self, index: int) -> None:
        """Content drawn from now on is on page ``index`` (0-based)."""
        self.page = index
        while len(self.mcids) <= index:
            self.mcids.append([])

    def begin(self, node: Node) -> str:
        """The operator opening ``node``'s next piece of content on this page."""
        mcids = self.mcids[self.page]
        node.kids.append((self.page, len(mcids)))
        mcids.append(node)
        return f"/{node.role} <</MCID {len(mcids) - 1}>> BDC"

    def widget(self, node: Node, name: str, annotation: PDFDictionary) -> None:
        """The widget annotation ``name`` on this page is ``node``'s content (its /StructParent is
        set by :meth:`write`, after the pages' keys)."""
        node.kids.append((self.page, name))
        self.widgets.append((node, self.page, name, annotation))

    # writing ---------------------------------------------------------------------------------
    def write(self, canvas) -> None:
        """The structure tree and its catalog and page entries, into ``canvas``'s document (call
        after the last page, before saving)."""
        doc = canvas._doc  # noqa: SLF001 - reportlab has no API for the catalog's structure entries
        pages = len(doc.Pages.pages)
        self.start_page(pages - 1)
        page_ref = [pdfdoc.PDFObjectReference(f"Page{i + 1}") for i in range(pages)]
        elements = [n for n in self.structure.root.elements() if n.kids or n.role in KEEP_EMPTY or n.parent is None]
        kept = set(map(id, elements))
        objects = {id(n): PDFDictionary({}) for n in elements}
        refs = {id(n): doc.Reference(objects[id(n)]) for n in elements}
        root = PDFDictionary({"Type": PDFName("StructTreeRoot")})
        root_ref = doc.Reference(root)
        for node in elements:
            entries: dict[str, Any] = {"Type": PDFName("StructElem"), "S": PDFName(node.role),
                                       "P": refs[id(node.parent)] if node.parent is not None else root_ref}
            first_page = next((k[0] for k in node.kids if isinstance(k, tuple)), None)
            if first_page is not None:
                entries["Pg"] = page_ref[first_page]
            kids: list[Any] = []
            for kid in node.kids:
                if isinstance(kid, Node):
                    if id(kid) in kept:
                        kids.append(refs[id(kid)])
                elif isinstance(kid[1], str):
                    kids.append(PDFDictionary({"Type": PDFName("OBJR"), "Obj": doc.refAnnotation(kid[1]),
                                               "Pg": page_ref[kid[0]]}))
                elif kid[0] == first_page:
                    kids.append(kid[1])
                else:
                    kids.append(PDFDictionary({"Type": PDFName("MCR"), "Pg": page_ref[kid[0]], "MCID": kid[1]}))
            if kids:
                entries["K"] = kids[0] if len(kids) == 1 else PDFArray(kids)
            owned: dict[str, Any] = {}
            for key, value in node.attrs.items():
                if key in OWNED:
                    owned[key] = PDFName(value) if isinstance(value, str) else PDFArray(value)
                else:
                    entries[key] = PDFString(value)
            if owned:
                entries["A"] = PDFDictionary({"O": PDFName(node.owner), **owned})
            objects[id(node)].dict.update(entries)
        nums: list[Any] = []
        for index in range(pages):
            nums += [index, PDFArray([refs[id(n)] for n in self.mcids[index]])]
        for number, (node, _page, _name, annotation) in enumerate(self.widgets, pages):
            nums += [number, refs[id(node)]]
            annotation["StructParent"] = number
        root.dict.update({"K": refs[id(self.structure.root)],
                          "ParentTree": doc.Reference(PDFDictionary({"Nums": PDFArray(nums)})),
                          "ParentTreeNextKey": pages + len(self.widgets)})
        with_widgets = {page for _node, page, _name, _annotation in self.widgets}
        for index, page in enumerate(doc.Pages.pages):
            extra: dict[str, Any] = {"StructParents": index}
            if index in with_widgets:
                extra["Tabs"] = PDFName("S")
            page_entries(page, extra)
        catalog = doc.Catalog
        catalog.StructTreeRoot = root
        catalog.MarkInfo = PDFDictionary({"Marked": "true"})
        catalog.Lang = PDFString(self.structure.lang)
        catalog.ViewerPreferences = PDFDictionary({"DisplayDocTitle": "true"})


def chart_alt(chart) -> str:
    """The chart's alternative text: every score with its severity band and its date, in words a
    screen reader reads as such, e.g. "PHQ-9 over time: 16 (moderately severe) on September 8, 2026,
    then 11 (moderate) on October 20, 2026"."""
    series = chart.series

    def band(value: int) -> str:
        name = next((name for low, high, name in series.bands if low <= value <= high), "")
        return f" ({name})" if name else ""

    scores = [f"{value}{band(value)} on {spoken_date(when)}" for when, value in series.points]
    return f"{chart.title}: {', then '.join(scores)}" if scores else chart.title


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def spoken_date(label: str) -> str:
    """A chart's date label (MM/DD/YYYY) as words: "September 8, 2026" (any other label as it is)."""
    parts = label.split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and 1 <= int(parts[0]) <= 12:
        return f"{MONTHS[int(parts[0]) - 1]} {int(parts[1])}, {parts[2]}"
    return label


#: Attributes that go in an element's attribute dictionary /A (with its owner), not in the element.
OWNED = frozenset({"Scope", "BBox", "Placement"})


def page_entries(page, entries: dict[str, Any]) -> None:
    """Entries reportlab's page dictionary does not know (/StructParents, /Tabs), written with its own."""
    for key, value in entries.items():
        setattr(page, key, value)
    known = type(page).__NoDefault__
    page.__NoDefault__ = known + [k for k in entries if k not in known]
