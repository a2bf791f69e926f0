"""The audit trail: an append-only SQLite table of generation events.

Each event holds when, the OS user, host, docgen version, profile, record id, kind, outcome, the
input's sha256 and the outputs' paths (client id and record id) and sha256. Never client names or
clinical text: not the input's file name either (exports are often named after the client), so the
``source`` column, kept for trails written by earlier versions, stays empty. Triggers refuse any
UPDATE or DELETE, so the trail can only grow. Each event is committed as it is recorded, before the
batch's journal marks the record done: a batch killed at any moment never leaves a generated
document without its event.

The same file holds the lock ledger (table ``locks``, see :mod:`docgen.lock`): one row per record id,
written by the first final render of that record, never changed: record id, kind, client id,
content sha256, document date, the signers' roles, ids and signing dates, when, who and which
docgen. The same triggers keep it append-only, and a second lock for a record id (or an
``INSERT OR REPLACE`` over an event or a lock) is refused. An agency points every run at one trail
(``--audit FILE`` or ``DOCGEN_AUDIT``) so that a record locked by one run is locked for all.
"""
from __future__ import annotations

import getpass
import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ..errors import AuditError, WriteError
from .locks import Lock

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    os_user TEXT NOT NULL,
    host TEXT NOT NULL,
    docgen_version TEXT NOT NULL,
    profile TEXT,
    record_id TEXT,
    kind TEXT,
    outcome TEXT NOT NULL,
    source TEXT,
    input_sha256 TEXT,
    outputs TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_record ON events(record_id);
CREATE INDEX IF NOT EXISTS events_at ON events(at);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_replace BEFORE INSERT ON events
WHEN NEW.seq IS NOT NULL AND EXISTS (SELECT 1 FROM events WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TABLE IF NOT EXISTS locks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    document_date TEXT NOT NULL,
    signers TEXT NOT NULL,
    locked_at TEXT NOT NULL,
    docgen_version TEXT NOT NULL,
    os_user TEXT NOT NULL,
    host TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS locks_at ON locks(locked_at);
CREATE TRIGGER IF NOT EXISTS locks_no_update BEFORE UPDATE ON locks
BEGIN SELECT RAISE(ABORT, 'the lock ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS locks_no_delete BEFORE DELETE ON locks
BEGIN SELECT RAISE(ABORT, 'the lock ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS locks_no_replace BEFORE INSERT ON locks
WHEN EXISTS (SELECT 1 FROM locks WHERE record_id = NEW.record_id OR seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'the record is already locked; the lock ledger is append-only'); END;
"""

LOCK_COLUMNS = ("record_id", "kind", "client_id", "sha256", "document_date", "signers", "locked_at",
                "docgen_version")

COLUMNS = ("seq", "at", "os_user", "host", "docgen_version", "profile", "record_id", "kind", "outcome", "source",
           "input_sha256", "outputs")


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "unknown"


def _reason(exc: BaseException) -> str:
    """Why SQLite or the OS would not open or use a trail, in words (no content of the file)."""
    if isinstance(exc, OSError):
        return exc.strerror or "I/O error"
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text:
        return "the file is not an audit trail or is damaged"
    if "readonly" in text or "read-only" in text:
        return "it is read-only"
    if "unable to open" in text:
        return "it cannot be opened (missing folder or no permission)"
    if "full" in text:
        return "No space left on device"
    if "locked" in text or "busy" in text:
        return "another process holds it locked"
    return "SQLite error"


class AuditTrail:
    """The trail, opened to append events and take locks. Raises :class:`docgen.errors.AuditError`
    (one line) when it cannot be opened or written: read-only media, a damaged file, a missing folder."""

    def __init__(self, path: Path, version: str):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self.path.exists():
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))  # PHI-adjacent: owner only
            self.db = sqlite3.connect(self.path, timeout=30)  # other runs may share an agency-wide trail
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # a commit survives a killed process without an fsync
            self.db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise AuditError(f"cannot open the audit trail {self.path}: {_reason(exc)}") from None
        self.user, self.host, self.version = _user(), socket.gethostname(), version

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """SQLite's errors while writing, as one line: a full disk stops the run (WriteError, exit 1),
        anything else is an unusable trail (AuditError, exit 2)."""
        try:
            yield
        except sqlite3.Error as exc:
            reason = _reason(exc)
            error = WriteError if reason == "No space left on device" else AuditError
            raise error(f"cannot write the audit trail {self.path}: {reason}") from None

    def record(self, row: dict[str, Any]) -> None:
        """Append one generation event from a manifest row."""
        with self._writing():
            self._record(row)

    def _record(self, row: dict[str, Any]) -> None:
        outputs = [{"path": o["path"], "sha256": o["sha256"]} for o in row.get("outputs", [])]
        self.db.execute(
            "INSERT INTO events (at, os_user, host, docgen_version, profile, record_id, kind, outcome, source,"
            " input_sha256, outputs) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (datetime.now(UTC).isoformat(timespec="seconds"), self.user, self.host, self.version,
             row.get("profile"), row.get("id"), row.get("kind"), row["status"], None,
             row.get("input_sha256"), json.dumps(outputs, sort_keys=True)))
        self.commit()

    def commit(self) -> None:
        self.db.commit()

    # --- the lock ledger ----------------------------------------------------------------------
    def get(self, record_id: str) -> Lock | None:
        """The lock of ``record_id``, or None when it was never rendered final."""
        return _get_lock(self.db, record_id)

    def lock(self, lock: Lock) -> Lock:
        """Lock a record unless it is locked already; return the lock in force (``lock`` as
        recorded, or the earlier one, which may hold another hash). One transaction, so two runs
        sharing the trail cannot both lock the same id."""
        with self._writing():
            return self._lock(lock)

    def _lock(self, lock: Lock) -> Lock:
        self.commit()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            held = _get_lock(self.db, lock.record_id)
            if held is None:
                at = datetime.now(UTC).isoformat(timespec="seconds")
                signers = json.dumps(lock.as_dict()["signers"], sort_keys=True)
                self.db.execute(
                    f"INSERT INTO locks ({', '.join(LOCK_COLUMNS)}, os_user, host) "  # noqa: S608 - constant names
                    "VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (lock.record_id, lock.kind, lock.client_id, lock.sha256, lock.document_date, signers, at,
                     self.version, self.user, self.host))
                held = _get_lock(self.db, lock.record_id)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.rollback()
            raise
        if held is None:  # never: the row was just written in this transaction
            raise AuditError(f"the audit trail {self.path} did not keep the lock of {lock.record_id}")
        return held

    def close(self) -> None:
        try:
            with self._writing():
                self.commit()
        finally:
            self.db.close()


def open_read_only(path: Path) -> sqlite3.Connection:
    """A trail opened for reading only, also on read-only media (an auditor's snapshot): SQLite needs
    to write the WAL index of a trail in WAL mode, so where it cannot, the file is read as immutable."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError as exc:
        if "not a database" in str(exc).lower():
            raise AuditError(f"cannot open the audit trail {path}: {_reason(exc)}") from None
    except sqlite3.Error as exc:
        raise AuditError(f"cannot open the audit trail {path}: {_reason(exc)}") from None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, timeout=30)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.Error as exc:
        raise AuditError(f"cannot open the audit trail {path}: {_reason(exc)}") from None


def _lock_row(values: tuple) -> Lock:
    return Lock.from_dict(dict(zip(LOCK_COLUMNS, values, strict=False)))


def _get_lock(db: sqlite3.Connection, record_id: str) -> Lock | None:
    sql = f"SELECT {', '.join(LOCK_COLUMNS)} FROM locks WHERE record_id = ?"  # noqa: S608 - constant column names
    found = db.execute(sql, (record_id,)).fetchone()
    return _lock_row(found) if found else None


class Ledger:
    """A read-only view of the lock ledger of a trail, for checks. A trail that does not exist
    yet, or was written before docgen kept locks, holds no lock."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None

    def get(self, record_id: str) -> Lock | None:
        if self._db is None:
            if not self.path.is_file():
                return None
            self._db = open_read_only(self.path)
        try:
            return _get_lock(self._db, record_id)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise AuditError(f"cannot read the audit trail {self.path}: {_reason(exc)}") from None
        except sqlite3.Error as exc:
            raise AuditError(f"cannot read the audit trail {self.path}: {_reason(exc)}") from None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _select(path: Path, table: str, columns: Iterable[str], at: str, record: str | None,
            since: date | None) -> list[tuple]:
    """Rows of ``table`` in the trail at ``path``, oldest first, by record id and day (column ``at``).
    A table the trail does not have yet (a trail older than the lock ledger) has no rows."""
    if not Path(path).is_file():
        raise AuditError(f"no audit trail at {path}")
    db = open_read_only(Path(path))
    try:
        sql, args = f"SELECT {', '.join(columns)} FROM {table} WHERE 1=1", []  # noqa: S608 - our own names
        if record:
            sql += " AND record_id = ?"
            args.append(record)
        if since:
            sql += f" AND {at} >= ?"
            args.append(since.isoformat())
        return db.execute(sql + " ORDER BY seq", args).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise AuditError(f"cannot read the audit trail {path}: {_reason(exc)}") from None
    except sqlite3.Error as exc:
        raise AuditError(f"cannot read the audit trail {path}: {_reason(exc)}") from None
    finally:
        db.close()


def query_locks(path: Path, record: str | None = None, since: date | None = None) -> list[dict[str, Any]]:
    """Locks of the trail at ``path``, oldest first, filtered by record id and day locked."""
    out = []
    for values in _select(path, "locks", (*LOCK_COLUMNS, "os_user", "host"), "locked_at", record, since):
        item = _lock_row(values[:len(LOCK_COLUMNS)]).as_dict()
        item.update(os_user=values[-2], host=values[-1])
        out.append(item)
    return out


def locks_text(locks: Iterable[dict[str, Any]]) -> list[tuple[str, ...]]:
    return [(lk["locked_at"], lk["record_id"], lk["kind"], lk["client_id"], lk["document_date"],
             ", ".join(f"{s['role']} {s['date'] or 'undated'}" for s in lk["signers"]), lk["sha256"],
             lk["os_user"]) for lk in locks]


def query(path: Path, record: str | None = None, since: date | None = None) -> list[dict[str, Any]]:
    """Events of the trail at ``path``, oldest first, filtered by record id and day."""
    out = []
    for values in _select(path, "events", COLUMNS, "at", record, since):
        item = dict(zip(COLUMNS, values, strict=True))
        item["outputs"] = json.loads(item["outputs"])
        out.append(item)
    return out


def rows_text(events: Iterable[dict[str, Any]]) -> list[tuple[str, ...]]:
    return [(e["at"], e["record_id"] or "", e["kind"] or "", e["outcome"], e["profile"] or "", e["os_user"],
             e["host"], (e["input_sha256"] or "")[:12], str(len(e["outputs"]))) for e in events]
