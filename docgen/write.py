"""Write: safe file names from record ids, and atomic writes (temporary file, then rename)."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Device names Windows reserves whatever the extension (CON.pdf opens the console, not a file).
_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\.|$)", re.IGNORECASE)


def safe_name(identifier: str, limit: int = 80) -> str:
    """A file-name part from a record or client id: letters, digits, ``.``, ``_``, ``-`` only, no leading
    dot, not a Windows device name, bounded length. An id that had to be changed (or is a device name)
    gets a short hash so two ids never collide."""
    name = _UNSAFE.sub("_", identifier).strip("._") or "record"
    if _RESERVED.match(name):
        name = name.replace(".", "_")  # "NUL.txt-1234.pdf" would still be the device NUL
    if name != identifier or len(name) > limit or _RESERVED.match(name):
        digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:10]
        name = f"{name[:limit]}-{digest}"
    return name


def name_key(identifier: str) -> str:
    """The file name an id gives, compared as Windows and macOS compare names (case folded): two
    records with one key would write one file."""
    return safe_name(identifier).casefold()


def repeated_id(record_id: str, first_id: str, first_source: str) -> str:
    """Why a record whose :func:`name_key` an earlier record of the run had is not rendered."""
    if first_id == record_id:
        return f"duplicate record id (first in {first_source})"
    return (f"record id differs only in case from {first_id} (first in {first_source}): their files would be one "
            "on Windows and macOS")


def prepare_folder(folder: Path, create: bool = True) -> Path:
    """Create an output folder (and its parents) readable by its owner only (0700: documents hold PHI),
    or check that an existing one is a folder docgen can write in. ``create=False``: only check that it
    could be created (its nearest existing ancestor is a folder docgen can write in), so that a run
    that writes nothing leaves nothing behind. Raises :class:`docgen.errors.OutputError` with the
    reason in one line, never a traceback."""
    from .errors import OutputError  # noqa: PLC0415

    folder = Path(folder)
    if not create and not folder.exists():
        ancestor = folder.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise OutputError(f"cannot create {folder}: {ancestor} is a file, not a folder")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise OutputError(f"cannot create {folder}: {ancestor} is read-only or not writable")
        return folder
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{folder} is a file, not a folder") from None
    except NotADirectoryError:
        raise OutputError(f"cannot create {folder}: part of the path is a file, not a folder") from None
    except OSError as exc:
        raise OutputError(f"cannot create {folder}: {exc.strerror or 'I/O error'}") from None
    if not folder.is_dir():
        raise OutputError(f"{folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write in {folder}: permission denied or read-only")
    return folder


def write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so that no reader ever sees a partial file: a temporary file in
    the same folder, then renamed over the target. ``durable``: flushed to disk (fsync) before the
    rename, so the file survives a power cut too; a killed process never leaves a partial file
    either way (a batch flushes once at its end instead, see :mod:`docgen.batch`)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        try:
            os.unlink(handle.name)
        except FileNotFoundError:
            pass
        raise


def write_all(files: dict[Path, bytes], durable: bool = True) -> None:
    """Write several files; if one fails, the ones already written by this call are removed."""
    done: list[Path] = []
    try:
        for path, data in files.items():
            write_atomic(path, data, durable)
            done.append(path)
    except BaseException:
        for path in done:
            path.unlink(missing_ok=True)
        raise
