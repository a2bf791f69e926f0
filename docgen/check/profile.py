"""Profiles: the payer- and jurisdiction-specific parameters of the rules, kept in TOML files.

A profile file looks like::

    name = "tx-medicaid"
    description = "..."
    extends = "default"             # optional: start from another profile (name or path)
    [match]                          # optional: which records pick this profile by default
    payer_type = "medicaid"
    state = "TX"                     # the payer's state (the agency's when the payer names none)
    # agency_state = "MN"            # the agency's state (the payer's when the agency names none):
    #                                #   for rules that bind the provider, e.g. licensing
    # program_type = ["substance_use", "co_occurring"]   # the agency's program type(s)
    [calendar]
    holidays = "US"                  # public holidays for business-day counting
    subdivision = "TX"
    [rules.plan-deadline]            # one table per rule: its parameters, and
    days = 10                        #   enabled = false   to switch the rule off,
    day_type = "business"            #   severity = "warning"   to change its weight,
    source = ["1 TAC 354.2609(b) [tac-1-354.2609]"]   # source = "..." or [...]: the profile's own
                                     #   basis, bibliography keys in brackets (docgen.check.sources)

The profiles shipped with docgen live in ``docgen/profiles``; ``--profile`` takes one of their
names or the path of an agency's own file.
"""
from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..findings import Severity
from .days import calendar_problems
from .sources import entries

RESERVED = {"enabled", "severity", "source"}
MATCH_KEYS = {"payer_type", "state", "agency_state", "program_type"}


def _kind(value: Any) -> str:
    """The kind of a parameter value as a profile author reads it."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


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

    def source(self, rule_id: str, default: tuple[str, ...]) -> tuple[str, ...]:
        """What the rule rests on under this profile: the profile's ``source`` for it, else the rule's."""
        value = self.settings(rule_id).get("source")
        return default if value is None else entries(value)

    def matches(self, payer_type: str | None, state: str | None, *, agency_state: str | None = None,
                program_type: str | None = None) -> int:
        """How specifically this profile matches a record (0: not at all): the number of ``[match]`` keys,
        all of which must hold. ``state`` is the payer's state (the agency's when the payer names none);
        ``agency_state`` the agency's (the payer's when the agency names none)."""
        if not self.match:
            return 0
        wanted = {"payer_type": payer_type, "state": state or agency_state,
                  "agency_state": agency_state or state, "program_type": program_type}
        for key, have in wanted.items():
            want = self.match.get(key)
            if want is None:
                continue
            if have is None or have not in (want if isinstance(want, list) else [want]):
                return 0
        return sum(key in self.match for key in wanted)


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


@lru_cache(maxsize=32)
def _parsed(text: str) -> dict:
    return tomllib.loads(text)


def _toml(text: str) -> dict:
    """``text`` parsed, once per process (every built-in profile extends ``default``: it was parsed six
    times to pick a record's profile); a copy each time, as :func:`_read` changes what it gets."""
    return copy.deepcopy(_parsed(text))


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
        data = _toml(text)
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
        source = settings.get("source")
        if source is not None and not (
                (isinstance(source, str) and source.strip())
                or (isinstance(source, list) and source and all(isinstance(e, str) and e.strip() for e in source))):
            raise ProfileError(f"profile {spec}: rules.{rule_id}.source must be a citation or a list of citations")
        defaults = RULES[rule_id].defaults
        for key, value in settings.items():
            if key in RESERVED or defaults[key] is None or _kind(value) == _kind(defaults[key]):
                continue
            raise ProfileError(f"profile {spec}: rules.{rule_id}.{key} must be {_kind(defaults[key])}")
        check_params = RULES[rule_id].check_params
        if check_params is not None:
            merged = dict(defaults)
            merged.update({k: v for k, v in settings.items() if k not in RESERVED})
            try:
                check_params(merged)
            except ValueError as exc:
                raise ProfileError(f"profile {spec}: rules.{rule_id}: {exc}") from None
    match = data.get("match", {})
    if set(match) - MATCH_KEYS:
        raise ProfileError(f"profile {spec}: [match] has no key(s) {', '.join(sorted(set(match) - MATCH_KEYS))} "
                           f"(known: {', '.join(sorted(MATCH_KEYS))})")
    return Profile(name=data["name"], description=data.get("description", ""), match=data.get("match", {}),
                   calendar=data.get("calendar", {}), rules=rules, origin=data["origin"],
                   packet=data.get("packet", {}))


def profile_for(payer_type: str | None, state: str | None, explicit: str | None = None, *,
                agency_state: str | None = None, program_type: str | None = None) -> Profile:
    """The profile a record picks: its payer's own ``profile`` field, else the built-in profile that
    matches it most specifically (the most ``[match]`` keys; on a tie, the first by name), else
    ``default``. ``state``: the payer's state; ``agency_state``: the agency's (each stands in for the
    other when absent, see :meth:`Profile.matches`)."""
    if explicit:
        return load_profile(explicit)
    best, score = "default", 0
    for name in builtin_names():
        found = load_profile(name).matches(payer_type, state, agency_state=agency_state, program_type=program_type)
        if found > score:
            best, score = name, found
    return load_profile(best)
