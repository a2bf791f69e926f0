"""Check: run the completeness rules of a profile over validated records."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from ..findings import Finding, RecordResult, Severity
from . import rules as _rules  # noqa: F401 - registers the rules
from .profile import Profile, ProfileError, builtin_names, load_profile, profile_for
from .registry import RULES, Context, Rule

__all__ = ["check_record", "check_results", "profile_of", "Profile", "ProfileError", "RULES", "Rule",
           "builtin_names", "load_profile"]


def profile_of(record: Any, override: str | None = None) -> Profile:
    """``--profile`` when given, else the record's payer picks the profile: ``payer.profile`` when it
    names a built-in profile (a record never points at a file), else the best match for its type and state."""
    if override:
        return load_profile(override)
    payer = record.payer
    explicit = payer.profile if payer.profile in builtin_names() else None
    return profile_for(payer.type.value, payer.state, explicit)


def check_record(record: Any, profile: Profile, as_of: date,
                 plans: Mapping[str, Any] | None = None) -> list[Finding]:
    """All findings of the profile's enabled rules for one validated record."""
    findings: list[Finding] = []
    for rule in RULES.values():
        if record.kind not in rule.applies_to or not profile.enabled(rule.id, rule.enabled_by_default):
            continue
        ctx = Context(params=profile.params(rule.id, rule.defaults), as_of=as_of, plans=plans or {},
                      calendar=profile.calendar)
        severity = profile.severity(rule.id, rule.severity)
        source = profile.settings(rule.id).get("source", rule.source)
        for path, message in rule.check(record, ctx):
            findings.append(Finding(rule.id, severity, path, message, source))
    return findings


def check_results(results: Iterable[RecordResult], as_of: date, profile: str | None = None) -> list[RecordResult]:
    """Check every valid record of ``results`` (in place); notes see the plans of the same run."""
    results = list(results)
    plans = {r.record.id: r.record for r in results if r.record is not None and r.kind == "treatment_plan"}
    override = load_profile(profile) if profile else None
    for result in results:
        if result.record is None:
            continue
        chosen = override or profile_of(result.record)
        result.profile = chosen.name
        named = result.record.payer.profile
        if override is None and named and named not in builtin_names():
            result.findings.append(Finding(
                "profile", Severity.blocker, "payer.profile",
                f"no built-in profile '{named}' (built in: {', '.join(builtin_names())}); checked with "
                f"'{chosen.name}'. Use --profile for an agency's own profile file", "docgen profiles"))
        result.findings.extend(check_record(result.record, chosen, as_of, plans))
    return results
