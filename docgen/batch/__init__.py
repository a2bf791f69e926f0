"""Batch: fast, parallel, resumable generation with a manifest and an audit trail.

The runner streams documents from the inputs to any ``concurrent.futures.Executor`` (a process
pool locally, a Dask cluster's executor remotely) with a bounded number of tasks in flight, so
memory stays flat whatever the batch size. Each worker validates, checks, renders and writes one
record atomically and returns its manifest row; the main process keeps the manifest journal and
the audit trail, and writes the manifest as rows arrive (in input order). What it must look up by
record id (the last run's rows, the ids already seen) sits in a temporary SQLite file, not in
memory. One bad record never stops the batch.

A first, light pass indexes the treatment plans (ids, client, dates, goal and objective ids) so a
note can be checked against its plan wherever the plan sits in the inputs.

Locking (see :mod:`docgen.lock`): the main process looks each record's id up in the audit trail's
lock ledger and hands the lock to the worker, which refuses a record locked with other content
(status ``locked``); a record that comes out final is locked by the main process as its row arrives.
Addenda are processed last, in a second pass over the files that hold them, so that an addendum
finds its original locked even when both are in the same batch; their manifest rows follow the
others'.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import __version__
from ..load import RawDocument, read, source_file
from ..lock import Lock
from ..write import name_key, repeated_id, safe_name, write_all

MANIFEST = "manifest.jsonl"
MANIFEST_CSV = "manifest.csv"
JOURNAL = ".manifest-journal.jsonl"
AUDIT = "audit.sqlite"
OUTCOMES = ("complete", "draft", "refused", "invalid", "skipped", "failed", "locked")
CSV_FIELDS = ("source", "id", "kind", "client", "profile", "status", "blockers", "warnings", "outputs", "sha256",
              "bytes", "duration_ms", "input_sha256", "content_sha256")


# --- the plan index -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ObjectiveRef:
    id: str


@dataclass(frozen=True)
class GoalRef:
    id: str
    objectives: tuple[ObjectiveRef, ...]


@dataclass(frozen=True)
class ClientRef:
    id: str


@dataclass(frozen=True)
class PlanRef:
    """What the note rules need of a plan, small enough to index 50,000 of them."""

    id: str
    client: ClientRef
    plan_date: date
    next_review_date: date | None
    goals: tuple[GoalRef, ...]

    def goal(self, goal_id: str) -> GoalRef | None:
        return next((g for g in self.goals if g.id == goal_id), None)

    @classmethod
    def of(cls, plan) -> "PlanRef":
        return cls(plan.id, ClientRef(plan.client.id), plan.plan_date, plan.next_review_date,
                   tuple(GoalRef(g.id, tuple(ObjectiveRef(o.id) for o in g.objectives)) for g in plan.goals))

    def digest(self) -> str:
        return hashlib.sha256(repr(self).encode("utf-8")).hexdigest()


def _kind(raw: RawDocument) -> Any:
    return raw.data.get("kind") if isinstance(raw.data, dict) else None


# a JSON escape of a lower-case ASCII letter or "_": how "treatment_plan" could be spelled otherwise
_ESCAPED_LETTER = re.compile(rb"\\u00(?:[67][0-9a-fA-F]|5[fF])")


def _neither_plan_nor_addendum(line: bytes) -> bool:
    """A JSONL line that cannot hold a plan or an addendum (neither word appears, even escaped): the
    first pass counts it without parsing it."""
    return b"treatment_plan" not in line and b"addendum" not in line and not _ESCAPED_LETTER.search(line)


def index_plans(inputs: Iterable[str | os.PathLike]) -> tuple[dict[str, PlanRef], int, list[str]]:
    """Plans of the inputs by id, the number of documents (for the progress bar) and the files
    that hold addenda (read again once everything else is done)."""
    from ..model.validate import validate_document  # noqa: PLC0415

    plans: dict[str, PlanRef] = {}
    addenda: dict[str, None] = {}
    count = 0
    for raw in read(inputs, skip_line=_neither_plan_nor_addendum):
        count += 1
        if _kind(raw) == "addendum":
            addenda[source_file(raw.source)] = None
        if _kind(raw) == "treatment_plan":
            result = validate_document(raw)
            if result.record is not None and result.record.id not in plans:
                plans[result.record.id] = PlanRef.of(result.record)
    return plans, count, list(addenda)


# --- work done in a worker -----------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    out: str
    formats: tuple[str, ...]
    profile: str | None
    templates: str | None
    allow_draft: bool
    as_of: date
    force: bool
    cwd: str = ""  # the folder relative sources are relative to, wherever a worker runs
    # --sign-with: each worker loads the PKCS#12 once (see _renderer); repr=False keeps the
    # passphrase out of any message or log that shows a Config
    sign_with: str | None = None
    passphrase: bytes | None = field(default=None, repr=False)
    sign_role: str | None = None
    # fsync each file (workers on other machines); a local batch flushes once at its end instead
    sync_each: bool = True


@dataclass
class Task:
    seq: int
    source: str
    data: Any
    error: str | None
    plan: PlanRef | None
    previous: dict | None  # the record's manifest row from an earlier run
    lock: Lock | None = None  # the ledger's lock of the record's id
    locks: dict[str, Lock] | None = None  # for an addendum: the ledger's lock of its original, by id


def input_hash(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@lru_cache(maxsize=4)
def _renderer(config: Config):
    from ..render import Renderer  # noqa: PLC0415

    signer = None
    if config.sign_with:
        from ..sign import load_key  # noqa: PLC0415

        signer = load_key(config.sign_with, config.passphrase)  # once per worker process
    return Renderer(Path(config.out), config.formats, Path(config.templates) if config.templates else None,
                    config.allow_draft, signer=signer, sign_role=config.sign_role)


@lru_cache(maxsize=4)
def _fingerprint(config: Config) -> str:
    """Everything besides the record that shapes the output: version, templates, formats, options."""
    renderer = _renderer(config)
    h = hashlib.sha256(f"{__version__}|{config.formats}|{config.profile}".encode())
    if renderer.signer is not None:  # a signed run redoes documents an unsigned (or other signer's) run made
        h.update(f"|signed by {renderer.signer.fingerprint} as {config.sign_role}".encode())
    for path in sorted(renderer.templates.glob("*")):
        if path.suffix in (".docx", ".toml") and path.is_file():
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


_PROFILE_PRINTS: dict[str, str] = {}


def _profile_fingerprint(profile) -> str:
    if profile.origin not in _PROFILE_PRINTS:
        _PROFILE_PRINTS[profile.origin] = hashlib.sha256(json.dumps(
            [profile.name, profile.rules, profile.calendar], sort_keys=True, default=str).encode()).hexdigest()
    return _PROFILE_PRINTS[profile.origin]


def output_paths(config: Config, record) -> dict[str, Path]:
    """``DIR/<client id>/<kind>-<date>-<record id>.<ext>``, every part made safe."""
    folder = Path(config.out) / safe_name(record.client.id)
    stem = f"{record.kind}-{record.service_date.isoformat()}-{safe_name(record.id)}"
    return {fmt: folder / f"{stem}.{fmt}" for fmt in config.formats}


def _unchanged(previous: dict | None, key: str, out: Path) -> bool:
    if not previous or previous.get("key") != key:
        return False
    for item in previous.get("outputs", []):
        path = out / item["path"]
        try:
            if path.stat().st_size != item["bytes"]:
                return False
        except OSError:
            return False
    return True


def exit_with_parent() -> None:
    """Initializer of a local worker process: exit when the process that started it is gone. A batch
    killed with SIGKILL cannot stop its pool, and its workers would otherwise wait for work forever.
    (The parent is the batch, or a fork server that ends with the batch.)"""
    import threading  # noqa: PLC0415

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="docgen-exit-with-parent", daemon=True).start()


def process(task: Task, config: Config) -> dict:
    """Validate, check, render and write one record; return its manifest row. Never raises."""
    started = time.perf_counter()
    row: dict[str, Any] = {"seq": task.seq, "source": task.source, "id": None, "kind": None, "client": None,
                           "profile": None, "status": "failed", "blockers": 0, "warnings": 0, "outputs": [],
                           "input_sha256": input_hash(task.data) if task.data is not None else None, "error": ""}
    try:
        _process(task, config, row)
    except Exception as exc:  # noqa: BLE001 - one record's failure is reported, never raised
        from ..sign import SigningError  # noqa: PLC0415

        row["status"] = "failed"
        # a signing error's message is written to be shown (no passphrase, no client data)
        row["error"] = f"signing failed: {exc}" if isinstance(exc, SigningError) else \
            f"{type(exc).__name__} while processing"
    row["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return row


def _process(task: Task, config: Config, row: dict) -> None:
    from ..check import check_record, load_profile, profile_of, signers_of  # noqa: PLC0415
    from ..lock import changed, lock_of, locked_message  # noqa: PLC0415
    from ..model.validate import validate_document  # noqa: PLC0415
    from ..render import content_hash  # noqa: PLC0415

    result = validate_document(RawDocument(task.source, task.data, task.error))
    row.update(id=result.id, kind=result.kind, client=result.client)
    if result.record is None:
        row.update(status="invalid", blockers=len(result.findings),
                   findings=[f.as_dict() for f in result.findings])
        return
    record = result.record
    profile = load_profile(config.profile) if config.profile else profile_of(record)
    result.profile = row["profile"] = profile.name
    result.signers = signers_of(record, profile)
    plans = {task.plan.id: task.plan} if task.plan is not None else {}
    result.findings.extend(check_record(record, profile, config.as_of, plans, task.locks or {}, ledger=True))
    blockers, warnings = result.blockers, result.warnings
    row.update(blockers=len(blockers), warnings=len(warnings))
    digest = row["content_sha256"] = content_hash(record)
    if changed(task.lock, digest):
        row.update(status="locked", error=locked_message(task.lock))
        return
    if blockers:
        row["findings"] = [f.as_dict() for f in blockers]
    else:
        row["lock"] = lock_of(record, digest).as_dict()  # the main process locks it once the files are written
    if blockers and not config.allow_draft:
        row["status"] = "refused"
        return
    findings_sig = hashlib.sha256(json.dumps([f.as_dict() for f in result.findings], sort_keys=True).encode())
    key = hashlib.sha256("|".join((row["input_sha256"], findings_sig.hexdigest(), _fingerprint(config),
                                   _profile_fingerprint(profile),
                                   task.plan.digest() if task.plan else "")).encode()).hexdigest()
    row["key"] = key
    out = Path(config.out)
    if not config.force and _unchanged(task.previous, key, out):
        row.update(status="skipped", outputs=task.previous["outputs"])
        return
    if config.cwd and not os.path.isabs(result.source):
        # signature images are found next to the record file: a relative source means the batch's
        # folder, not the worker's (a Dask worker runs in a folder of its own)
        result.source = os.path.join(config.cwd, result.source)
    renderer = _renderer(config)
    data = renderer.render_bytes(result, draft=bool(blockers))
    targets = output_paths(config, record)
    files = {targets[fmt]: blob for fmt, blob in data.items()}
    write_all(files, durable=config.sync_each)
    row["outputs"] = [{"path": str(path.relative_to(out)), "sha256": hashlib.sha256(blob).hexdigest(),
                       "bytes": len(blob)} for path, blob in files.items()]
    row["status"] = "draft" if blockers else "complete"


def _original_id(data: dict) -> str | None:
    """The id of the original an addendum names, as its model will read it (numbers become text)."""
    original = data.get("original")
    value = original.get("id") if isinstance(original, dict) else None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value).strip() or None
    return None


# --- the batch -------------------------------------------------------------------------------------
@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k in OUTCOMES})
    records: int = 0
    seconds: float = 0.0
    rows: list[dict] = field(default_factory=list)  # rows of records that did not produce documents

    @property
    def ok(self) -> bool:
        return not (self.counts["refused"] or self.counts["invalid"] or self.counts["failed"] or self.counts["locked"])

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def _read_rows(path: Path) -> Iterator[dict]:
    """Rows of a manifest or journal; a line cut short by a kill is ignored."""
    if not path.is_file():
        return
    with path.open("r", encoding="utf-8") as handle:
        for line in handle:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and row.get("id"):
                yield row


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
            for row in _read_rows(out / name):
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


def clean_leftovers(out: Path) -> int:
    """Remove temporary files left by a batch that was killed while writing."""
    removed = 0
    if out.is_dir():
        for path in out.rglob(".*.tmp"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _csv_row(row: dict) -> dict:
    outputs = row.get("outputs", [])
    return {
        **{k: row.get(k, "") for k in CSV_FIELDS if k not in ("outputs", "sha256", "bytes")},
        "outputs": " ".join(o["path"] for o in outputs), "sha256": " ".join(o["sha256"] for o in outputs),
        "bytes": " ".join(str(o["bytes"]) for o in outputs),
    }


class ManifestWriter:
    """``manifest.jsonl`` and ``manifest.csv``, written in input order as the rows arrive (they
    finish a little out of order: only rows waiting for an earlier one stay in memory, at most the
    tasks in flight) into temporary files that replace the manifests when the batch is done."""

    def __init__(self, out: Path) -> None:
        self.targets = (out / MANIFEST, out / MANIFEST_CSV)
        # surrogateescape: a source whose file name is not UTF-8 is written with its own bytes
        self.files = [tempfile.NamedTemporaryFile("w", encoding="utf-8", errors="surrogateescape", newline="",
                                                  dir=out, prefix=f".{target.name}.", suffix=".tmp", delete=False)
                      for target in self.targets]
        self.csv = csv.DictWriter(self.files[1], fieldnames=CSV_FIELDS, lineterminator="\n")
        self.csv.writeheader()
        self.waiting: dict[int, dict] = {}
        self.next = 0

    def add(self, seq: int, row: dict) -> None:
        self.waiting[seq] = row
        while self.next in self.waiting:
            ready = self.waiting.pop(self.next)
            self.next += 1
            self.files[0].write(json.dumps(ready, sort_keys=True, default=str) + "\n")
            self.csv.writerow(_csv_row(ready))

    def commit(self) -> None:
        if self.waiting:
            raise RuntimeError(f"manifest rows missing before row {min(self.waiting)}")
        for handle, target in zip(self.files, self.targets):
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.replace(handle.name, target)

    def discard(self) -> None:
        for handle in self.files:
            handle.close()
            Path(handle.name).unlink(missing_ok=True)


def _open_journal(path: Path):
    """The journal, to append to; a last line cut short by a kill is ended first, so that the
    next row does not run into it."""
    if path.is_file() and path.stat().st_size:
        with path.open("rb+") as raw:
            raw.seek(-1, os.SEEK_END)
            if raw.read(1) != b"\n":
                raw.write(b"\n")
    return path.open("a", encoding="utf-8")


def _local(executor: Executor) -> bool:
    """Whether the executor's workers run on this machine (a process or thread pool)."""
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor  # noqa: PLC0415 - multiprocessing

    return isinstance(executor, (ProcessPoolExecutor, ThreadPoolExecutor))


def run_batch(inputs: list[str], out: str | os.PathLike, executor: Executor, *, formats=("docx", "pdf"),
              profile: str | None = None, templates: str | None = None, allow_draft: bool = False,
              force: bool = False, as_of: date | None = None, audit_path: str | os.PathLike | None = None,
              in_flight: int = 0, progress: Callable[[dict, int], None] | None = None, sign_with: str | None = None,
              passphrase: bytes | None = None, sign_role: str | None = None) -> Summary:
    """Run a batch on ``executor``; returns counts. ``progress(row, total)`` is called per record."""
    from ..check import load_profile  # noqa: PLC0415
    from ..lock import locked_message  # noqa: PLC0415
    from .audit import AuditTrail  # noqa: PLC0415

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if profile:
        load_profile(profile)  # a bad --profile is a usage error before any work
    clean_leftovers(out)
    config = Config(str(out.resolve()), tuple(formats), profile, str(Path(templates).resolve()) if templates else None,
                    allow_draft, as_of or date.today(), force, os.getcwd(), sign_with, passphrase, sign_role,
                    sync_each=not _local(executor))
    started = time.perf_counter()
    plans, total, addenda = index_plans(inputs)
    index = RecordIndex()
    index.load_previous(out)
    audit = AuditTrail(Path(audit_path) if audit_path else out / AUDIT, __version__)
    journal = _open_journal(out / JOURNAL)
    manifest = ManifestWriter(out)
    summary = Summary()
    limit = in_flight or 4 * max(getattr(executor, "_max_workers", 2) or 2, 1)

    def lock(row: dict) -> None:
        """Lock a record that came out final (or was skipped: unchanged since it did)."""
        mine = row.pop("lock", None)
        if mine is None or row["status"] not in ("complete", "skipped"):
            return
        held = audit.lock(Lock.from_dict(mine))
        if held.sha256 != mine["sha256"]:  # another run sharing the trail locked other content meanwhile
            if row["status"] == "complete":
                for item in row["outputs"]:
                    (out / item["path"]).unlink(missing_ok=True)
                row["outputs"] = []
            row.update(status="locked", error=locked_message(held))

    def handle(row: dict) -> None:
        seq = row.pop("seq")
        lock(row)
        summary.records += 1
        summary.counts[row["status"]] += 1
        if row["status"] in ("refused", "invalid", "failed", "locked"):
            summary.rows.append({k: row.get(k) for k in ("source", "id", "status", "error", "findings")})
        if row["status"] != "skipped":
            audit.record(row)  # committed before the journal says the record is done
        journal.write(json.dumps(row, sort_keys=True, default=str) + "\n")
        journal.flush()
        manifest.add(seq, row)
        if progress:
            progress(row, total)

    pending: set = set()

    def submit(seq: int, raw: RawDocument, locks: dict[str, Lock] | None = None) -> None:
        record_id = raw.id
        first = index.first_seen(record_id, raw.source) if record_id is not None else None
        if first is not None:
            handle({"seq": seq, "source": raw.source, "id": record_id, "kind": None, "client": raw.client,
                    "profile": None, "status": "failed", "blockers": 0, "warnings": 0, "outputs": [],
                    "error": repeated_id(record_id, *first), "duration_ms": 0, "input_sha256": None})
            return
        plan_id = raw.data.get("plan_id") if isinstance(raw.data, dict) else None
        task = Task(seq, raw.source, raw.data, raw.error, plans.get(plan_id) if isinstance(plan_id, str) else None,
                    index.previous(record_id) if record_id else None,
                    audit.get(record_id) if record_id else None, locks)
        if len(pending) >= limit:
            done, waiting = wait(pending, return_when=FIRST_COMPLETED)
            pending.intersection_update(waiting)
            for future in done:
                handle(future.result())
        pending.add(executor.submit(process, task, config))

    def drain() -> None:
        for future in list(pending):
            handle(future.result())
        pending.clear()

    try:
        seq = 0
        for raw in read(inputs):
            if _kind(raw) != "addendum":
                submit(seq, raw)
                seq += 1
        drain()  # every original of this batch is locked before an addendum looks for it
        for raw in read(addenda):
            if _kind(raw) == "addendum":
                original = _original_id(raw.data)
                held = audit.get(original) if original else None
                submit(seq, raw, {original: held} if held else {})
                seq += 1
        drain()
        if not config.sync_each:
            os.sync()  # every document of this local batch on disk before the manifest says so
        manifest.commit()
    except BaseException:
        manifest.discard()
        raise
    finally:
        journal.close()
        audit.close()
        index.close()
    (out / JOURNAL).unlink(missing_ok=True)
    summary.seconds = time.perf_counter() - started
    return summary
