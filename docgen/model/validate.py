"""Validate: turn a raw document into a TreatmentPlan or ProgressNote, or schema findings."""
from __future__ import annotations

from pydantic import ValidationError

from ..findings import Finding, RecordResult, Severity
from ..load import RawDocument
from . import RECORD

SCHEMA_SOURCE = "docgen record schema"
_TAGS = {"treatment_plan", "progress_note", "phq9", "gad7", "pcl5", "cssrs_screener"}


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
    return out or "(record)"


def schema_findings(error: ValidationError) -> list[Finding]:
    findings = []
    for err in error.errors(include_url=False, include_input=False, include_context=False):
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "extra_forbidden":
            message = "unknown field (not part of the record format)"
        findings.append(Finding("schema", Severity.blocker, field_path(err["loc"]), message, SCHEMA_SOURCE))
    return findings


def validate_document(raw: RawDocument) -> RecordResult:
    """A RecordResult holding the validated record, or the findings that say why not."""
    data = raw.data if isinstance(raw.data, dict) else {}
    kind = data.get("kind") if isinstance(data.get("kind"), str) else None
    result = RecordResult(source=raw.source, id=raw.id, client=raw.client,
                          kind=kind if kind in ("treatment_plan", "progress_note") else None)
    if raw.error:
        result.findings.append(Finding("load", Severity.blocker, "(file)", raw.error, "docgen loader"))
        return result
    try:
        record = RECORD.validate_python(raw.data)
    except ValidationError as exc:
        result.findings.extend(schema_findings(exc))
        return result
    except RecursionError:
        result.findings.append(Finding("schema", Severity.blocker, "(record)", "nesting too deep", SCHEMA_SOURCE))
        return result
    result.record = record
    result.kind = record.kind
    return result
