"""Text measured (:func:`text_width`, the fallback font's runs included) and fitted to a width:
lines broken greedily at spaces (a word wider than a line at characters, :func:`wrap`), and one
line shrunk or cut to its room (:func:`fit`)."""
from __future__ import annotations

from reportlab.pdfbase import pdfmetrics

from .fonts import ITALIC, _italic, needs_fallback, runs

TAB = "    "


def text_width(text: str, font: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(chunk, used, size) for used, chunk in runs(text, font))


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
    kept as typed), and a word wider than a line at characters. Tabs become four spaces."""
    if font == ITALIC:
        _italic()
    fallback = needs_fallback(text, font)
    measure = (lambda t: text_width(t, font, size)) if fallback else \
        (lambda t, _f=pdfmetrics.getFont(font): _f.stringWidth(t, size))  # noqa: B008 - bound once, a fast local
    space = measure(" ")
    out: list[str] = []
    for raw in text.replace("\t", TAB).split("\n"):
        if measure(raw) <= width:
            out.append(raw)
            continue
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
    return out


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
        if used + w > width and index > start:
            pieces.append(word[start:index])
            start, used = index, 0.0
        used += w
    pieces.append(word[start:])
    return pieces
