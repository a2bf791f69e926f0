"""The record format as JSON Schema (draft 2020-12), made by pydantic from the models themselves, so it
cannot drift from what ``docgen validate`` accepts (``docgen schema [KIND]``).

The schema is the format an export should produce. docgen itself reads a little more leniently
(numbers for text fields, codes with spaces around them) and checks
what a schema cannot say: that ``author_id`` names one of the clinicians, that a note has only its
format's sections, that the plan date is not before intake. Dates carry ``"format": "date"``: a
validator checks that the day exists only with format checking on (``jsonschema.FormatChecker``,
ajv-formats); the pattern alone checks YYYY-MM-DD.
"""
from __future__ import annotations

import json

from ..errors import UsageError
from . import MODELS, _any_record

#: The JSON Schema dialect pydantic writes.
DIALECT = "https://json-schema.org/draft/2020-12/schema"
KINDS = tuple(MODELS)


def record_schema(kind: str | None = None) -> dict:
    """The JSON Schema of a record of ``kind`` (``treatment_plan``, ``progress_note`` or ``addendum``),
    or of any record (the union, told apart by ``kind``) when ``kind`` is None."""
    if kind is None:
        schema = _any_record().json_schema()
        schema["title"] = "docgen record"
        schema["description"] = f"A docgen record: its kind ({', '.join(KINDS)}) says which."
    elif kind in MODELS:
        schema = MODELS[kind].model_json_schema()
        schema.setdefault("description", f"A docgen {kind} record.")
    else:
        raise UsageError(f"unknown record kind; expected one of {', '.join(KINDS)}", where="KIND")
    return {"$schema": DIALECT, **schema}


def schema_text(kind: str | None = None) -> str:
    """:func:`record_schema` as JSON text: keys sorted, indented by 2, ASCII, a final newline."""
    return json.dumps(record_schema(kind), indent=2, sort_keys=True, ensure_ascii=True) + "\n"


__all__ = ["DIALECT", "KINDS", "record_schema", "schema_text"]
