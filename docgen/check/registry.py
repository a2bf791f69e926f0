"""The rule registry: every completeness rule with its id, severity, source and parameters."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from ..findings import Severity
from .codes import SAME_DAY, SAME_DAY_TRIGGERS


class LockLookup(Protocol):
    """Where a rule finds the lock of a record id (the ledger, the run's final records, a dict): an
    object with ``sha256``, ``kind``, ``document_date`` and ``client_id``, or None."""

    def get(self, record_id: str, /) -> Any: ...

PLAN = "treatment_plan"
NOTE = "progress_note"
ADDENDUM = "addendum"


@dataclass(frozen=True)
class DayNote:
    """Another note of a client's day as the same-day rules see it (crisis-time, eval-9079x): its id
    and the codes they compare, without modifiers; small enough to index every note of a batch."""

    id: str
    codes: tuple[str, ...]


#: (client id, session date)
DayKey = tuple[str, date]


def day_entry(note: Any) -> tuple[DayKey, DayNote] | None:
    """Where a validated progress note goes in the index of its run's days, or None when it bills no
    code a same-day rule compares."""
    codes = tuple(sorted({c for c in note.codes if c in SAME_DAY}))
    return ((note.client.id, note.session_date), DayNote(note.id, codes)) if codes else None


def index_days(entries: Iterable[tuple[DayKey, DayNote] | None]) -> dict[DayKey, tuple[DayNote, ...]]:
    """The notes of a run by client and day (from :func:`day_entry`): within a day the first note of an
    id wins, and only the days a same-day rule can speak of are kept (two notes or more, one of them
    billing crisis psychotherapy or a diagnostic evaluation). ``check``, ``render`` and ``batch`` build
    it alike (each day on its own, so that the batch need only validate the notes of such days)."""
    days: dict[DayKey, dict[str, DayNote]] = {}
    for entry in entries:
        if entry is not None:
            days.setdefault(entry[0], {}).setdefault(entry[1].id, entry[1])
    return {key: tuple(refs.values()) for key, refs in days.items()
            if len(refs) > 1 and any(SAME_DAY_TRIGGERS.intersection(r.codes) for r in refs.values())}


@dataclass
class Context:
    """What a rule may look at besides the record."""

    params: dict[str, Any]
    #: The day a record's currency is judged on: ``--as-of`` (today) for current records, the record's own
    #: date in a packet. Only rules about currency use it (plan-review, u21-plan: a review not past;
    #: mcr-plan-elems: a plan not too old); everything else is judged on the document's own dates.
    as_of: date
    plans: Mapping[str, Any] = field(default_factory=dict)  # treatment plans in this run, by id
    calendar: Mapping[str, Any] = field(default_factory=dict)
    #: locks by record id (see docgen.ledger.locks): the ledger's, then the run's complete records
    locks: LockLookup = field(default_factory=dict[str, Any])
    ledger: bool = False  # a lock ledger was consulted: an id it does not hold is not locked
    #: the run's other notes by (client id, session date): see :func:`index_days`
    day_notes: Mapping[DayKey, Sequence[DayNote]] = field(default_factory=dict)

    def same_day(self, note: Any) -> list[DayNote]:
        """The other notes of ``note``'s client and day in this run."""
        return [r for r in self.day_notes.get((note.client.id, note.session_date), ()) if r.id != note.id]


#: A rule yields (field path, plain-language message) for each problem it finds.
Check = Callable[[Any, Context], Iterable[tuple[str, str]]]
#: Checks a rule's parameters as a profile sets them (defaults merged); raises ValueError with a message.
ParamCheck = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Rule:
    id: str
    applies_to: frozenset[str]
    severity: Severity
    #: what the rule rests on, each entry a key of the bibliography (docgen/check/sources.toml), a text
    #: citing with one or more ``[key]``s, or a text starting "docgen policy" (see docgen.check.sources)
    source: tuple[str, ...]
    summary: str
    check: Check
    defaults: dict[str, Any]
    enabled_by_default: bool = True
    check_params: ParamCheck | None = None


RULES: dict[str, Rule] = {}


def rule(rule_id: str, *, applies_to: Iterable[str], severity: str, source: str | Iterable[str], summary: str,
         enabled: bool = True, check_params: ParamCheck | None = None,
         **defaults: Any) -> Callable[[Check], Check]:
    """Register a check function as a rule. ``source``: one entry or a list (see :class:`Rule`);
    ``check_params``: validates the parameters a profile gives (a bad one is a profile error)."""
    sources = (source,) if isinstance(source, str) else tuple(source)
    if not sources or not all(s.strip() for s in sources):
        raise ValueError(f"rule {rule_id}: source must be one or more non-blank citations")

    def register(fn: Check) -> Check:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} registered twice")
        RULES[rule_id] = Rule(rule_id, frozenset(applies_to), Severity(severity), sources, summary, fn,
                              defaults, enabled, check_params)
        return fn

    return register
