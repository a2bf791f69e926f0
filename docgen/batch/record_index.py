"""The record index of a batch: look-ups by record id kept in a private temporary SQLite database, so
memory stays flat whatever the batch size: the manifest rows of earlier runs, and the ids seen so far."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ..write import name_key
from .manifest import JOURNAL, MANIFEST, read_rows


class RecordIndex:
    """Look-ups by record id, kept in a private temporary SQLite database (deleted when closed) so
    memory stays flat whatever the batch size: the rows of earlier runs, and the ids seen so far."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("", isolation_level=None)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                              "CREATE TABLE previous (id TEXT PRIMARY KEY, row TEXT NOT NULL);"
                              "CREATE TABLE seen (folded TEXT PRIMARY KEY, id TEXT NOT NULL, source TEXT NOT NULL);")
        # one transaction for the index's whole life: it is private and thrown away, so nothing is
        # ever committed (a write per record would cost a file lock and a write each); SQLite keeps
        # its page cache bounded and spills to the temporary file, so memory stays flat
        self.db.execute("BEGIN")

    def load_previous(self, out: Path) -> None:
        """Rows of the last manifest, then of the journal of a run that was cut short. Only a row
        with a key can let a record be skipped: a later row without one (a duplicate id, a refusal)
        never hides it."""
        for name in (MANIFEST, JOURNAL):
            for row in read_rows(out / name):
                if row.get("key"):
                    self.db.execute("INSERT OR REPLACE INTO previous VALUES (?, ?)",
                                    (row["id"], json.dumps(row, default=str)))

    def previous(self, record_id: str) -> dict | None:
        found = self.db.execute("SELECT row FROM previous WHERE id = ?", (record_id,)).fetchone()
        return json.loads(found[0]) if found else None

    def first_seen(self, record_id: str, source: str) -> tuple[str, str] | None:
        """None the first time the file name of ``record_id`` is seen, ignoring case; afterwards, the
        id as first seen and its source. Ids that differ only in case name the same files on Windows
        and macOS, where the second record's documents would silently replace the first's."""
        source = source.encode("utf-8", "backslashreplace").decode("utf-8")  # a file name need not be UTF-8
        folded = name_key(record_id)
        if self.db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?, ?)", (folded, record_id, source)).rowcount:
            return None
        return self.db.execute("SELECT id, source FROM seen WHERE folded = ?", (folded,)).fetchone()

    def close(self) -> None:
        self.db.close()
