"""What signing keeps of a tagged, archival PDF (PDF/UA-1, PDF/A), in the incremental update that
holds the signature:

* the stamp is drawn in DejaVu Sans, embedded (:func:`stamp_style`): pyHanko's default is Courier,
  not embedded, which PDF/A and PDF/UA forbid;
* the XMP packet says what the updated Info dictionary says (pyHanko sets the producer and the
  modification date) and keeps the document's PDF/A and PDF/UA identification, written the way
  docgen writes it (:func:`keep_xmp`): pyHanko re-serialises the packet, the PDF/A extension schema
  that declares pdfuaid included, in a shape that validators reject;
* a signature field the signature creates (a document without that role's field) is tagged as the
  renderer tags its own (:func:`tag_new_field`): a Form structure element holding the widget (OBJR),
  its /StructParent in the ParentTree, /TU, /Tabs /S on its page. Only on a document not yet
  signed: later, any change to the structure is a change after the earlier signatures (a new field
  on a signed document is invisible anyway).

Documents from elsewhere (no docgen XMP, no structure tree) are signed as pyHanko would.
"""
from __future__ import annotations

import io
from functools import cache
from importlib import resources

from ..render.xmp import identification, xmp


def stamp_style(stamp_text: str, timestamp_format: str):
    """pyHanko's text stamp in DejaVu Sans (embedded, subset), a thin border."""
    from pyhanko.pdf_utils.text import TextBoxStyle  # noqa: PLC0415
    from pyhanko.stamp import TextStampStyle  # noqa: PLC0415

    font = _font_factory()(str(resources.files("docgen") / "fonts" / "DejaVuSans.ttf"), font_size=10)
    return TextStampStyle(stamp_text=stamp_text, timestamp_format=timestamp_format, border_width=1,
                          text_box_style=TextBoxStyle(font=font))


@cache
def _font_factory():
    """pyHanko's OpenType font engine, mended for fonts whose em is not 1000 units (DejaVu's is 2048):

    * pyHanko writes the glyph widths (/W) in font units where PDF wants thousandths of an em, so
      every width was twice the glyph's (validators: the widths disagree with the embedded font;
      viewers that trust /W space the stamp out). Here HarfBuzz measures in thousandths of an em
      and the widths are scaled the same way, so the text is laid out as before;
    * its ToUnicode CMap writes ranges with arrays, which page-validation reads as malformed (the
      CMap syntax allows them): one code a line instead (``bfchar``)."""
    from pyhanko.pdf_utils import generic  # noqa: PLC0415
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory  # noqa: PLC0415

    class Accumulator(GlyphAccumulator):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.font_units = self.units_per_em
            self.hb_font.scale = (1000, 1000)
            self.units_per_em = 1000

        def _get_cid_and_width(self, glyph_id: int) -> tuple[int, int]:
            found = self._glyphs.get(glyph_id)
            if found is None:  # pyHanko's, in font units, replaced in its memo (which /W is made from)
                cid, width = super()._get_cid_and_width(glyph_id)
                found = self._glyphs[glyph_id] = (cid, round(width * 1000 / self.font_units))
            return found

        def _format_tounicode_cmap(self):
            entries = sorted(self._cid_to_unicode.items())
            lines = []
            for start in range(0, len(entries), 100):
                chunk = entries[start:start + 100]
                lines.append(f"{len(chunk)} beginbfchar")
                lines += [f"<{cid:04X}> <{text.encode('utf-16be').hex().upper()}>" for cid, text in chunk]
                lines.append("endbfchar")
            cmap = ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo <<\n"
                    "/Registry (Adobe)\n/Ordering (UCS2)\n/Supplement 0\n>> def\n/CMapName /Adobe-Identity-UCS2 def\n"
                    "/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
                    + "\n".join(lines) +
                    "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend")
            stream = generic.StreamObject(stream_data=cmap.encode("ascii"))
            stream.compress()
            return stream

    class Factory(GlyphAccumulatorFactory):
        def create_font_engine(self, writer, obj_stream=None):
            with open(self.font_file, "rb") as file:  # read whole: pyHanko's own leaves the file open
                font = io.BytesIO(file.read())
            if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
                obj_stream = writer.prepare_object_stream()
            return Accumulator(writer=writer, font_handle=font, font_size=self.font_size, obj_stream=obj_stream)

    return Factory


def _text(value) -> str:
    return str(value) if value is not None else ""


def keep_xmp(writer) -> None:
    """After pyHanko updates the document's metadata when ``writer`` writes, put back an XMP packet in
    docgen's form, from the updated Info dictionary, with the identification the document had. Only
    for a packet docgen wrote (its CreatorTool reads docgen)."""
    root = writer.root
    if "/Metadata" not in root:
        return
    try:
        before = root["/Metadata"].get_object().data
    except Exception:  # noqa: BLE001 - an unreadable packet is left to pyHanko
        return
    if b"<xmp:CreatorTool>docgen" not in before:
        return
    part, conformance, ua = identification(before)
    lang = _text(root.get("/Lang")) or "en-US"
    update = writer._update_meta  # noqa: SLF001 - where pyHanko writes the metadata

    def update_then_rewrite() -> None:
        update()
        info = writer.trailer["/Info"].get_object() if "/Info" in writer.trailer else {}
        values = {key[1:]: _text(info.get(key)) for key in ("/Title", "/Author", "/Subject", "/Keywords",
                                                             "/Creator", "/Producer", "/CreationDate", "/ModDate")}
        stream = writer.root["/Metadata"].get_object()
        stream._data = xmp(values, lang, part, conformance or "B", ua)  # noqa: SLF001 - no setter in pyHanko
        stream._encoded_data = None  # noqa: SLF001
        stream.pop("/Filter", None)
        stream.pop("/DecodeParms", None)
        writer.update_container(stream)

    writer._update_meta = update_then_rewrite  # noqa: SLF001


def tag_new_field(writer, name: str, description: str) -> None:
    """Tag the signature field ``name`` just added to ``writer``: a Form element (its /Alt
    ``description``) under the document's top element, holding the widget; the widget's /TU and
    /StructParent; /Tabs /S on its page. Nothing for a document without a structure tree."""
    from pyhanko.pdf_utils import generic  # noqa: PLC0415

    root = writer.root
    if "/StructTreeRoot" not in root:
        return
    widget_ref = next((ref for ref in root["/AcroForm"]["/Fields"]
                       if _text(ref.get_object().get("/T")) == name), None)
    if widget_ref is None:
        return
    widget = widget_ref.get_object()
    page_ref = widget.raw_get("/P") if "/P" in widget else None
    tree_ref = root.raw_get("/StructTreeRoot")
    tree = tree_ref.get_object()
    top_ref = tree.raw_get("/K")
    if isinstance(top_ref, generic.ArrayObject):
        top_ref = top_ref[0]
    top = top_ref.get_object()
    parent_tree = tree["/ParentTree"]
    nums = parent_tree["/Nums"]
    key = int(tree.get("/ParentTreeNextKey", 0))
    key = max([key] + [int(nums.raw_get(i)) + 1 for i in range(0, len(nums), 2)])
    objr = generic.DictionaryObject({generic.pdf_name("/Type"): generic.pdf_name("/OBJR"),
                                     generic.pdf_name("/Obj"): widget_ref})
    form = generic.DictionaryObject({generic.pdf_name("/Type"): generic.pdf_name("/StructElem"),
                                     generic.pdf_name("/S"): generic.pdf_name("/Form"),
                                     generic.pdf_name("/P"): top_ref, generic.pdf_name("/K"): objr,
                                     generic.pdf_name("/Alt"): generic.TextStringObject(description)})
    if page_ref is not None:
        objr[generic.pdf_name("/Pg")] = page_ref
        form[generic.pdf_name("/Pg")] = page_ref
    form_ref = writer.add_object(form)
    kids = top.get("/K")
    if kids is None:
        top[generic.pdf_name("/K")] = form_ref
    elif isinstance(kids, generic.ArrayObject):
        kids.append(form_ref)
    else:
        top[generic.pdf_name("/K")] = generic.ArrayObject([top.raw_get("/K"), form_ref])
    writer.update_container(top)
    nums.extend([generic.NumberObject(key), form_ref])
    writer.update_container(parent_tree)
    tree[generic.pdf_name("/ParentTreeNextKey")] = generic.NumberObject(key + 1)
    writer.update_container(tree)
    widget[generic.pdf_name("/StructParent")] = generic.NumberObject(key)
    widget[generic.pdf_name("/TU")] = generic.TextStringObject(description)
    writer.update_container(widget)
    if page_ref is not None:
        page = page_ref.get_object()
        page[generic.pdf_name("/Tabs")] = generic.pdf_name("/S")
        writer.update_container(page)


def name_new_field(writer, name: str, description: str) -> None:
    """The invisible signature field ``name`` just added to a signed document, named for readers
    (/TU). It is not tagged: a change to the structure tree after a signature would count against
    that signature (pyHanko's difference analysis: modified after signing, level OTHER), and it is
    not hidden (PDF/A wants every annotation printable). PDF/UA validators report it as a widget
    outside a Form element (README, "Accessible and archival PDFs")."""
    from pyhanko.pdf_utils import generic  # noqa: PLC0415

    widget = next((ref.get_object() for ref in writer.root["/AcroForm"]["/Fields"]
                   if _text(ref.get_object().get("/T")) == name), None)
    if widget is not None:
        widget[generic.pdf_name("/TU")] = generic.TextStringObject(description)
