"""Benchmark of `docgen fhir import` and `export` on an agency-sized bulk export, against `docgen check` of
the same records measured in the same run.

    .venv/bin/python bench/fhir_roundtrip.py [--encounters 500,2000]

Builds an NDJSON like a bulk export (one Patient, Organization, Practitioner, Coverage and Condition,
and per encounter an Encounter, a PHQ-9 QuestionnaireResponse and a Provenance) from
tests/data/fhir/ehr-bulk-telehealth-note.ndjson, imports it, checks the records written, and exports
them again. Prints seconds and the ratios: import and export time over check time (the baseline), and
each size's time over the smallest's (about the size ratio when reading is linear, as it must be).
Figures go in the README; they are measurements, not test assertions.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

from docgen import api

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests" / "data" / "fhir" / "ehr-bulk-telehealth-note.ndjson"


def bulk(count: int, folder: Path) -> Path:
    lines = [json.loads(line) for line in SOURCE.read_text(encoding="utf-8").splitlines()]
    one = {r["resourceType"]: r for r in lines}
    out = [one[k] for k in ("Patient", "Organization", "Practitioner", "Coverage", "Condition")]
    for i in range(count):
        encounter = {**one["Encounter"], "id": f"bE{i}"}
        response = {**one["QuestionnaireResponse"], "id": f"bQ{i}", "encounter": {"reference": f"Encounter/bE{i}"}}
        signature = {**one["Provenance"], "id": f"bPv{i}", "target": [{"reference": f"Encounter/bE{i}"}]}
        out += [encounter, response, signature]
    path = folder / f"bulk-{count}.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in out), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--encounters", default="500,2000")
    sizes = [int(n) for n in parser.parse_args().encounters.split(",")]
    first = None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for count in sizes:
            source = bulk(count, folder)
            start = time.perf_counter()
            result = api.fhir_import([source], folder / f"records-{count}")
            imported = time.perf_counter() - start
            start = time.perf_counter()
            api.check([folder / f"records-{count}"], as_of=date(2026, 11, 24))
            checked = time.perf_counter() - start
            start = time.perf_counter()
            api.fhir_export([folder / f"records-{count}"], folder / f"again-{count}.json")
            exported = time.perf_counter() - start
            first = first or (count, imported)
            print(f"{count} encounters ({3 * count + 5} resources) -> {len(result.records)} records: "
                  f"import {imported:.2f} s ({imported / checked:.2f}x check {checked:.2f} s), "
                  f"export {exported:.2f} s ({exported / checked:.2f}x check); "
                  f"import time x{imported / first[1]:.1f} for x{count / first[0]:.1f} the size")


if __name__ == "__main__":
    main()
