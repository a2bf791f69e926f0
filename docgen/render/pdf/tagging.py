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

from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase.pdfdoc import PDFDictionary, PDFName, PDFString

from .reportlab_patches import _Formatted, direct, register, register_numbered, reserve

#: What a page paints that is not content: running header and footer, page numbers, the watermark,
#: a table header row repeated on a continued page (/Pagination); cell backgrounds, grid lines and
#: the lines to sign on (/Layout).
PAGINATION = "/Artifact <</Type /Pagination>> BDC"
LAYOUT = "/Artifact <</Type /Layout>> BDC"
END = "EMC"

NONE: dict[str, Any] = {}  # no attributes (shared, never changed)

#: Leaves whose content may be nothing at all and that stay in the tree even then (a table keeps
#: its grid: an empty cell is still a cell).
KEEP_EMPTY = frozenset({"TD", "TH"})


class Node:
    """A structure element: its role, attributes (/Alt, /Lang, /T and the /A attribute dictionary's
    entries under ``owner``), and its kids in reading order: elements, and marked content as
    ``(page index, MCID)`` or a widget as ``(page index, annotation name)``."""

    __slots__ = ("attrs", "kids", "number", "owner", "parent", "role")

    def __init__(self, role: str, parent: Node | None = None, owner: str = "", attrs: dict[str, Any] | None = None):
        self.role, self.parent, self.owner, self.attrs = role, parent, owner, attrs or NONE
        self.kids: list[Node | tuple[int, int] | tuple[int, str]] = []
        self.number = 0  # its object number, once written
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
        self.nodes = [self.root]  # every element, in the order made: reading order

    def enter(self, role: str, owner: str = "", attrs: dict[str, Any] | None = None) -> Node:
        node = Node(role, self._open[-1], owner, attrs)
        self.nodes.append(node)
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
    def group(self, role: str, owner: str = "", attrs: dict[str, Any] | None = None) -> Iterator[Node]:
        node = Node(role, self._open[-1], owner, attrs)
        self.nodes.append(node)
        self._open.append(node)
        try:
            yield node
        finally:
            self._open.pop()

    def leaf(self, role: str, owner: str = "", attrs: dict[str, Any] | None = None) -> Node:
        node = Node(role, self._open[-1], owner, attrs)
        self.nodes.append(node)
        return node

    def node(self, role: str, parent: Node, owner: str = "", attrs: dict[str, Any] | None = None) -> Node:
        """An element under ``parent`` (table rows and cells, made before the row is drawn)."""
        node = Node(role, parent, owner, attrs)
        self.nodes.append(node)
        return node


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
        after the last page, before saving).

        A plan has hundreds of elements, each an indirect object: formatted by reportlab's generic
        dictionaries they took four times as long to write as the rest of the file. Every object they
        refer to (pages, widgets, each other) has its number once registered, so each is formatted
        here, once, straight to the bytes the file holds for it, the elements numbered one after the
        other as one run of objects (:class:`._Run`: no reportlab object or name apiece; with
        reportlab's own file writer, an object each, :class:`._Formatted`). The canvas is never
        encrypted (a packet is, later, by pypdf), so no string needs its object's key."""
        doc = canvas._doc  # noqa: SLF001 - reportlab has no API for the catalog's structure entries
        number = doc.idToObjectNumberAndVersion
        pages = len(doc.Pages.pages)
        self.start_page(pages - 1)
        page_ref = [b"%d 0 R" % number[f"Page{i + 1}"][0] for i in range(pages)]
        # reading order; an element with no content (a draft's Form) is left out
        elements = [n for n in self.structure.nodes if n.kids or n.role in KEEP_EMPTY or n.parent is None]
        first, run = reserve(doc, len(elements))
        for object_number, node in enumerate(elements, first):
            node.number = object_number
        last = first + len(elements)
        root, tree = _Formatted(b""), _Formatted(b"")
        register(doc, [root, tree])
        root_ref, tree_ref = b"%d 0 R" % last, b"%d 0 R" % (last + 1)
        attributes: dict[tuple[int, str], bytes] = {}  # a header cell's scope is one of two shared dicts
        roles: dict[str, bytes] = {}
        chunks = run.chunks
        add = chunks.append
        for node in elements:
            parent = node.parent
            kids_ = node.kids
            role = roles.get(node.role) or roles.setdefault(node.role, node.role.encode())
            extra = b""
            if node.attrs:
                key = (id(node.attrs), node.owner)
                extra = attributes.get(key) or attributes.setdefault(key, self._attributes(node, doc))
            if len(kids_) == 1 and type(kids_[0]) is tuple and type(kids_[0][1]) is int:
                page, mcid = kids_[0]  # most elements: one piece of content  # type: ignore[misc]
                add(b"%d 0 obj\n<< /Type /StructElem /S /%s /P %d 0 R /Pg %s /K %d%s >>\nendobj\n" % (
                    node.number, role, parent.number, page_ref[page], mcid, extra))  # type: ignore[union-attr]
                continue
            out = b"%d 0 obj\n<< /Type /StructElem /S /%s /P %s" % (
                node.number, role, b"%d 0 R" % parent.number if parent else root_ref)
            kids: list[bytes] = []
            first_page = None
            for kid in kids_:
                if type(kid) is Node:
                    if kid.number:
                        kids.append(b"%d 0 R" % kid.number)
                    continue
                page, content = kid  # type: ignore[misc]
                if first_page is None:
                    first_page = page
                    out += b" /Pg %s" % page_ref[page]
                if isinstance(content, str):
                    kids.append(b"<< /Type /OBJR /Obj %d 0 R /Pg %s >>" % (number[doc.annotationName(content)][0],
                                                                           page_ref[page]))
                elif page == first_page:
                    kids.append(b"%d" % content)
                else:
                    kids.append(b"<< /Type /MCR /Pg %s /MCID %d >>" % (page_ref[page], content))
            if len(kids) == 1:
                out += b" /K " + kids[0]
            elif kids:
                out += b" /K [ " + b" ".join(kids) + b" ]"
            add(out + extra + b" >>\nendobj\n")
        if not direct(doc):  # reportlab's own file writer: an object each
            objects = [_Formatted(chunk[chunk.index(b"\n") + 1:-8]) for chunk in chunks]
            doc.idToObject[run.__InternalName__] = objects[0]
            register_numbered(doc, objects[1:], first + 1)
        nums = [b"%d [ %s ]" % (index, b" ".join(b"%d 0 R" % n.number for n in self.mcids[index]))
                for index in range(pages)]
        for parent_key, (node, _page, _name, annotation) in enumerate(self.widgets, pages):
            nums.append(b"%d %d 0 R" % (parent_key, node.number))
            annotation["StructParent"] = parent_key
        tree.data = b"<< /Nums [ %s ] >>" % b"\n".join(nums)
        root.data = (b"<< /Type /StructTreeRoot /K %d 0 R /ParentTree %s /ParentTreeNextKey %d >>"
                            % (self.structure.root.number, tree_ref, pages + len(self.widgets)))
        with_widgets = {page for _node, page, _name, _annotation in self.widgets}
        for index, page in enumerate(doc.Pages.pages):
            entries: dict[str, Any] = {"StructParents": index}
            if index in with_widgets:
                entries["Tabs"] = PDFName("S")
            page_entries(page, entries)
        catalog = doc.Catalog
        catalog.StructTreeRoot = root
        catalog.MarkInfo = PDFDictionary({"Marked": "true"})
        catalog.Lang = PDFString(self.structure.lang)
        catalog.ViewerPreferences = PDFDictionary({"DisplayDocTitle": "true"})

    @staticmethod
    def _attributes(node: Node, doc) -> bytes:
        """/Alt, /Lang... and the attribute dictionary /A of the entries its owner defines."""
        out, owned = b"", b""
        for key, value in node.attrs.items():
            if key not in OWNED:
                out += b" /%s %s" % (key.encode(), PDFString(value).format(doc))
            elif isinstance(value, str):
                owned += b" /%s /%s" % (key.encode(), value.encode())
            else:
                owned += b" /%s [ %s ]" % (key.encode(), fp_str(*value).encode())
        return out + (b" /A << /O /%s%s >>" % (node.owner.encode(), owned) if owned else b"")


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
