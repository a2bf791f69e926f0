"""CSV input: a flat layout for progress notes, one row a session, so an agency can feed a
spreadsheet or an export of its record system straight in.

The README documents the layout for the people who export it ("CSV layout"; a test holds it to
``COLUMNS``). Columns (header row required; order free; empty cells are absent values):

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

from ..errors import LoadError
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


#: How to fix an encoding, in the words of Excel's "Save As" menu.
SAVE_AS_UTF8 = 'save it as "CSV UTF-8 (Comma delimited)" in Excel'
_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _utf16(head: bytes) -> bool:
    """The first bytes of a UTF-16 file: a byte-order mark, or text with every other byte zero."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    sample = head[:400]
    zeros = (sample[0::2].count(0), sample[1::2].count(0))
    return len(sample) >= 8 and max(zeros) >= len(sample) // 4 and min(zeros) <= len(sample) // 40


def _guess_8bit(text: str) -> str:
    """Why ``text`` (decoded with surrogateescape) is not UTF-8, in the words of the fix: the bytes
    of a Windows-1252 export (Excel's "CSV (Comma delimited)" on Windows) decode as that."""
    raw = text.encode("utf-8", "surrogateescape")
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return SAVE_AS_UTF8
    return f"looks like Windows-1252; {SAVE_AS_UTF8}"


def _separated_by(header: list[str]) -> str | None:
    """The name of the separator of a header row that is one cell holding several known columns."""
    if len(header) != 1:
        return None
    for separator, name in _SEPARATORS.items():
        parts = [part.strip().strip('"') for part in header[0].split(separator)]
        if len(parts) > 1 and "id" in parts:
            return name
    return None


def _open_utf8(path: Path) -> io.TextIOWrapper:
    """The file as UTF-8 text (a byte-order mark skipped; bytes that are not UTF-8 kept as lone
    surrogates for the rows to report), or LoadError for a UTF-16 or binary file."""
    binary = path.open("rb")
    try:
        head = binary.read(4096)
        if _utf16(head):
            raise LoadError(f"not UTF-8: looks like UTF-16 (Excel's \"Unicode Text\"); {SAVE_AS_UTF8}")
        if b"\x00" in head:
            raise LoadError("binary file, not text")
        binary.seek(0)
    except BaseException:
        binary.close()
        raise
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")


def read_csv(path: Path) -> Iterator[RawDocument]:
    """Each data row of a CSV file as a progress-note document, streaming; ``source`` is FILE:LINE
    (the row's first line, blank lines counted). A bad row is reported and the next rows are read.
    A file saved the usual wrong ways (UTF-16, semicolons or tabs) is one error saying how to save it;
    a row that is not UTF-8 says so, and that the file looks like Windows-1252 when it does."""
    try:
        handle = _open_utf8(path)
    except LoadError as exc:
        yield RawDocument(str(path), error=str(exc))
        return
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
        undecoded = "".join(c for c in header if _UNDECODED.search(c))
        if undecoded:
            yield RawDocument(str(path), error=f"not UTF-8: {_guess_8bit(undecoded)}")
            return
        separator = _separated_by(header)
        if separator:
            yield RawDocument(str(path), error=f"separated by {separator}; docgen reads comma-separated CSV: save "
                                               'it with commas (Excel: "CSV UTF-8 (Comma delimited)", with the '
                                               "comma as the Windows list separator)")
            return
        unknown = [c for c in header if c not in COLUMNS]
        if not header or unknown or "id" not in header:
            what = f"unknown column(s) {', '.join(c[:40] for c in unknown)}" if unknown else "no 'id' column"
            yield RawDocument(str(path), error=f"CSV layout: {what} (the columns are in the README, 'CSV layout')")
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
            undecoded = "".join(c for c in cells if _UNDECODED.search(c))
            if len(cells) > len(header):
                yield RawDocument(source, data=_stub(row), error="row has more cells than the header")
            elif undecoded:
                yield RawDocument(source, data=_stub(row), error=f"row is not UTF-8 text; {_guess_8bit(undecoded)}")
            else:
                yield RawDocument(source, data=row_to_note(row))


def sample_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=sorted(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
