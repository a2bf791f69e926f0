"""The PDF's fonts: DejaVu Sans (regular, bold, oblique) and Droid Sans Fallback, registered with
reportlab once per process; subsets and their width arrays built once (:class:`_Font`); and the
fallback font's runs for the characters the main font lacks (:func:`runs`)."""
from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from .reportlab_patches import _Formatted

FONT, BOLD, ITALIC = "DocgenSans", "DocgenSans-Bold", "DocgenSans-Oblique"
#: Chinese and Japanese (and more) for characters DejaVu Sans lacks: Droid Sans Fallback, Apache-2.0.
FALLBACK = "DocgenFallback"
_COVERAGE: dict[str, frozenset[int]] = {}


_WIDTHS: dict[tuple, _Formatted] = {}  # oldest first


class _Font(TTFont):
    """A TrueType font whose subsets' width arrays are formatted once per process: a subset's
    widths depend only on its characters, and formatting hundreds of numbers into every PDF was a
    tenth of a note's rendering. The bytes are the same as reportlab writes."""

    def addObjects(self, doc) -> None:
        fonts = doc.idToObject["BasicFonts"].dict
        before = set(fonts)
        super().addObjects(doc)
        for name in fonts.keys() - before:
            widths = fonts[name].Widths
            key = (rl_config.pdfMultiLine, *widths.sequence)
            found = _WIDTHS.get(key)
            if found is None:
                found = _WIDTHS[key] = _Formatted(widths.format(doc))
                while len(_WIDTHS) > 256:
                    _WIDTHS.pop(next(iter(_WIDTHS)))
            fonts[name].Widths = found


def _register(name: str, file: str) -> None:
    font = _Font(name, str(resources.files("docgen") / "fonts" / file))
    _remember_subsets(font.face)
    pdfmetrics.registerFont(font)
    _COVERAGE[name] = frozenset(font.face.charToGlyph)


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


def needs_fallback(text: str, font: str) -> bool:
    covered = _COVERAGE[font]
    return not text.isascii() and any(ord(c) not in covered for c in set(text) if c not in "\n\t")


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """``text`` as (font, chunk) runs: the fallback font for the characters ``font`` lacks and the
    fallback has (reportlab has no per-glyph fallback of its own)."""
    if not needs_fallback(text, font):
        return [(font, text)]
    covered, spare = _COVERAGE[font], _fallback()
    out: list[tuple[str, str]] = []
    for char in text:
        code = ord(char)
        if char.isspace() and out:  # spaces stay in the run they follow: fewer font switches
            out[-1] = (out[-1][0], out[-1][1] + char)
            continue
        use = FALLBACK if code not in covered and code in spare else font
        if out and out[-1][0] == use:
            out[-1] = (use, out[-1][1] + char)
        else:
            out.append((use, char))
    return out
