"""A tiny deterministic zip writer (a DOCX is a zip) that reuses compressed bytes: an
:class:`Entry` holds a part deflated once, and :func:`write_zip` writes entries with fixed dates,
so the same entries give the same bytes."""
from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Entry:
    name: bytes
    crc: int
    size: int
    data: bytes  # raw deflate stream

    @classmethod
    def of(cls, name: str, payload: bytes, level: int = 6) -> Entry:
        packer = zlib.compressobj(level, zlib.DEFLATED, -15)
        data = packer.compress(payload) + packer.flush()
        return cls(name.encode("utf-8"), zlib.crc32(payload), len(payload), data)


def write_zip(entries: list[Entry], day: date) -> bytes:
    """A zip (DOCX) of ``entries`` with fixed dates: the same entries give the same bytes."""
    year = max(day.year, 1980)
    dos_date = ((year - 1980) << 9) | (day.month << 5) | day.day
    out, central, offset = io.BytesIO(), [], 0
    for e in entries:
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x0800, 8, 0, dos_date, e.crc, len(e.data), e.size,
                             len(e.name), 0)
        out.write(header + e.name + e.data)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x0800, 8, 0, dos_date, e.crc,
                                   len(e.data), e.size, len(e.name), 0, 0, 0, 0, 0o600 << 16, offset) + e.name)
        offset += len(header) + len(e.name) + len(e.data)
    directory = b"".join(central)
    out.write(directory)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), offset, 0))
    return out.getvalue()
