"""The plan index: a first, light pass over a batch's inputs that keeps what the note rules need of
each treatment plan (ids, client, dates, goal and objective ids), so a note is checked against its plan
wherever the plan sits in the inputs, and of each note the codes the same-day rules compare (by client
and day, :func:`docgen.check.index_days`), so a note is checked against the client's other notes of its
day wherever they sit; it also counts the documents and finds the files holding addenda."""
from __future__ import annotations

import hashlib
import os
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, time
from typing import TYPE_CHECKING, Any, ClassVar

from ..check import DayNote, day_entry, index_days
from ..check.codes import SAME_DAY_TRIGGERS
from ..load import RawDocument, depth_checked, normal_id, read, source_file
from ..model import SafetyPlan, SignerRole
from ..model.validate import validate_document
from .workers import results

if TYPE_CHECKING:
    from concurrent.futures import Executor


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
class DiagnosisRef:
    code: str


@dataclass(frozen=True)
class RiskRef:
    date: date
    level: Any


@dataclass(frozen=True)
class SafetyPlanRef:
    """A plan's safety plan as the note rules read it: its date, and for each Stanley-Brown section one
    marker when the section has an entry (the entries themselves stay out of the index)."""

    SECTIONS: ClassVar[tuple[str, ...]] = SafetyPlan.SECTIONS
    date: date
    warning_signs: tuple[str, ...] = ()
    internal_coping: tuple[str, ...] = ()
    social_distraction: tuple[str, ...] = ()
    help_contacts: tuple[str, ...] = ()
    professional_contacts: tuple[str, ...] = ()
    lethal_means: tuple[str, ...] = ()

    @classmethod
    def of(cls, safety_plan) -> SafetyPlanRef:
        return cls(safety_plan.date, **{section: ("x",) if any(e.strip() for e in getattr(safety_plan, section))
                                        else () for section in cls.SECTIONS})


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
    risk_assessment: RiskRef | None = None
    safety_plan: SafetyPlanRef | None = None
    diagnoses: tuple[DiagnosisRef, ...] = ()

    def goal(self, goal_id: str) -> GoalRef | None:
        return next((g for g in self.goals if g.id == goal_id), None)

    @classmethod
    def of(cls, plan) -> PlanRef:
        risk, safety = plan.risk_assessment, plan.safety_plan
        return cls(plan.id, ClientRef(plan.client.id), plan.plan_date, plan.next_review_date,
                   tuple(GoalRef(g.id, tuple(ObjectiveRef(o.id) for o in g.objectives)) for g in plan.goals),
                   AuthorRef(plan.author.id, plan.author.name),
                   tuple(SignatureRef(s.role, s.signer_id, s.name, s.date, s.time) for s in plan.signatures),
                   RiskRef(risk.date, risk.level) if risk is not None else None,
                   SafetyPlanRef.of(safety) if safety is not None else None,
                   tuple(DiagnosisRef(d.code) for d in plan.diagnoses))

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


#: Byte strings one of which a note line holds when it bills a code the same-day rules compare
#: (9079x, 9083x, 9084x, 90853), or a JSON escape of a digit that could spell one.
_SAME_DAY_BYTES = (b"9079", b"9083", b"9084", b"90853", b"\\u003")


def _skip(line: bytes) -> bool:
    """A JSONL line the first pass counts without parsing: no plan, no addendum, and no note billing a
    code that a same-day rule compares."""
    return _neither_plan_nor_addendum(line) and not any(part in line for part in _SAME_DAY_BYTES)


def _raw_day(raw: RawDocument) -> tuple[str, date] | None:
    """A note's (client id, session date) read from its data as its model reads them, or None when the
    data does not give them plainly (such a note is validated to find out)."""
    data = raw.data if isinstance(raw.data, dict) else {}
    client, day = raw.client, data.get("session_date")
    if client is None or not isinstance(day, str):
        return None
    try:
        return client, date.fromisoformat(day)
    except ValueError:
        return None


def _may_trigger(data: dict) -> bool:
    """The note's codes, as given, may bill crisis psychotherapy or a diagnostic evaluation."""
    codes = data.get("cpt_codes")
    return isinstance(codes, list) and any(code in str(c) for c in codes for code in SAME_DAY_TRIGGERS)


@dataclass
class InputIndex:
    """What the first pass keeps: plans by id, the same-day index of notes, the number of documents
    (for the progress bar) and the files that hold addenda (read again once everything else is done)."""

    plans: dict[str, PlanRef] = field(default_factory=dict)
    days: dict[tuple[str, date], tuple[DayNote, ...]] = field(default_factory=dict)
    count: int = 0
    addenda: list[str] = field(default_factory=list)
    workers_lost: int = 0  # times worker processes died in this pass (see :mod:`.workers`)

    def days_of(self, raw: RawDocument) -> dict[tuple[str, date], tuple[DayNote, ...]]:
        """The index entry of a note's client and day, as its rules look it up once the note is
        valid (an invalid note is never checked: what this finds for it does not matter)."""
        key = _raw_day(raw)
        return {key: self.days[key]} if key is not None and key in self.days else {}


#: Byte strings one of which a note line holds when it may bill a code that makes its day matter to the
#: same-day rules (:data:`SAME_DAY_TRIGGERS`: 90839, 90791, 90792), or a JSON escape of a digit.
_TRIGGER_BYTES = (*sorted(code.encode() for code in SAME_DAY_TRIGGERS), b"\\u003")


def _skip_first(line: bytes) -> bool:
    """A JSONL line the first pass counts without parsing: no plan, no addendum, and no note that may
    bill a code that makes its day matter (most notes: 90834 or 90837 alone make no day matter)."""
    return _neither_plan_nor_addendum(line) and not any(part in line for part in _TRIGGER_BYTES)


#: Plans validated per task when the first pass runs on the batch's executor.
PLAN_CHUNK = 32


def plan_refs(items: list[tuple[str, Any, str | None]]) -> list[PlanRef | None]:
    """Validate plans read by the first pass (source, data, load error; nesting not yet checked) and
    return what the index keeps of each (None for an invalid one). Runs on a batch worker."""
    refs: list[PlanRef | None] = []
    for source, data, error in items:
        record = validate_document(depth_checked(RawDocument(source, data, error))).record
        refs.append(PlanRef.of(record) if record is not None else None)
    return refs


def index_inputs(inputs: Iterable[str | os.PathLike], executor: Executor | None = None,
                 in_flight: int = 8) -> InputIndex:
    """The first pass over a batch's inputs: plans validated as the workers will (on ``executor``, a
    chunk a task, when one is given: the main process only reads them); notes counted without being
    parsed, unless they may bill crisis psychotherapy or a diagnostic evaluation. Only when such a
    note was found are the files read again for the notes of its client and day (and for notes whose
    data does not plainly give their client and day), and those are validated; a batch of 50,000
    ordinary notes parses none of them here."""
    index = InputIndex()
    addenda: dict[str, None] = {}
    again: dict[str, None] = {}  # files that may hold notes, in input order
    triggered: set[tuple[str, date]] = set()
    unkeyed = False  # a note whose client and day its data does not give plainly
    chunk: list[tuple[str, Any, str | None]] = []
    pending: deque = deque()  # (executor, task, its plans), in input order (the first plan of an id wins)

    def take(refs: list[PlanRef | None]) -> None:
        for ref in refs:
            if ref is not None and ref.id not in index.plans:
                index.plans[ref.id] = ref

    def done() -> list[PlanRef | None]:
        """The oldest task's plans; a plan whose worker was lost twice is left out of the index (the
        batch then processes it, and says what became of it)."""
        on, future, items = pending.popleft()
        return results(on, future, plan_refs, items, lost=lambda _item: None, noticed=lost_worker)

    def lost_worker() -> None:
        index.workers_lost += 1

    def flush() -> None:
        if executor is None:
            take(plan_refs(chunk))
        else:
            while len(pending) >= in_flight:
                take(done())
            pending.append((executor, executor.submit(plan_refs, list(chunk)), list(chunk)))
        chunk.clear()

    for raw in read(inputs, skip_line=_skip_first, check_depth=False):
        index.count += 1
        kind = kind_of(raw)
        if raw.data is None and raw.error is None:  # a line counted, not parsed: it may be a note
            again.setdefault(source_file(raw.source), None)
        elif kind == "addendum":
            addenda[source_file(raw.source)] = None
        elif kind == "progress_note" and isinstance(raw.data, dict):
            again.setdefault(source_file(raw.source), None)
            key = _raw_day(raw)
            if key is None:
                unkeyed = True
            elif _may_trigger(raw.data):
                triggered.add(key)
        elif kind == "treatment_plan" and raw.data is not None:
            chunk.append((raw.source, raw.data, raw.error))
            if len(chunk) >= PLAN_CHUNK:
                flush()
    if chunk:
        flush()
    while pending:
        take(done())
    entries = []
    if triggered or unkeyed:
        first: dict[tuple[str, date], RawDocument | None] = {}  # a day's first note, until a second comes

        def enter(raw: RawDocument) -> None:
            record = validate_document(raw).record
            entries.append(day_entry(record) if record is not None else None)

        for raw in read(list(again), skip_line=_skip):
            if kind_of(raw) != "progress_note" or not isinstance(raw.data, dict):
                continue
            key = _raw_day(raw)
            if key is None:
                enter(raw)
            elif key in triggered:  # index_days keeps the days of two notes or more: a lone note waits
                waiting = first.get(key, raw)
                if waiting is not raw:
                    if waiting is not None:
                        enter(waiting)
                        first[key] = None
                    enter(raw)
                else:
                    first[key] = raw
    index.days = index_days(entries)
    index.addenda = list(addenda)
    return index


def index_plans(inputs: Iterable[str | os.PathLike]) -> tuple[dict[str, PlanRef], int, list[str]]:
    """Plans of the inputs by id, the number of documents (for the progress bar) and the files
    that hold addenda (read again once everything else is done): :func:`index_inputs` in short."""
    index = index_inputs(inputs)
    return index.plans, index.count, index.addenda


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
