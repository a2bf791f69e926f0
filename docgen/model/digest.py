"""The content hash of a validated record: what a document is made from, and what a lock holds."""
from __future__ import annotations

import hashlib
from typing import Any


def content_hash(record: Any) -> str:
    """sha256 of the validated record's canonical JSON. Fields at their default are left out, so a later
    docgen that adds an optional field does not change the hash of a record that does not use it (the
    lock of a finalized record holds this hash)."""
    return hashlib.sha256(record.model_dump_json(exclude_defaults=True).encode("utf-8")).hexdigest()
