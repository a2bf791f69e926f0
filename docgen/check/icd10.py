"""ICD-10-CM code status from the ``simple-icd-10-cm`` package, cached as a small table.

Loading the package parses the whole classification (about 1.6 s and 180 MB per process). The rules
only need to know whether a code exists and whether it is billable (a leaf), so the first process
that needs it writes that table (~98,000 codes, ~75,000 of them billable) to a cache file keyed by the package
version; every later process reads the table in milliseconds. Set ``DOCGEN_CACHE`` to choose the
folder (default: ``~/.cache/docgen``); if the cache cannot be used the package is read directly. The
table decides verdicts, so an entry is used only when its HMAC checks out and it has the table's shape
(:mod:`docgen.cache`); an altered or damaged one is rebuilt from the package.
"""
from __future__ import annotations

import importlib.metadata
import marshal
import sys
from functools import cache

from .. import cache as entries

PACKAGE = "simple-icd-10-cm"


def _entry_name() -> str:
    python = f"py{sys.version_info.major}{sys.version_info.minor}"  # marshal's format follows Python
    return f"icd10cm-{importlib.metadata.version(PACKAGE)}-{python}.cache"


def _from_package() -> dict[str, bool]:
    import simple_icd_10_cm as cm  # noqa: PLC0415 - heavy: only when the cache is missing

    return {code: cm.is_leaf(code) for code in cm.get_all_codes(True)
            if not cm.is_chapter_or_block(code)}


def _checked(table: object) -> dict[str, bool]:
    """A cached table when it is one (codes to billable flags, and not empty); raises ValueError
    otherwise (the table is then read from the package again)."""
    if not (type(table) is dict and table and set(map(type, table)) == {str}
            and set(map(type, table.values())) <= {bool}):
        raise ValueError("not an ICD-10-CM table")
    return table


@cache
def codes() -> dict[str, bool]:
    """Every ICD-10-CM category and code (dotted), mapped to whether it is billable."""
    return entries.cached(_entry_name(), _from_package, lambda table: marshal.dumps(dict(sorted(table.items()))),
                          lambda payload: _checked(marshal.loads(payload)))  # noqa: S302 - HMAC-checked first


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
