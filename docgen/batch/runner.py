"""The batch runner: streams the documents of the inputs to any ``concurrent.futures.Executor`` (a
process pool locally, a Dask cluster's executor remotely) with a bounded number of tasks in flight, so
memory stays flat whatever the batch size. Each worker runs one record's lifecycle (:mod:`.worker`);
the main process takes the locks, keeps the journal and the audit trail, and writes the manifest as
rows arrive (in input order). Addenda are processed last, in a second pass over the files that hold
them, so that an addendum finds its original locked even when both are in the same batch."""
from __future__ import annotations

import errno
import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .. import __version__
from ..errors import OutputError, WriteError
from ..findings import PRODUCED, Outcome
from ..ledger.locks import Lock, locked_message
from ..ledger.trail import AuditTrail
from ..load import RawDocument, read
from ..pipeline import profile_override
from ..settings import output_trail
from ..write import prepare_folder, repeated_id
from .manifest import JOURNAL, ManifestWriter, open_journal
from .plan_index import index_inputs, kind_of, related_plans
from .record_index import RecordIndex
from .worker import Config, Task, process_many, worker_killed
from .workers import Workers, results

OUTCOMES = tuple(o.value for o in Outcome)
#: The most records a worker takes at a time. A local pool's per-task cost (queueing, pickling, waking a
#: worker and the main process, a trail transaction) is the main process's, about half a millisecond:
#: paid once per task, it no longer limits how well two workers scale.
CHUNK = 16


def chunk_size(remaining: int, workers: int) -> int:
    """Records in the next task: a quarter of an even share of what remains, at most :data:`CHUNK`
    (guided self-scheduling): large tasks while much remains, single records at the end, so that no
    worker is left with a long task while the others have nothing to do."""
    return max(1, min(CHUNK, remaining // (4 * max(workers, 1))))


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k in OUTCOMES})
    records: int = 0
    seconds: float = 0.0
    rows: list[dict] = field(default_factory=list)  # rows of records that did not produce documents
    workers_lost: int = 0  # times worker processes died and were replaced (their records tried again)
    head: str | None = None  # the audit trail's hash chain head when the batch ended (row_sha256 of its last row)
    chain_rows: int = 0  # and how many rows the chain had then

    @property
    def ok(self) -> bool:
        """Every record produced its documents (final, draft or skipped as unchanged)."""
        return all(n == 0 for k, n in self.counts.items() if Outcome(k) not in PRODUCED)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def clean_leftovers(out: Path, documents_only: bool = False) -> int:
    """Remove temporary files left by a batch that was killed while writing; ``documents_only``: those
    of documents (in the clients' folders), not the manifest's that this run is writing."""
    removed = 0
    if out.is_dir():
        for path in out.glob("*/**/.*.tmp") if documents_only else out.rglob(".*.tmp"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _local(executor: Executor) -> bool:
    """Whether the executor's workers run on this machine (a process or thread pool)."""
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor  # noqa: PLC0415 - multiprocessing

    return isinstance(executor, (Workers, ProcessPoolExecutor, ThreadPoolExecutor))


def _original_id(data: dict) -> str | None:
    """The id of the original an addendum names, as its model will read it (numbers become text)."""
    original = data.get("original")
    value = original.get("id") if isinstance(original, dict) else None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value).strip() or None
    return None


def run_batch(inputs: list[str], out: str | os.PathLike, executor: Executor, *, formats=("docx", "pdf"),
              profile: str | None = None, templates: str | None = None, allow_draft: bool = False,
              force: bool = False, as_of: date | None = None, audit: str | os.PathLike | None = None,
              in_flight: int = 0, progress: Callable[[dict, int], None] | None = None, sign_with: str | None = None,
              passphrase: bytes | None = None, sign_role: str | None = None) -> Summary:
    """Run a batch on ``executor``; returns counts. ``progress(row, total)`` is called per record.
    ``in_flight``: tasks submitted and not yet done (default four per worker), each of
    :func:`chunk_size` records.
    ``audit``: the audit trail (default: ``DOCGEN_AUDIT``, else ``out/audit.sqlite``)."""
    profile_override(profile)  # a bad --profile is a usage error before any work
    out = prepare_folder(Path(out))
    with _exclusive(out):
        return _run(inputs, out, executor, formats=formats, profile=profile, templates=templates,
                    allow_draft=allow_draft, force=force, as_of=as_of, audit=audit, in_flight=in_flight,
                    progress=progress, sign_with=sign_with, passphrase=passphrase, sign_role=sign_role)


@contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """Hold the output folder for this run: a second batch into the same folder is refused (it would
    clean up this run's temporary files and replace its manifest) instead of running alongside."""
    import fcntl  # noqa: PLC0415 - POSIX

    handle = os.open(out, os.O_RDONLY)  # the folder itself is locked: no lock file to leave behind
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(f"another batch is writing in {out}; wait for it to end, or use another --out") from None
        yield
    finally:
        os.close(handle)


def _close_quietly(handle) -> None:
    try:
        handle.close()
    except OSError:
        pass


def _stop_if_full(row: dict, out: Path) -> None:
    """A full disk stops the run at the first record it fails: every later one would fail the same way."""
    if row.get("errno") == errno.ENOSPC:
        raise WriteError(f"batch stopped: cannot write in {out}: No space left on device; nothing partial was "
                         "left, run it again once there is room")


def _run(inputs: list[str], out: Path, executor: Executor, *, formats, profile, templates, allow_draft, force,
         as_of, audit, in_flight, progress, sign_with, passphrase, sign_role) -> Summary:
    clean_leftovers(out)
    config = Config(str(out.resolve()), tuple(formats), profile, str(Path(templates).resolve()) if templates else None,
                    allow_draft, as_of or date.today(), force, os.getcwd(), sign_with, passphrase, sign_role,
                    sync_each=not _local(executor))
    started = time.perf_counter()
    workers = max(getattr(executor, "_max_workers", 2) or 2, 1)
    limit = in_flight or 4 * workers
    indexed = index_inputs(inputs, executor, limit)  # plans validated on the workers
    plans, total, addenda = indexed.plans, indexed.count, indexed.addenda
    related = related_plans(plans)
    trail = AuditTrail(output_trail(audit, out), __version__)
    index = RecordIndex()
    index.load_previous(out)
    journal = open_journal(out / JOURNAL)
    manifest = ManifestWriter(out)
    summary = Summary(workers_lost=indexed.workers_lost)

    def refuse(row: dict, held: Lock) -> None:
        """Another run sharing the trail locked the record with other content meanwhile."""
        if row["status"] == Outcome.final.value:
            for item in row["outputs"]:
                (out / item["path"]).unlink(missing_ok=True)
            row["outputs"] = []
        row.update(status=Outcome.locked.value, error=locked_message(held))

    def handle(rows: list[dict]) -> None:
        """A task's rows: a record that came out final (or was skipped: unchanged since it did) is
        locked, and its event appended, all in one transaction committed before the journal says any
        of them is done (a run killed in between redoes them)."""
        for row in rows:
            _stop_if_full(row, out)
        done = []
        for row in rows:
            row.pop("errno", None)
            mine = row.pop("lock", None)
            lock = Lock.from_dict(mine) if mine is not None and row["status"] in (
                Outcome.final.value, Outcome.skipped.value) else None
            done.append((row, lock, lambda held, row=row: refuse(row, held)))
        trail.finish_many(done)
        for row in rows:
            seq = row.pop("seq")
            summary.records += 1
            summary.counts[row["status"]] += 1
            if Outcome(row["status"]) not in PRODUCED:
                summary.rows.append({k: row.get(k) for k in ("source", "id", "status", "error", "findings")})
            line = json.dumps(row, sort_keys=True, default=str) + "\n"
            journal.write(line)
            journal.flush()
            manifest.add(seq, row, line)
            if progress:
                progress(row, total)

    pending: dict[Future, list[Task]] = {}  # tasks in flight, and the records each holds
    chunk: list[Task] = []

    def lost_worker() -> None:
        summary.workers_lost += 1

    def rows_of(future: Future) -> list[dict]:
        return results(executor, future, process_many, pending.pop(future), config, lost=worker_killed,
                       noticed=lost_worker)

    def submit(seq: int, raw: RawDocument, locks: dict[str, Lock] | None = None) -> None:
        record_id = raw.id
        first = index.first_seen(record_id, raw.source) if record_id is not None else None
        if first is not None and record_id is not None:
            handle([{"seq": seq, "source": raw.source, "id": record_id, "kind": None, "client": raw.client,
                    "profile": None, "status": Outcome.failed.value, "blockers": 0, "warnings": 0, "outputs": [],
                    "error": repeated_id(record_id, *first), "duration_ms": 0, "input_sha256": None}])
            return
        plan_id = raw.data.get("plan_id") if isinstance(raw.data, dict) else None
        task = Task(seq, raw.source, raw.data, raw.error, plans.get(plan_id) if isinstance(plan_id, str) else None,
                    index.previous(record_id) if record_id else None,
                    trail.get(record_id) if record_id else None, locks,
                    related(raw) if kind_of(raw) == "treatment_plan" else (), indexed.days_of(raw))
        chunk.append(task)
        if len(chunk) >= chunk_size(total - seq, workers):
            send()

    def send() -> None:
        if len(pending) >= limit:
            done, _waiting = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                handle(rows_of(future))
        pending[executor.submit(process_many, list(chunk), config)] = list(chunk)
        chunk.clear()

    def drain() -> None:
        if chunk:
            send()
        for future in list(pending):
            handle(rows_of(future))

    try:
        seq = 0
        # nesting is checked by the worker that validates the record (read needs only the ids here)
        for raw in read(inputs, check_depth=False):
            if kind_of(raw) != "addendum":
                submit(seq, raw)
                seq += 1
        drain()  # every original of this batch is locked before an addendum looks for it
        for raw in read(addenda, check_depth=False):
            if kind_of(raw) == "addendum":
                original = _original_id(raw.data)
                held = trail.get(original) if original else None
                submit(seq, raw, {original: held} if original and held else {})
                seq += 1
        drain()
        if summary.workers_lost:  # what a worker that died was writing (a walk of the whole tree otherwise)
            clean_leftovers(out, documents_only=True)
        chained = trail.head()  # the rows other runs appended meanwhile checked too
        if chained is not None:
            summary.chain_rows, summary.head = chained
        if not config.sync_each:
            os.sync()  # every document of this local batch on disk before the manifest says so
        manifest.commit()
    except OSError as exc:
        manifest.discard()
        raise WriteError(f"batch stopped: cannot write in {out}: {exc.strerror or 'I/O error'}; nothing partial "
                         "was left, run it again") from None
    except BaseException:
        manifest.discard()
        raise
    finally:
        _close_quietly(journal)  # on a full disk its last buffered line may not fit: it is a journal
        trail.close()
        index.close()
    (out / JOURNAL).unlink(missing_ok=True)
    summary.seconds = time.perf_counter() - started
    return summary
