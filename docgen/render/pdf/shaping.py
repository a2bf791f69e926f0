"""Scripts that need more than one glyph per character, in their order: right-to-left text put in
display order (:func:`levels`, :func:`visual`: the Unicode Bidirectional Algorithm, enough of it
for typed text), runs shaped with HarfBuzz where a script needs it (:func:`run_width`,
:func:`shaped`: Arabic joining, Devanagari conjuncts, Thai and Hebrew marks, emoji sequences),
and one line drawn into a page's text object (:func:`draw_line`): right-aligned in its room when
its paragraph is right to left, and read back as typed (an ActualText span carries the line in
logical order; the shaped glyphs' ToUnicode maps carry their letters, see :class:`.fonts._Font`).

Latin, Greek, Cyrillic, Chinese, Japanese and Korean syllables are drawn a glyph per character as
before: only runs that need it are shaped, and uharfbuzz is imported on the first such run.

Bidi: explicit embeddings, overrides and isolates (U+202A-202E, U+2066-2069) are not applied (their
characters are neutral), nor is bracket pairing (rule N0); marks (LRM, RLM, ALM) are.
"""
from __future__ import annotations

import unicodedata
from functools import cache, lru_cache
from typing import Any

from reportlab.pdfbase import pdfmetrics

from .fonts import SCRIPT_FONTS, needs_fallback, runs

#: Characters whose presence means a line may need reordering (strong right-to-left, Arabic digits).
_RTL_TYPES = frozenset(("R", "AL", "AN", "RLE", "RLO", "RLI"))
_EMOJI_SEQUENCE = frozenset("\u200d\ufe0f\u20e3")


class Line(str):
    """A line of a right-to-left paragraph, broken to ``room`` points: drawn right-aligned in it."""

    rtl = True
    room: float | None = None


def rtl_line(text: str, room: float | None) -> Line:
    line = Line(text)
    line.room = room
    return line


def _has_rtl(text: str) -> bool:
    return not text.isascii() and any(unicodedata.bidirectional(c) in _RTL_TYPES for c in set(text))


# --- the bidirectional algorithm ------------------------------------------------------------------
def levels(text: str, rtl: bool) -> list[int]:
    """The embedding level of each character of one line (UAX #9 W1-W7, N1-N2, I1-I2, L1), in a
    paragraph of base direction ``rtl``."""
    base = 1 if rtl else 0
    sos = "R" if rtl else "L"
    types = [unicodedata.bidirectional(c) for c in text]
    types = ["ON" if t in ("LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI", "BN") else t
             for t in types]
    prev = sos
    for i, t in enumerate(types):  # W1: a mark takes the type of what it marks
        if t == "NSM":
            types[i] = prev
        else:
            prev = t
    strong = sos
    for i, t in enumerate(types):  # W2, W3
        if t in ("L", "R", "AL"):
            strong = t
            if t == "AL":
                types[i] = "R"
        elif t == "EN" and strong == "AL":
            types[i] = "AN"
    n = len(types)
    for i in range(1, n - 1):  # W4
        if types[i] == "ES" and types[i - 1] == types[i + 1] == "EN":
            types[i] = "EN"
        elif types[i] == "CS" and types[i - 1] == types[i + 1] and types[i - 1] in ("EN", "AN"):
            types[i] = types[i - 1]
    i = 0
    while i < n:  # W5: terminators next to European numbers
        if types[i] == "ET":
            j = i
            while j < n and types[j] == "ET":
                j += 1
            if (i > 0 and types[i - 1] == "EN") or (j < n and types[j] == "EN"):
                types[i:j] = ["EN"] * (j - i)
            i = j
        else:
            i += 1
    types = ["ON" if t in ("ES", "ET", "CS") else t for t in types]  # W6
    strong = sos
    for i, t in enumerate(types):  # W7
        if t in ("L", "R"):
            strong = t
        elif t == "EN" and strong == "L":
            types[i] = "L"
    _brackets(text, types, sos)
    i = 0
    while i < n:  # N1, N2: neutrals between two of one direction take it, else the paragraph's
        if types[i] in ("B", "S", "WS", "ON"):
            j = i
            while j < n and types[j] in ("B", "S", "WS", "ON"):
                j += 1
            before = sos if i == 0 else ("R" if types[i - 1] in ("R", "EN", "AN") else "L")
            after = sos if j == n else ("R" if types[j] in ("R", "EN", "AN") else "L")
            types[i:j] = [before if before == after else sos] * (j - i)
            i = j
        else:
            i += 1
    out = []
    for t in types:  # I1, I2
        if base == 0:
            out.append(0 if t == "L" else 1 if t == "R" else 2)
        else:
            out.append(2 if t in ("L", "EN", "AN") else 1)
    i = n  # L1: whitespace at the end of the line and before tabs at the paragraph's level
    while i > 0 and text[i - 1].isspace():
        i -= 1
        out[i] = base
    for k, char in enumerate(text):
        if char == "\t":
            out[k] = base
            j = k
            while j > 0 and text[j - 1] in " \u00a0":
                j -= 1
                out[j] = base
    return out


_OPENING = {"(": ")", "[": "]", "{": "}", "\u00ab": "\u00bb", "\u2039": "\u203a", "\u2045": "\u2046",
            "\u207d": "\u207e", "\u208d": "\u208e", "\u2329": "\u232a", "\u3008": "\u3009", "\u300a": "\u300b",
            "\u300c": "\u300d", "\u300e": "\u300f", "\u3010": "\u3011", "\uff08": "\uff09", "\uff3b": "\uff3d"}
_CLOSING = frozenset(_OPENING.values())


def _brackets(text: str, types: list[str], sos: str) -> None:
    """N0: a pair of brackets takes the direction of what it encloses, or of what precedes it."""
    pairs: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    for i, char in enumerate(text):
        if types[i] != "ON":
            continue
        if char in _OPENING:
            if len(stack) == 63:
                break
            stack.append((_OPENING[char], i))
        elif char in _CLOSING:
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == char:
                    pairs.append((stack[depth][1], i))
                    del stack[depth:]
                    break
    embedding = sos

    def strong(t: str) -> str | None:
        return "L" if t == "L" else "R" if t in ("R", "EN", "AN") else None

    for open_, close in sorted(pairs):
        inside = {strong(types[k]) for k in range(open_ + 1, close)} - {None}
        if not inside:
            continue
        if embedding in inside:
            direction = embedding
        else:
            direction = next((found for k in range(open_ - 1, -1, -1) if (found := strong(types[k]))), sos)
        types[open_] = types[close] = direction
        for bracket in (open_, close):  # marks on a bracket follow it
            k = bracket + 1
            while k < len(text) and unicodedata.bidirectional(text[k]) == "NSM":
                types[k] = direction
                k += 1


def _reorder(lv: list[int]) -> list[int]:
    """L2: the order in which items at these levels are displayed, left to right."""
    order = list(range(len(lv)))
    if not lv:
        return order
    high = max(lv)
    low = min((x for x in lv if x % 2), default=high + 1)
    for level in range(high, low - 1, -1):
        i = 0
        while i < len(order):
            if lv[order[i]] >= level:
                j = i
                while j < len(order) and lv[order[j]] >= level:
                    j += 1
                order[i:j] = order[i:j][::-1]
                i = j
            else:
                i += 1
    return order


# --- shaping --------------------------------------------------------------------------------------
@cache
def _hb_font(font: str) -> Any:
    import uharfbuzz  # noqa: PLC0415 - only documents with text to shape load HarfBuzz

    return uharfbuzz.Font(uharfbuzz.Face(uharfbuzz.Blob(pdfmetrics.getFont(font).face._ttf_data)))  # noqa: SLF001


@cache
def _blank(font: str) -> int:
    """An empty glyph of no advance in ``font`` (a joiner's, else the first such glyph)."""
    face = pdfmetrics.getFont(font).face
    empty = [g for g in range(len(face.hmetrics)) if face.hmetrics[g][0] == 0 and
             face.glyphPos[g + 1] == face.glyphPos[g]]
    for code in (0x200D, 0x200C, 0x200B, 0x2060, 0xFEFF):
        if face.charToGlyph.get(code) in empty:
            return int(face.charToGlyph[code])
    return empty[0] if empty else int(face.charToGlyph.get(32, 0))


def needs_shaping(chunk: str, font: str) -> bool:
    """Whether a run of ``font`` needs a shaper: joining scripts, marks, conjuncts, sequences."""
    script = SCRIPT_FONTS.get(font)
    if script is None or chunk.isascii():
        return False
    if script in ("arabic", "devanagari", "thai"):
        return True
    if script == "hebrew":
        return any(unicodedata.category(c) == "Mn" for c in chunk)
    if script == "hangul":
        return any(not 0xAC00 <= ord(c) <= 0xD7A3 and not c.isspace() for c in chunk)
    return any(c in _EMOJI_SEQUENCE or 0x1F1E6 <= ord(c) <= 0x1F1FF or 0x1F3FB <= ord(c) <= 0x1F3FF or
               0xE0020 <= ord(c) <= 0xE007F for c in chunk)  # emoji: ZWJ sequences, flags, skin tones, tags


@lru_cache(maxsize=8192)
def shaped(chunk: str, font: str, rtl: bool) -> tuple[str, float]:
    """``chunk`` shaped in ``font`` (in display order when ``rtl``), as the string to draw (a
    reportlab ShapedStr: a character a glyph, with the shaper's positions) and its advance at size
    1000. The first glyph of each cluster stands for the cluster's letters in the text layer."""
    import uharfbuzz  # noqa: PLC0415 - as above
    from reportlab.pdfbase.ttfonts import ShapeData, ShapedStr  # noqa: PLC0415

    buffer = uharfbuzz.Buffer()
    buffer.add_codepoints([ord(c) for c in chunk])
    buffer.guess_segment_properties()
    buffer.direction = "rtl" if rtl else "ltr"
    buffer.flags = uharfbuzz.BufferFlags.REMOVE_DEFAULT_IGNORABLES
    uharfbuzz.shape(_hb_font(font), buffer, {"kern": True, "liga": True})
    infos, positions = buffer.glyph_infos, buffer.glyph_positions
    starts = sorted({info.cluster for info in infos})
    ends = dict(zip(starts, [*starts[1:], len(chunk)], strict=True))
    ttf = pdfmetrics.getFont(font)
    scale = 1000.0 / ttf.face.unitsPerEm
    chars: list[str] = []
    data = []
    total = 0.0

    def add(glyph: int, text: str, cluster: int, x: float, y: float, dx: float, dy: float) -> None:
        char = ttf.glyph_char(glyph, text)
        chars.append(char)
        data.append(ShapeData(cluster, x, y, dx, dy, ttf.face.charWidths[ord(char)]))

    tones = {ttf.face.charToGlyph.get(c) for c in range(0x1F3FB, 0x1F400)} if SCRIPT_FONTS.get(font) == "emoji" \
        else set()
    i = 0
    while i < len(infos):  # a cluster at a time: its glyphs, and the letters they stand for
        cluster = infos[i].cluster
        j = i
        while j < len(infos) and infos[j].cluster == cluster:
            j += 1
        text = chunk[cluster:ends[cluster]]
        # A glyph a letter, in order; left to right, the last glyph takes the letters left over (a
        # ligature's). Right to left, readers (pypdf, pdftotext) turn the glyphs' letters back into
        # the order typed, one by one: so the letters go last first, and those a ligature leaves
        # over ride on invisible glyphs of no width. Glyphs beyond the letters stand for none.
        letters = [text[::-1][k] if k < len(text) else "" for k in range(j - i)] if rtl else \
            [text[k:k + 1] for k in range(j - i - 1)] + [text[j - i - 1:]]
        for k in range(i, j):
            pos, glyph = positions[k], infos[k].codepoint
            if k > i and glyph in tones:  # a skin tone the (monochrome) emoji font shows as a swatch: kept
                add(_blank(font), letters[k - i], cluster, 0.0, 0.0, 0.0, 0.0)  # in the text, not drawn
                continue
            advance = pos.x_advance * scale
            total += advance
            add(glyph, letters[k - i], cluster, advance, pos.y_advance * scale, pos.x_offset * scale,
                pos.y_offset * scale)
        for letter in text[::-1][j - i:] if rtl else ():
            add(_blank(font), letter, cluster, 0.0, 0.0, 0.0, 0.0)
        i = j
    return ShapedStr("".join(chars), shapeData=data), total


def run_width(chunk: str, font: str, size: float) -> float:
    """The advance of one run (of :func:`~.fonts.runs`), shaped where it needs it."""
    if needs_shaping(chunk, font):
        return shaped(chunk, font, SCRIPT_FONTS.get(font) in ("arabic", "hebrew"))[1] * size / 1000.0
    return pdfmetrics.stringWidth(chunk, font, size)


# --- a line ---------------------------------------------------------------------------------------
def visual(line: str, font: str, rtl: bool) -> list[tuple[str, str, bool, int]]:
    """``line`` as (font, text, shape right to left?, where it starts in ``line``) pieces in display
    order, left to right. A piece's text is in logical order: a right-to-left piece is shaped (and
    mirrored) as such."""
    parts = runs(line, font)
    if not rtl and not _has_rtl(line):
        starts = [0]
        for _, chunk in parts:
            starts.append(starts[-1] + len(chunk))
        return [(used, chunk, False, start) for (used, chunk), start in zip(parts, starts, strict=False)]
    lv = levels(line, rtl)
    units: list[tuple[str, str, bool, int]] = []
    start = 0
    for used, chunk in parts:
        end = start + len(chunk)
        i = start
        while i < end:
            j = i
            while j < end and lv[j] == lv[i]:
                j += 1
            units.append((used, line[i:j], lv[i] % 2 == 1, i))
            i = j
        start = end
    out: list[tuple[str, str, bool, int]] = []
    for k in _reorder([lv[u[3]] for u in units]):
        used, text, backwards, at = units[k]
        core = text.strip(" ")
        if not backwards or not core or core == text:
            out.append(units[k])
            continue
        # spaces at the ends of a right-to-left piece drawn as themselves: readers (pypdf) that turn a
        # piece's letters around would otherwise carry them to the wrong end
        lead = len(text) - len(text.lstrip(" "))
        if lead + len(core) < len(text):
            out.append((used, text[lead + len(core):], False, at + lead + len(core)))
        out.append((used, core, True, at + lead))
        if lead:
            out.append((used, text[:lead], False, at))
    return out


def draw_line(t: Any, line: str, font: str, size: float, leading: float, newline: bool = True) -> float:
    """Draw one line at the text object's line start (right-aligned in its room when it is a
    :class:`Line`), then start the next line like ``textLine``. Returns the width drawn. A line
    with right-to-left text has its pieces drawn where they show but written in the order typed,
    so that readers which keep a content stream's order (pypdf, ``pdftotext -raw``) read it so."""
    rtl = isinstance(line, Line)
    pieces = None if not rtl and not needs_fallback(line, font) else visual(line, font, rtl)
    if pieces is None or (len(pieces) == 1 and pieces[0][0] == font and not pieces[0][2] and not rtl and
                          not needs_shaping(line, font)):
        if newline:
            t.textLine(line)
        else:
            t.textOut(line)
        return float(pdfmetrics.stringWidth(line, font, size))
    drawn: list[tuple[str, Any, str | None, float]] = []
    width = 0.0
    for used, chunk, backwards, _ in pieces:
        actual = None
        if backwards or needs_shaping(chunk, used):
            text, advance = shaped(chunk, used, backwards)
            advance *= size / 1000.0
            if not backwards:
                actual = chunk
        else:
            text = chunk
            advance = pdfmetrics.stringWidth(chunk, used, size)
        drawn.append((used, text, actual, width))
        width += advance
    room = line.room if isinstance(line, Line) else None
    shift = room - width if room is not None and room > width else 0.0
    reordered = any(piece[2] for piece in pieces)
    order = sorted(range(len(pieces)), key=lambda k: pieces[k][3]) if reordered else range(len(pieces))
    code = t._code  # noqa: SLF001 - marked content has no API in reportlab's text object
    offset = 0.0
    for k in order:
        used, text, actual, x = drawn[k]
        if reordered or k == 0:
            if abs(shift + x - offset) > 1e-9:
                t.moveCursor(shift + x - offset, 0)
                offset = shift + x
        t.setFont(used, size, leading)
        if actual:
            code.append(f"/Span <</ActualText <FEFF{actual.encode('utf-16-be').hex().upper()}>>> BDC")
        t.textOut(text)
        if actual:
            code.append("EMC")
    t.setFont(font, size, leading)
    if newline:
        if offset:
            t.moveCursor(-offset, leading)
        else:
            t.textLine("")
    return width
