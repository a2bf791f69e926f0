"""The audit trail's hash chain (issue #12): tampering with the trail by hand (dropping its triggers,
deleting a lock, rewriting an event) is found, by ``docgen audit --verify`` and before render or batch
take the next lock; a trail written before the chain is migrated as it is; the chain's head is shown
at the end of a batch and by ``docgen audit``.

Tampering is done the way anyone with write access to the file can: the ``sqlite3`` module."""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import builders
from docgen import api
from docgen.batch import run_batch
from docgen.errors import AuditError
from docgen.ledger.locks import lock_of
from docgen.ledger.trail import AuditTrail
from render_helpers import write_records
from test_lock import invoke, plan_file, snapshot  # the same CLI runner and plan as the locking tests

AS_OF = "2026-11-24"
HEX = re.compile(r"^[0-9a-f]{64}$")
GENESIS = "0" * 64
TRIGGERS = {"events_no_update", "events_no_delete", "events_no_replace", "events_chained",
            "locks_no_update", "locks_no_delete", "locks_no_replace", "locks_chained"}


def tamper(trail: Path, *statements: str) -> None:
    """What someone with write access does with the sqlite3 module."""
    db = sqlite3.connect(trail)
    try:
        for sql in statements:
            db.execute(sql)
        db.commit()
    finally:
        db.close()


def triggers(trail: Path) -> set[str]:
    db = sqlite3.connect(trail)
    try:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    finally:
        db.close()


def rows(trail: Path, table: str) -> list[dict]:
    db = sqlite3.connect(trail)
    try:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(f"SELECT * FROM {table} ORDER BY seq")]
    finally:
        db.close()


def rendered_trail(tmp_path: Path) -> tuple[Path, Path]:
    """A plan rendered final: its lock (chain row 1) and its event (row 2)."""
    out = tmp_path / "out"
    result = invoke("render", plan_file(tmp_path / "v1"), "--out", out, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    return out, out / "audit.sqlite"


# --- the issue: tampering goes unnoticed --------------------------------------------------------------
def test_a_deleted_lock_and_rewritten_event_stop_the_next_render(tmp_path):
    out, trail = rendered_trail(tmp_path)
    before = snapshot(out)
    tamper(trail, "DROP TRIGGER locks_no_delete", "DROP TRIGGER events_no_update",
           "DELETE FROM locks WHERE record_id = 'TP-1001'",
           "UPDATE events SET input_sha256 = 'f00d' WHERE record_id = 'TP-1001'")
    events, locks = rows(trail, "events"), rows(trail, "locks")

    changed = plan_file(tmp_path / "v2", discharge_criteria="PHQ-9 below 5 three times in a row.")
    result = invoke("render", changed, "--out", out, "--as-of", AS_OF)
    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()  # one line, no traceback
    assert line.startswith("docgen render: --audit: the audit trail's hash chain is broken at locks seq 1: "
                           "missing row"), line
    assert line.endswith(f"; run docgen audit {trail} --verify"), line
    assert snapshot(out) == before  # the signed documents are untouched
    assert rows(trail, "events") == events and rows(trail, "locks") == locks  # nothing written
    assert "locks_no_delete" not in triggers(trail) and "events_no_update" not in triggers(trail)  # not recreated


def test_a_rewritten_event_stops_a_batch_before_any_document(tmp_path):
    out, trail = rendered_trail(tmp_path)
    tamper(trail, "DROP TRIGGER events_no_update", "UPDATE events SET outcome = 'refused'")
    notes = tmp_path / "notes"
    notes.mkdir()
    write_records(notes / "note.json", [builders.note_dict()])
    before = sorted(p.name for p in out.rglob("*"))
    result = invoke("batch", notes, "--out", out, "--workers", "1", "--as-of", AS_OF, "--audit", trail)
    assert result.exit_code == 2, result.output
    assert re.search(r"hash chain is broken at events seq 1: changed row", result.output), result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in out.rglob("*")) == before  # no document, no manifest


def test_a_dropped_trigger_alone_is_refused_not_recreated(tmp_path):
    out, trail = rendered_trail(tmp_path)
    tamper(trail, "DROP TRIGGER locks_no_delete")
    with pytest.raises(AuditError, match=r"trigger locks_no_delete is missing.*run docgen audit \S+ --verify$"):
        AuditTrail(trail, "test")
    assert "locks_no_delete" not in triggers(trail)
    result = invoke("render", plan_file(tmp_path / "v1"), "--out", out, "--as-of", AS_OF)
    assert result.exit_code == 2 and "locks_no_delete" in result.output
    report = api.verify_trail(trail)
    assert not report.intact and report.broken is None and report.missing_triggers == ("locks_no_delete",)


def test_a_replaced_trigger_is_a_finding(tmp_path):
    _, trail = rendered_trail(tmp_path)
    tamper(trail, "DROP TRIGGER events_no_delete",
           "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT 1; END")
    assert api.verify_trail(trail).missing_triggers == ("events_no_delete",)
    with pytest.raises(AuditError, match="events_no_delete"):
        AuditTrail(trail, "test")


def test_an_empty_trail_gets_its_triggers_back(tmp_path):
    trail = tmp_path / "audit.sqlite"
    AuditTrail(trail, "test").close()
    tamper(trail, "DROP TRIGGER events_no_update")
    AuditTrail(trail, "test").close()  # no row to vouch for: nothing to hide, created again
    assert triggers(trail) == TRIGGERS


# --- the chain ---------------------------------------------------------------------------------------
def canonical(table: str, row: dict) -> bytes:
    """The documented canonical form: the row's columns but the two hashes, and the table's name, as
    JSON with sorted keys, no spaces, UTF-8."""
    content = {k: v for k, v in row.items() if k not in ("prev_sha256", "row_sha256")}
    content["table"] = table
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def test_every_row_is_chained_as_documented(tmp_path):
    out, trail = rendered_trail(tmp_path)
    invoke("render", plan_file(tmp_path / "v1"), "--out", out, "--as-of", AS_OF)  # a second event
    chained = sorted([("locks", r) for r in rows(trail, "locks")] + [("events", r) for r in rows(trail, "events")],
                     key=lambda item: item[1]["chain"])
    assert [(t, r["seq"], r["chain"]) for t, r in chained] == [("locks", 1, 1), ("events", 1, 2), ("events", 2, 3)]
    prev = GENESIS
    for table, row in chained:
        assert row["prev_sha256"] == prev and HEX.match(row["row_sha256"])
        assert row["row_sha256"] == hashlib.sha256(prev.encode("ascii") + canonical(table, row)).hexdigest()
        prev = row["row_sha256"]
    report = api.verify_trail(trail)
    assert report.intact and (report.rows, report.head, report.events, report.locks) == (3, prev, 2, 1)
    assert api.trail_head(trail) == (3, prev)


def test_verify_names_the_first_broken_link(tmp_path):
    out, trail = rendered_trail(tmp_path)
    for _ in range(3):
        invoke("render", plan_file(tmp_path / "v1"), "--out", out, "--as-of", AS_OF)  # events seq 2..4
    intact = invoke("audit", trail, "--verify")
    head = api.verify_trail(trail).head
    assert intact.exit_code == 0 and intact.output.strip() == f"chain intact: 5 rows, head {head}"

    copy = tmp_path / "changed.sqlite"
    copy.write_bytes(trail.read_bytes())
    tamper(copy, "DROP TRIGGER events_no_update", "UPDATE events SET host = 'elsewhere' WHERE seq = 3")
    result = invoke("audit", copy, "--verify")
    assert result.exit_code == 1
    assert "chain broken at events seq 3: changed row" in result.output
    assert "trigger events_no_update is missing" in result.output
    broken = api.verify_trail(copy).broken
    assert (broken.table, broken.seq, broken.what) == ("events", 3, "changed row")

    copy.write_bytes(trail.read_bytes())  # a row deleted in the middle
    tamper(copy, "DROP TRIGGER events_no_delete", "DELETE FROM events WHERE seq = 2")
    broken = api.verify_trail(copy).broken
    assert (broken.table, broken.seq, broken.what) == ("events", 2, "missing row")

    copy.write_bytes(trail.read_bytes())  # the last row deleted (the sequence SQLite keeps still counts it)
    tamper(copy, "DROP TRIGGER events_no_delete", "DELETE FROM events WHERE seq = 4")
    broken = api.verify_trail(copy).broken
    assert (broken.table, broken.seq, broken.what) == ("events", 4, "missing row")

    copy.write_bytes(trail.read_bytes())  # two events swapped in the chain
    tamper(copy, "DROP TRIGGER events_no_update", "UPDATE events SET chain = -chain WHERE seq IN (2, 3)",
           "UPDATE events SET chain = 4 WHERE seq = 2", "UPDATE events SET chain = 3 WHERE seq = 3")
    broken = api.verify_trail(copy).broken
    assert (broken.table, broken.seq, broken.what) == ("events", 2, "reordered")

    copy.write_bytes(trail.read_bytes())  # a row rewritten with a new hash of its own: the next link breaks
    db = sqlite3.connect(copy)
    db.row_factory = sqlite3.Row
    row = dict(db.execute("SELECT * FROM events WHERE seq = 2").fetchone())
    row["outcome"] = "refused"
    new = hashlib.sha256(row["prev_sha256"].encode("ascii") + canonical("events", row)).hexdigest()
    db.execute("DROP TRIGGER events_no_update")
    db.execute("UPDATE events SET outcome = 'refused', row_sha256 = ? WHERE seq = 2", (new,))
    db.commit()
    db.close()
    broken = api.verify_trail(copy).broken
    assert (broken.table, broken.seq, broken.what) == ("events", 2, "changed row")

    as_json = json.loads(invoke("audit", copy, "--verify", "--format", "json").output)
    assert as_json["intact"] is False and as_json["broken"]["seq"] == 2
    assert as_json["missing_triggers"] == ["events_no_update"]


def test_a_head_kept_elsewhere_is_found_in_the_chain(tmp_path):
    out, trail = rendered_trail(tmp_path)
    kept = api.verify_trail(trail).head
    invoke("render", plan_file(tmp_path / "v1"), "--out", out, "--as-of", AS_OF)  # the trail grows
    found = invoke("audit", trail, "--verify", "--head", kept)
    assert found.exit_code == 0 and f"head {kept} kept elsewhere is row 2 of 3" in found.output
    other = invoke("audit", trail, "--verify", "--head", "ab" * 32)
    assert other.exit_code == 1 and "is not in the chain" in other.output
    assert invoke("audit", trail, "--head", kept).exit_code == 2  # --head goes with --verify
    short = invoke("audit", trail, "--verify", "--head", kept[:12])
    assert short.exit_code == 2 and "docgen audit: --head: a head is a sha256: 64 hex digits" in short.output


def test_rows_without_hashes_are_refused(tmp_path):
    """An earlier docgen (or a hand) appending to a chained trail: its row would break the chain."""
    _, trail = rendered_trail(tmp_path)
    for sql in ("INSERT INTO events (at, os_user, host, docgen_version, outcome, outputs)"
                " VALUES ('now', 'u', 'h', '0.2.0', 'final', '[]')",
                "INSERT INTO locks (record_id, kind, client_id, sha256, document_date, signers, locked_at,"
                " docgen_version, os_user, host) VALUES ('TP-2', 'treatment_plan', 'C-1', 'x', '2026-09-22', '[]',"
                " 'now', '0.2.0', 'u', 'h')"):
        with pytest.raises(sqlite3.DatabaseError, match="hash-chained"):
            tamper(trail, sql)
    assert api.verify_trail(trail).intact


def test_runs_sharing_a_trail_keep_one_chain(tmp_path):
    """Appending reads the head in the same transaction (BEGIN IMMEDIATE): two trails appending at once."""
    path = tmp_path / "audit.sqlite"
    AuditTrail(path, "setup").close()
    start = threading.Barrier(2)

    def append(n: int) -> None:
        trail = AuditTrail(path, f"run {n}")
        start.wait()
        try:
            for i in range(60):
                trail.record({"id": f"R{n}-{i}", "kind": "progress_note", "status": "final", "outputs": []})
                if i % 20 == 0:
                    trail.lock(lock_of(builders.validate({**builders.plan_dict(), "id": f"TP-{n}-{i}"}), "a" * 64))
        finally:
            trail.close()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(append, (1, 2)))
    report = api.verify_trail(path)
    assert report.intact and (report.events, report.locks, report.rows) == (120, 6, 126)


def test_tampering_during_a_run_stops_its_next_append(tmp_path):
    trail_path = tmp_path / "audit.sqlite"
    trail = AuditTrail(trail_path, "test")
    try:
        trail.record({"id": "R1", "kind": "progress_note", "status": "final", "outputs": []})
        trail.record({"id": "R2", "kind": "progress_note", "status": "final", "outputs": []})
        tamper(trail_path, "DROP TRIGGER events_no_delete", "DELETE FROM events WHERE seq = 2")
        with pytest.raises(AuditError, match="hash chain is broken at events seq 2: missing row"):
            trail.record({"id": "R3", "kind": "progress_note", "status": "final", "outputs": []})
    finally:
        trail.close()
    assert [r["record_id"] for r in rows(trail_path, "events")] == ["R1"]


# --- the head at the end of a batch and in docgen audit -----------------------------------------------
def test_batch_and_audit_show_the_head(tmp_path):
    src = tmp_path / "in"
    plan_file(src)
    write_records(src / "note.json", [builders.note_dict()])
    out = tmp_path / "out"
    with ThreadPoolExecutor(1) as pool:
        summary = run_batch([str(src)], out, pool, as_of=builders.AS_OF)
    report = api.verify_trail(out)
    assert report.intact and (summary.chain_rows, summary.head) == (report.rows, report.head) == (4, report.head)

    result = invoke("batch", src, "--out", tmp_path / "again", "--workers", "1", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    again = api.verify_trail(tmp_path / "again")
    assert f"audit trail head: {again.head} ({again.rows} rows)" in result.output

    text = invoke("audit", out)
    assert text.exit_code == 0 and f"audit trail head: {report.head} ({report.rows} rows" in text.output
    as_json = json.loads(invoke("audit", out, "--format", "json").output)
    assert as_json["chain"] == {"rows": report.rows, "head": report.head}


# --- trails written before the chain ------------------------------------------------------------------
#: The schema of docgen 0.1 (events only: docgen/batch/audit.py at 225da33) and of 0.2 before the chain
#: (events and locks: docgen/ledger/trail.py at 08a88ea).
OLD_EVENTS = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, os_user TEXT NOT NULL, host TEXT NOT NULL,
    docgen_version TEXT NOT NULL, profile TEXT, record_id TEXT, kind TEXT, outcome TEXT NOT NULL, source TEXT,
    input_sha256 TEXT, outputs TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_record ON events(record_id);
CREATE INDEX IF NOT EXISTS events_at ON events(at);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""
OLD_LOCKS = """
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
OLD_EVENT = ("INSERT INTO events (at, os_user, host, docgen_version, profile, record_id, kind, outcome, input_sha256,"
             " outputs) VALUES (?, 'u', 'h', '0.2.0', 'default', ?, 'treatment_plan', 'final', ?, '[]')")


def old_trail(path: Path, with_locks: bool) -> Path:
    db = sqlite3.connect(path)
    db.executescript(OLD_EVENTS + (OLD_LOCKS if with_locks else ""))
    db.execute(OLD_EVENT, ("2026-10-01T09:00:00+00:00", "TP-OLD-1", "1" * 64))
    if with_locks:
        db.execute("INSERT INTO locks (record_id, kind, client_id, sha256, document_date, signers, locked_at,"
                   " docgen_version, os_user, host) VALUES ('TP-OLD-2', 'treatment_plan', 'C-9', ?, '2026-09-30', '[]',"
                   " '2026-10-02T09:00:00+00:00', '0.2.0', 'u', 'h')", ("2" * 64,))
    db.execute(OLD_EVENT, ("2026-10-02T09:00:00+00:00", "TP-OLD-2", "3" * 64))
    db.commit()
    db.close()
    return path


@pytest.mark.parametrize("with_locks", [False, True], ids=["0.1 events only", "0.2 events and locks"])
def test_a_trail_from_before_the_chain_is_migrated_as_it_is(tmp_path, with_locks):
    trail = old_trail(tmp_path / "audit.sqlite", with_locks)
    before = api.audit(trail), api.locks(trail)
    assert not api.verify_trail(trail).intact and api.verify_trail(trail).chained is False
    assert invoke("audit", trail, "--verify").exit_code == 1  # not vouched for: no chain yet
    assert invoke("audit", trail).exit_code == 0

    AuditTrail(trail, "0.3-test").close()  # opened for writing: migrated
    events, locks = api.audit(trail), api.locks(trail)
    assert locks == before[1] and events[:len(before[0])] == before[0]  # old rows as they were
    [marker] = events[len(before[0]):]  # the migration is an event of the chain itself
    assert (marker["outcome"], marker["record_id"], marker["docgen_version"]) == ("chain-start", None, "0.3-test")
    report = api.verify_trail(trail)
    old_rows = 3 if with_locks else 2
    assert report.intact and report.rows == old_rows + 1 and report.migrated == old_rows
    assert triggers(trail) == TRIGGERS
    # in the order of their time stamps: 0.2's lock (10-02 09:00) sits between the two events
    chained = {(t, r["seq"]): r["chain"] for t in ("events", "locks") for r in rows(trail, t)}
    if with_locks:
        assert chained == {("events", 1): 1, ("locks", 1): 2, ("events", 2): 3, ("events", 3): 4}

    out = tmp_path / "out"  # and it takes locks from now on
    assert invoke("render", plan_file(tmp_path / "in"), "--out", out, "--audit", trail, "--as-of",
                  AS_OF).exit_code == 0
    assert api.verify_trail(trail).intact
    AuditTrail(trail, "0.3-test").close()  # migrated once
    assert [e["outcome"] for e in api.audit(trail)].count("chain-start") == 1


def test_an_old_trail_with_a_dropped_trigger_is_not_migrated(tmp_path):
    trail = old_trail(tmp_path / "audit.sqlite", True)
    tamper(trail, "DROP TRIGGER locks_no_delete")
    with pytest.raises(AuditError, match="trigger locks_no_delete is missing"):
        AuditTrail(trail, "test")
    db = sqlite3.connect(trail)
    assert "chain" not in {r[1] for r in db.execute("PRAGMA table_info(events)")}  # left as found
    db.close()


def test_an_old_trail_with_a_deleted_row_is_not_migrated(tmp_path):
    trail = old_trail(tmp_path / "audit.sqlite", True)
    tamper(trail, "DROP TRIGGER events_no_delete", "DELETE FROM events WHERE seq = 1",
           "CREATE TRIGGER events_no_delete BEFORE DELETE ON events\n"
           "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END")
    with pytest.raises(AuditError, match="has lost rows: events holds 1 rows up to seq 2"):
        AuditTrail(trail, "test")


# --- check reads the same ledger render writes: a tampered trail is refused there too ---------------
def test_check_with_a_tampered_trail_is_refused_as_render_is(tmp_path):
    """A deleted lock must not make ``check --audit`` say "complete" for a record render refuses:
    check verifies the chain before it trusts the ledger's locks."""
    out, trail = rendered_trail(tmp_path)
    tamper(trail, "DROP TRIGGER locks_no_delete", "DELETE FROM locks WHERE record_id = 'TP-1001'")
    changed = plan_file(tmp_path / "v2", discharge_criteria="PHQ-9 below 5 three times in a row.")
    result = invoke("check", changed, "--audit", trail, "--as-of", AS_OF)
    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("docgen check: --audit: the audit trail's hash chain is broken at locks seq 1: "
                           "missing row"), line
    with pytest.raises(AuditError, match="hash chain is broken"):
        api.check([changed], audit=trail, as_of=None)


def test_check_with_an_intact_trail_still_sees_the_lock(tmp_path):
    out, trail = rendered_trail(tmp_path)
    changed = plan_file(tmp_path / "v2", discharge_criteria="PHQ-9 below 5 three times in a row.")
    result = invoke("check", changed, "--audit", trail, "--as-of", AS_OF)
    assert result.exit_code == 1, result.output
    assert "locked" in result.output
