"""The PDF's fonts: DejaVu Sans (regular, bold, oblique), the script fonts (Noto Sans Arabic, Hebrew,
Devanagari, Thai and KR, Noto Emoji) and Droid Sans Fallback, registered with reportlab on first
need, each file parsed once and kept parsed in the cache folder (:meth:`_Font.parsed_once`);
subsets, their width arrays and their PDF objects built once (:class:`_Font`); the glyphs a shaper chose that no
character maps to, with the text they stand for in the text layer (:meth:`_Font.glyph_char`); and a
line's runs by font (:func:`runs`)."""
from __future__ import annotations

import unicodedata
from bisect import bisect_right
from fnmatch import fnmatch
from functools import cache, lru_cache
from importlib import resources
from weakref import WeakKeyDictionary

from reportlab import rl_config
from reportlab.pdfbase import pdfdoc, pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTEncoding, TTFont, TTFontFace

from . import reportlab_patches
from .reportlab_patches import _Formatted

FONT, BOLD, ITALIC = "DocgenSans", "DocgenSans-Bold", "DocgenSans-Oblique"
#: Chinese and Japanese (and more) for characters DejaVu Sans lacks: Droid Sans Fallback, Apache-2.0.
FALLBACK = "DocgenFallback"
#: A script's characters are drawn in its own font (SIL OFL 1.1), loaded on first need: regular and
#: bold files (one file serves both where there is no bold).
SCRIPT_FILES: dict[str, tuple[str, str]] = {
    "arabic": ("NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
    "hebrew": ("NotoSansHebrew-Regular.ttf", "NotoSansHebrew-Bold.ttf"),
    "devanagari": ("NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf"),
    "thai": ("NotoSansThai-Regular.ttf", "NotoSansThai-Bold.ttf"),
    "hangul": ("NotoSansKR-Hangul.ttf", "NotoSansKR-Hangul.ttf"),
    "emoji": ("NotoEmoji-Regular.ttf", "NotoEmoji-Regular.ttf"),
}
# (first, last, script) by first code point. Emoji in the symbol blocks U+2600-27BF stay with DejaVu
# Sans (text presentation) unless VARIATION SELECTOR-16 asks for the emoji.
_RANGES = sorted([
    (0x0590, 0x05FF, "hebrew"), (0xFB1D, 0xFB4F, "hebrew"),
    (0x0600, 0x06FF, "arabic"), (0x0750, 0x077F, "arabic"), (0x0870, 0x08FF, "arabic"),
    (0xFB50, 0xFDFF, "arabic"), (0xFE70, 0xFEFE, "arabic"),
    (0x0900, 0x097F, "devanagari"), (0x1CD0, 0x1CFF, "devanagari"), (0xA8E0, 0xA8FF, "devanagari"),
    (0x0E00, 0x0E7F, "thai"),
    (0x1100, 0x11FF, "hangul"), (0x3130, 0x318F, "hangul"), (0x3200, 0x321F, "hangul"), (0x3260, 0x327F, "hangul"),
    (0xA960, 0xA97F, "hangul"), (0xAC00, 0xD7FF, "hangul"),
    (0x1F000, 0x1FAFF, "emoji"),
])
_STARTS = [r[0] for r in _RANGES]
#: Characters that belong with the one before them: marks, joiners, variation selectors, emoji
#: modifiers and tags (a shaper needs them in the same run as their base).
_JOINERS = frozenset("\u200c\u200d\u034f\u20e3")
VS16 = "\ufe0f"
_COVERAGE: dict[str, frozenset[int]] = {}


_WIDTHS: dict[tuple, _Formatted] = {}  # oldest first
#: Shaped glyphs no character maps to are given code points here (plane 16, private use, never in
#: these fonts' cmaps and never typed in a record) so reportlab's subsetting can carry them.
_PRIVATE = 0x100000


class _Font(TTFont):
    """A TrueType font whose subsets' width arrays are formatted once per process: a subset's
    widths depend only on its characters, and formatting hundreds of numbers into every PDF was a
    tenth of a note's rendering. The bytes are the same as reportlab writes.

    Shaped text (:mod:`.shaping`) uses glyphs no character maps to (an Arabic letter's joined
    forms, a Devanagari conjunct): :meth:`glyph_char` gives each (glyph, text) pair a private code
    point, and the subsets' ToUnicode maps carry the text it stands for, so the text layer reads
    the letters as typed."""

    @classmethod
    def parsed_once(cls, name: str, path: str) -> _Font:
        """The font of the file ``path``, its tables parsed once per font file (and reportlab version)
        and kept in docgen's cache folder (:mod:`docgen.cache`: sealed, and a damaged, edited or
        planted entry is parsed again, never trusted): a fresh process reads the parsed metrics instead
        of parsing the file (about 20 ms a face). The entry is named by the file's SHA-256, so another
        file at that path is parsed anew."""
        import hashlib  # noqa: PLC0415
        import marshal  # noqa: PLC0415

        from reportlab import Version  # noqa: PLC0415

        from ... import cache  # noqa: PLC0415

        with open(path, "rb") as source:
            data = source.read()
        entry = f"font-{hashlib.sha256(data).hexdigest()[:40]}-rl{Version}-{_FACE_FORMAT}.marshal"
        payload = cache.load(entry)
        try:
            values = _read_face_values(payload) if payload is not None else None
        except Exception:  # noqa: BLE001 - sealed by docgen, but not what this docgen reads: parse again
            values = None
        if values is None:
            payload = marshal.dumps(_face_values(TTFontFace(path)))
            cache.store(entry, payload)
            values = _read_face_values(payload)  # as a later process reads it
        font = cls.__new__(cls)
        face = font.face = TTFontFace.__new__(TTFontFace)
        face.__dict__.update(values)
        face._ttf_data, face.filename = data, path  # noqa: SLF001 - what TTFontFace.__init__ sets
        scale = 1000 / face.unitsPerEm
        face._pdfScale = (lambda x: x) if face.unitsPerEm == 1000 else (lambda x: x * scale)  # noqa: SLF001
        # the rest of TTFont.__init__, which would parse the file again
        font.fontName, font.encoding, font.state = name, TTEncoding(), WeakKeyDictionary()
        font._asciiReadable = rl_config.ttfAsciiReadable  # noqa: SLF001
        font.shapable = not any(fnmatch(name, glob) for glob in ttfonts.unShapedFontGlob)
        return font

    def glyph_char(self, glyph: int, text: str) -> str:
        """The character to draw ``glyph`` with, standing for ``text`` in the text layer: the glyph's
        own character when ``text`` is that character, else a private code point for the pair."""
        face = self.face
        if len(text) == 1 and face.charToGlyph.get(ord(text)) == glyph:
            return text
        private = self.__dict__.setdefault("docgen_private", {})
        code = private.get((glyph, text))
        if code is None:
            code = private[(glyph, text)] = _PRIVATE + len(private)
            self.__dict__.setdefault("docgen_text", {})[code] = text
            face.charToGlyph[code] = glyph
            face.charWidths[code] = face.hmetrics[glyph][0] * 1000.0 / face.unitsPerEm
        return chr(code)

    def addObjects(self, doc) -> None:
        if self._registered_once(doc):
            return
        fonts = doc.idToObject["BasicFonts"].dict
        before = set(fonts)
        state = self.state.get(doc)
        subsets = list(state.subsets) if state is not None else []
        super().addObjects(doc)
        texts = self.__dict__.get("docgen_text", {})
        for name in fonts.keys() - before:
            widths = fonts[name].Widths
            key = (rl_config.pdfMultiLine, *widths.sequence)
            found = _WIDTHS.get(key)
            if found is None:
                found = _WIDTHS[key] = _Formatted(widths.format(doc))
                while len(_WIDTHS) > 256:
                    _WIDTHS.pop(next(iter(_WIDTHS)))
            fonts[name].Widths = found
            subset: list[int] = subsets[int(name.rsplit("+", 1)[1])] if subsets else []
            if max(subset, default=0) > 0xFFFF:  # shaped glyphs, emoji, rare CJK: their own ToUnicode
                stream = doc.idToObject[fonts[name].ToUnicode.name]
                stream.content = _to_unicode(str(fonts[name].BaseFont), subset, texts)
            if subsets and reportlab_patches.FAST_PATHS and type(doc.encrypt) is pdfdoc.NoEncryption:
                self._formatted_once(doc, fonts[name], subset)

    def _formatted_once(self, doc, font, subset: list[int]) -> None:
        """The subset's font dictionary, font descriptor, ToUnicode CMap and font file, in the bytes
        reportlab formats them into, formatted once per process (:class:`_Formatted`): each depends
        only on the subset, its names and the file syntax in effect, but for the numbers of the
        objects they refer to, which are put in each time."""
        objects, number = doc.idToObject, doc.idToObjectNumberAndVersion
        descriptor_name = font.FontDescriptor.name
        descriptor = objects[descriptor_name]
        file_name = descriptor.dict["FontFile2"].name
        key = self._objects_key(doc, font.Name, str(font.BaseFont), subset)
        to_unicode = objects[font.ToUnicode.name]
        found = _OBJECTS.get(key)
        if found is None or found[0] != to_unicode.content:
            refs = {name: b"%d 0 R" % number[name][0] for name in (font.ToUnicode.name, descriptor_name, file_name)}
            found = (to_unicode.content, _pieces(pdfdoc.format(font, doc, toplevel=1), refs),
                     _pieces(pdfdoc.format(descriptor, doc, toplevel=1), refs),
                     _stream(pdfdoc.format(to_unicode, doc, toplevel=1)),
                     _stream(pdfdoc.format(objects[file_name], doc, toplevel=1)))
            if found[1] is None or found[2] is None:
                return
            _OBJECTS[key] = found
            while len(_OBJECTS) > 256:
                _OBJECTS.pop(next(iter(_OBJECTS)))
        _, font_pieces, descriptor_pieces, cmap, data = found
        objects[font.__InternalName__] = _Formatted(_joined(font_pieces, number))
        objects[descriptor_name] = _Formatted(_joined(descriptor_pieces, number))
        objects[font.ToUnicode.name] = cmap
        objects[file_name] = data


    def _objects_key(self, doc, internal: str, base: str, subset) -> tuple:
        """What a subset's formatted objects depend on: the font file, the subset's names and
        characters, and the file syntax in effect (compression, zlib level, reportlab's formatting)."""
        syntax = (doc.compression, rl_config.useA85, rl_config.pdfMultiLine, pdfdoc.PDFStream.format,
                  pdfdoc.PDFDictionary.format, getattr(pdfdoc.zlib, "level", None), type(pdfdoc.zlib))
        return (self.face.filename, internal, base, tuple(subset), syntax)

    def _registered_once(self, doc) -> bool:
        """reportlab's ``addObjects`` when every subset of the font in ``doc`` has had its objects
        formatted before (:meth:`_formatted_once`): the same objects registered under the same names in
        the same order (ToUnicode, font file, descriptor, font), each the bytes formatted before, without
        building the subset's widths, CMap, file and dictionaries again. False, with nothing done,
        otherwise (then reportlab's steps run)."""
        state = self.state.get(doc)
        if state is None or not state.subsets or not reportlab_patches.FAST_PATHS or \
                type(doc.encrypt) is not pdfdoc.NoEncryption:
            return False
        face = self.face
        known = []
        bases = self.__dict__.setdefault("docgen_bases", {})  # subset index -> its base font name
        for n, subset in enumerate(state.subsets):
            if max(subset, default=0) > 0xFFFF:  # its own ToUnicode (see addObjects)
                return False
            internal = self.getSubsetInternalName(n, doc)[1:]
            base = bases.get(n)
            if base is None:  # as reportlab names it
                base = bases[n] = b"".join((ttfonts.SUBSETN(n), b"+", face.name, face.subfontNameX)).decode("pdfdoc")
            found = _OBJECTS.get(self._objects_key(doc, internal, base, subset))
            if found is None:
                return False
            known.append((internal, base, found))
        state.frozen = 1
        objects, number = doc.idToObject, doc.idToObjectNumberAndVersion
        fonts = objects["BasicFonts"].dict
        for internal, base, (_, font_pieces, descriptor_pieces, cmap, data) in known:
            to_unicode, file_name, descriptor = (f"toUnicodeCMap:{base}", f"fontFile:{face.filename}({base})",
                                                 f"fontDescriptor:{base}")
            for name in (to_unicode, file_name, descriptor):  # as reportlab registers them
                doc.Reference(_Formatted(b""), name)
            font = pdfdoc.PDFTrueTypeFont()  # in the fonts' dictionary: written as a reference to it
            doc.Reference(font, internal)
            fonts[internal] = font
            objects[internal] = _Formatted(_joined(font_pieces, number))
            objects[descriptor] = _Formatted(_joined(descriptor_pieces, number))
            objects[to_unicode] = cmap
            objects[file_name] = data
        del self.state[doc]
        return True


#: Formatted font objects by font file, subset and file syntax (oldest first): see :meth:`_Font._formatted_once`.
_OBJECTS: dict[tuple, tuple] = {}


def _pieces(data: bytes, refs: dict[str, bytes]) -> tuple[bytes, tuple[str, ...]] | None:
    """``data`` with the references ``refs`` (object name -> its reference's bytes) it holds once
    each made a template (``%d 0 R`` in their place, any other ``%`` doubled), and the names referred
    to, in order; None when a reference is not found exactly once (not cached then)."""
    spots = []
    for name, ref in refs.items():
        at = data.find(b" " + ref)
        if at >= 0:
            if data.find(b" " + ref, at + 1) >= 0:
                return None
            spots.append((at + 1, name, len(ref)))
    template, names = [], []
    start = 0
    for at, name, length in sorted(spots):
        template += [data[start:at].replace(b"%", b"%%"), b"%d 0 R"]
        names.append(name)
        start = at + length
    template.append(data[start:].replace(b"%", b"%%"))
    return b"".join(template), tuple(names)


def _joined(pieces: tuple[bytes, tuple[str, ...]], number: dict) -> bytes:
    """The bytes of a template of :func:`_pieces` with the numbers the names have in this document."""
    template, names = pieces
    return template % tuple(number[name][0] for name in names)


def _stream(data: bytes) -> _Formatted:
    """A formatted stream as an indirect object's content (:func:`._format_indirect` adds the line
    break reportlab adds when the stream's bytes do not end with one)."""
    return _Formatted(data[:-1] if data.endswith(b"\n") else data)


#: The shape of a parsed face's cache entry: change it when :func:`_face_values` changes.
_FACE_FORMAT = 4
_NAME = "docgen:TTFNameBytes"
#: What a parsed face must hold, and of which type (checked when read back from the cache).
_FACE_TYPES: dict[str, type | tuple[type, ...]] = {
    "charToGlyph": dict, "charWidths": dict, "hmetrics": list, "glyphPos": list, "table": dict, "tables": list,
    "unitsPerEm": int, "numGlyphs": int, "defaultWidth": (int, float), "ascent": (int, float),
    "descent": (int, float), "capHeight": (int, float), "bbox": list, "flags": int, "stemV": (int, float),
    "italicAngle": (int, float), "name": bytes, "subfontNameX": bytes}


def _face_values(face: TTFontFace) -> dict:
    """A parsed face's attributes as plain data (marshal's types): its tables and metrics, without
    the file's bytes, the path and the scaling function (put back when read)."""
    out: dict = {}
    for key, value in vars(face).items():
        if key in ("_ttf_data", "_pdfScale", "filename", "makeSubset", "docgen_subsets"):
            continue
        out[key] = (_NAME, bytes(value), value.ustr) if isinstance(value, ttfonts.TTFNameBytes) else value
    # glyphToChar is made again from charToGlyph when read, with what differs (U+00A0): read back as it
    # is, its lists took most of the time to read the entry
    parsed, made = out.pop("glyphToChar"), _glyph_to_char(out["charToGlyph"], ({}, []))
    patch = ({k: v for k, v in parsed.items() if made.get(k) != v}, [k for k in made if k not in parsed])
    if _glyph_to_char(out["charToGlyph"], patch) == parsed:
        out["glyphToCharPatch"] = patch
    else:
        out["glyphToChar"] = parsed
    return out


def _glyph_to_char(char_to_glyph: dict[int, int], patch: tuple[dict, list]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for char, glyph in char_to_glyph.items():
        out.setdefault(glyph, []).append(char)
    out.update(patch[0])
    for glyph in patch[1]:
        del out[glyph]
    return out


def _read_face_values(payload: bytes) -> dict:
    """The values :func:`_face_values` stored; raises for any other shape (the entry is then parsed
    again, see :func:`docgen.cache.cached`)."""
    import marshal  # noqa: PLC0415

    values = marshal.loads(payload)  # noqa: S302 - sealed by docgen (HMAC checked), plain data only
    if type(values) is not dict or not all(type(k) is str for k in values):
        raise ValueError("not a parsed face")
    for key, value in values.items():
        if type(value) is tuple and value and value[0] == _NAME:
            if len(value) != 3 or type(value[1]) is not bytes or type(value[2]) is not str:
                raise ValueError("not a parsed face")
            values[key] = _name_bytes(value[1], value[2])
        elif key not in _TABLES and not _plain(value, 2):
            raise ValueError("not a parsed face")
    if any(not isinstance(values.get(k), t) for k, t in _FACE_TYPES.items()):
        raise ValueError("not a parsed face")
    glyphs, widths, metrics = values["charToGlyph"], values["charWidths"], values["hmetrics"]
    if not (set(map(type, glyphs)) | set(map(type, glyphs.values())) | set(map(type, widths)) <= {int}
            and set(map(type, widths.values())) <= {float, int} and set(map(type, values["glyphPos"])) <= {int}
            and set(map(type, metrics)) <= {tuple} and set(map(len, metrics)) <= {2}):
        raise ValueError("not a parsed face")
    patch = values.pop("glyphToCharPatch", None)
    if patch is not None:
        if not (type(patch) is tuple and len(patch) == 2 and type(patch[0]) is dict and type(patch[1]) is list
                and _plain(patch, 3)):
            raise ValueError("not a parsed face")
        values["glyphToChar"] = _glyph_to_char(glyphs, patch)
    if type(values.get("glyphToChar")) is not dict or (patch is None and not _plain(values["glyphToChar"], 2)):
        raise ValueError("not a parsed face")
    return values


#: The big tables of a parsed face, whose items are checked by type in one pass each.
_TABLES = frozenset({"charToGlyph", "charWidths", "hmetrics", "glyphPos", "glyphToChar", "glyphToCharPatch"})


def _plain(value, depth: int) -> bool:
    """Whether ``value`` is plain data (numbers, strings, bytes; lists, tuples and dicts of them),
    looked into ``depth`` levels (the big tables are checked by type above)."""
    if value is None or type(value) in (int, float, str, bytes, bool):
        return True
    if type(value) in (list, tuple):
        return depth == 0 or all(_plain(v, depth - 1) for v in value)
    if type(value) is dict:
        return depth == 0 or all(_plain(k, 0) and _plain(v, depth - 1) for k, v in value.items())
    return False


def _name_bytes(data: bytes, text: str) -> bytes:
    value = ttfonts.TTFNameBytes(data)
    value.ustr = text  # as parsed (the bytes were decoded with the name table's encoding)
    return value


def _to_unicode(name: str, subset: list[int], texts: dict[int, str]) -> str:
    """reportlab's ToUnicode CMap, with a private code's text (several characters, or none) in
    place of the code point: what a reader extracts for a shaped glyph; and characters beyond
    U+FFFF as UTF-16 surrogate pairs (reportlab writes their code point's hex digits)."""
    def target(code: int) -> str:
        text = texts.get(code, chr(code)).replace("\ufeff", "\u2060").replace("\ufffe", "\u2060")
        text = text.replace("\x00", "") or "\u2060"
        return "".join(f"{b:02X}" for b in text.encode("utf-16-be"))

    # PDF/A and PDF/UA want every drawn glyph mapped, and never to nothing, U+0000, U+FEFF or U+FFFE: a
    # glyph that stands for no letter (a shaper's extra glyph: its letters went to another glyph of the
    # cluster, and an ActualText span gives the cluster's text) maps to U+2060, the word joiner, which
    # is invisible and ignored where text is compared
    pairs = [f"<{i:02X}> <{target(code)}>" for i, code in enumerate(subset)]
    return "\n".join([
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
        f"/CIDSystemInfo\n<< /Registry ({name})\n/Ordering ({name})\n/Supplement 0\n>> def",
        f"/CMapName /{name} def", "/CMapType 2 def",
        "1 begincodespacerange", f"<00> <{len(subset) - 1:02X}>", "endcodespacerange",
        *(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar"
          for chunk in (pairs[i:i + 100] for i in range(0, len(pairs), 100)) if chunk),
        "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"])


def _register(name: str, file: str) -> None:
    font = _Font.parsed_once(name, str(resources.files("docgen") / "fonts" / file))
    _remember_subsets(font.face)
    pdfmetrics.registerFont(font)
    _COVERAGE[name] = frozenset(font.face.charToGlyph)
    _SIMPLE.pop(name, None)


def _remember_subsets(face) -> None:
    """Subsetting a font is a pure function of the characters in the subset. reportlab puts ASCII at
    fixed codes of the first subset, so documents in the same language and template often embed the
    very same subset: build each distinct one once per process (its bytes are the same either way)."""
    original = face.makeSubset
    built = face.docgen_subsets = lru_cache(maxsize=64)(lambda key: original(list(key)))
    face.makeSubset = lambda subset: built(tuple(subset))


@cache
def register_fonts() -> None:
    for name, file in ((FONT, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf")):
        _register(name, file)
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=ITALIC, boldItalic=BOLD)


@cache
def _italic() -> None:
    """The oblique face, loaded on first need (quotes in the person's own words)."""
    _register(ITALIC, "DejaVuSans-Oblique.ttf")


@cache
def _fallback() -> frozenset[int]:
    """The fallback font, loaded on first need (4 MB: most records never need it)."""
    _register(FALLBACK, "DroidSansFallbackFull.ttf")
    return _COVERAGE[FALLBACK]


def script_font(script: str, bold: bool) -> str:
    """The registered name of ``script``'s font (loaded on first need)."""
    return _script_font(script, bold and SCRIPT_FILES[script][1] != SCRIPT_FILES[script][0])


@cache
def _script_font(script: str, bold: bool) -> str:
    name = f"Docgen{script.title()}{'-Bold' if bold else ''}"
    _register(name, SCRIPT_FILES[script][bold])
    SCRIPT_FONTS[name] = script
    return name


def script_of(char: str) -> str | None:
    """The script whose own font draws ``char``, if any."""
    code = ord(char)
    if code < 0x0590:
        return None
    i = bisect_right(_STARTS, code) - 1
    return _RANGES[i][2] if i >= 0 and code <= _RANGES[i][1] else None


#: The script fonts whose runs a shaper lays out (see :mod:`.shaping`), by registered name.
SCRIPT_FONTS: dict[str, str] = {}


def needs_fallback(text: str, font: str) -> bool:
    """Whether ``text`` needs any font but ``font``: characters it lacks, or a script of their own."""
    if text.isascii():
        return False
    simple = _SIMPLE.get(font)
    if simple is None:
        simple = _SIMPLE[font] = _drawn_alone(font)
    if simple.issuperset(map(ord, text)):
        return False
    covered = _COVERAGE[font]
    return any(ord(c) not in covered or (ord(c) >= 0x0590 and script_of(c)) or c == VS16
               for c in set(text) if c not in "\n\t")


_SIMPLE: dict[str, frozenset[int]] = {}  # font -> the characters it draws alone (see _drawn_alone)


def _drawn_alone(font: str) -> frozenset[int]:
    """The characters :func:`needs_fallback` finds ``font`` draws by itself: those it has that have
    no script font of their own, but VARIATION SELECTOR-16, and line feed and tab (never drawn)."""
    return frozenset(code for code in _COVERAGE[font] if (code < 0x0590 or not script_of(chr(code)))
                     and chr(code) != VS16) | {ord("\n"), ord("\t")}


def _joins(char: str) -> bool:
    return char in _JOINERS or unicodedata.category(char) in ("Mn", "Me") or 0xE0020 <= ord(char) <= 0xE007F


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """``text`` as (font, chunk) runs, in the order typed: each script's characters in its own font,
    other characters ``font`` lacks in the fallback font where it has them (reportlab has no
    per-glyph fallback of its own). Spaces (but after emoji), marks, joiners and the punctuation a
    script font has stay in the run before them."""
    if not needs_fallback(text, font):
        return [(font, text)]
    covered, bold = _COVERAGE[font], font == BOLD
    spare: frozenset[int] | None = None
    out: list[tuple[str, str]] = []
    last = len(text) - 1
    for i, char in enumerate(text):
        code = ord(char)
        if out and ((char.isspace() and SCRIPT_FONTS.get(out[-1][0]) != "emoji") or (code >= 0x300 and _joins(char))):
            out[-1] = (out[-1][0], out[-1][1] + char)  # with the run before: fewer switches (emoji spaces are wide)
            continue
        script = script_of(char) if code >= 0x0590 else None
        if script is None and i < last and text[i + 1] == VS16 and code >= 0x2000:
            script = "emoji"
        use = font
        if script is not None:
            name = script_font(script, bold)
            if code in _COVERAGE[name]:
                use = name
        elif code not in covered:
            if out and out[-1][0] in SCRIPT_FONTS and code in _COVERAGE[out[-1][0]] and \
                    unicodedata.category(char)[0] in "PSZ":
                use = out[-1][0]
            else:
                spare = _fallback() if spare is None else spare
                if code in spare:
                    use = FALLBACK
                else:
                    emoji = script_font("emoji", False)
                    use = emoji if code in _COVERAGE[emoji] else font
        elif out and out[-1][0] in SCRIPT_FONTS and SCRIPT_FONTS[out[-1][0]] != "emoji" and \
                code in _COVERAGE[out[-1][0]] and unicodedata.category(char)[0] in "PZ":
            use = out[-1][0]  # punctuation inside a script's text: the script font's own, mirrored with it
        if out and out[-1][0] == use:
            out[-1] = (use, out[-1][1] + char)
        else:
            out.append((use, char))
    return out
