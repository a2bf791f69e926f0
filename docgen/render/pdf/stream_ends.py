"""The end of line before ``endstream`` in what pypdf (packets) and pyHanko (signatures) write.

Both write ``stream data`` + ``\\nendstream``. When the data itself ends with a carriage return (a
compressed stream's last byte, its checksum's, is 0x0D one time in 256), the bytes before
``endstream`` read ``\\r\\n``: a reader takes that pair as the end of line, and the data as one byte
shorter than its ``/Length`` (PDF/A, ISO 19005-2 6.1.7.1: page-validation's
``PDFA2A-STREAM-LENGTH-001``). About one signed PDF in a hundred, and many packets, failed that way,
depending on their content and the signing time. Such a stream gets ``\\r\\n`` before ``endstream``,
which reads back unambiguously; every other stream is written byte for byte as before.
(reportlab's own writer is mended the same way in :mod:`.reportlab_patches`.)

:func:`install` patches the two libraries' stream classes once per process; docgen calls it before
it builds a packet or signs.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

_INSTALLED: set[str] = set()


def mend(written: bytes) -> bytes:
    """A stream object as written, with ``\\r\\n`` before ``endstream`` when its data ends with CR."""
    if written.endswith(b"\r\nendstream"):  # the data's own CR, then the library's LF
        return written[:-len(b"\nendstream")] + b"\r\nendstream"
    return written


def _mended(write: Callable[..., None]) -> Callable[..., None]:
    def write_to_stream(self: Any, stream: Any, *args: Any, **kwargs: Any) -> None:
        buffer = io.BytesIO()
        write(self, buffer, *args, **kwargs)
        stream.write(mend(buffer.getvalue()))

    write_to_stream.__doc__ = write.__doc__
    write_to_stream.mended = True  # type: ignore[attr-defined]
    return write_to_stream


def install() -> None:
    """Mend pypdf's and pyHanko's stream writers (once; pyHanko only when it is installed and used)."""
    if "pypdf" not in _INSTALLED:
        from pypdf.generic import StreamObject  # noqa: PLC0415

        if not getattr(StreamObject.write_to_stream, "mended", False):
            StreamObject.write_to_stream = _mended(StreamObject.write_to_stream)  # type: ignore[method-assign]
        _INSTALLED.add("pypdf")
    if "pyhanko" not in _INSTALLED:
        try:
            from pyhanko.pdf_utils.generic import StreamObject as HankoStream  # noqa: PLC0415
        except ImportError:
            return
        if not getattr(HankoStream.write_to_stream, "mended", False):
            HankoStream.write_to_stream = _mended(HankoStream.write_to_stream)  # type: ignore[method-assign]
        _INSTALLED.add("pyhanko")


__all__ = ["install", "mend"]
