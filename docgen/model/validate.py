"""Validate: turn a raw document into a TreatmentPlan, ProgressNote or Addendum, or schema findings."""
from __future__ import annotations

import re

from pydantic import ValidationError

from ..findings import Finding, RecordResult, Severity
from ..load import RawDocument
from . import validate_record

SCHEMA_SOURCE = "docgen record schema"
KINDS = ("treatment_plan", "progress_note", "addendum")
_TAGS = {*KINDS, "phq9", "gad7", "pcl5", "cssrs_screener"}


#: Longest field path or message reported (characters); keys and messages come from the document.
MAX_REPORTED = 200


def one_line(text: str, limit: int = MAX_REPORTED) -> str:
    """``text`` made safe for a one-line report: control and other unprintable characters
    (newlines, tabs, line separators, lone surrogates) escaped, and cut to ``limit`` characters."""
    out = "".join(ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
                  for ch in text[: limit + 1])
    return out if len(out) <= limit else out[: limit - 3] + "..."


def field_path(loc: tuple) -> str:
    """``('treatment_plan', 'goals', 0, 'objectives', 1, 'target_date')`` -> ``goals[0].objectives[1].target_date``."""
    out = ""
    previous = None
    for index, part in enumerate(loc):
        if isinstance(part, str) and part in _TAGS and (index == 0 or isinstance(previous, int)):
            previous = part
            continue  # discriminator tag, not a field
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
        previous = part
    return one_line(out) if out else "(record)"


def schema_findings(error: ValidationError) -> list[Finding]:
    findings = []
    for err in error.errors(include_url=False, include_input=False, include_context=True):
        message = err["msg"]
        loc = tuple(err["loc"])
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "extra_forbidden":
            message = "unknown field (not part of the record format)"
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            # the discriminator field (kind, instrument): name it, never echo the value found
            ctx = err.get("ctx") or {}
            tag = str(ctx.get("discriminator", "'kind'")).strip("'")
            loc += (tag,)
            expected = ctx.get("expected_tags")
            message = "required field is missing" if err["type"] == "union_tag_not_found" else (
                f"unknown value; expected one of {expected}" if expected else "unknown value")
        elif err["type"] == "invalid_key" and loc and isinstance(loc[-1], int):
            loc = (*loc[:-1], str(loc[-1]))  # a number used as a field name, not a list index
            message = "field names must be text"
        findings.append(Finding("schema", Severity.blocker, field_path(loc), one_line(message), SCHEMA_SOURCE))
    return findings


_SURROGATE = re.compile("[\ud800-\udfff]")


def _surrogates(data: object, loc: tuple = ()) -> list[tuple]:
    """Paths of text holding a lone UTF-16 surrogate (legal in JSON as ``\\ud800``, what exporters that
    cut text at N code units produce): no document can hold one."""
    if isinstance(data, str):
        return [loc] if _SURROGATE.search(data) else []
    if isinstance(data, dict):
        found = []
        for key, value in data.items():
            key_text = str(key)
            if _SURROGATE.search(key_text):
                found.append((*loc, "(field name)"))
            else:
                found.extend(_surrogates(value, (*loc, key_text)))
        return found
    if isinstance(data, list):
        return [path for index, item in enumerate(data) for path in _surrogates(item, (*loc, index))]
    return []


def validate_document(raw: RawDocument) -> RecordResult:
    """A RecordResult holding the validated record, or the findings that say why not."""
    data = raw.data if isinstance(raw.data, dict) else {}
    kind = data.get("kind") if isinstance(data.get("kind"), str) else None
    result = RecordResult(source=raw.source, id=raw.id, client=raw.client,
                          kind=kind if kind in KINDS else None)
    if raw.error:
        result.findings.append(Finding("load", Severity.blocker, "(file)", one_line(raw.error), "docgen loader"))
        return result
    broken = _surrogates(raw.data)
    if broken:
        result.findings.extend(Finding("schema", Severity.blocker, field_path(loc), "text holds half of a character "
                                       "(a lone UTF-16 surrogate): the export cut it; fix the text at its source",
                                       SCHEMA_SOURCE) for loc in broken[:20])
        return result
    try:
        record = validate_record(raw.data)
    except ValidationError as exc:
        result.findings.extend(schema_findings(exc))
        return result
    except RecursionError:
        result.findings.append(Finding("schema", Severity.blocker, "(record)", "nesting too deep", SCHEMA_SOURCE))
        return result
    result.record = record
    result.kind = record.kind
    result.id, result.client = record.id, record.client.id  # as validated: normalised (NFC, trimmed)
    return result
