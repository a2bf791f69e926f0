"""ICD-10-CM code status from the ``simple-icd-10-cm`` package, cached as a small table.

Loading the package parses the whole classification (about 1.6 s and 180 MB per process). The rules
only need to know whether a code exists and whether it is billable (a leaf), so the first process
that needs it writes that table (~98,000 codes, ~75,000 of them billable) to a cache file keyed by the package
version; every later process reads the table in milliseconds. Set ``DOCGEN_CACHE`` to choose the
folder (default: ``~/.cache/docgen``); if the cache cannot be used the package is read directly. The
table decides verdicts, so an entry is used only when its HMAC checks out and it has the table's shape
(:mod:`docgen.cache`); an altered or damaged one is rebuilt from the package.

The table is two sorted runs of fixed-width records (billable codes, then categories with subcodes),
searched by bisection: reading it makes three objects, not 98,000 strings and a dict (which took
18-24 ms of a one-record run, as long as the record's whole check).
"""
from __future__ import annotations

import importlib.metadata
import marshal
import sys
from dataclasses import dataclass, field
from functools import cache

from .. import cache as entries

PACKAGE = "simple-icd-10-cm"


def _entry_name() -> str:
    python = f"py{sys.version_info.major}{sys.version_info.minor}"  # marshal's format follows Python
    return f"icd10cm-{importlib.metadata.version(PACKAGE)}-{python}-table2.cache"


def _from_package() -> dict[str, bool]:
    import simple_icd_10_cm as cm  # noqa: PLC0415 - heavy: only when the cache is missing

    return {code: cm.is_leaf(code) for code in cm.get_all_codes(True)
            if not cm.is_chapter_or_block(code)}


#: How many answers a table remembers at most.
_REMEMBERED = 50_000


def _in(run: bytes, key: bytes, width: int) -> bool:
    """Whether the sorted run of ``width``-byte records holds ``key`` (a padded record)."""
    low, high = 0, len(run) // width
    while low < high:
        middle = (low + high) // 2
        if run[middle * width:(middle + 1) * width] < key:
            low = middle + 1
        else:
            high = middle
    return run[low * width:(low + 1) * width] == key


@dataclass(frozen=True)
class Table:
    """Every ICD-10-CM category and code (dotted, ASCII), padded with spaces to ``width`` bytes and
    sorted: the billable ones in ``billable``, the others (categories with subcodes) in ``header``.
    Answers are remembered (a bisection is about 5 microseconds; a batch asks for the same few codes
    again and again)."""

    width: int
    billable: bytes
    header: bytes
    _answers: dict[str, bool | None] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, codes: dict[str, bool]) -> Table:
        width = max(map(len, codes))

        def run(billable: bool) -> bytes:
            return b"".join(sorted(c.encode("ascii").ljust(width) for c, leaf in codes.items() if leaf is billable))

        return cls(width, run(True), run(False))

    def get(self, code: str) -> bool | None:
        """True for a billable code, False for a category with subcodes, None for no code."""
        try:
            return self._answers[code]
        except KeyError:
            pass
        found = None
        if code.isascii() and " " not in code and 0 < len(code) <= self.width:
            key = code.encode("ascii").ljust(self.width)
            if _in(self.billable, key, self.width):
                found = True
            elif _in(self.header, key, self.width):
                found = False
        if len(self._answers) >= _REMEMBERED:
            self._answers.clear()  # the codes of hostile or garbled input: bounded
        self._answers[code] = found
        return found

    def __len__(self) -> int:
        return (len(self.billable) + len(self.header)) // self.width

    def count_billable(self) -> int:
        return len(self.billable) // self.width


def _dump(table: Table) -> bytes:
    return marshal.dumps((table.width, table.billable, table.header))


def _read(payload: bytes) -> Table:
    """A cached table when it is one (a width, and two runs of whole records, not both empty); raises
    ValueError otherwise (the table is then read from the package again)."""
    value = marshal.loads(payload)  # noqa: S302 - HMAC-checked first; bytes and an int only
    if not (type(value) is tuple and len(value) == 3 and type(value[0]) is int and value[0] > 0
            and type(value[1]) is bytes and type(value[2]) is bytes and value[1]
            and not len(value[1]) % value[0] and not len(value[2]) % value[0]):
        raise ValueError("not an ICD-10-CM table")
    return Table(*value)


@cache
def codes() -> Table:
    """Every ICD-10-CM category and code (dotted), with whether it is billable."""
    return entries.cached(_entry_name(), lambda: Table.of(_from_package()), _dump, _read)


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
