"""Locking: a record rendered final (complete, so signed as its profile requires) is locked.

A lock holds the record id, kind, client id, the content hash of the validated record
(:func:`docgen.render.content_hash`), the document's date, the signers' roles, ids and signing dates,
when it was locked and by which docgen. Locks live in the append-only audit trail
(:mod:`docgen.batch.audit`, table ``locks``), one per record id: the first final render locks it.
Rendering a locked id again with different content is refused (outcome ``locked``); the change goes
in an addendum (:class:`docgen.model.Addendum`) naming the original by id and content hash.

Nothing here holds a client name or clinical text: ids, hashes, dates and roles only.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from .findings import Finding, RecordResult, Severity, Status

LOCK_SOURCE = "docgen lock ledger"


@dataclass(frozen=True)
class Signer:
    role: str
    signer_id: str | None
    date: str | None  # YYYY-MM-DD
    time: str | None  # HH:MM


@dataclass(frozen=True)
class Lock:
    record_id: str
    kind: str
    client_id: str
    sha256: str
    document_date: str  # YYYY-MM-DD: plan date, date of service, addendum date
    signers: tuple[Signer, ...] = ()
    locked_at: str = ""  # UTC, ISO 8601; set by the ledger
    docgen_version: str = ""

    @property
    def signed_on(self) -> str:
        """The day the last signature was made: when the record became final and signed."""
        return max((s.date for s in self.signers if s.date), default="")

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["signers"] = [asdict(s) for s in self.signers]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Lock":
        values = dict(data)
        signers = values.pop("signers", ())
        if isinstance(signers, str):
            signers = json.loads(signers)
        return cls(signers=tuple(Signer(**s) for s in signers), **values)


class Locks(Protocol):
    """Where locks are looked up: the audit trail, a read-only view of it, a dict."""

    def get(self, record_id: str) -> Lock | None: ...


def lock_of(record: Any, digest: str) -> Lock:
    """The lock a final render of ``record`` (whose content hash is ``digest``) records."""
    signers = tuple(Signer(s.role.value, s.signer_id, s.date.isoformat() if s.date else None,
                           s.time.strftime("%H:%M") if s.time else None) for s in record.signatures)
    return Lock(record.id, record.kind, record.client.id, digest, record.service_date.isoformat(), signers)


def locked_message(lock: Lock) -> str:
    """Why a changed record is refused, in one line: when it was locked and the start of its hash."""
    signed = f"finalized and signed on {lock.signed_on}" if lock.signed_on else "finalized"
    return (f"{signed} (locked {lock.locked_at[:10]}, sha256 {lock.sha256[:12]}...); "
            f"changes go in an addendum naming this id and hash")


def locked_finding(lock: Lock) -> Finding:
    return Finding("locked", Severity.blocker, "id", locked_message(lock), LOCK_SOURCE)


def changed(lock: Lock | None, digest: str) -> bool:
    """``lock`` is in force for a record and the record's content is no longer what was locked."""
    return lock is not None and lock.sha256 != digest


class RunLocks:
    """The locks a check sees: the ledger's first (when there is one), then the records of the same
    run that are complete, which that run locks when it renders them. Hashes are computed on demand."""

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
            from .render import content_hash  # noqa: PLC0415

            self._made[record_id] = lock_of(record, content_hash(record))
        return self._made[record_id]


def render_locked(renderer: Any, ledger: Any, result: RecordResult):
    """Render one checked record through ``renderer``, honouring the ``ledger`` (an
    :class:`docgen.batch.audit.AuditTrail`): a record locked with other content is refused with
    outcome ``locked`` and nothing is written; a record about to be rendered final is locked first
    (in one transaction, so two runs sharing a trail cannot both lock different content)."""
    from .render import Outcome, Rendered, content_hash  # noqa: PLC0415

    record = result.record
    if record is None:
        return renderer.render(result)
    digest = content_hash(record)
    held = ledger.get(record.id)
    if not changed(held, digest) and result.status is Status.complete:
        held = ledger.lock(lock_of(record, digest))
    if changed(held, digest):
        return Rendered(result, Outcome.locked, error=locked_message(held))
    return renderer.render(result)


__all__ = ["Lock", "Signer", "Locks", "RunLocks", "lock_of", "locked_message", "locked_finding", "changed",
           "render_locked", "LOCK_SOURCE"]
