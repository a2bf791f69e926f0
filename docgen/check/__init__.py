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

__all__ = ["check_record", "profile_of", "signers_of", "Profile", "ProfileError", "RULES", "Rule", "LockLookup",
           "builtin_names", "load_profile", "DayNote", "day_entry", "index_days"]


def profile_of(record: Any, override: str | None = None) -> Profile:
    """``--profile`` when given, else the record's payer picks the profile: ``payer.profile`` when it
    names a built-in profile (a record never points at a file), else the best match for its type and
    state; an addendum without a payer gets ``default``."""
    if override:
        return load_profile(override)
    payer = record.payer
    if payer is None:
        return load_profile("default")
    explicit = payer.profile if payer.profile in builtin_names() else None
    return profile_for(payer.type.value, payer.state, explicit)


def signers_of(record: Any, profile: Profile) -> tuple[str, ...]:
    """The signer roles ``record``'s documents show a line for, as ``profile`` requires them."""
    from .rules.signatures import required_signers  # noqa: PLC0415

    rule = RULES["sig-present"]
    if not profile.enabled(rule.id, rule.enabled_by_default):
        return ("clinician",)
    return tuple(role.value for role in required_signers(record, profile.params(rule.id, rule.defaults)))


def check_record(record: Any, profile: Profile, as_of: date,
                 plans: Mapping[str, Any] | None = None, locks: LockLookup | None = None,
                 ledger: bool = False, day_notes: Mapping[Any, Any] | None = None) -> list[Finding]:
    """All findings of the profile's enabled rules for one validated record. ``locks``: where an
    addendum's original is looked up; ``ledger``: whether they come from a lock ledger; ``day_notes``:
    the run's notes by client and day (:func:`index_days`), for the same-day rules."""
    findings: list[Finding] = []
    for rule in RULES.values():
        if record.kind not in rule.applies_to or not profile.enabled(rule.id, rule.enabled_by_default):
            continue
        ctx = Context(params=profile.params(rule.id, rule.defaults), as_of=as_of, plans=plans or {},
                      calendar=profile.calendar, locks=locks if locks is not None else {}, ledger=ledger,
                      day_notes=day_notes or {})
        severity = profile.severity(rule.id, rule.severity)
        source = profile.settings(rule.id).get("source", rule.source)
        for path, message in rule.check(record, ctx):
            findings.append(Finding(rule.id, severity, path, message, source))
    return findings
