"""What the audit trail's hash chain costs, on a trail of N events (and a lock every other event).

    .venv/bin/python bench/trail.py [--events 50000] [--lock-every 2]   # --lock-every 0: no lock

Prints the time of an append (an event, a lock: each one transaction that reads the head and checks
the rows appended since), of opening the trail for writing (the whole chain recomputed and the
triggers checked, as render and batch do), of ``docgen audit --verify`` (read-only), and of migrating
a trail of the same size written before the chain. Measurements, not test assertions.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docgen.ledger.locks import Lock, Signer  # noqa: E402
from docgen.ledger.trail import AuditTrail, verify_trail  # noqa: E402

OUTPUTS = [{"path": "C-1001/progress_note-2026-10-13-PN-{n}.docx", "sha256": "b" * 64},
           {"path": "C-1001/progress_note-2026-10-13-PN-{n}.pdf", "sha256": "c" * 64}]


def event(n: int) -> dict:
    return {"id": f"PN-{n}", "kind": "progress_note", "profile": "default", "status": "final",
            "input_sha256": f"{n:064x}", "outputs": [{k: v.format(n=n) for k, v in o.items()} for o in OUTPUTS]}


def lock(n: int) -> Lock:
    return Lock(f"PN-{n}", "progress_note", "C-1001", f"{n:064x}", "2026-10-13",
                (Signer("clinician", "CL-01", "2026-10-13", "10:05"),))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cpu(fn) -> float:
    """CPU time of this process: on shared cores, steadier than the wall clock."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--lock-every", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="docgen-trail-"))
    path = folder / "audit.sqlite"

    trail = AuditTrail(path, "bench")
    started = time.perf_counter()
    appends = {"event": [], "lock": []}
    for n in range(args.events):
        if args.lock_every and n % args.lock_every == 0:
            appends["lock"].append(timed(lambda n=n: trail.lock(lock(n))))
        appends["event"].append(timed(lambda n=n: trail.record(event(n))))
    filled = time.perf_counter() - started
    trail.close()
    rows = args.events + len(appends["lock"])
    size = sum(p.stat().st_size for p in folder.glob("audit.sqlite*")) / 1e6
    print(f"trail: {args.events} events + {len(appends['lock'])} locks = {rows} rows, {size:.1f} MB, "
          f"written in {filled:.1f} s")
    for kind, times in appends.items():
        if not times:
            continue
        times.sort()
        print(f"append {'an' if kind == 'event' else 'a'} {kind}: median {times[len(times) // 2] * 1e3:.2f} ms, "
              f"p99 {times[int(len(times) * 0.99)] * 1e3:.2f} ms")
    opens = sorted(timed(lambda: AuditTrail(path, "bench").close()) for _ in range(3))
    open_cpu = sorted(cpu(lambda: AuditTrail(path, "bench").close()) for _ in range(3))
    print(f"open for writing (whole chain recomputed, triggers checked): {opens[1]:.2f} s, "
          f"{open_cpu[1]:.2f} s CPU (medians of 3)")
    verifies = sorted(timed(lambda: verify_trail(path)) for _ in range(3))
    verify_cpu = sorted(cpu(lambda: verify_trail(path)) for _ in range(3))
    print(f"docgen audit --verify (read-only): {verifies[1]:.2f} s, {verify_cpu[1]:.2f} s CPU (medians of 3)")

    old = folder / "old.sqlite"  # the same rows as a trail written before the chain
    db = sqlite3.connect(old)
    source = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, os_user TEXT NOT NULL,
            host TEXT NOT NULL, docgen_version TEXT NOT NULL, profile TEXT, record_id TEXT, kind TEXT,
            outcome TEXT NOT NULL, source TEXT, input_sha256 TEXT, outputs TEXT NOT NULL);
        CREATE TABLE locks (seq INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL, client_id TEXT NOT NULL, sha256 TEXT NOT NULL, document_date TEXT NOT NULL,
            signers TEXT NOT NULL, locked_at TEXT NOT NULL, docgen_version TEXT NOT NULL, os_user TEXT NOT NULL,
            host TEXT NOT NULL);""")
    for table in ("events", "locks"):
        columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
        db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})",
                       source.execute(f"SELECT {', '.join(columns)} FROM {table}"))
    source.close()
    from docgen.ledger.trail import TRIGGERS

    for name in ("events_no_update", "events_no_delete", "events_no_replace", "locks_no_update", "locks_no_delete",
                 "locks_no_replace"):
        db.execute(TRIGGERS[name])
    db.commit()
    db.close()
    migrated = timed(lambda: AuditTrail(old, "bench").close())
    report = verify_trail(old)
    print(f"migrate a trail of {rows} rows written before the chain: {migrated:.2f} s "
          f"(then intact: {report.intact}, {report.rows} rows)")
    print(json.dumps({"rows": rows, "open_s": round(opens[1], 3), "open_cpu_s": round(open_cpu[1], 3),
                      "verify_s": round(verifies[1], 3), "migrate_s": round(migrated, 3)}))


if __name__ == "__main__":
    main()
