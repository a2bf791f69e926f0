"""The audit trail's hash chain: what makes tampering with the trail evident.

Every row of the trail, event or lock, carries three columns: ``chain`` (its position, 1, 2, 3...
across both tables, in the order rows were appended), ``prev_sha256`` (the ``row_sha256`` of the row
before it; :data:`GENESIS`, 64 zeros, for the first) and ``row_sha256``::

    row_sha256 = sha256(prev_sha256 + canonical(row))

``prev_sha256`` is taken as its 64 hex digits (ASCII); ``canonical(row)`` is the UTF-8 JSON (sorted
keys, no spaces, ``ensure_ascii=False``) of an object holding every column of the row except
``prev_sha256`` and ``row_sha256`` (so ``seq`` and ``chain`` too), as stored, plus ``"table"``:
``"events"`` or ``"locks"``. The columns hashed are :data:`HASHED`.

One chain over both tables rather than one per table: a lock and the event of the same render are
links of one chain, so deleting a lock breaks the chain even when no event is touched, and a row
cannot move from one table's history to the other's. Rows are appended in one transaction with
reading the head (``BEGIN IMMEDIATE``), so runs sharing a trail extend one chain.

What the chain proves: a row changed, removed or moved since it was appended breaks a link (and
:func:`verify` names the first). What it does not: someone with write access can recompute every
hash after a change and rebuild a consistent chain. Keeping the head (``row_sha256`` of the last row,
and the number of rows) somewhere else and checking later that the chain still passes through it is
what makes that detectable. Nothing here reads or writes client names or clinical text.
"""
from __future__ import annotations

import hashlib
import heapq
import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

#: ``prev_sha256`` of the first row of every chain.
GENESIS = "0" * 64
TABLES = ("events", "locks")
#: The columns each table's rows are hashed over (with ``"table"``), in the order they are read.
HASHED: dict[str, tuple[str, ...]] = {
    "events": ("seq", "chain", "at", "os_user", "host", "docgen_version", "profile", "record_id", "kind", "outcome",
               "source", "input_sha256", "outputs"),
    "locks": ("seq", "chain", "record_id", "kind", "client_id", "sha256", "document_date", "signers", "locked_at",
              "docgen_version", "os_user", "host"),
}
CHAIN_COLUMNS = ("chain", "prev_sha256", "row_sha256")
#: The outcome of the event a migration appends: the rows before it were written before the chain.
CHAIN_START = "chain-start"
_KEYS = {table: tuple(sorted((*columns, "table"))) for table, columns in HASHED.items()}


def _blob(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"blob": bytes(value).hex()}  # docgen writes no blob: only a hand does
    raise TypeError(type(value).__name__)


_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_blob)  # keys come sorted


def canonical(table: str, row: Mapping[str, Any]) -> bytes:
    """The bytes of ``row`` (a table's columns to their values) that its ``row_sha256`` covers."""
    content = {key: table if key == "table" else row[key] for key in _KEYS[table]}
    return _JSON.encode(content).encode("utf-8", "surrogateescape")


def link(prev: str, table: str, row: Mapping[str, Any]) -> str:
    """``row_sha256`` of ``row`` appended after the row whose ``row_sha256`` is ``prev``."""
    return hashlib.sha256(str(prev).encode("utf-8", "surrogateescape") + canonical(table, row)).hexdigest()


class ChainHead(NamedTuple):
    """The head of a chain: how many rows it has, and the ``row_sha256`` of the last."""

    rows: int
    head: str


@dataclass(frozen=True)
class ChainBreak:
    """The first broken link: the row (table and seq) and what happened to it."""

    table: str
    seq: int | None
    what: str  # "changed row", "missing row", "reordered", "unchained row"
    detail: str

    def line(self) -> str:
        return f"{self.table} seq {self.seq}: {self.what} ({self.detail})"


@dataclass
class Position:
    """Where a walk along the chain stands: the last row vouched for, and each table's last seq."""

    chain: int = 0
    sha: str = GENESIS
    table: str | None = None
    seq: int | None = None
    last: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify` found. ``intact``: the trail is chained, every link holds, every trigger is
    there as docgen made it (and a ``kept_head`` given is in the chain)."""

    path: str
    chained: bool
    rows: int
    events: int
    locks: int
    head: str | None  # row_sha256 of the last row, when every link holds
    broken: ChainBreak | None = None
    missing_triggers: tuple[str, ...] = ()
    migrated: int | None = None  # rows written before the chain, chained as they were when it was added
    kept_head: str | None = None  # a head kept elsewhere, looked for in the chain
    kept_head_row: int | None = None  # its position, when found

    @property
    def intact(self) -> bool:
        return (self.chained and self.broken is None and not self.missing_triggers
                and (self.kept_head is None or self.kept_head_row is not None))

    def problems(self) -> list[str]:
        """One line per finding, first broken link first."""
        lines = []
        if not self.chained:
            lines.append(f"no hash chain: the trail ({self.rows} rows) was written by a docgen without one; "
                         "the next render or batch writing to it adds it")
        if self.broken is not None:
            lines.append(f"chain broken at {self.broken.line()}")
        lines += [f"trigger {name} is missing or altered" for name in self.missing_triggers]
        if self.kept_head is not None and self.kept_head_row is None and self.chained and self.broken is None:
            lines.append(f"head {self.kept_head} kept elsewhere is not in the chain: the rows up to it were "
                         "rewritten or removed (or it is another trail's)")
        return lines

    def refusal(self) -> str:
        """Why the trail cannot be written to, in one line."""
        return refusal(self.broken, self.missing_triggers, self.path)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["intact"] = self.intact
        out["missing_triggers"] = list(self.missing_triggers)
        return out


def refusal(broken: ChainBreak | None, missing_triggers: tuple[str, ...], path: str) -> str:
    """Why a trail whose chain is broken, or whose triggers are gone, is not written to: one line."""
    parts = []
    if broken is not None:
        parts.append(f"the audit trail's hash chain is broken at {broken.line()}")
    if missing_triggers:
        names = ", ".join(missing_triggers)
        which = f"trigger {names} is" if len(missing_triggers) == 1 else f"triggers {names} are"
        whose = "its" if parts else "the audit trail's"
        parts.append(f"{whose} {which} missing or altered (tampering evidence: docgen does not recreate triggers on "
                     "a trail with rows)")
    return "; ".join([*parts, f"run docgen audit {path} --verify"])


def normalized(sql: str | None) -> str:
    """A CREATE statement as SQLite keeps it in ``sqlite_master`` (no IF NOT EXISTS, no ``;``), spaces folded."""
    text = " ".join((sql or "").replace(" IF NOT EXISTS", "").split())
    return text.rstrip(";").strip()


def altered_triggers(db: sqlite3.Connection, expected: Mapping[str, str]) -> tuple[str, ...]:
    """The triggers of ``expected`` (name -> CREATE TRIGGER statement) missing or not as written."""
    found = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    return tuple(name for name, sql in expected.items() if normalized(found.get(name)) != normalized(sql))


def tables_of(db: sqlite3.Connection) -> dict[str, set[str]]:
    """The trail's tables (events, locks) that exist, with their columns."""
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {t: {r[1] for r in db.execute(f"PRAGMA table_info({t})")} for t in TABLES if t in names}


def _rows(db: sqlite3.Connection, table: str, since: int | None) -> Iterator[tuple[Any, str, dict[str, Any]]]:
    columns = (*HASHED[table], "prev_sha256", "row_sha256")
    sql = f"SELECT {', '.join(columns)} FROM {table}"
    cursor = db.execute(sql + (" WHERE chain >= ? ORDER BY chain" if since is not None else " ORDER BY chain"),
                        () if since is None else (since,))
    for values in cursor:
        row = dict(zip(columns, values, strict=True))
        chain = row["chain"]
        key = (-1, 0) if chain is None else (0, chain) if isinstance(chain, int) else (1, str(chain))
        yield key, table, row


def _where(db: sqlite3.Connection, table: str, column: str, value: Any) -> tuple[int | None, Any] | None:
    """(seq, chain) of the row of ``table`` whose ``column`` is ``value``, or None."""
    found = db.execute(f"SELECT seq, chain FROM {table} WHERE {column} = ? LIMIT 1", (value,)).fetchone()
    return (found[0], found[1]) if found else None


def walk(db: sqlite3.Connection, tables: Mapping[str, set[str]], start: Position | None = None,
         kept_head: str | None = None) -> tuple[Position, ChainBreak | None, int | None]:
    """Recompute the chain from ``start`` (default: the genesis, every row) to its head. ``start`` is a
    row already vouched for: it must still be there, unchanged, and the rows after it must link to it.
    Returns where the walk stopped, the first broken link (or None) and the position of ``kept_head``."""
    pos = Position() if start is None else Position(start.chain, start.sha, start.table, start.seq, dict(start.last))
    since = None if start is None or start.chain == 0 else start.chain
    seen = since is None  # the row vouched for last time, found again
    streams = [_rows(db, t, since) for t in TABLES if t in tables]
    kept_row = None
    for _, table, row in heapq.merge(*streams, key=lambda item: item[0]):
        chain, seq = row["chain"], row["seq"]
        if not seen:
            if chain != since or (table, seq, row["row_sha256"]) != (pos.table, pos.seq, pos.sha) or \
                    link(row["prev_sha256"], table, row) != row["row_sha256"]:
                return pos, _vouched(db, pos), kept_row
            seen = True
            continue
        broken = _check(db, tables, pos, table, row)
        if broken is not None:
            return pos, broken, kept_row
        if kept_head is not None and row["row_sha256"] == kept_head:
            kept_row = chain
        pos.chain, pos.sha, pos.table, pos.seq = chain, row["row_sha256"], table, seq
        pos.last[table] = seq
    return pos, None if seen else _vouched(db, pos), kept_row


def _vouched(db: sqlite3.Connection, pos: Position) -> ChainBreak:
    """The break at the row vouched for last time (``pos``), which is not there as it was."""
    if _where(db, str(pos.table), "seq", pos.seq) is None:
        return ChainBreak(str(pos.table), pos.seq, "missing row", "deleted since it was vouched for")
    return ChainBreak(str(pos.table), pos.seq, "changed row", "changed since it was vouched for")


def _check(db: sqlite3.Connection, tables: Mapping[str, set[str]], pos: Position, table: str,
           row: dict[str, Any]) -> ChainBreak | None:
    """The break at ``row``, the next row of the chain after ``pos``, or None when its link holds."""
    chain, seq, expected = row["chain"], row["seq"], pos.chain + 1
    if not isinstance(chain, int) or not isinstance(row["row_sha256"], str) or \
            not isinstance(row["prev_sha256"], str):
        what = "unchained row" if chain is None or row["row_sha256"] is None else "changed row"
        return ChainBreak(table, seq, what, "appended without its hashes" if what == "unchained row"
                          else "its chain columns were altered")
    if chain < expected:
        return ChainBreak(table, seq, "reordered", f"chain position {chain} comes again after {pos.chain}")
    if not isinstance(seq, int) or seq <= pos.last[table]:
        return ChainBreak(table, seq, "reordered", f"it comes after {table} seq {pos.last[table]} in the chain")
    if seq != pos.last[table] + 1:  # the table's next row is missing, or elsewhere in the chain
        return _absent(db, table, pos.last[table] + 1, f"{table} seq {seq} follows seq {pos.last[table]}")
    if chain > expected:  # a row of the other table is missing, or elsewhere
        other = next(t for t in TABLES if t != table)
        if other in tables:
            return _absent(db, other, pos.last[other] + 1, f"chain position {expected} is gone")
        return ChainBreak(table, seq, "missing row", f"chain positions {expected}-{chain - 1} are gone")
    if link(row["prev_sha256"], table, row) != row["row_sha256"]:
        return ChainBreak(table, seq, "changed row", "its content does not match its row_sha256")
    if row["prev_sha256"] != pos.sha:
        if pos.table is None:
            return ChainBreak(table, seq, "changed row", "the first row does not start from the genesis value")
        for other in tables:
            moved = _where(db, other, "row_sha256", row["prev_sha256"])
            if moved is not None:
                return ChainBreak(table, seq, "reordered", f"it links to {other} seq {moved[0]}, "
                                  f"not to {pos.table} seq {pos.seq} before it")
        return ChainBreak(pos.table, pos.seq, "changed row", f"rewritten with a new row_sha256: {table} seq {seq} "
                          "links to the one it had")
    return None


def _absent(db: sqlite3.Connection, table: str, seq: int, why: str) -> ChainBreak:
    found = _where(db, table, "seq", seq)
    if found is None:
        return ChainBreak(table, seq, "missing row", f"deleted: {why}")
    return ChainBreak(table, seq, "reordered", f"it sits at chain position {found[1]}: {why}")


def sequence_gap(db: sqlite3.Connection, pos: Position, tables: Mapping[str, set[str]]) -> ChainBreak | None:
    """The last rows of a table deleted: SQLite's AUTOINCREMENT sequence went further than its rows."""
    try:
        used = dict(db.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    except sqlite3.OperationalError:  # no AUTOINCREMENT table has ever had a row
        return None
    for table in tables:
        if isinstance(used.get(table), int) and used[table] > pos.last[table]:
            return ChainBreak(table, pos.last[table] + 1, "missing row",
                              f"deleted: the table's sequence reached {used[table]}, its last row is seq "
                              f"{pos.last[table]}")
    return None


def head(db: sqlite3.Connection) -> ChainHead | None:
    """The stored head (not recomputed): the row with the highest chain position, or None."""
    tables = tables_of(db)
    if "events" not in tables or "chain" not in tables["events"]:
        return None
    best = None
    for table in tables:
        found = db.execute(f"SELECT chain, row_sha256 FROM {table} WHERE chain IS NOT NULL "
                           "ORDER BY chain DESC LIMIT 1").fetchone()
        if found and (best is None or found[0] > best[0]):
            best = found
    return ChainHead(best[0], best[1]) if best else None


def verify(db: sqlite3.Connection, triggers: Mapping[str, str], path: str = "",
           kept_head: str | None = None) -> tuple[ChainReport, Position]:
    """Recompute the whole chain of the trail open on ``db`` (a read transaction is a snapshot):
    every link, the rows at the tail, and ``triggers`` (name -> the statement docgen creates it
    with). Returns the report and the last position vouched for."""
    tables = tables_of(db)
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] if t in tables else 0 for t in TABLES}
    kept = kept_head.strip().lower() if kept_head else None
    if "events" not in tables or "chain" not in tables["events"]:
        return ChainReport(path, False, sum(counts.values()), counts["events"], counts["locks"], None,
                           kept_head=kept), Position()
    try:
        pos, broken, kept_row = walk(db, tables, kept_head=kept)
    except sqlite3.OperationalError as exc:
        if "decode" not in str(exc).lower():  # text that is not UTF-8: a hand wrote it; read it as bytes
            raise
        db.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
        pos, broken, kept_row = walk(db, tables, kept_head=kept)
    if broken is None:
        broken = sequence_gap(db, pos, tables)
    found = db.execute(f"SELECT chain FROM events WHERE outcome = '{CHAIN_START}' ORDER BY chain LIMIT 1").fetchone()
    migrated = found[0] - 1 if found and isinstance(found[0], int) else None
    report = ChainReport(path, True, sum(counts.values()), counts["events"], counts["locks"],
                         pos.sha if broken is None and pos.chain else None, broken, altered_triggers(db, triggers),
                         migrated, kept, kept_row)
    return report, pos


__all__ = ["GENESIS", "TABLES", "HASHED", "CHAIN_COLUMNS", "CHAIN_START", "canonical", "link", "ChainHead",
           "ChainBreak", "ChainReport", "Position", "refusal", "walk", "verify", "head", "altered_triggers",
           "tables_of", "normalized", "sequence_gap"]
