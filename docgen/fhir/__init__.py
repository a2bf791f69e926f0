"""FHIR R4 in and out (issue #15): ``docgen fhir export`` and ``docgen fhir import``.

- :mod:`.codes`: code systems and LOINC codes, with where they were checked.
- :mod:`.export`: records -> one Bundle per client (US Core where a profile exists).
- :mod:`.reader`, :mod:`.ingest`: Bundles and NDJSON -> docgen records, with a report per resource.
- :mod:`.patch`: the record rest, so that docgen -> FHIR -> docgen loses nothing.
- :mod:`.uscore`: docgen's own checks of the US Core must-support elements and required codes.

fhir.resources (its R4B models are R4 for every resource docgen maps) is imported only when FHIR is
read or checked: ``pip install docgen[fhir]``.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..findings import RecordResult

__all__ = ["export_paths", "ExportRun"]


@dataclass
class ExportRun:
    """What an export made: one :class:`~docgen.fhir.export.Exported` per client, and the records that
    could not be exported (invalid: their check results)."""

    bundles: list = field(default_factory=list)
    invalid: list[RecordResult] = field(default_factory=list)
    found: int = 0  # documents read


def export_paths(paths: Iterable[str | os.PathLike], *, client: str | None = None,
                 shape: Callable[[Any], dict] | None = None, part2: Callable[[Any], bool] | None = None,
                 documents: Callable[[Any, dict], bytes | None] | None = None) -> ExportRun:
    """Read and validate the records under ``paths`` and make one Bundle per client (only ``client``'s
    when given). ``shape``: a record's dict as it may leave (minimum necessary, see
    :func:`docgen.api.fhir_export`); ``part2``: whether a record comes from a 42 CFR Part 2 program;
    ``documents``: a record's final PDF, or None."""
    from ..load import read  # noqa: PLC0415
    from ..pipeline import validate  # noqa: PLC0415
    from .export import export_client  # noqa: PLC0415

    run = ExportRun()
    by_client: dict[str, list] = {}
    for raw in read(paths):
        run.found += 1
        result = validate(raw)
        if result.record is None:
            if client is None or result.client == client:
                run.invalid.append(result)
            continue
        if client is None or result.record.client.id == client:
            by_client.setdefault(result.record.client.id, []).append(result.record)
    for client_id in sorted(by_client):
        run.bundles.append(export_client(client_id, by_client[client_id], documents=documents, shape=shape,
                                         part2=part2))
    return run
