"""Batch jobs: a SQLite table under ``--data`` (``jobs.sqlite``) and one thread that runs them, one at a
time, on the existing batch engine (:func:`docgen.api.batch`, the same call ``docgen batch`` makes).

A job's body is kept as ``DATA/batches/<id>/input.json`` (or ``.jsonl``) and its documents, manifest
and journal go to ``DATA/batches/<id>/out``; every job locks in the service's one audit trail
(``DATA/audit.sqlite``). A service killed mid-job finds the job ``running`` when it starts again and
runs it again: the batch engine's journal resumes it where it stopped (records done are not redone,
nothing partial was left). A job's ``as_of`` is fixed when it is made, so a resumed job judges its
records on the same day.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ..errors import DocgenError
from ..wording import counted

log = logging.getLogger("docgen.serve")

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,            -- queued, running, done, failed
    created TEXT NOT NULL,
    started TEXT,
    finished TEXT,
    options TEXT NOT NULL,           -- JSON: formats, profile, allow_draft, as_of
    input TEXT NOT NULL,             -- the body's file name inside the job folder
    total INTEGER,
    done INTEGER NOT NULL DEFAULT 0,
    counts TEXT,                     -- JSON: final, draft, refused, invalid, skipped, failed, locked
    ok INTEGER,
    head TEXT,
    error TEXT,
    runs INTEGER NOT NULL DEFAULT 0,
    callback_url TEXT,
    callback_state TEXT,             -- pending, delivered, failed (NULL: no callback)
    callback_attempts INTEGER NOT NULL DEFAULT 0
)
"""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Jobs:
    """The job table. Every method opens its own connection: callers are threads of the service."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.path = data / "jobs.sqlite"
        with self._db() as db:
            db.execute(SCHEMA)
        self.path.chmod(0o600)

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    def folder(self, job_id: str) -> Path:
        return self.data / "batches" / job_id

    def create(self, owner: str, body: bytes, jsonl: bool, options: dict[str, Any], callback_url: str | None) -> str:
        from ..write import write_atomic  # noqa: PLC0415

        job_id = uuid.uuid4().hex
        name = "input.jsonl" if jsonl else "input.json"
        folder = self.folder(job_id)
        folder.mkdir(mode=0o700, parents=True)
        write_atomic(folder / name, body)
        with self._db() as db:
            db.execute("INSERT INTO jobs (id, owner, status, created, options, input, callback_url, callback_state) "
                       "VALUES (?, ?, 'queued', ?, ?, ?, ?, ?)",
                       (job_id, owner, _now(), json.dumps(options, sort_keys=True), name, callback_url,
                        "pending" if callback_url else None))
        return job_id

    def get(self, job_id: str) -> dict | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return dict(row) if row else None

    def next_queued(self) -> dict | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE status = 'queued' ORDER BY created, rowid LIMIT 1").fetchone()
        return dict(row) if row else None

    def resume(self) -> int:
        """Jobs a killed service left running are queued again (their journal resumes them)."""
        with self._db() as db:
            return db.execute("UPDATE jobs SET status = 'queued' WHERE status = 'running'").rowcount

    def update(self, job_id: str, **values: Any) -> None:
        names = ", ".join(f"{name} = ?" for name in values)
        with self._db() as db:
            db.execute(f"UPDATE jobs SET {names} WHERE id = ?", (*values.values(), job_id))  # noqa: S608 - names are ours

    def undelivered(self) -> list[dict]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM jobs WHERE callback_state = 'pending' AND status IN ('done', 'failed')"
                              ).fetchall()
        return [dict(r) for r in rows]


def public(job: dict) -> dict:
    """A job as the API shows it: no owner, no file names."""
    options = json.loads(job["options"])
    total = job["total"]
    return {"id": job["id"], "status": job["status"], "created": job["created"], "started": job["started"],
            "finished": job["finished"], "total": total, "done": job["done"],
            "progress": round(job["done"] / total, 4) if total else (1.0 if job["status"] == "done" else 0.0),
            "counts": json.loads(job["counts"]) if job["counts"] else None,
            "ok": None if job["ok"] is None else bool(job["ok"]), "audit_head": job["head"], "error": job["error"],
            "options": options, "callback": job["callback_state"]}


class Runner:
    """Runs queued jobs one at a time on a thread of the service; ``workers`` processes per batch."""

    def __init__(self, jobs: Jobs, workers: int, audit: Path, on_end: Callable[[dict], None],
                 signing: tuple[str, bytes | None] | None = None) -> None:
        self.jobs = jobs
        self.workers = workers
        self.audit = audit
        self.on_end = on_end
        self.signing = signing  # the service's key (docgen serve --sign-with), for jobs asking sign=true
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="docgen-jobs", daemon=True)

    def _signing(self, options: dict) -> dict:
        if not options.get("sign") or self.signing is None:
            return {}
        return {"sign_with": self.signing[0], "passphrase": self.signing[1], "sign_role": options.get("sign_role")}

    def start(self) -> None:
        resumed = self.jobs.resume()
        if resumed:
            log.info("jobs: %s left running resumed", counted(resumed, "job"))
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            job = self.jobs.next_queued()
            if job is None:
                self.wake.wait(1.0)
                self.wake.clear()
                continue
            self.run(job)

    def run(self, job: dict) -> None:
        from .. import api  # noqa: PLC0415

        job_id = job["id"]
        options = json.loads(job["options"])
        folder = self.jobs.folder(job_id)
        self.jobs.update(job_id, status="running", started=job["started"] or _now(), runs=job["runs"] + 1)
        log.info("job %s: started (run %d)", job_id, job["runs"] + 1)
        last = [0.0]
        done = [0]

        def progress(_row: dict, total: int) -> None:
            done[0] += 1
            now = time.monotonic()
            if now - last[0] > 0.25:
                last[0] = now
                self.jobs.update(job_id, done=done[0], total=total)

        try:
            summary = api.batch([folder / job["input"]], folder / "out", workers=self.workers,
                                formats=tuple(options["formats"]), profile=options.get("profile"),
                                allow_draft=bool(options.get("allow_draft")),
                                as_of=date.fromisoformat(options["as_of"]), audit=self.audit, progress=progress,
                                **self._signing(options))
        except DocgenError as exc:
            self.jobs.update(job_id, status="failed", finished=_now(), error=str(exc))
            log.info("job %s: failed: %s", job_id, exc)
        except Exception as exc:  # noqa: BLE001 - one job's crash must not stop the service's job thread
            self.jobs.update(job_id, status="failed", finished=_now(), error=f"internal error ({type(exc).__name__})")
            log.warning("job %s: failed: internal error (%s)", job_id, type(exc).__name__)
        else:
            self.jobs.update(job_id, status="done", finished=_now(), done=summary.records, total=summary.records,
                             counts=json.dumps(summary.counts, sort_keys=True), ok=int(summary.ok), head=summary.head)
            log.info("job %s: done: %s in %.1f s", job_id, counted(summary.records, "record"), summary.seconds)
        ended = self.jobs.get(job_id)
        if ended is not None and ended["callback_state"] == "pending":
            self.on_end(ended)


def manifest_rows(folder: Path) -> list[dict]:
    from ..batch.manifest import MANIFEST, read_rows  # noqa: PLC0415

    return list(read_rows(folder / "out" / MANIFEST))


__all__ = ["Jobs", "Runner", "public", "manifest_rows"]
