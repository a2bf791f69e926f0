"""Stable FHIR ids and references: the same record gives the same ids in every run (no random UUIDs)."""
from __future__ import annotations

import hashlib
import re
import uuid

_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_UNSAFE = re.compile(r"[^A-Za-z0-9\-.]+")
#: Namespace of the urn:uuid full URLs (uuid5 of "Type/id"): fixed, so full URLs are stable too.
NAMESPACE = uuid.UUID("6f1c2a8e-4b0d-5e5a-9a37-d0c6e1f2a3b4")


def fhir_id(*parts: str) -> str:
    """A FHIR id from docgen ids: readable when the parts are plain (``TP-1001-G1``), else a readable
    prefix and a hash, so that two different inputs never share an id."""
    joined = "-".join(parts)
    if _FHIR_ID.fullmatch(joined):
        return joined
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    prefix = _UNSAFE.sub("-", joined).strip("-.")[:40]
    return f"{prefix}-{digest}" if prefix else digest


def full_url(resource_type: str, rid: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{resource_type}/{rid}')}"


def ref(resource_type: str, rid: str, display: str | None = None) -> dict:
    out = {"reference": full_url(resource_type, rid)}
    if display:
        out["display"] = display
    return out
