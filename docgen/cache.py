"""The cache folder (``DOCGEN_CACHE``, see :func:`docgen.settings.cache_folder`): prepared Word templates
(:mod:`docgen.render.docx.template`, which hold compiled code) and the ICD-10-CM table
(:mod:`docgen.check.icd10`, which decides verdicts), one file an entry. Whatever is loaded from it must
be what docgen wrote there:

* the folder is created readable by its owner only (0700), and used only when it is owned by the
  current user and not writable by group or others; otherwise docgen works without a cache and says so
  once per process (a warning on the ``docgen.cache`` logger: one line on stderr when the application
  configured no logging);
* every entry carries an HMAC-SHA256 of its name and content, keyed by a per-user secret (``key`` in
  the folder: 32 random bytes, 0600, replaced when anyone else could read it). An entry that fails the
  check (damaged, edited, planted, sealed under another key) is ignored: the caller builds the value
  again and stores it. Only then is the payload unmarshalled, and the caller checks its shape
  (:func:`cached`): a payload of the wrong shape is rebuilt too.

A digest alone (a sha256 stored in the entry) would only catch damage: whoever can write an entry can
recompute it. The key is what makes an entry docgen's; only the folder's owner (who runs docgen, and
can run any code as themselves anyway) and root can read it, and the folder checks keep others from
replacing it.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .settings import cache_folder

T = TypeVar("T")

#: The first bytes of every entry (then the 32-byte HMAC, then the payload).
MAGIC = b"docgen cache 1\n"
KEY_FILE = "key"
_KEY_SIZE = 32
_MAC_SIZE = 32  # HMAC-SHA256
_POSIX = hasattr(os, "geteuid")
_warned: set[str] = set()


def _problem(info: os.stat_result, shared_bits: int) -> str:
    """Why a folder or key file is not the current user's alone ("" when it is)."""
    if not _POSIX:
        return ""  # Windows: no owner or mode bits to compare; the user's profile folder is private
    if info.st_uid != os.geteuid():
        return "not owned by the current user"
    if info.st_mode & shared_bits:
        return "writable by group or others" if shared_bits == 0o022 else "readable by group or others"
    return ""


def folder() -> Path | None:
    """The cache folder, created 0700 if missing; None (work without a cache) when it cannot be
    created or is not the current user's alone (then a warning, once per process and folder)."""
    path = cache_folder()
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
    except OSError:
        return None  # a read-only home: work without a cache, as before
    problem = "not a folder" if not stat.S_ISDIR(info.st_mode) else _problem(info, 0o022)
    if problem:
        if str(path) not in _warned:
            _warned.add(str(path))
            import logging  # noqa: PLC0415 - only to warn (5 ms to import)

            logging.getLogger("docgen.cache").warning("docgen: cache folder %s ignored: %s; working without it",
                                                      path, problem)
        return None
    return path


def _new_key(path: Path, replace: bool) -> None:
    """A fresh random key at ``path``: linked in place unless another process made one first, or
    (``replace``) put over the one there."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key.", suffix=".tmp")  # 0600
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(os.urandom(_KEY_SIZE))
        if replace:
            os.replace(temporary, path)
            return
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process's key: use it
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _key(where: Path) -> bytes | None:
    """The folder's key, made on first use; a key anyone else could read (or a damaged one) is
    replaced, which retires every entry sealed with it."""
    path = where / KEY_FILE
    for _ in range(3):
        try:
            with open(path, "rb", opener=lambda p, flags: os.open(p, flags | getattr(os, "O_NOFOLLOW", 0))) as source:
                info = os.fstat(source.fileno())
                key = source.read(_KEY_SIZE + 1)
        except FileNotFoundError:
            try:
                _new_key(path, replace=False)
            except OSError:
                return None
            continue
        except OSError:  # a symbolic link, a folder: not a key docgen made
            info, key = None, b""
        if info is not None and stat.S_ISREG(info.st_mode) and not _problem(info, 0o077) and len(key) == _KEY_SIZE:
            return key
        try:
            if path.is_dir() and not path.is_symlink():
                return None
            _new_key(path, replace=True)
        except OSError:
            return None
    return None


def _mac(key: bytes, name: str, payload: bytes) -> bytes:
    mac = hmac.new(key, name.encode("utf-8") + b"\0", hashlib.sha256)
    mac.update(payload)
    return mac.digest()


def _seal(key: bytes, name: str, payload: bytes) -> bytes:
    return MAGIC + _mac(key, name, payload) + payload


def load(name: str) -> bytes | None:
    """The payload of entry ``name`` (a file name) when its HMAC checks out, else None."""
    where = folder()
    key = _key(where) if where is not None else None
    if key is None:
        return None
    try:
        entry = (where / name).read_bytes()  # type: ignore[operator]
    except OSError:
        return None
    start = len(MAGIC) + _MAC_SIZE
    payload = entry[start:]
    if entry[:len(MAGIC)] != MAGIC or not hmac.compare_digest(entry[len(MAGIC):start], _mac(key, name, payload)):
        return None
    return payload


def store(name: str, payload: bytes) -> None:
    """Seal and write entry ``name`` (atomically, 0600); nothing when the cache cannot be used."""
    where = folder()
    key = _key(where) if where is not None else None
    if key is None:
        return
    from .write import write_atomic  # noqa: PLC0415

    try:
        write_atomic(where / name, _seal(key, name, payload))  # type: ignore[operator]
    except OSError:
        pass  # a full or read-only disk: the next process builds it again


def cached(name: str, build: Callable[[], T], dump: Callable[[T], bytes], read: Callable[[bytes], T]) -> T:
    """The value of entry ``name``: ``read`` from its payload when the entry checks out, else
    ``build``-t and stored (``dump``-ed). ``read`` raises (anything) for a payload of the wrong shape,
    which is then rebuilt like a missing one. Errors of ``build`` are the caller's."""
    payload = load(name)
    if payload is not None:
        try:
            return read(payload)
        except Exception:  # noqa: BLE001, S110 - sealed by docgen, but not what this docgen reads: rebuild
            pass
    value = build()
    store(name, dump(value))
    return value


__all__ = ["MAGIC", "KEY_FILE", "folder", "load", "store", "cached"]
