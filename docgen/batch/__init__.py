"""Batch: fast, parallel, resumable generation with a manifest and an audit trail.

The runner streams documents from the inputs to any ``concurrent.futures.Executor`` (a process
pool locally, a Dask cluster's executor remotely) with a bounded number of tasks in flight, so
memory stays flat whatever the batch size. Each worker validates, checks, renders and writes one
record atomically and returns its manifest row; the main process keeps the manifest journal and
the audit trail, and writes the manifest as rows arrive (in input order). What it must look up by
record id (the last run's rows, the ids already seen) sits in a temporary SQLite file, not in
memory. One bad record never stops the batch.

Modules: :mod:`.plan_index` (the first pass), :mod:`.worker` (one record), :mod:`.record_index`
(look-ups by id), :mod:`.manifest` (manifest and journal), :mod:`.runner` (the run), :mod:`.workers`
(a process pool that outlives a lost worker: the records of its lost tasks are tried again one at a
time, and only a record that loses its worker again fails).

A first, light pass indexes the treatment plans (ids, client, dates, goal and objective ids) so a
note can be checked against its plan wherever the plan sits in the inputs.

Locking (see :mod:`docgen.ledger`): the main process looks each record's id up in the audit trail's
lock ledger and hands the lock to the worker, which refuses a record locked with other content
(status ``locked``); a record that comes out final is locked by the main process as its row arrives.
Addenda are processed last, in a second pass over the files that hold them, so that an addendum
finds its original locked even when both are in the same batch; their manifest rows follow the
others'.
"""
from __future__ import annotations

from .manifest import CSV_FIELDS, JOURNAL, MANIFEST, MANIFEST_CSV, ManifestWriter
from .plan_index import PlanRef, _neither_plan_nor_addendum, index_plans
from .record_index import RecordIndex
from .runner import OUTCOMES, Summary, chunk_size, clean_leftovers, run_batch
from .worker import WORKER_KILLED, Config, Task, exit_with_parent, output_paths, process
from .workers import Workers

__all__ = ["CSV_FIELDS", "JOURNAL", "MANIFEST", "MANIFEST_CSV", "ManifestWriter", "PlanRef", "index_plans",
           "RecordIndex", "OUTCOMES", "Summary", "chunk_size", "clean_leftovers", "run_batch", "Config", "Task",
           "exit_with_parent", "output_paths", "process", "_neither_plan_nor_addendum", "WORKER_KILLED", "Workers"]
