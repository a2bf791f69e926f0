"""The plan index: a first, light pass over a batch's inputs that keeps what the note rules need of
each treatment plan (ids, client, dates, goal and objective ids), so a note is checked against its plan
wherever the plan sits in the inputs; it also counts the documents and finds the files holding addenda."""
from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from ..load import RawDocument, normal_id, read, source_file
from ..model import SignerRole
from ..model.validate import validate_document


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
class AuthorRef:
    id: str
    name: str


@dataclass(frozen=True)
class SignatureRef:
    """Who signed a plan and when (plan-before-service: a service follows its plan's signature)."""

    role: SignerRole
    signer_id: str | None
    name: str
    date: date | None
    time: time | None


@dataclass(frozen=True)
class PlanRef:
    """What the rules need of another plan than the record judged (a note's plan; a plan's previous and
    later plans), small enough to index 50,000 of them."""

    id: str
    client: ClientRef
    plan_date: date
    next_review_date: date | None
    goals: tuple[GoalRef, ...]
    author: AuthorRef | None = None
    signatures: tuple[SignatureRef, ...] = ()

    def goal(self, goal_id: str) -> GoalRef | None:
        return next((g for g in self.goals if g.id == goal_id), None)

    @classmethod
    def of(cls, plan) -> PlanRef:
        return cls(plan.id, ClientRef(plan.client.id), plan.plan_date, plan.next_review_date,
                   tuple(GoalRef(g.id, tuple(ObjectiveRef(o.id) for o in g.objectives)) for g in plan.goals),
                   AuthorRef(plan.author.id, plan.author.name),
                   tuple(SignatureRef(s.role, s.signer_id, s.name, s.date, s.time) for s in plan.signatures))

    def digest(self) -> str:
        return hashlib.sha256(repr(self).encode("utf-8")).hexdigest()


def kind_of(raw: RawDocument) -> Any:
    """The kind a raw document says it is (unvalidated)."""
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

    plans: dict[str, PlanRef] = {}
    addenda: dict[str, None] = {}
    count = 0
    for raw in read(inputs, skip_line=_neither_plan_nor_addendum):
        count += 1
        if kind_of(raw) == "addendum":
            addenda[source_file(raw.source)] = None
        if kind_of(raw) == "treatment_plan":
            result = validate_document(raw)
            if result.record is not None and result.record.id not in plans:
                plans[result.record.id] = PlanRef.of(result.record)
    return plans, count, list(addenda)


def related_plans(plans: dict[str, PlanRef]) -> Callable[[RawDocument], tuple[PlanRef, ...]]:
    """For a plan record (raw): the other plans its rules look at, the plans of its client and the plan
    its ``previous_plan_id`` names (plan-review: replaced by a later plan; plan-succession)."""
    by_client: dict[str, list[PlanRef]] = {}
    for ref in plans.values():
        by_client.setdefault(ref.client.id, []).append(ref)

    def related(raw: RawDocument) -> tuple[PlanRef, ...]:
        previous = raw.data.get("previous_plan_id") if isinstance(raw.data, dict) else None
        named = plans.get(normal_id(previous)) if isinstance(previous, str) else None
        found = [p for p in by_client.get(raw.client or "", ()) if p.id != raw.id]
        return tuple(found + ([named] if named is not None and named not in found else []))

    return related
