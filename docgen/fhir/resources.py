"""Reading FHIR input safely: Bundles (any type) and NDJSON as EHRs export them, each resource checked
against the R4 models of ``fhir.resources`` (R4B, which is R4 for every resource docgen maps), and an
index that resolves references (``urn:uuid:`` full URLs, ``Type/id`` and absolute URLs).

Every problem is a :class:`docgen.errors.LoadError` of one line naming the file and the resource
(type/id) and field path, never a value from the input (it may be clinical text).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LoadError
from ..load import MAX_DEPTH, MAX_FILE_BYTES, depth_ok, parse_json

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
#: Most resources read from all inputs of one import.
MAX_RESOURCES = 200_000


def shown(text: Any, limit: int = 64) -> str:
    """Input text as a message may show it: printable, escaped where it is not, bounded."""
    text = str(text)[:limit]
    return text if text.isprintable() else text.encode("unicode_escape", "backslashreplace").decode("ascii")


def model_class(resource_type: str):
    """The fhir.resources R4B model of ``resource_type``; LoadError for a type FHIR does not have."""
    from fhir.resources.R4B import get_fhir_model_class  # noqa: PLC0415

    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError, ImportError):
        raise LoadError(f"unknown resourceType '{shown(resource_type, 40)}'") from None


def structure_errors(resource: dict) -> list[str]:
    """Where ``resource`` breaks the R4 structure (``field.path: error type``), never quoting a value."""
    from pydantic import ValidationError  # noqa: PLC0415

    cls = model_class(str(resource.get("resourceType")))
    try:
        cls.model_validate(resource)
    except ValidationError as exc:
        return [f"{'.'.join(shown(p, 40) for p in err['loc']) or '(resource)'}: {err['type']}"
                for err in exc.errors()]
    except (ValueError, TypeError, RecursionError) as exc:
        return [f"(resource): {type(exc).__name__}"]
    return []


def label(resource: dict) -> str:
    """``Type/id`` of a resource, for messages (the id shortened, printable)."""
    rid = resource.get("id")
    return f"{shown(resource.get('resourceType'), 40)}/{shown(rid) if isinstance(rid, str) else '(no id)'}"


@dataclass
class Entry:
    resource: dict
    full_url: str | None
    source: str


def _resources_of(document: Any, source: str) -> Iterator[Entry]:
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
        raise LoadError(f"{source}: not a FHIR resource or Bundle (no resourceType)")
    if not depth_ok(document):
        raise LoadError(f"{source}: nesting deeper than {MAX_DEPTH} levels")
    if document["resourceType"] != "Bundle":
        yield Entry(document, None, source)
        return
    entries = document.get("entry", [])
    if not isinstance(entries, list):
        raise LoadError(f"{source}: Bundle.entry is not a list")
    for number, entry in enumerate(entries):
        where = f"{source}: Bundle.entry[{number}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            raise LoadError(f"{where}: no resource")
        url = entry.get("fullUrl")
        if url is not None and not isinstance(url, str):
            raise LoadError(f"{where}.fullUrl: not a string")
        inner = entry["resource"]
        if not isinstance(inner.get("resourceType"), str):
            raise LoadError(f"{where}: resource has no resourceType")
        if inner["resourceType"] == "Bundle":
            yield from _resources_of(inner, f"{where}")
            continue
        yield Entry(inner, url, source)


def read_inputs(paths: list[Path]) -> list[Entry]:
    """Every resource in the files: a JSON Bundle or resource, or NDJSON (one resource or Bundle a line)."""
    out: list[Entry] = []
    for path in paths:
        source = str(path)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise LoadError(f"{source}: file too large ({size} bytes; limit {MAX_FILE_BYTES})")
            raw = path.read_bytes()
        except OSError as exc:
            raise LoadError(f"{source}: cannot read it: {exc.strerror or type(exc).__name__}") from None
        if b"\x00" in raw:
            raise LoadError(f"{source}: binary file, not FHIR JSON")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LoadError(f"{source}: not UTF-8 text (byte {exc.start})") from None
        if not text.strip():
            raise LoadError(f"{source}: empty file")
        if path.suffix.lower() in (".ndjson", ".jsonl"):
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    out.extend(_resources_of(_parse(line, f"{source}:{number}"), f"{source}:{number}"))
        else:
            out.extend(_resources_of(_parse(text, source), source))
        if len(out) > MAX_RESOURCES:
            raise LoadError(f"{source}: more than {MAX_RESOURCES} resources in one import")
    return out


def _parse(text: str, source: str) -> Any:
    try:
        return parse_json(text)
    except LoadError as exc:
        raise LoadError(f"{source}: {exc}") from None


@dataclass
class Index:
    """The resources of one import, by full URL and by ``Type/id``, in input order. Several files may
    hold a resource of the same URL (one Organization in each client's Bundle): a reference resolves to
    the one in its own file first."""

    entries: list[Entry]
    by_url: dict[str, list[dict]] = field(default_factory=dict)
    by_key: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    sources: dict[int, str] = field(default_factory=dict)
    touched: set[int] = field(default_factory=set)  # resources some record took something from
    _types: dict[str, list[dict]] = field(default_factory=dict)
    _pointing: dict[tuple[str, str], dict[int, list[dict]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for entry in self.entries:
            res = entry.resource
            if "id" not in res and entry.full_url:  # a transaction's new resource: named by its full URL
                tail = entry.full_url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
                if _ID.fullmatch(tail):
                    res["id"] = tail
            self.sources[id(res)] = entry.source
            rid = res.get("id")
            if entry.full_url:
                self._put(self.by_url.setdefault(entry.full_url, []), res, entry.source, "fullUrl")
            if isinstance(rid, str):
                self._put(self.by_key.setdefault((res["resourceType"], rid), []), res, entry.source, "id")

    def _put(self, held: list[dict], res: dict, source: str, what: str) -> None:
        for other in held:
            if self.sources[id(other)] == source and other is not res:
                if json.dumps(other, sort_keys=True) != json.dumps(res, sort_keys=True):
                    raise LoadError(f"{source}: {label(res)}: two different resources with this {what}")
                return
        held.append(res)

    def _pick(self, found: list[dict] | None, owner: dict) -> dict | None:
        if not found:
            return None
        source = self.sources.get(id(owner))
        return next((r for r in found if self.sources[id(r)] == source), found[0])

    def of_type(self, resource_type: str) -> list[dict]:
        """The resources of one type, in input order, each once (the index of all types built once)."""
        if not self._types:
            seen: set[int] = set()
            for entry in self.entries:
                res = entry.resource
                if id(res) not in seen:
                    seen.add(id(res))
                    self._types.setdefault(str(res.get("resourceType")), []).append(res)
        return list(self._types.get(resource_type, []))

    def pointing(self, resource_type: str, key: str, target: dict) -> list[dict]:
        """The resources of ``resource_type`` whose ``key`` (a Reference or a list of them) points at
        ``target``, in input order: a reverse index built once per (type, key), so that reading an
        agency's export is linear, not quadratic."""
        index = self._pointing.get((resource_type, key))
        if index is None:
            index = {}
            for res in self.of_type(resource_type):
                values = res.get(key)
                for n, value in enumerate(values if isinstance(values, list) else [values]):
                    if value is None:
                        continue
                    found = self.resolve(value, f"{key}[{n}]" if isinstance(values, list) else key, res, mark=False)
                    if found is not None and res not in index.setdefault(id(found), []):
                        index[id(found)].append(res)
            self._pointing[(resource_type, key)] = index
        return list(index.get(id(target), []))

    def source(self, resource: dict) -> str:
        return self.sources.get(id(resource), "(input)")

    def resolve(self, reference: Any, where: str, owner: dict, types: tuple[str, ...] = (),
                mark: bool = True) -> dict | None:
        """The resource a Reference points at; None for a Reference with a display only. A reference that
        resolves to nothing in the input, or to a resource of another type, is a LoadError."""
        if reference is None:
            return None
        if not isinstance(reference, dict):
            raise LoadError(f"{self.source(owner)}: {label(owner)}: {where}: not a Reference")
        target = reference.get("reference")
        if target is None:
            return None
        if not isinstance(target, str):
            raise LoadError(f"{self.source(owner)}: {label(owner)}: {where}: reference is not a string")
        found = self._pick(self.by_url.get(target), owner)
        if found is None:
            parts = target.rstrip("/").split("/")
            if len(parts) >= 2:
                found = self._pick(self.by_key.get((parts[-2], parts[-1])), owner)
                if found is None and len(parts) >= 4 and parts[-2] == "_history":
                    found = self._pick(self.by_key.get((parts[-4], parts[-3])), owner)
        if found is None:
            shown = target if len(target) <= 80 and target.isprintable() else target[:40].encode(
                "unicode_escape").decode("ascii") + "..."
            raise LoadError(f"{self.source(owner)}: {label(owner)}: {where}: reference to nowhere ({shown})")
        if types and found.get("resourceType") not in types:
            raise LoadError(f"{self.source(owner)}: {label(owner)}: {where}: points at a {found.get('resourceType')}, "
                            f"not a {' or '.join(types)}")
        if mark:
            self.touched.add(id(found))
        return found

    def touch(self, resource: dict) -> dict:
        self.touched.add(id(resource))
        return resource
