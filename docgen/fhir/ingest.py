"""Import: FHIR Bundles or NDJSON -> docgen records (one YAML file per record), with a report of what
was assumed, left out or found wrong, per resource.

Every input is read and checked, and every record made, before anything is written: bad JSON, a file
too large, a resource that breaks the R4 structure, an unknown resourceType or a reference to nowhere
is one line (:class:`docgen.errors.LoadError`) and nothing is written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LoadError
from . import codes as C
from .patch import apply
from .reader import USED, Report, _code, _date, _derived_from_qr, _refs, note_from, plan_from, residual_of
from .resources import Index, label, model_class, read_inputs, shown, structure_errors


@dataclass
class Imported:
    """One record made from FHIR: its data (a dict for ``docgen check``), where it came from, and the
    report lines about it."""

    id: str
    kind: str
    client: str | None
    origin: str  # Type/id of the CarePlan or Encounter
    source: str  # the input file
    data: dict
    lines: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    records: list[Imported]
    report: Report
    files: list[Path] = field(default_factory=list)

    @property
    def findings(self) -> list[str]:
        return [line.text() for line in self.report.findings]


def _check_structures(index: Index) -> None:
    for entry in index.entries:
        resource = entry.resource
        model_class(str(resource.get("resourceType")))  # an unknown type: LoadError
        if resource.get("resourceType") in USED:
            problems = structure_errors(resource)
            if problems:
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                raise LoadError(f"{entry.source}: {label(resource)}: not valid FHIR R4: {problems[0]}{more}")


def _linked(index: Index) -> set[int]:
    """Assessments and consents some CarePlan or Encounter already holds."""
    held: set[int] = set()
    for plan in index.of_type("CarePlan"):
        held.update(id(r) for r in _refs(plan, "supportingInfo", index))
    for resource in index.of_type("QuestionnaireResponse") + index.of_type("Observation"):
        if isinstance(resource.get("encounter"), dict) and resource["encounter"].get("reference"):
            held.add(id(resource))
    return held


def _loose(index: Index, patient: dict, held: set[int]) -> list[dict]:
    """The patient's PHQ-9/GAD-7 responses and panels, and consents, that no record holds."""
    out = []
    for resource in (index.pointing("QuestionnaireResponse", "subject", patient)
                     + index.pointing("Observation", "subject", patient)
                     + index.pointing("Consent", "patient", patient)):
        if id(resource) in held:
            continue
        if resource["resourceType"] == "Observation" and _derived_from_qr(resource, index):
            continue
        out.append(resource)
    return out


def _day(resource: dict) -> str:
    return _date(resource.get("authored") or resource.get("effectiveDateTime") or resource.get("dateTime")) or ""


def import_inputs(paths: list[Path]) -> ImportResult:
    """Read every input and make the records (nothing written). Raises LoadError."""
    index = Index(read_inputs(paths))
    _check_structures(index)
    report = Report()
    records: list[Imported] = []
    plans_of: dict[int, list[dict]] = {}
    for plan in index.of_type("CarePlan"):
        subject = index.resolve(plan.get("subject"), "subject", plan, ("Patient",))
        if subject is not None:
            plans_of.setdefault(id(subject), []).append(plan)
    extras: dict[int, list[dict]] = {}
    held = _linked(index)
    for patient in index.of_type("Patient"):
        plans = sorted(plans_of.get(id(patient), []), key=lambda p: _date(p.get("created")) or "")
        if not plans:
            continue
        for resource in _loose(index, patient, held):
            if resource["resourceType"] == "Consent":
                for plan in plans:
                    extras.setdefault(id(plan), []).append(resource)
                report.add("assumed", resource, f"not linked to a plan: held by every plan of the patient "
                                                f"({len(plans)})")
                continue
            day = _day(resource)
            earlier = [p for p in plans if (_date(p.get("created")) or "") <= day]
            chosen = earlier[-1] if earlier else plans[0]
            extras.setdefault(id(chosen), []).append(resource)
            report.add("assumed", resource, f"not linked to a record: held by the plan {label(chosen)}")
    for kind, resource_type, make in (("treatment_plan", "CarePlan", plan_from),
                                      ("progress_note", "Encounter", note_from)):
        for main in index.of_type(resource_type):
            before = len(report.lines)
            data = make(main, index, report, extras.get(id(main), []))
            rest = residual_of(main)
            if rest is not None:
                try:
                    data = apply(data, rest)
                except LoadError as exc:
                    raise LoadError(f"{index.source(main)}: {label(main)}: {exc}") from None
                report.lines[before:] = [ln for ln in report.lines[before:] if ln.kind != "assumed"]
            if not isinstance(data, dict):
                raise LoadError(f"{index.source(main)}: {label(main)}: record rest does not make a record")
            record_id = data.get("id")
            if not isinstance(record_id, str) or not record_id.strip():
                raise LoadError(f"{index.source(main)}: {label(main)}: no id")
            client = data.get("client", {}).get("id") if isinstance(data.get("client"), dict) else None
            records.append(Imported(record_id, kind, client, label(main), index.source(main), data,
                                    [ln.text() for ln in report.lines[before:]]))
    _report_unused(index, report)
    return ImportResult(records, report)


def _report_unused(index: Index, report: Report) -> None:
    seen: set[int] = set()
    for entry in index.entries:
        resource = entry.resource
        if id(resource) in seen:
            continue
        seen.add(id(resource))
        if id(resource) in index.touched:
            continue
        rtype = resource.get("resourceType")
        if rtype == "Observation" and any(id(r) in index.touched for r in _refs(resource, "derivedFrom", index)):
            continue  # an item, total or panel of a response docgen read: the score is recomputed from the items
        if rtype == "Observation" and _code(resource.get("code"), C.LOINC) not in (None,):
            report.add("unmapped", resource, "not a PHQ-9 or GAD-7 of a plan or note: not imported")
        elif rtype == "DocumentReference":
            report.add("unmapped", resource, "documents are not imported (docgen renders its own)")
        elif rtype == "Patient":
            report.add("unmapped", resource, "no CarePlan or Encounter of this patient: no record")
        else:
            report.add("unmapped", resource, "not mapped to any docgen record")


def yaml_text(item: Imported) -> str:
    """The record as a YAML file: a header naming where it came from (ids only) and the report lines."""
    import yaml  # noqa: PLC0415

    head = [f"# Imported from FHIR: {item.origin} in {shown(Path(item.source).name, 120)}",
            "# Check it with `docgen check`; the lines below say what was assumed, left out or found."]
    head += [f"# {shown(line, 400)}" for line in item.lines]
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter where PyYAML has it
    body = yaml.dump(item.data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(head) + "\n" + body


