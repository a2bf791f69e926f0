"""A Word template's zip archive, read within limits. A template is an agency's file, so it may be
hostile: a few MiB that expand to GiBs, thousands of entries, a DTD (entity expansion, external
entities) in a part, entry names outside the package (they would be copied into every document).

The directory is checked first, without inflating anything (:func:`check_directory`): at most
:data:`MAX_ENTRIES` entries, :data:`MAX_TOTAL` bytes in all, no entry over 1 MiB expanding more than
:data:`MAX_RATIO` times, names inside the package and once each, stored or deflated entries only (an
LZMA or bzip2 decompressor takes memory the directory does not show). Then every entry is inflated
from its own bytes with the directory's size as a hard bound (:func:`parts`): one byte more and the
template is refused, so a directory that understates an entry costs nothing; size and CRC must match
it exactly. No part may hold ``<!DOCTYPE`` (in UTF-8, UTF-16 or UTF-32). docxtpl then reads a package
rebuilt from the checked parts (:func:`repacked`), never the original archive. Every refusal is a
:class:`~docgen.errors.TemplateError` of one line naming the template file."""
from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from functools import cache
from pathlib import Path

from ...errors import TemplateError

MiB = 1 << 20
#: Limits of a template archive: entries, bytes once inflated (in all, and of the file itself), and
#: the expansion of one entry over 1 MiB.
MAX_ENTRIES = 1000
MAX_TOTAL = 64 * MiB
MAX_RATIO, RATIO_FROM = 200, MiB
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_LOCAL = b"PK\x03\x04"
_LOCAL_SIZE = 30


@cache
def _doctype() -> re.Pattern[bytes]:
    """``<!DOCTYPE``, any case, in every encoding an XML parser detects without being told (compiled
    on first use: only a template being prepared needs it)."""
    forms = []
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        letters = b"".join(b"(?:%s|%s)" % (re.escape(c.encode(encoding)), re.escape(c.upper().encode(encoding)))
                           for c in "doctype")
        forms.append(re.escape("<!".encode(encoding)) + letters)
    return re.compile(b"|".join(forms))



def refused(template: str, reason: str) -> TemplateError:
    return TemplateError(f"refused template {template}: {reason}")


def _shown(name: str) -> str:
    """An entry name as the message shows it: printable, bounded (it comes from the archive)."""
    shown = "".join(c if c.isprintable() else "?" for c in name)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _size(count: int) -> str:
    for unit, name in ((1 << 30, "GiB"), (MiB, "MiB"), (1 << 10, "KiB")):
        if count >= unit:
            return f"{count / unit:.1f} {name}"
    return f"{count} bytes"


def _outside(name: str) -> bool:
    """An entry name that is absolute, holds a ``..`` step or a control character."""
    return (not name or name[0] in "/\\" or re.match(r"[A-Za-z]:", name) is not None
            or ".." in re.split(r"[/\\]", name) or any(ord(c) < 32 for c in name))


def read(path: Path) -> bytes:
    """The template file's bytes; a file larger than :data:`MAX_TOTAL` is refused without reading it all."""
    with open(path, "rb") as source:
        data = source.read(MAX_TOTAL + 1)
    if len(data) > MAX_TOTAL:
        raise refused(path.name, f"the file is larger than {MAX_TOTAL // MiB} MiB")
    return data


def check_directory(template: str, data: bytes) -> list[zipfile.ZipInfo]:
    """The archive's entries when its directory is within the limits (nothing is inflated)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, struct.error):
        raise refused(template, "not a zip archive (a Word template is one)") from None
    if len(entries) > MAX_ENTRIES:
        raise refused(template, f"{len(entries)} entries (at most {MAX_ENTRIES})")
    seen: set[str] = set()
    for info in entries:
        name = _shown(info.filename)
        if _outside(info.filename):
            raise refused(template, f"entry name {name} is absolute or leaves the package")
        if info.filename in seen:
            raise refused(template, f"entry {name} appears twice")
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            raise refused(template, f"entry {name} is encrypted")
        if info.compress_type not in _METHODS:
            raise refused(template, f"entry {name} is compressed with method {info.compress_type} "
                                    "(only stored and deflated)")
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * info.compress_size:
            raise refused(template, f"entry {name} expands {_size(info.file_size)} from {_size(info.compress_size)} "
                                    f"(more than {MAX_RATIO}:1)")
    total = sum(info.file_size for info in entries)
    if total > MAX_TOTAL:
        raise refused(template, f"it expands to {_size(total)} (at most {MAX_TOTAL // MiB} MiB)")
    return entries


def _inflated(template: str, data: bytes, info: zipfile.ZipInfo) -> bytes:
    """One entry, inflated from its own bytes, at most one byte past its directory's size."""
    name, offset = _shown(info.filename), info.header_offset
    if data[offset:offset + 4] != _LOCAL:
        raise refused(template, f"entry {name} is damaged (no local header)")
    name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
    start = offset + _LOCAL_SIZE + name_length + extra_length
    stream = memoryview(data)[start:start + info.compress_size]
    if len(stream) != info.compress_size:
        raise refused(template, f"entry {name} is damaged (cut short)")
    if info.compress_type == zipfile.ZIP_STORED:
        part = bytes(stream)
    else:
        inflater = zlib.decompressobj(-15)
        try:
            part = inflater.decompress(stream, info.file_size + 1)
        except zlib.error:
            raise refused(template, f"entry {name} is damaged (not deflate)") from None
        if len(part) > info.file_size:
            raise refused(template, f"entry {name} inflates to more than its directory says")
        if not inflater.eof or inflater.unused_data:
            raise refused(template, f"entry {name} is damaged (its stream does not end where its directory says)")
    if len(part) != info.file_size or zlib.crc32(part) != info.CRC:
        raise refused(template, f"entry {name} does not match its directory (size or CRC)")
    return part


def parts(template: str, data: bytes) -> list[tuple[str, bytes]]:
    """Every entry's name and content, in archive order, checked (see the module's text)."""
    checked = []
    for info in check_directory(template, data):
        part = _inflated(template, data, info)
        if _doctype().search(part):
            raise refused(template, f"part {_shown(info.filename)} holds a DTD (<!DOCTYPE)")
        checked.append((info.filename, part))
    return checked


def repacked(checked: list[tuple[str, bytes]]) -> bytes:
    """A zip of the checked parts (stored: it is read once, by docxtpl, in memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, part in checked:
            archive.writestr(name, part)
    return out.getvalue()


__all__ = ["MAX_ENTRIES", "MAX_TOTAL", "MAX_RATIO", "read", "check_directory", "parts", "repacked", "refused"]
