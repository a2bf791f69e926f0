"""Text measured (:func:`text_width`, the script and fallback fonts' runs included, shaped where
they need it) and fitted to a width: lines broken greedily at spaces (a word wider than a line
between its characters, never inside a cluster, :func:`wrap`), and one line shrunk or cut to its
room (:func:`fit`). A right-to-left paragraph's lines are broken in the order typed and come out
as :class:`~.shaping.Line`, which the drawing pass aligns right."""
from __future__ import annotations

import unicodedata

from reportlab.pdfbase import pdfmetrics

from ..visible_text import display, right_to_left
from . import reportlab_patches
from .fonts import ITALIC, _italic, needs_fallback, runs
from .shaping import rtl_line, run_width

TAB = "    "
#: No line break after these (a virama or joiner binds what follows) ...
_GLUE_AFTER = frozenset("\u200d\u094d\u0e3a")


def text_width(text: str, font: str, size: float) -> float:
    """The width of ``text`` in points: measured once per process for each (text, font, size)."""
    key = (text, font, size)
    found = _WIDTHS.get(key)
    if found is None:
        found = sum(run_width(chunk, used, size) for used, chunk in runs(text, font))
        if reportlab_patches.FAST_PATHS:
            _remember(_WIDTHS, key, found)
    return found


#: Memos, oldest first, each bounded (:func:`_remember`): widths by (text, font, size), a paragraph's
#: lines by (text, font, size, width). Headings, labels, column heads and much of the client text
#: recur from document to document of a batch.
_WIDTHS: dict[tuple[str, str, float], float] = {}
_LINES: dict[tuple[str, str, float, float], list[str]] = {}
_SHOWN: dict[tuple[str, str, float, float], list[str]] = {}  # the same, by the text before display()
_MEMO_SIZE = 8192


def _remember(memo: dict, key, value) -> None:
    memo[key] = value
    if len(memo) > _MEMO_SIZE:
        del memo[next(iter(memo))]


def fit(text: str, font: str, size: float, room: float, smallest: float = 6.0) -> tuple[str, float]:
    """``text`` and the largest font size from ``size`` down to ``smallest`` at which it fits ``room``
    points. Text too long even then is cut with an ellipsis (page furniture: the body has it whole)."""
    while size > smallest and text_width(text, font, size) > room:
        size = max(smallest, size - 0.5)
    if text_width(text, font, size) > room:
        while text and text_width(text.rstrip() + "\u2026", font, size) > room:
            text = text[:-1]
        text = text.rstrip() + "\u2026"
    return text, size


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` (already through :func:`~docgen.render.visible_text.display`) broken into lines no
    wider than ``width`` points: at its own line breaks, then greedily at spaces (runs of spaces are
    kept as typed), and a word wider than a line at characters. Tabs become four spaces. The lines
    of each (text, font, size, width) are broken once per process (a copy of the list is returned)."""
    key = (text, font, size, width)
    found = _LINES.get(key)
    if found is None:
        found = _wrap(text, font, size, width)
        if reportlab_patches.FAST_PATHS:
            _remember(_LINES, key, found)
    return list(found)


def wrap_shown(text: str, font: str, size: float, width: float) -> list[str]:
    """:func:`wrap` of client text as shown (:func:`~docgen.render.visible_text.display`), made once
    per process for each (text, font, size, width)."""
    key = (text, font, size, width)
    found = _SHOWN.get(key)
    if found is None:
        found = wrap(display(text), font, size, width)
        if reportlab_patches.FAST_PATHS:
            _remember(_SHOWN, key, found)
    return list(found)


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    if font == ITALIC:
        _italic()
    fallback = needs_fallback(text, font)
    measure = (lambda t: text_width(t, font, size)) if fallback else \
        (lambda t, _f=pdfmetrics.getFont(font): _f.stringWidth(t, size))  # noqa: B008 - bound once, a fast local
    space = measure(" ")
    out: list[str] = []
    for raw in text.replace("\t", TAB).split("\n"):
        rtl = fallback and right_to_left(raw)
        first = len(out)
        if measure(raw) <= width:
            out.append(raw)
        else:
            _break(raw, font, size, width, fallback, measure, space, out)
        if rtl:
            out[first:] = [rtl_line(line, width) for line in out[first:]]
    return out


def _break(raw: str, font: str, size: float, width: float, fallback: bool, measure, space: float,
           out: list[str]) -> None:
    line: list[str] = []
    used = 0.0
    for word in raw.split(" "):
        w = measure(word)
        if w > width:  # a word longer than the line: on lines of its own, cut at characters
            if line:
                out.append(" ".join(line))
            pieces = _cut(word, font, size, width, fallback)
            out.extend(pieces[:-1])
            line, used = [pieces[-1]], measure(pieces[-1])
            continue
        if line and used + space + w > width:
            out.append(" ".join(line))
            line, used = [word], w
        else:
            used = used + space + w if line else w
            line.append(word)
    out.append(" ".join(line))


def _breakable(word: str, index: int) -> bool:
    """Whether a line may break before ``word[index]``: not before a mark, joiner or variation
    selector, nor after a virama or joiner (they belong to one cluster with their neighbours)."""
    char = word[index]
    if word[index - 1] in _GLUE_AFTER or char in "\u200c\u200d":
        return False
    if char.isascii():
        return True
    return unicodedata.category(char) not in ("Mn", "Mc", "Me") and not 0x1F3FB <= ord(char) <= 0x1F3FF and \
        not 0xE0020 <= ord(char) <= 0xE007F


def _cut(word: str, font: str, size: float, width: float, fallback: bool) -> list[str]:
    pieces: list[str] = []
    start, used = 0, 0.0
    if fallback:
        widths = [text_width(c, font, size) for c in word]
    else:
        face = pdfmetrics.getFont(font).face
        table, default, scale = face.charWidths, face.defaultWidth, size / 1000.0
        widths = [table.get(ord(c), default) * scale for c in word]
    for index, w in enumerate(widths):
        if used + w > width and index > start and (not fallback or _breakable(word, index)):
            pieces.append(word[start:index])
            start, used = index, 0.0
        used += w
    pieces.append(word[start:])
    if fallback:  # shaped widths differ from the characters' own: a piece still too wide gives way
        settled: list[str] = []
        for piece in pieces:
            rest = piece
            while len(rest) > 1 and text_width(rest, font, size) > width:
                cut = len(rest) - 1
                while cut > 1 and (not _breakable(rest, cut) or text_width(rest[:cut], font, size) > width):
                    cut -= 1
                settled.append(rest[:cut])
                rest = rest[cut:]
            settled.append(rest)
        pieces = _rejoin(settled, font, size, width)
    return pieces


def _rejoin(pieces: list[str], font: str, size: float, width: float) -> list[str]:
    """Pieces split off one after another: each taken back into the one before while they fit."""
    out: list[str] = []
    for piece in pieces:
        if out and text_width(out[-1] + piece, font, size) <= width:
            out[-1] += piece
        else:
            out.append(piece)
    return out
