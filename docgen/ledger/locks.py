"""Locking: a record rendered final (complete, so signed as its profile requires) is locked.

A lock holds the record id, kind, client id, the content hash of the validated record
(:func:`docgen.model.digest.content_hash`), the document's date, the signers' roles, ids and signing dates,
when it was locked and by which docgen. Locks live in the append-only audit trail
(:mod:`docgen.ledger.trail`, table ``locks``), one per record id: the first final render locks it.
Rendering a locked id again with different content is refused (outcome ``locked``); the change goes
in an addendum (:class:`docgen.model.Addendum`) naming the original by id and content hash.

Nothing here holds a client name or clinical text: ids, hashes, dates and roles only.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from ..findings import Finding, Severity

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
    def from_dict(cls, data: Mapping[str, Any]) -> Lock:
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


__all__ = ["Lock", "Signer", "Locks", "lock_of", "locked_message", "locked_finding", "changed", "LOCK_SOURCE"]
