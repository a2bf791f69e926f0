"""Client text as data: the one normalisation both renderers apply before laying text out, and
the direction both give a paragraph."""
from __future__ import annotations

import re
import unicodedata

_NEWLINES = re.compile(r"\r\n?")
# C0 controls other than tab and line feed, DEL, the C1 controls and the noncharacters U+FFFE and
# U+FFFF: none can be shown as typed (XML 1.0 forbids most of them, and the XML writers would drop
# them silently), so they are shown by their code point, e.g. "[U+0007]".
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")


def display(text: str) -> str:
    """Line breaks unified to ``\\n``; invisible control characters made visible and lossless."""
    text = _NEWLINES.sub("\n", text)
    return _CONTROL.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


def xml_text(text: str, quote: bool = False) -> str:
    """``text`` as :func:`display` shows it, with ``&``, ``<``, ``>`` (and ``"`` when ``quote``) as XML
    references: what the XML writers of metadata put in an element or attribute (a control character
    typed raw makes the whole file unreadable)."""
    text = display(text).replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
    return text.replace('"', "&quot;") if quote else text


def right_to_left(text: str) -> bool:
    """Whether a paragraph reads right to left: its first strong character's direction (Unicode
    Bidirectional Algorithm, rules P2 and P3)."""
    if text.isascii():
        return False
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return False
        if kind in ("R", "AL"):
            return True
    return False
