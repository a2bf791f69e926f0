"""Where docgen reaches into reportlab's PDF writer, which has no setting for either: the zlib
level of its deflated streams (:func:`deflate_level`), and a PDF object whose bytes were formatted
once (:class:`_Formatted`, for the memo of font width arrays in :mod:`.fonts`)."""
from __future__ import annotations

import zlib
from contextlib import contextmanager

from reportlab.pdfbase import pdfdoc


class _Formatted(pdfdoc.PDFObject):
    """A PDF object formatted once: its bytes as they are."""

    def __init__(self, data: bytes):
        self.data = data

    def format(self, document) -> bytes:
        return self.data


class _Zlib:
    """zlib with another default compression level (everything else as zlib). Large inputs met
    again (an embedded font subset, see :func:`.fonts._remember_subsets`) are compressed once."""

    def __init__(self, level: int):
        self.level = level

    def compress(self, data, level: int | None = None):
        level = self.level if level is None else level
        if len(data) < 8192:
            return zlib.compress(data, level)
        key = (bytes(data), level)
        found = _DEFLATED.get(key)
        if found is None:
            found = _DEFLATED[key] = zlib.compress(data, level)
            while len(_DEFLATED) > 32:
                _DEFLATED.pop(next(iter(_DEFLATED)))
        return found

    def __getattr__(self, name: str):
        return getattr(zlib, name)


_DEFLATED: dict[tuple[bytes, int], bytes] = {}  # oldest first


@contextmanager
def deflate_level(level: int):
    """Streams compressed at ``level`` while the block runs. reportlab deflates page contents and
    embedded font files with zlib's default level (6) and has no setting for it; level 1 makes the
    whole PDF about a third faster for about 5% more bytes. Output stays deterministic and valid; a
    reportlab document saved in another thread meanwhile is merely compressed at this level too."""
    original = pdfdoc.zlib
    pdfdoc.zlib = _Zlib(level)
    try:
        yield
    finally:
        pdfdoc.zlib = original
