"""API keys of the service: a JSON file of names, scopes and salted hashes, never the keys themselves.

``docgen keys add NAME --keys FILE`` makes a random key (256 bits), prints it once and stores
``sha256(salt + key)`` with a random salt; the file is written atomically and owner-only (0600). A key
is high-entropy random, so one salted hash is enough (a slow password hash guards guessable secrets,
and would cost every request). The service re-reads the file when it changes, so a revoked key stops
working without a restart.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..errors import UsageError
from ..write import write_atomic

#: Every scope a key can hold; a key made without --scope holds them all.
SCOPES = ("check", "render", "batch", "packet", "fhir")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PREFIX = "dgk_"


@dataclass(frozen=True)
class Key:
    name: str
    scopes: tuple[str, ...]
    created: str


def _hash(salt: str, key: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + key.encode("utf-8")).hexdigest()


def read_keys(path: Path) -> dict[str, dict]:
    """The entries of a key file (name -> {salt, sha256, scopes, created}); a missing file holds none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the key file {path}: {getattr(exc, 'strerror', None) or 'not text'}",
                         where="--keys") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise UsageError(f"the key file {path} is not a docgen key file (bad JSON)", where="--keys") from None
    entries = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(entries, dict) or not all(
            isinstance(e, dict) and isinstance(e.get("salt"), str) and isinstance(e.get("sha256"), str)
            and isinstance(e.get("scopes"), list) for e in entries.values()):
        raise UsageError(f"the key file {path} is not a docgen key file", where="--keys")
    return entries


def _write(path: Path, entries: dict[str, dict]) -> None:
    text = json.dumps({"keys": entries}, indent=2, sort_keys=True) + "\n"
    try:
        write_atomic(path, text.encode("utf-8"))  # a temporary file (0600) renamed: owner-only
    except OSError as exc:
        raise UsageError(f"cannot write the key file {path}: {exc.strerror or 'I/O error'}", where="--keys") from None


def parse_scopes(scope: str | None) -> tuple[str, ...]:
    if scope is None:
        return SCOPES
    chosen = tuple(dict.fromkeys(part.strip().lower() for part in scope.split(",") if part.strip()))
    if not chosen or any(s not in SCOPES for s in chosen):
        raise UsageError(f"use one or more of {','.join(SCOPES)}", where="--scope")
    return chosen


def add_key(path: Path, name: str, scopes: tuple[str, ...]) -> str:
    """Store a new key named ``name`` and return it (the only time it is seen)."""
    if not _NAME.fullmatch(name):
        raise UsageError("a key name is 1-64 letters, digits, '.', '_' or '-'", where="NAME")
    entries = read_keys(path)
    if name in entries:
        raise UsageError(f"a key named {name} exists; revoke it first", where="NAME")
    key = PREFIX + secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    entries[name] = {"salt": salt, "sha256": _hash(salt, key), "scopes": list(scopes),
                     "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    _write(path, entries)
    return key


def list_keys(path: Path) -> list[Key]:
    return [Key(name, tuple(e["scopes"]), str(e.get("created", ""))) for name, e in sorted(read_keys(path).items())]


def revoke_key(path: Path, name: str) -> None:
    entries = read_keys(path)
    if name not in entries:
        raise UsageError(f"no key named {name} in {path}", where="NAME")
    del entries[name]
    _write(path, entries)


def check_mode(path: Path) -> None:
    """A key file others could write would let them add keys: refused."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UsageError(f"the key file {path} is writable by others; chmod 600 it", where="--keys")


class KeyRing:
    """The keys the service accepts, re-read when the file changes (a revocation applies at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._entries: dict[str, dict] = {}
        self.reload()

    def reload(self) -> None:
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = (0, 0, 0)
        if stamp != self._stamp:
            self._entries = read_keys(self.path)
            self._stamp = stamp

    def __len__(self) -> int:
        return len(self._entries)

    def match(self, key: str) -> Key | None:
        """The key ``key`` is, or None. Every entry is compared (constant time each)."""
        try:
            self.reload()
        except UsageError:
            pass  # a file broken while serving: the keys last read stay in force
        found = None
        for name, entry in self._entries.items():
            try:
                digest = _hash(entry["salt"], key)
            except ValueError:
                continue
            if hmac.compare_digest(digest, entry["sha256"]):
                found = Key(name, tuple(entry["scopes"]), str(entry.get("created", "")))
        return found


__all__ = ["SCOPES", "Key", "KeyRing", "add_key", "list_keys", "revoke_key", "parse_scopes", "read_keys",
           "check_mode"]
