"""ICD-10-CM code status from the ``simple-icd-10-cm`` package, cached as a small table.

Loading the package parses the whole classification (about 1.6 s and 180 MB per process). The rules
only need to know whether a code exists and whether it is billable (a leaf), so the first process
that needs it writes that table (~98,000 codes, ~75,000 of them billable) to a cache file keyed by the package
version; every later process reads the table in milliseconds. Set ``DOCGEN_CACHE`` to choose the
folder (default: ``~/.cache/docgen``); if the cache cannot be written the package is used directly.
"""
from __future__ import annotations

import importlib.metadata
import marshal
import sys
from functools import cache
from pathlib import Path

from ..settings import cache_folder

PACKAGE = "simple-icd-10-cm"


def _cache_file() -> Path:
    folder = cache_folder()
    python = f"py{sys.version_info.major}{sys.version_info.minor}"  # marshal's format follows Python
    return folder / f"icd10cm-{importlib.metadata.version(PACKAGE)}-{python}.marshal"


def _from_package() -> dict[str, bool]:
    import simple_icd_10_cm as cm  # noqa: PLC0415 - heavy: only when the cache is missing

    return {code: cm.is_leaf(code) for code in cm.get_all_codes(True)
            if not cm.is_chapter_or_block(code)}


@cache
def codes() -> dict[str, bool]:
    """Every ICD-10-CM category and code (dotted), mapped to whether it is billable."""
    path = _cache_file()
    try:
        table = marshal.loads(path.read_bytes())  # noqa: S302 - docgen's own cache; builds values, runs no code
        if isinstance(table, dict) and table:
            return table
    except (OSError, ValueError, EOFError, TypeError):
        pass  # missing or unreadable: rebuild it
    table = _from_package()
    try:
        from ..write import write_atomic  # noqa: PLC0415

        write_atomic(path, marshal.dumps(dict(sorted(table.items()))))
    except OSError:
        pass  # a read-only home: keep working from the package
    return table


def status(code: str) -> str:
    """'billable', 'header' (a category with subcodes: valid, not billable) or 'invalid'."""
    from ..model.clinical import icd10_code  # noqa: PLC0415

    try:
        found = codes().get(icd10_code(code))
    except ValueError:  # an empty code
        return "invalid"
    if found is None:
        return "invalid"
    return "billable" if found else "header"
