"""Profiles: the payer- and jurisdiction-specific parameters of the rules, kept in TOML files.

A profile file looks like::

    name = "tx-medicaid"
    description = "..."
    extends = "default"             # optional: start from another profile (name or path)
    [match]                          # optional: which payers pick this profile by default
    payer_type = "medicaid"
    state = "TX"
    [calendar]
    holidays = "US"                  # public holidays for business-day counting
    subdivision = "TX"
    [rules.plan-deadline]            # one table per rule: its parameters, and
    days = 10                        #   enabled = false   to switch the rule off,
    day_type = "business"            #   severity = "warning"   to change its weight,
    source = "S35 1 TAC 354.2609"    #   source = "..."   to cite the profile's own basis.

The profiles shipped with docgen live in ``docgen/profiles``; ``--profile`` takes one of their
names or the path of an agency's own file.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..findings import Severity
from .days import calendar_problems

RESERVED = {"enabled", "severity", "source"}


from ..errors import ProfileError  # noqa: E402


@dataclass(frozen=True)
class Profile:
    name: str
    description: str = ""
    match: dict[str, Any] = field(default_factory=dict)
    calendar: dict[str, Any] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    origin: str = ""
    packet: dict[str, Any] = field(default_factory=dict)  # insurer packets: see docgen.packet.policy

    def settings(self, rule_id: str) -> dict[str, Any]:
        return self.rules.get(rule_id, {})

    def enabled(self, rule_id: str, default: bool = True) -> bool:
        return bool(self.settings(rule_id).get("enabled", default))

    def severity(self, rule_id: str, default: Severity) -> Severity:
        value = self.settings(rule_id).get("severity")
        return Severity(value) if value else default

    def params(self, rule_id: str, defaults: dict[str, Any]) -> dict[str, Any]:
        merged = dict(defaults)
        merged.update({k: v for k, v in self.settings(rule_id).items() if k not in RESERVED})
        return merged

    def matches(self, payer_type: str, state: str | None) -> int:
        """How specifically this profile matches a payer (0: not at all)."""
        if not self.match:
            return 0
        want_type = self.match.get("payer_type")
        want_state = self.match.get("state")
        if want_type and want_type != payer_type:
            return 0
        if want_state and want_state != state:
            return 0
        return 1 + bool(want_state)


@cache
def _builtin_names() -> tuple[str, ...]:
    folder = resources.files("docgen") / "profiles"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


def builtin_names() -> list[str]:
    """Names of the profiles shipped with docgen."""
    return list(_builtin_names())


def _merge(base: dict, over: dict) -> dict:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read(spec: str, seen: tuple[str, ...] = ()) -> dict:
    path = Path(spec)
    if spec.endswith(".toml") or path.exists():
        origin = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ProfileError(f"profile file {spec}: {exc.strerror or exc}") from None
    else:
        if spec not in builtin_names():
            raise ProfileError(f"unknown profile '{spec}' (built in: {', '.join(builtin_names())}; or a .toml path)")
        origin = f"builtin:{spec}"
        text = (resources.files("docgen") / "profiles" / f"{spec}.toml").read_text(encoding="utf-8")
    if origin in seen:
        raise ProfileError(f"profile {spec}: 'extends' loops back to itself")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {spec}: {exc}") from None
    data.setdefault("name", path.stem if not origin.startswith("builtin:") else spec)
    data["origin"] = origin
    parent = data.pop("extends", None)
    if parent is not None and not isinstance(parent, str):
        raise ProfileError(f"profile {spec}: 'extends' must be a profile name or path")
    for table in ("rules", "match", "calendar", "packet"):
        if not isinstance(data.get(table, {}), dict):
            raise ProfileError(f"profile {spec}: '{table}' must be a table ([{table}])")
    if parent:
        base_spec = parent
        if not origin.startswith("builtin:") and (path.parent / parent).exists():
            base_spec = str(path.parent / parent)
        base = _read(base_spec, (*seen, origin))
        base.pop("match", None)  # matching is never inherited
        data = _merge(base, data)
    return data


@cache
def load_profile(spec: str) -> Profile:
    """A built-in profile by name, or a profile file by path."""
    from .registry import RULES  # noqa: PLC0415 - avoid an import cycle

    data = _read(spec)
    unknown = set(data) - {"name", "description", "match", "calendar", "rules", "origin", "packet"}
    if unknown:
        raise ProfileError(f"profile {spec}: unknown key(s) {', '.join(sorted(unknown))}")
    # the shipped profiles' calendars are looked up by the tests; an agency's file when it is loaded
    problems = calendar_problems(data.get("calendar", {}), lookup=not data["origin"].startswith("builtin:"))
    if problems:
        raise ProfileError(f"profile {spec}: {problems[0]}")
    rules = data.get("rules", {})
    for rule_id, settings in rules.items():
        if rule_id not in RULES:
            raise ProfileError(f"profile {spec}: no rule '{rule_id}' (see `docgen rules`)")
        if not isinstance(settings, dict):
            raise ProfileError(f"profile {spec}: [rules.{rule_id}] must be a table")
        if "severity" in settings and settings["severity"] not in ("blocker", "warning"):
            raise ProfileError(f"profile {spec}: rules.{rule_id}.severity must be blocker or warning")
        unknown_params = set(settings) - RESERVED - set(RULES[rule_id].defaults)
        if unknown_params:
            raise ProfileError(
                f"profile {spec}: rule '{rule_id}' has no parameter(s) {', '.join(sorted(unknown_params))}"
            )
    return Profile(name=data["name"], description=data.get("description", ""), match=data.get("match", {}),
                   calendar=data.get("calendar", {}), rules=rules, origin=data["origin"],
                   packet=data.get("packet", {}))


def profile_for(payer_type: str, state: str | None, explicit: str | None = None) -> Profile:
    """The profile a record's payer picks: its own ``profile`` field, else the best-matching
    built-in profile, else ``default``."""
    if explicit:
        return load_profile(explicit)
    best, score = "default", 0
    for name in builtin_names():
        found = load_profile(name).matches(payer_type, state)
        if found > score:
            best, score = name, found
    return load_profile(best)
