"""What every stage reports: a Finding about a record, and the outcome for one record."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Severity(str, Enum):
    blocker = "blocker"  # the document cannot be final or released
    warning = "warning"  # reported only


class Status(str, Enum):
    """The verdict of a check: what the record is."""

    complete = "complete"  # valid, no blocker (warnings allowed): it may be rendered final
    incomplete = "incomplete"  # valid, at least one blocker
    invalid = "invalid"  # could not be read or failed the schema


class Outcome(str, Enum):
    """What became of a record in render, batch and the audit trail: the same words everywhere."""

    final = "final"  # complete: rendered final (and locked)
    draft = "draft"  # incomplete, drafts allowed: rendered with a DRAFT watermark
    refused = "refused"  # incomplete, drafts not allowed: nothing written
    invalid = "invalid"  # could not be read or failed the schema: nothing written
    locked = "locked"  # finalized before with other content: changes go in an addendum; nothing written
    failed = "failed"  # rendering or writing failed, or a repeated id: nothing written
    skipped = "skipped"  # batch: unchanged since the last run, its documents kept


#: Outcomes that leave the record with its documents (the others make the exit code 1).
PRODUCED = frozenset({Outcome.final, Outcome.draft, Outcome.skipped})


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    path: str
    message: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity.value, "path": self.path,
                "message": self.message, "source": self.source}


@dataclass
class RecordResult:
    """The outcome for one record. ``record`` is the validated model when the record is valid."""

    source: str
    id: str | None
    client: str | None
    kind: str | None
    profile: str | None = None
    findings: list[Finding] = field(default_factory=list)
    record: Any = field(default=None, repr=False, compare=False)
    # the signers whose lines its documents show (roles), as its profile requires them
    signers: tuple[str, ...] = field(default=(), compare=False)

    @property
    def status(self) -> Status:
        if self.record is None:
            return Status.invalid
        if any(f.severity is Severity.blocker for f in self.findings):
            return Status.incomplete
        return Status.complete

    @property
    def blockers(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.blocker]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.warning]

    @property
    def where(self) -> str:
        """Where the record came from: the file, with ``:LINE`` (JSONL, CSV) or ``[N]`` (JSON array)."""
        return self.source

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "id": self.id, "client": self.client, "kind": self.kind,
                "profile": self.profile, "status": self.status.value,
                "findings": [f.as_dict() for f in self.findings]}


__all__ = ["Finding", "RecordResult", "Severity", "Status", "Outcome", "PRODUCED"]
