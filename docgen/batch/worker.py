"""The work a batch worker does for one record: the record lifecycle (:mod:`docgen.pipeline`), the
incremental skip, and the atomic write of its files; it returns the record's manifest row and never
raises. It runs in a local worker process or on a Dask worker, so everything it needs travels in its
:class:`Task` and the run's :class:`Config`."""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import __version__
from ..check import DayNote
from ..errors import OutputError
from ..findings import Outcome
from ..ledger.locks import Lock, lock_of, locked_message
from ..load import RawDocument, depth_checked, input_hash
from ..model.digest import content_hash
from ..pipeline import decide, judge, produce, profile_override, safe_error, validate
from ..write import safe_name, write_all
from .plan_index import PlanRef


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
    related: tuple[PlanRef, ...] = ()  # for a plan: its client's other plans and its previous plan
    #: for a note: the client's other notes of its day, as the first pass indexed them
    days: dict[tuple[str, date], tuple[DayNote, ...]] = field(default_factory=dict)

    def plans(self) -> dict[str, PlanRef]:
        return {p.id: p for p in (self.plan, *self.related) if p is not None}


@lru_cache(maxsize=4)
def _renderer(config: Config):
    from ..render import Renderer  # noqa: PLC0415

    return Renderer(config.formats, config.templates)


@lru_cache(maxsize=4)
def _signer(config: Config):
    if not config.sign_with:
        return None
    from ..sign import load_key  # noqa: PLC0415

    return load_key(config.sign_with, config.passphrase)  # once per worker process


@lru_cache(maxsize=4)
def _fingerprint(config: Config) -> str:
    """Everything besides the record that shapes the output: version, templates, formats, options."""
    renderer = _renderer(config)
    h = hashlib.sha256(f"{__version__}|{config.formats}|{config.profile}".encode())
    signer = _signer(config)
    if signer is not None:  # a signed run redoes documents an unsigned (or other signer's) run made
        h.update(f"|signed by {signer.fingerprint} as {config.sign_role}".encode())
    for path in sorted(renderer.templates.glob("*")):
        if path.suffix.lower() in (".docx", ".toml", ".png", ".jpg", ".jpeg") and path.is_file():  # a logo too
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


_PROFILE_PRINTS: dict[str, str] = {}


def _profile_fingerprint(profile) -> str:
    if profile.origin not in _PROFILE_PRINTS:
        _PROFILE_PRINTS[profile.origin] = hashlib.sha256(json.dumps(
            [profile.name, profile.rules, profile.calendar], sort_keys=True, default=str).encode()).hexdigest()
    return _PROFILE_PRINTS[profile.origin]


@lru_cache(maxsize=4)
def _override(name: str | None):
    return profile_override(name)


def output_paths(config: Config, record) -> dict[str, Path]:
    """``DIR/<client id>/<kind>-<date>-<record id>.<ext>``, every part made safe."""
    folder = Path(config.out) / safe_name(record.client.id)
    stem = f"{record.kind}-{record.service_date.isoformat()}-{safe_name(record.id)}"
    return {fmt: folder / f"{stem}.{fmt}" for fmt in config.formats}


def _unchanged(previous: dict | None, key: str, out: Path) -> bool:
    """The record's documents of an earlier run are there as that run wrote them (same key, every
    file present with its sha256)."""
    if not previous or previous.get("key") != key or not previous.get("outputs"):
        return False
    for item in previous["outputs"]:
        try:
            if hashlib.sha256((out / item["path"]).read_bytes()).hexdigest() != item["sha256"]:
                return False
        except (OSError, KeyError, TypeError):
            return False
    return True


def exit_with_parent() -> None:
    """Initializer of a local worker process: exit when the process that started it is gone. A batch
    killed with SIGKILL cannot stop its pool, and its workers would otherwise wait for work forever.
    (The parent is the batch, or a fork server that ends with the batch.) A worker answers only
    through what its tasks return: what a library prints goes nowhere, not into the batch's output
    or the service's log, where it could carry client text."""
    import sys  # noqa: PLC0415
    import threading  # noqa: PLC0415

    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # for the process's life
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="docgen-exit-with-parent", daemon=True).start()


#: The error of a record whose worker process died twice while processing it (:mod:`.workers`).
WORKER_KILLED = "its worker process was killed while processing it, and again when it was tried alone (out of memory?)"


def worker_killed(task: Task) -> dict:
    """The manifest row of a record whose worker was lost twice while processing it: failed, with its
    id and client as the data gives them."""
    raw = RawDocument(task.source, task.data, task.error)
    return {"seq": task.seq, "source": task.source, "id": raw.id, "kind": None, "client": raw.client,
            "profile": None, "status": Outcome.failed.value, "blockers": 0, "warnings": 0, "outputs": [],
            "input_sha256": input_hash(task.data) if task.data is not None else None, "error": WORKER_KILLED,
            "duration_ms": 0}


def process(task: Task, config: Config) -> dict:
    """Validate, check, render and write one record; return its manifest row. Never raises."""
    started = time.perf_counter()
    row: dict[str, Any] = {"seq": task.seq, "source": task.source, "id": None, "kind": None, "client": None,
                           "profile": None, "status": Outcome.failed.value, "blockers": 0, "warnings": 0,
                           "outputs": [], "input_sha256": input_hash(task.data) if task.data is not None else None,
                           "error": ""}
    try:
        _process(task, config, row)
    except Exception as exc:  # noqa: BLE001 - one record's failure is reported, never raised
        row["status"] = Outcome.failed.value
        row["outputs"] = []
        row["error"] = safe_error(exc)
        if isinstance(exc, OSError) and exc.errno is not None:
            row["errno"] = exc.errno  # the runner stops at a full disk
    row["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return row


def process_many(tasks: list[Task], config: Config) -> list[dict]:
    """:func:`process` for each of a few records: a batch sends records in small chunks, so that its
    main process pickles, queues and wakes a worker once per chunk rather than once per record."""
    return [process(task, config) for task in tasks]


def _process(task: Task, config: Config, row: dict) -> None:
    result = validate(depth_checked(RawDocument(task.source, task.data, task.error)))
    row.update(id=result.id, kind=result.kind, client=result.client)
    locks = dict(task.locks or {})
    judge(result, as_of=config.as_of, override=_override(config.profile),
          plans=task.plans(), locks=locks, held=task.lock,
          ledger=True, day_notes=task.days)
    outcome = decide(result, allow_draft=config.allow_draft)
    row.update(status=outcome.value, profile=result.profile, blockers=len(result.blockers),
               warnings=len(result.warnings))
    if outcome is Outcome.invalid:
        row["findings"] = [f.as_dict() for f in result.findings]
        return
    record = result.record
    digest = row["content_sha256"] = content_hash(record)
    if outcome is Outcome.locked:
        row["error"] = locked_message(task.lock) if task.lock is not None else "locked"
        return
    if result.blockers:
        row["findings"] = [f.as_dict() for f in result.blockers]
    else:
        row["lock"] = lock_of(record, digest).as_dict()  # the main process locks it once the files are written
    if outcome is Outcome.refused:
        return
    from ..check import profile_of  # noqa: PLC0415

    profile = _override(config.profile) or profile_of(record)
    findings_sig = hashlib.sha256(json.dumps([f.as_dict() for f in result.findings], sort_keys=True).encode())
    key = hashlib.sha256("|".join((row["input_sha256"], findings_sig.hexdigest(), _fingerprint(config),
                                   _profile_fingerprint(profile),
                                   task.plan.digest() if task.plan else "")).encode()).hexdigest()
    row["key"] = key
    out = Path(config.out)
    if not config.force and task.previous is not None and _unchanged(task.previous, key, out):
        row.update(status=Outcome.skipped.value, outputs=task.previous["outputs"])
        return
    if config.cwd and not os.path.isabs(result.source):
        # signature images are found next to the record file: a relative source means the batch's
        # folder, not the worker's (a Dask worker runs in a folder of its own)
        result.source = os.path.join(config.cwd, result.source)
    data = produce(result, outcome, _renderer(config), _signer(config), config.sign_role)
    targets = output_paths(config, record)
    folder = next(iter(targets.values())).parent
    if folder.is_symlink():
        raise OutputError(f"the client folder {folder.name} is a symbolic link; docgen does not write through links")
    files = {targets[fmt]: blob for fmt, blob in data.items()}
    write_all(files, durable=config.sync_each)
    row["outputs"] = [{"path": str(path.relative_to(out)), "sha256": hashlib.sha256(blob).hexdigest(),
                       "bytes": len(blob)} for path, blob in files.items()]
