"""The record's rest: what no FHIR element carries, as a patch over what the FHIR elements give back.

Export maps each record onto FHIR elements, reads those resources back with the importer, and keeps
the difference between the record and what came back as a patch (``diff``). Import applies it
(``apply``) when the Bundle still holds it, so a docgen -> FHIR -> docgen round trip gives the same
record, byte for byte; an EHR that drops the extension still has every field FHIR carries.

A patch is one of ``{"$set": value}``, ``{"$keys": {key: patch}, "$drop": [key, ...]}`` or
``{"$items": [patch or null, ...]}`` (a list of the same length, item by item) or ``{"$seq": [{"$at": i,
"$patch": patch or null} or {"$new": value}, ...]}`` (the list from FHIR's items in order, with items FHIR
does not carry, e.g. a C-SSRS screen among PHQ-9s, put back in their places).
"""
from __future__ import annotations

from typing import Any

from ..errors import LoadError

#: Deepest patch applied (records are about 6 levels deep).
MAX_DEPTH = 32


def diff(want: Any, have: Any) -> dict | None:
    """The patch that turns ``have`` into ``want``; None when they are equal."""
    if want == have and type(want) is type(have):
        return None
    if isinstance(want, dict) and isinstance(have, dict):
        keys = {}
        for key, value in want.items():
            if key not in have:
                keys[key] = {"$set": value}
            else:
                sub = diff(value, have[key])
                if sub is not None:
                    keys[key] = sub
        drop = sorted(k for k in have if k not in want)
        out: dict = {}
        if keys:
            out["$keys"] = keys
        if drop:
            out["$drop"] = drop
        return out or None
    if isinstance(want, list) and isinstance(have, list) and len(want) == len(have) and want:
        items = [diff(w, h) for w, h in zip(want, have, strict=True)]
        return {"$items": items}
    if isinstance(want, list) and isinstance(have, list) and have:
        seq = _sequence(want, have)
        if seq is not None:
            return {"$seq": seq}
    return {"$set": want}


#: Keys that say which thing a list item is (an assessment's instrument and date, a signature's role).
_IDENTITY = ("id", "instrument", "date", "role", "code", "type", "goal_id")


def _similar(want: Any, have: Any) -> bool:
    if isinstance(want, dict) and isinstance(have, dict):
        shared = [k for k in _IDENTITY if k in want and k in have]
        return bool(shared) and all(want[k] == have[k] for k in shared)
    return bool(want == have)


def _sequence(want: list, have: list) -> list | None:
    """``want`` as items of ``have`` (in order, each patched) and new items, when every item of ``have``
    is used once in order; else None."""
    out: list[dict] = []
    j = 0
    for item in want:
        if j < len(have) and _similar(item, have[j]):
            out.append({"$at": j, "$patch": diff(item, have[j])})
            j += 1
        else:
            out.append({"$new": item})
    return out if j == len(have) else None


def apply(have: Any, patch: Any, depth: int = 0) -> Any:
    """``have`` with ``patch`` applied (a new value; ``have`` is not changed). A patch that does not fit
    (hand-edited, or for another record) is a :class:`LoadError`."""
    if depth > MAX_DEPTH:
        raise LoadError("record rest nested too deep")
    if patch is None:
        return have
    if not isinstance(patch, dict):
        raise LoadError("record rest is not a patch")
    if set(patch) == {"$set"}:
        return patch["$set"]
    if "$seq" in patch:
        seq = patch["$seq"]
        if set(patch) != {"$seq"} or not isinstance(seq, list) or not isinstance(have, list):
            raise LoadError("record rest does not fit the resources")
        out_list, used = [], 0
        for step in seq:
            if isinstance(step, dict) and set(step) == {"$new"}:
                out_list.append(step["$new"])
            elif isinstance(step, dict) and set(step) == {"$at", "$patch"} and step["$at"] == used \
                    and used < len(have):
                out_list.append(apply(have[used], step["$patch"], depth + 1))
                used += 1
            else:
                raise LoadError("record rest does not fit the resources (a list changed)")
        if used != len(have):
            raise LoadError("record rest does not fit the resources (a list changed)")
        return out_list
    if "$items" in patch:
        items = patch["$items"]
        if set(patch) != {"$items"} or not isinstance(items, list) or not isinstance(have, list) \
                or len(items) != len(have):
            raise LoadError("record rest does not fit the resources (a list changed length)")
        return [apply(h, p, depth + 1) for h, p in zip(have, items, strict=True)]
    if set(patch) - {"$keys", "$drop"} or not isinstance(have, dict):
        raise LoadError("record rest does not fit the resources")
    keys, drop = patch.get("$keys", {}), patch.get("$drop", [])
    if not isinstance(keys, dict) or not isinstance(drop, list):
        raise LoadError("record rest is not a patch")
    out = {k: v for k, v in have.items() if k not in drop}
    for key, sub in keys.items():
        out[key] = apply(have.get(key), sub, depth + 1) if key in have else apply(None, sub, depth + 1)
    return out
