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

Triggers only stop honest mistakes: anyone who can write the file can drop them. So every row is
also a link of a hash chain over both tables (:mod:`.chain`), and opening the trail for writing
(render, batch) recomputes the whole chain and checks the triggers first: a trail whose chain is
broken, or whose triggers are gone while it has rows, is refused (:class:`docgen.errors.AuditError`)
and nothing is written; docgen never recreates a dropped trigger on a trail with rows. Each append
reads the head and checks the rows other runs appended since, in the transaction that appends. A
trail written before the chain is migrated when it is first opened for writing: its rows are
chained as they are, and an event ``chain-start`` marks where the chain began.
"""
from __future__ import annotations

import getpass
import heapq
import json
import os
import socket
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ..errors import AuditError, WriteError
from ..findings import Outcome
from .chain import (
    CHAIN_START,
    HASHED,
    ChainHead,
    ChainReport,
    Position,
    altered_triggers,
    head,
    link,
    refusal,
    tables_of,
    verify,
    walk,
)
from .locks import Lock

#: The tables as docgen creates them; a trail written before the chain gets the last three columns
#: of each (``chain``, ``prev_sha256``, ``row_sha256``: see :mod:`.chain`) when it is migrated.
TABLE_DDL = {
    "events": """CREATE TABLE IF NOT EXISTS events (
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
    outputs TEXT NOT NULL,
    chain INTEGER,
    prev_sha256 TEXT,
    row_sha256 TEXT
)""",
    "locks": """CREATE TABLE IF NOT EXISTS locks (
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
    host TEXT NOT NULL,
    chain INTEGER,
    prev_sha256 TEXT,
    row_sha256 TEXT
)""",
}
INDEXES = (
    "CREATE INDEX IF NOT EXISTS events_record ON events(record_id)",
    "CREATE INDEX IF NOT EXISTS events_at ON events(at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS events_chain ON events(chain)",
    "CREATE INDEX IF NOT EXISTS locks_at ON locks(locked_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS locks_chain ON locks(chain)",
)
_APPEND_ONLY = "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
_LEDGER_ONLY = "BEGIN SELECT RAISE(ABORT, 'the lock ledger is append-only'); END"
_CHAINED = ("WHEN NEW.chain IS NULL OR NEW.prev_sha256 IS NULL OR NEW.row_sha256 IS NULL\n"
            "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only and hash-chained: a row needs its chain, "
            "prev_sha256 and row_sha256 (docgen writes them)'); END")
#: Every trigger, as docgen creates it: verification checks each is there, as written. The first
#: six are those of trails written before the chain (the first two even before the lock ledger).
TRIGGERS = {
    "events_no_update": f"CREATE TRIGGER events_no_update BEFORE UPDATE ON events\n{_APPEND_ONLY}",
    "events_no_delete": f"CREATE TRIGGER events_no_delete BEFORE DELETE ON events\n{_APPEND_ONLY}",
    "events_no_replace": "CREATE TRIGGER events_no_replace BEFORE INSERT ON events\n"
                         "WHEN NEW.seq IS NOT NULL AND EXISTS (SELECT 1 FROM events WHERE seq = NEW.seq)\n"
                         f"{_APPEND_ONLY}",
    "locks_no_update": f"CREATE TRIGGER locks_no_update BEFORE UPDATE ON locks\n{_LEDGER_ONLY}",
    "locks_no_delete": f"CREATE TRIGGER locks_no_delete BEFORE DELETE ON locks\n{_LEDGER_ONLY}",
    "locks_no_replace": "CREATE TRIGGER locks_no_replace BEFORE INSERT ON locks\n"
                        "WHEN EXISTS (SELECT 1 FROM locks WHERE record_id = NEW.record_id OR seq = NEW.seq)\n"
                        "BEGIN SELECT RAISE(ABORT, 'the record is already locked; the lock ledger is append-only');"
                        " END",
    "events_chained": f"CREATE TRIGGER events_chained BEFORE INSERT ON events\n{_CHAINED}",
    "locks_chained": f"CREATE TRIGGER locks_chained BEFORE INSERT ON locks\n{_CHAINED}",
}
#: The triggers a trail written before the chain must still have: before the lock ledger, and with it.
BEFORE_CHAIN = {False: ("events_no_update", "events_no_delete"),
                True: ("events_no_update", "events_no_delete", "events_no_replace", "locks_no_update",
                       "locks_no_delete", "locks_no_replace")}


def _create(sql: str) -> str:
    return sql.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1)


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
    (one line) when it cannot be opened or written: read-only media, a damaged file, a missing folder,
    a broken hash chain or missing triggers (then nothing is written)."""

    def __init__(self, path: Path, version: str):
        self.path = Path(path)
        self.user, self.host, self.version = _user(), socket.gethostname(), version
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self.path.exists():
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))  # PHI-adjacent: owner only
            # other runs may share an agency-wide trail; transactions are explicit (BEGIN IMMEDIATE to append)
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise AuditError(f"cannot open the audit trail {self.path}: {_reason(exc)}") from None
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # a commit survives a killed process without an fsync
            self._prepare()
            self.db.execute("BEGIN")  # one snapshot: other runs may append meanwhile
            try:
                report, self._pos = verify(self.db, TRIGGERS, str(self.path))
                self._version: int | None = None  # the first append walks from the head verify found
            finally:
                self.db.execute("COMMIT")
            if not report.intact:
                raise AuditError(report.refusal())
            self._tables = tables_of(self.db)
        except (sqlite3.Error, OSError) as exc:
            self.db.close()
            raise AuditError(f"cannot open the audit trail {self.path}: {_reason(exc)}") from None
        except BaseException:
            self.db.close()
            raise

    # --- opening: create, migrate, never repair ------------------------------------------------
    def _prepare(self) -> None:
        """Create the tables and triggers of a new (or empty) trail, or migrate one written before the
        chain. A trail with rows keeps its triggers as found: a missing one is refused, not recreated."""
        with self._write() as _:
            tables = tables_of(self.db)
            rows = any(self.db.execute(f"SELECT EXISTS (SELECT 1 FROM {t})").fetchone()[0] for t in tables)
            if "events" in tables and "chain" not in tables["events"]:
                self._migrate(tables, rows)
            elif not rows:
                for name in altered_triggers(self.db, TRIGGERS):
                    self.db.execute(f"DROP TRIGGER IF EXISTS {name}")
                self._create()

    def _create(self) -> None:
        for sql in (*TABLE_DDL.values(), *INDEXES, *map(_create, TRIGGERS.values())):
            self.db.execute(sql)

    def _migrate(self, tables: dict[str, set[str]], rows: bool) -> None:
        """Chain a trail written before the chain, as it is, in the order of its time stamps (a lock
        before the event of the same second: docgen locks first), and append a ``chain-start`` event."""
        if rows:
            required = BEFORE_CHAIN["locks" in tables]
            missing = altered_triggers(self.db, {name: TRIGGERS[name] for name in required})
            if missing:
                raise AuditError(refusal(None, missing, str(self.path)))
            self._whole(tables)
        for table in tables:
            for column, kind in (("chain", "INTEGER"), ("prev_sha256", "TEXT"), ("row_sha256", "TEXT")):
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        pos = Position()
        if rows:
            for name in ("events_no_update", "locks_no_update"):  # put back below, in this transaction
                self.db.execute(f"DROP TRIGGER IF EXISTS {name}")
            streams = [self._by_seq(t, at, rank) for t, at, rank in (("locks", "locked_at", 0), ("events", "at", 1))
                       if t in tables]
            for _, table, seq in heapq.merge(*streams, key=lambda item: item[0]):
                columns = [c for c in HASHED[table] if c != "chain"]
                values = self.db.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE seq = ?", (seq,)).fetchone()
                row = dict(zip(columns, values, strict=True))
                row["chain"] = pos.chain + 1
                sha = link(pos.sha, table, row)
                self.db.execute(f"UPDATE {table} SET chain = ?, prev_sha256 = ?, row_sha256 = ? WHERE seq = ?",
                                (row["chain"], pos.sha, sha, seq))
                pos.chain, pos.sha, pos.table, pos.seq = row["chain"], sha, table, seq
                pos.last[table] = seq
        self._create()
        if rows:
            self._insert(pos, "events", self._event({"status": CHAIN_START}))

    def _whole(self, tables: dict[str, set[str]]) -> None:
        """A trail written before the chain has every row it was given (AUTOINCREMENT leaves no gap
        and SQLite's sequence no further than the last row), or it is not chained: rows were deleted."""
        used = dict(self.db.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
        for table in tables:
            count, top = self.db.execute(f"SELECT count(*), coalesce(max(seq), 0) FROM {table}").fetchone()
            if count != top or (used.get(table) or 0) > top:
                raise AuditError(f"the audit trail {self.path}, written before the hash chain, has lost rows: {table} "
                                 f"holds {count} rows up to seq {top} (SQLite's sequence reached "
                                 f"{used.get(table) or 0}); docgen does not chain a trail with rows deleted "
                                 "(tampering evidence): keep it and start a new trail")

    def _by_seq(self, table: str, at: str, rank: int) -> Iterator[tuple[tuple[str, int], str, int]]:
        """The rows of ``table`` in their own order (seq), keyed by time stamp, read a thousand at a
        time: merged by time, each table keeps its order even when clocks of hosts sharing it differ."""
        last = 0
        while True:
            chunk = self.db.execute(f"SELECT seq, {at} FROM {table} WHERE seq > ? ORDER BY seq LIMIT 1000",
                                    (last,)).fetchall()
            if not chunk:
                return
            for seq, stamp in chunk:
                yield (str(stamp), rank), table, seq
            last = chunk[-1][0]

    # --- appending ------------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    @contextmanager
    def _append(self) -> Iterator[Position]:
        """One write transaction at the head of the chain: the rows other runs appended since the
        last one vouched for are checked first (a break raises, nothing is written)."""
        with self._write():
            # SQLite's data_version moves when another connection commits, never for this one's own
            # commits: unmoved since the head was vouched for, no row can have been added or changed
            # since (a batch appends twice per record; the walk was a third of its main process's work)
            version = self.db.execute("PRAGMA data_version").fetchone()[0]
            if version == self._version:
                last = self._pos
                pos = Position(last.chain, last.sha, last.table, last.seq, dict(last.last))
            else:
                pos, broken, _ = walk(self.db, self._tables, self._pos)
                if broken is not None:
                    raise AuditError(refusal(broken, (), str(self.path)))
            yield pos
        self._pos, self._version = pos, version  # committed: the new head is vouched for

    def _insert(self, pos: Position, table: str, values: dict[str, Any]) -> None:
        """Append one row after ``pos`` and move ``pos`` to it."""
        seq = self.db.execute(  # the seq AUTOINCREMENT would give: hashed with the row, so chosen before
            f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), "
            f"coalesce((SELECT max(seq) FROM {table}), 0)) + 1", (table,)).fetchone()[0]
        row = {**values, "seq": seq, "chain": pos.chain + 1}
        sha = link(pos.sha, table, row)
        columns = (*HASHED[table], "prev_sha256", "row_sha256")
        self.db.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                        (*(row[c] for c in HASHED[table]), pos.sha, sha))
        pos.chain, pos.sha, pos.table, pos.seq = row["chain"], sha, table, row["seq"]
        pos.last[table] = row["seq"]

    def _event(self, row: dict[str, Any]) -> dict[str, Any]:
        outputs = [{"path": o["path"], "sha256": o["sha256"]} for o in row.get("outputs", [])]
        return {"at": datetime.now(UTC).isoformat(timespec="seconds"), "os_user": self.user,
                "host": self.host, "docgen_version": self.version, "profile": row.get("profile"),
                "record_id": row.get("id"), "kind": row.get("kind"), "outcome": row["status"], "source": None,
                "input_sha256": row.get("input_sha256"), "outputs": json.dumps(outputs, sort_keys=True)}

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
        """Append one generation event from a manifest row (committed before this returns)."""
        with self._writing(), self._append() as pos:
            self._insert(pos, "events", self._event(row))

    def commit(self) -> None:
        """Nothing is left to commit: every append is its own transaction."""
        if self.db.in_transaction:
            self.db.execute("COMMIT")

    def head(self) -> ChainHead | None:
        """The chain's head as this run leaves it (the rows appended since by other runs checked too)."""
        with self._append() as pos:
            pass
        return ChainHead(pos.chain, pos.sha) if pos.chain else None

    # --- the lock ledger ----------------------------------------------------------------------
    def get(self, record_id: str) -> Lock | None:
        """The lock of ``record_id``, or None when it was never rendered final."""
        return _get_lock(self.db, record_id)

    def lock(self, lock: Lock) -> Lock:
        """Lock a record unless it is locked already; return the lock in force (``lock`` as
        recorded, or the earlier one, which may hold another hash). One transaction, so two runs
        sharing the trail cannot both lock the same id."""
        with self._writing(), self._append() as pos:
            return self._take_lock(pos, lock)

    def _take_lock(self, pos: Position, lock: Lock) -> Lock:
        held = _get_lock(self.db, lock.record_id)
        if held is None:
            signers = json.dumps([{"role": s.role, "signer_id": s.signer_id, "date": s.date, "time": s.time}
                                  for s in lock.signers], sort_keys=True)
            held = replace(lock, locked_at=datetime.now(UTC).isoformat(timespec="seconds"), docgen_version=self.version)
            self._insert(pos, "locks", {
                "record_id": lock.record_id, "kind": lock.kind, "client_id": lock.client_id,
                "sha256": lock.sha256, "document_date": lock.document_date, "signers": signers,
                "locked_at": held.locked_at, "docgen_version": self.version, "os_user": self.user,
                "host": self.host})
        return held  # as recorded: the row just written holds these values

    def finish(self, row: dict[str, Any], lock: Lock | None, held_other: Callable[[Lock], None]) -> None:
        """A batch record done: :meth:`finish_many` for one record."""
        self.finish_many([(row, lock, held_other)])

    def finish_many(self, done: Iterable[tuple[dict[str, Any], Lock | None, Callable[[Lock], None]]]) -> None:
        """Batch records done, in one transaction (a batch's main process does this for every task's
        records, so one commit and one look at the chain's head for all of them): for each ``(row,
        lock, held_other)`` in order, ``lock`` taken unless a lock is held already, ``held_other(held)``
        called when the held one is of other content (it may change ``row``), then the generation
        event of ``row`` appended unless the record was skipped."""
        with self._writing(), self._append() as pos:
            for row, lock, held_other in done:
                if lock is not None:
                    held = self._take_lock(pos, lock)
                    if held.sha256 != lock.sha256:
                        held_other(held)
                if row["status"] != Outcome.skipped.value:
                    self._insert(pos, "events", self._event(row))

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
    sql = f"SELECT {', '.join(LOCK_COLUMNS)} FROM locks WHERE record_id = ?"
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
            self._verify(self._db)
        try:
            return _get_lock(self._db, record_id)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise AuditError(f"cannot read the audit trail {self.path}: {_reason(exc)}") from None
        except sqlite3.Error as exc:
            raise AuditError(f"cannot read the audit trail {self.path}: {_reason(exc)}") from None

    def _verify(self, db: sqlite3.Connection) -> None:
        """The locks are trusted only on an intact chain: a lock deleted by hand must not make a check
        pass that render refuses. A trail written before the chain (render migrates it) is read as is."""
        try:
            tables = tables_of(db)
            if "events" not in tables or "chain" not in tables["events"]:
                return
            db.execute("BEGIN")  # one snapshot
            try:
                report, _ = verify(db, TRIGGERS, str(self.path))
            finally:
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            self.close()
            raise AuditError(f"cannot read the audit trail {self.path}: {_reason(exc)}") from None
        if not report.intact:
            self.close()
            raise AuditError(report.refusal())

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
        sql, args = f"SELECT {', '.join(columns)} FROM {table} WHERE 1=1", []
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


def _read_only(path: Path) -> sqlite3.Connection:
    if not Path(path).is_file():
        raise AuditError(f"no audit trail at {path}")
    return open_read_only(Path(path))


def verify_trail(path: Path, kept_head: str | None = None) -> ChainReport:
    """Recompute the hash chain of the trail at ``path`` (read-only, one snapshot) and check its
    triggers; ``kept_head``: a head kept elsewhere, which the chain must pass through."""
    db = _read_only(path)
    try:
        db.execute("BEGIN")
        report, _ = verify(db, TRIGGERS, str(path), kept_head)
        return report
    except sqlite3.Error as exc:
        raise AuditError(f"cannot read the audit trail {path}: {_reason(exc)}") from None
    finally:
        db.close()


def trail_head(path: Path) -> ChainHead | None:
    """The stored head of the trail at ``path`` (rows, last row_sha256), not recomputed; None for
    a trail without rows or written before the chain."""
    db = _read_only(path)
    try:
        return head(db)
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
