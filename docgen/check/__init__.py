"""Check: run the completeness rules of a profile over validated records."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from ..findings import Finding, RecordResult, Severity
from . import rules as _rules  # noqa: F401 - registers the rules
from .profile import Profile, ProfileError, builtin_names, load_profile, profile_for
from .registry import RULES, Context, Rule

if TYPE_CHECKING:
    from ..lock import Locks

__all__ = ["check_record", "check_results", "profile_of", "signers_of", "Profile", "ProfileError", "RULES", "Rule",
           "builtin_names", "load_profile"]


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
                 plans: Mapping[str, Any] | None = None, locks: Locks | None = None,
                 ledger: bool = False) -> list[Finding]:
    """All findings of the profile's enabled rules for one validated record. ``locks``: where an
    addendum's original is looked up; ``ledger``: whether they come from a lock ledger."""
    findings: list[Finding] = []
    for rule in RULES.values():
        if record.kind not in rule.applies_to or not profile.enabled(rule.id, rule.enabled_by_default):
            continue
        ctx = Context(params=profile.params(rule.id, rule.defaults), as_of=as_of, plans=plans or {},
                      calendar=profile.calendar, locks=locks if locks is not None else {}, ledger=ledger)
        severity = profile.severity(rule.id, rule.severity)
        source = profile.settings(rule.id).get("source", rule.source)
        for path, message in rule.check(record, ctx):
            findings.append(Finding(rule.id, severity, path, message, source))
    return findings


def check_results(results: Iterable[RecordResult], as_of: date, profile: str | None = None,
                  ledger: Locks | None = None) -> list[RecordResult]:
    """Check every valid record of ``results`` (in place); notes see the plans of the same run.

    ``ledger``: the lock ledger (:class:`docgen.batch.audit.Ledger`, or anything with ``get(id)``).
    With one, a record locked with other content gets a ``locked`` blocker. An addendum's original
    is looked up in the ledger, then among the complete records of the same run (which that run
    locks when it renders them), so addenda are checked after the other records."""
    from ..lock import RunLocks, changed, locked_finding  # noqa: PLC0415
    from ..render import content_hash  # noqa: PLC0415

    results = list(results)
    plans = {r.record.id: r.record for r in results if r.record is not None and r.kind == "treatment_plan"}
    override = load_profile(profile) if profile else None
    locks = RunLocks(ledger)
    for result in sorted(results, key=lambda r: r.kind == "addendum"):  # stable: input order otherwise
        if result.record is None:
            continue
        chosen = override or profile_of(result.record)
        result.profile = chosen.name
        result.signers = signers_of(result.record, chosen)
        named = result.record.payer.profile if result.record.payer is not None else None
        if override is None and named and named not in builtin_names():
            result.findings.append(Finding(
                "profile", Severity.blocker, "payer.profile",
                f"no built-in profile '{named}' (built in: {', '.join(builtin_names())}); checked with "
                f"'{chosen.name}'. Use --profile for an agency's own profile file", "docgen profiles"))
        result.findings.extend(check_record(result.record, chosen, as_of, plans, locks, ledger is not None))
        held = ledger.get(result.record.id) if ledger is not None else None
        if held is not None and changed(held, content_hash(result.record)):
            result.findings.append(locked_finding(held))
        if result.status.value == "complete":
            locks.add_final(result.record)
    return results
