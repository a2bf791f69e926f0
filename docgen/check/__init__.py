"""Check: run the completeness rules of a profile over one validated record. What a run does around
it (the plans of the run, the lock ledger, addenda last) is :mod:`docgen.pipeline`'s."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ..errors import ProfileError
from ..findings import Finding
from . import rules as _rules  # noqa: F401 - registers the rules
from .profile import Profile, builtin_names, load_profile, profile_for
from .registry import RULES, Context, DayNote, LockLookup, Rule, day_entry, index_days
from .sources import cite

__all__ = ["check_record", "profile_of", "signers_of", "Profile", "ProfileError", "RULES", "Rule", "LockLookup",
           "builtin_names", "load_profile", "DayNote", "day_entry", "index_days"]


def profile_of(record: Any, override: str | None = None) -> Profile:
    """``--profile`` when given, else the record picks the profile: ``payer.profile`` when it names a
    built-in profile (a record never points at a file), else the best match for the payer's type and
    state, the agency's state (standing in for the payer's when it has none, and matched by profiles
    of rules that bind the provider, like licensing) and the agency's program type; ``default`` when
    none matches (an addendum without a payer matches only on its agency)."""
    if override:
        return load_profile(override)
    payer, agency = record.payer, record.agency
    explicit = payer.profile if payer is not None and payer.profile in builtin_names() else None
    return profile_for(payer.type.value if payer is not None else None, payer.state if payer is not None else None,
                       explicit, agency_state=agency.state, program_type=agency.program_type.value)


def signers_of(record: Any, profile: Profile) -> tuple[str, ...]:
    """The signer roles ``record``'s documents show a line for, as ``profile`` requires them."""
    from .rules.signatures import required_signers  # noqa: PLC0415

    rule = RULES["sig-present"]
    if not profile.enabled(rule.id, rule.enabled_by_default):
        return ("clinician",)
    return tuple(role.value for role in required_signers(record, profile.params(rule.id, rule.defaults)))


def check_record(record: Any, profile: Profile, as_of: date | None,
                 plans: Mapping[str, Any] | None = None, locks: LockLookup | None = None,
                 ledger: bool = False, day_notes: Mapping[Any, Any] | None = None) -> list[Finding]:
    """All findings of the profile's enabled rules for one validated record. ``as_of``: the day the
    record's currency is judged on (a review not past, a plan not too old): ``--as-of`` for current
    records; None judges the record on its own date (plan date, date of service), as a packet does for
    a past period. ``locks``: where an addendum's original is looked up; ``ledger``: whether they come
    from a lock ledger; ``day_notes``: the run's notes by client and day (:func:`index_days`), for the
    same-day rules."""
    day = as_of if as_of is not None else record.service_date
    findings: list[Finding] = []
    for rule in RULES.values():
        if record.kind not in rule.applies_to or not profile.enabled(rule.id, rule.enabled_by_default):
            continue
        ctx = Context(params=profile.params(rule.id, rule.defaults), as_of=day, plans=plans or {},
                      calendar=profile.calendar, locks=locks if locks is not None else {}, ledger=ledger,
                      day_notes=day_notes or {})
        severity = profile.severity(rule.id, rule.severity)
        source = None  # the citations, written out when the rule finds something
        for path, message in rule.check(record, ctx):
            source = source or cite(profile.source(rule.id, rule.source))
            findings.append(Finding(rule.id, severity, path, message, source))
    return findings
