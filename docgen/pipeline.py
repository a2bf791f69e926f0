"""The record lifecycle: the one place that decides what becomes of a record.

    validate -> judge (its profile's rules, and the lock ledger when there is one)
             -> decide (final, draft, refused, invalid or locked)
             -> produce (compose once, render DOCX and PDF, sign a final PDF)

``docgen check``, ``render``, ``batch`` and ``packet`` (and the in-memory API) all go through these
functions; they differ only in where files go, when the lock is taken and what is journaled. Nothing
here writes a file, opens a trail or keeps state between records.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .check import builtin_names, check_record, day_entry, index_days, load_profile, profile_of, signers_of
from .check.profile import Profile
from .errors import DocgenError
from .findings import Finding, Outcome, RecordResult, Severity, Status
from .ledger.locks import Lock, Locks, changed, lock_of, locked_finding
from .load import RawDocument, read
from .model.digest import content_hash
from .model.validate import validate_document

#: Where a record handed over in memory says it came from (messages name it so).
IN_MEMORY = "(memory)"


def validate(raw: RawDocument) -> RecordResult:
    """A RecordResult holding the validated record, or the schema findings that say why not."""
    return validate_document(raw)


def profile_override(name: str | None) -> Profile | None:
    """The profile ``--profile`` names (a built-in name or a TOML file), loaded once for a run; raises
    :class:`docgen.errors.ProfileError` (a usage error) before any record is looked at."""
    return load_profile(name) if name else None


def judge(result: RecordResult, *, as_of: date | None, override: Profile | None = None,
          plans: Mapping[str, Any] | None = None, locks: Locks | None = None, held: Lock | None = None,
          ledger: bool = False, day_notes: Mapping[Any, Any] | None = None) -> RecordResult:
    """Check one validated record (in place): its profile (``override``, else the one its payer picks),
    the signers its documents show, every finding of the profile's rules, a ``profile`` blocker when
    its payer names a profile docgen does not have, and a ``locked`` blocker when ``held`` (its lock
    in the ledger) holds other content. ``as_of``: the day currency is judged on (None: each record on
    its own date, as a packet does); ``plans``: treatment plans by id, for notes; ``locks``: where
    an addendum's original is looked up; ``ledger``: whether a lock ledger was consulted at all;
    ``day_notes``: the run's notes by client and day (:func:`docgen.check.index_days`)."""
    record = result.record
    if record is None:
        return result
    chosen = override or profile_of(record)
    result.profile = chosen.name
    result.signers = signers_of(record, chosen)
    named = record.payer.profile if getattr(record, "payer", None) is not None else None
    if override is None and named and named not in builtin_names():
        result.findings.append(Finding(
            "profile", Severity.blocker, "payer.profile",
            f"no built-in profile by that name (built in: {', '.join(builtin_names())}); checked with "
            f"'{chosen.name}'. Use --profile for an agency's own profile file", "docgen profiles"))
    result.findings.extend(check_record(record, chosen, as_of, plans, locks, ledger, day_notes))
    if held is not None and changed(held, content_hash(record)):
        result.findings.append(locked_finding(held))
    return result


class RunLocks:
    """The locks a run's checks see: the ledger's first (when there is one), then the records of the
    same run that are complete, which that run locks when it renders them."""

    def __init__(self, ledger: Locks | None):
        self.ledger = ledger
        self.finals: dict[str, Any] = {}
        self._made: dict[str, Lock] = {}

    def add_final(self, record: Any) -> None:
        self.finals.setdefault(record.id, record)

    def get(self, record_id: str) -> Lock | None:
        held = self.ledger.get(record_id) if self.ledger is not None else None
        if held is not None:
            return held
        record = self.finals.get(record_id)
        if record is None:
            return None
        if record_id not in self._made:
            self._made[record_id] = lock_of(record, content_hash(record))
        return self._made[record_id]


def judge_run(results: Iterable[RecordResult], *, as_of: date | None, profile: str | Profile | None = None,
              ledger: Locks | None = None) -> list[RecordResult]:
    """Judge every record of one run (in place, input order kept): notes see the plans of the run and the
    client's other notes of the same day; an addendum's original is looked up in ``ledger``, then among
    the run's complete records (which the run locks when it renders them), so addenda are judged after
    the other records."""
    results = list(results)
    plans = {r.record.id: r.record for r in results if r.record is not None and r.kind == "treatment_plan"}
    days = index_days(day_entry(r.record) for r in results if r.record is not None and r.kind == "progress_note")
    override = profile if isinstance(profile, Profile) else profile_override(profile)
    locks = RunLocks(ledger)
    for result in sorted(results, key=lambda r: r.kind == "addendum"):  # stable: input order otherwise
        if result.record is None:
            continue
        held = ledger.get(result.record.id) if ledger is not None else None
        judge(result, as_of=as_of, override=override, plans=plans, locks=locks, held=held, ledger=ledger is not None,
              day_notes=days)
        if result.status is Status.complete:
            locks.add_final(result.record)
    return results


def judge_paths(paths: Iterable[str | os.PathLike], *, as_of: date | None, profile: str | None = None,
                ledger: Locks | None = None) -> list[RecordResult]:
    """Read, validate and judge every document of ``paths`` as one run (see :func:`judge_run`)."""
    return judge_run((validate(raw) for raw in read(paths)), as_of=as_of, profile=profile, ledger=ledger)


def decide(result: RecordResult, *, allow_draft: bool) -> Outcome:
    """What a judged record becomes: ``invalid`` (no record), ``locked`` (rendered final before with
    other content), ``final`` (no blocker), else ``draft`` when drafts are allowed or ``refused``."""
    if result.record is None:
        return Outcome.invalid
    if any(f.rule == "locked" for f in result.findings):
        return Outcome.locked
    if result.status is Status.complete:
        return Outcome.final
    return Outcome.draft if allow_draft else Outcome.refused


@dataclass
class Rendered:
    """One record's way through the lifecycle: its check result, what became of it, the documents'
    bytes by format (``"docx"``, ``"pdf"``; empty unless final or draft) and, once written, the files."""

    result: RecordResult
    outcome: Outcome
    documents: dict[str, bytes] = field(default_factory=dict, repr=False)
    files: list[Path] = field(default_factory=list)
    error: str = ""

    @property
    def status(self) -> Outcome:
        return self.outcome

    @property
    def id(self) -> str | None:
        return self.result.id

    @property
    def findings(self) -> list[Finding]:
        return self.result.findings


def produce(result: RecordResult, outcome: Outcome, renderer: Any, signer: Any = None,
            sign_role: str | None = None) -> dict[str, bytes]:
    """The documents of a final or draft record: composed once, rendered by ``renderer`` (a
    :class:`docgen.render.Renderer`) to each of its formats; a final PDF is signed with ``signer`` (a
    loaded key, :func:`docgen.sign.load_key`), a draft never."""
    if outcome not in (Outcome.final, Outcome.draft):
        return {}
    documents = renderer.render_bytes(result, draft=outcome is Outcome.draft)
    if signer is not None and outcome is Outcome.final and "pdf" in documents:
        documents["pdf"] = signer.sign(documents["pdf"], role=sign_role)
    return documents


def safe_error(exc: BaseException) -> str:
    """What went wrong producing a record, in one line without client text: a docgen error's own
    message (written to be shown), an OS error's reason, else the exception's type only (messages of
    layout and template libraries may quote content)."""
    if isinstance(exc, DocgenError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror or 'I/O error'}"
    if isinstance(exc, MemoryError):
        return "out of memory"
    return f"{type(exc).__name__} while rendering"


__all__ = ["IN_MEMORY", "validate", "profile_override", "judge", "judge_run", "judge_paths", "RunLocks", "decide",
           "Rendered",
           "produce", "safe_error"]
