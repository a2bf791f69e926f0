"""The audit trail: an append-only SQLite table of generation events.

Each event holds when, the OS user, host, docgen version, profile, record id, kind, outcome, the
input's sha256 and the outputs' paths (client id and record id) and sha256. Never client names or
clinical text: not the input's file name either (exports are often named after the client), so the
``source`` column, kept for trails written by earlier versions, stays empty. Triggers refuse any
UPDATE or DELETE, so the trail can only grow. Each event is committed as it is recorded, before the
batch's journal marks the record done: a batch killed at any moment never leaves a generated
document without its event.
"""
from __future__ import annotations

import getpass
import json
import socket
import sqlite3
from collections.abc import Iterable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

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
"""

COLUMNS = ("seq", "at", "os_user", "host", "docgen_version", "profile", "record_id", "kind", "outcome", "source",
           "input_sha256", "outputs")


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "unknown"


class AuditTrail:
    def __init__(self, path: Path, version: str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # a commit survives a killed process without an fsync
        self.db.executescript(SCHEMA)
        self.user, self.host, self.version = _user(), socket.gethostname(), version

    def record(self, row: dict[str, Any]) -> None:
        """Append one generation event from a manifest row."""
        outputs = [{"path": o["path"], "sha256": o["sha256"]} for o in row.get("outputs", [])]
        self.db.execute(
            "INSERT INTO events (at, os_user, host, docgen_version, profile, record_id, kind, outcome, source,"
            " input_sha256, outputs) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (datetime.now(timezone.utc).isoformat(timespec="seconds"), self.user, self.host, self.version,
             row.get("profile"), row.get("id"), row.get("kind"), row["status"], None,
             row.get("input_sha256"), json.dumps(outputs, sort_keys=True)))
        self.commit()

    def commit(self) -> None:
        self.db.commit()

    def close(self) -> None:
        self.commit()
        self.db.close()


def query(path: Path, record: str | None = None, since: date | None = None) -> list[dict[str, Any]]:
    """Events of the trail at ``path``, oldest first, filtered by record id and day."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no audit trail at {path}")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        sql, args = f"SELECT {', '.join(COLUMNS)} FROM events WHERE 1=1", []
        if record:
            sql += " AND record_id = ?"
            args.append(record)
        if since:
            sql += " AND at >= ?"
            args.append(since.isoformat())
        rows = db.execute(sql + " ORDER BY seq", args).fetchall()
    finally:
        db.close()
    out = []
    for values in rows:
        item = dict(zip(COLUMNS, values))
        item["outputs"] = json.loads(item["outputs"])
        out.append(item)
    return out


def rows_text(events: Iterable[dict[str, Any]]) -> list[tuple[str, ...]]:
    return [(e["at"], e["record_id"] or "", e["kind"] or "", e["outcome"], e["profile"] or "", e["os_user"],
             e["host"], (e["input_sha256"] or "")[:12], str(len(e["outputs"]))) for e in events]
