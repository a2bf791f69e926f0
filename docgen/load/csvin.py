"""CSV input: a flat layout for progress notes, one row a session, so an agency can feed a
spreadsheet or an export of its record system straight in.

Columns (header row required; order free; empty cells are absent values):

| column | meaning |
|---|---|
| id | note id (required) |
| client_id, client_name, client_dob | the client; dob as YYYY-MM-DD |
| guardian_name, guardian_relationship | for a minor |
| agency_name, agency_npi | the agency |
| clinician_id, clinician_name, clinician_credentials, clinician_requires_cosign | the author |
| supervisor_id, supervisor_name, supervisor_credentials | a co-signing supervisor, if any |
| payer_name, payer_type, payer_state, member_id | the payer (type: medicare, medicaid, commercial, self_pay, other) |
| plan_id | the treatment plan the note serves |
| format | soap, birp, dap or girp |
| session_date, start_time, end_time, psychotherapy_minutes | date YYYY-MM-DD, times HH:MM |
| service_type, delivery, place_of_service, group_size | as in the record format |
| cpt_codes | codes separated by ``;`` e.g. ``99214;90833`` |
| interactive_complexity_factors | separated by ``;`` |
| goals | goals and objectives addressed: ``G1:G1.O1,G1.O2;G2`` |
| subjective, objective, assessment, plan, behavior, intervention, response, data, goal | the format's sections |
| risk_level, risk_summary | the risk update (level: none, low, moderate, high) |
| signed_at_date, signed_at_time, signature_method | the author's signature (method default: electronic) |
| supervisor_signed_date, supervisor_signed_time | the supervisor's co-signature |

Unknown columns are an error for the whole file (a typo must not drop data silently).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from . import MAX_LINE_BYTES, RawDocument

SECTIONS = ("subjective", "objective", "assessment", "plan", "behavior", "intervention", "response", "data", "goal")
COLUMNS = {
    "id", "client_id", "client_name", "client_dob", "guardian_name", "guardian_relationship", "agency_name",
    "agency_npi", "clinician_id", "clinician_name", "clinician_credentials", "clinician_requires_cosign",
    "supervisor_id", "supervisor_name", "supervisor_credentials", "payer_name", "payer_type", "payer_state",
    "member_id", "plan_id", "format", "session_date", "start_time", "end_time", "psychotherapy_minutes",
    "service_type", "delivery", "place_of_service", "group_size", "cpt_codes", "interactive_complexity_factors",
    "goals", "risk_level", "risk_summary", "signed_at_date", "signed_at_time", "signature_method",
    "supervisor_signed_date", "supervisor_signed_time", *SECTIONS,
}


def _split(value: str, sep: str = ";") -> list[str]:
    return [part.strip() for part in value.split(sep) if part.strip()]


def row_to_note(row: Mapping[str, str | None]) -> dict:
    """One CSV row -> a progress-note document (validated later like any other record)."""
    stripped = {k: (val if val is None else val.strip()) for k, val in row.items()}
    v = {k: val for k, val in stripped.items() if val}
    note: dict = {"kind": "progress_note"}

    def put(key, column):
        if column in v:
            note[key] = v[column]

    put("id", "id")
    client: dict[str, Any] = {"id": v.get("client_id"), "name": v.get("client_name"),
                              "date_of_birth": v.get("client_dob")}
    if "guardian_name" in v:
        client["guardian"] = {"name": v["guardian_name"], "relationship": v.get("guardian_relationship", "guardian")}
    note["client"] = {k: val for k, val in client.items() if val is not None}
    note["agency"] = {k: val for k, val in (("name", v.get("agency_name")), ("npi", v.get("agency_npi"))) if val}
    author = {"id": v.get("clinician_id"), "name": v.get("clinician_name"),
              "credentials": v.get("clinician_credentials")}
    if "clinician_requires_cosign" in v:
        author["requires_cosign"] = v["clinician_requires_cosign"]
    if "supervisor_id" in v:
        author["supervisor_id"] = v["supervisor_id"]
    clinicians = [{k: val for k, val in author.items() if val is not None}]
    if "supervisor_id" in v:
        clinicians.append({k: val for k, val in (("id", v.get("supervisor_id")), ("name", v.get("supervisor_name")),
                                                   ("credentials", v.get("supervisor_credentials"))) if val})
    note["clinicians"] = clinicians
    if "clinician_id" in v:
        note["author_id"] = v["clinician_id"]
    note["payer"] = {k: val for k, val in (("name", v.get("payer_name")), ("type", v.get("payer_type")),
                                           ("state", v.get("payer_state")), ("member_id", v.get("member_id"))) if val}
    for key in ("plan_id", "format", "session_date", "start_time", "end_time", "psychotherapy_minutes",
                "service_type", "delivery", "place_of_service", "group_size", *SECTIONS):
        put(key, key)
    if "cpt_codes" in v:
        note["cpt_codes"] = _split(v["cpt_codes"])
    if "interactive_complexity_factors" in v:
        note["interactive_complexity_factors"] = _split(v["interactive_complexity_factors"])
    if "goals" in v:
        refs = []
        for part in _split(v["goals"]):
            goal, _, objectives = part.partition(":")
            refs.append({"goal_id": goal.strip(), "objective_ids": _split(objectives, ",")})
        note["goals_addressed"] = refs
    if "risk_level" in v:
        note["risk_update"] = {"level": v["risk_level"],
                               **({"summary": v["risk_summary"]} if "risk_summary" in v else {})}
    signatures = []
    if "signed_at_date" in v:
        signatures.append({"role": "clinician", "name": v.get("clinician_name"), "signer_id": v.get("clinician_id"),
                           "credentials": v.get("clinician_credentials"),
                           "method": v.get("signature_method", "electronic"), "date": v["signed_at_date"],
                           **({"time": v["signed_at_time"]} if "signed_at_time" in v else {})})
    if "supervisor_signed_date" in v:
        signatures.append({"role": "supervisor", "name": v.get("supervisor_name"), "signer_id": v.get("supervisor_id"),
                           "credentials": v.get("supervisor_credentials"),
                           "method": v.get("signature_method", "electronic"), "date": v["supervisor_signed_date"],
                           **({"time": v["supervisor_signed_time"]} if "supervisor_signed_time" in v else {})})
    note["signatures"] = [{k: val for k, val in s.items() if val is not None} for s in signatures]
    return note


_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept by surrogateescape


def _stub(row: dict[str, str]) -> dict:
    """What names a row that cannot become a record: its id and client id, for the report."""
    stub: dict = {"kind": "progress_note"}
    for key, column in (("id", "id"), ("client", "client_id")):
        value = (row.get(column) or "").strip()
        if value and not _UNDECODED.search(value):
            stub[key] = {"id": value} if key == "client" else value
    return stub


def read_csv(path: Path) -> Iterator[RawDocument]:
    """Each data row of a CSV file as a progress-note document, streaming; ``source`` is FILE:LINE
    (the row's first line, blank lines counted). A bad row is reported and the next rows are read."""
    try:
        handle = path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as exc:
        yield RawDocument(str(path), error=f"cannot read file: {exc.strerror or type(exc).__name__}")
        return
    with handle:
        csv.field_size_limit(MAX_LINE_BYTES)
        reader = csv.reader(handle)
        try:
            header = next(reader, [])
        except csv.Error as exc:
            yield RawDocument(str(path), error=f"broken CSV header: {type(exc).__name__}")
            return
        if any(_UNDECODED.search(c) for c in header):
            yield RawDocument(str(path), error="CSV layout: the header row is not UTF-8 text")
            return
        unknown = [c for c in header if c not in COLUMNS]
        if not header or unknown or "id" not in header:
            what = f"unknown column(s) {', '.join(c[:40] for c in unknown)}" if unknown else "no 'id' column"
            yield RawDocument(str(path), error=f"CSV layout: {what} (see docgen/load/csvin.py)")
            return
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                yield RawDocument(f"{path}:{line}", error=f"broken CSV row: {type(exc).__name__} "
                                                          "(the rest of the file is not read)")
                return
            if not cells:  # a blank line
                continue
            row = dict(zip(header, cells, strict=False))  # short and long rows are judged below
            source = f"{path}:{line}"
            if len(cells) > len(header):
                yield RawDocument(source, data=_stub(row), error="row has more cells than the header")
            elif any(_UNDECODED.search(c) for c in cells):
                yield RawDocument(source, data=_stub(row), error="row is not UTF-8 text")
            else:
                yield RawDocument(source, data=row_to_note(row))


def sample_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=sorted(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
