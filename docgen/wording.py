"""Counts in words: ``counted(1, "record")`` is "1 record", ``counted(3, "record")`` "3 records" (a
summary a person reads says what it counts, not "record(s)")."""
from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, the noun in the plural unless ``n`` is 1 (``plural`` when the noun's plural
    is not ``noun + "s"``)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
