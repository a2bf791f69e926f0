"""Numbers in what docgen writes itself (text origins, colours, sizes, table rules, backgrounds,
numbers in dictionaries), formatted as reportlab's ``fp_str`` formats them, each value once per
process: ``fp_str`` takes about a microsecond a call, and a page's coordinates, sizes and colours
recur from line to line and from document to document (column edges, the text sizes and leadings of
a handful of styles, the baselines of pages laid out alike). A pure function of the number, kept in
a bounded memo; numbers only, never text."""
from __future__ import annotations

from reportlab.lib.rl_accel import fp_str

_KNOWN: dict[float, str] = {}  # an int or float -> fp_str of it (equal values format alike: 1, 1.0)
_LIMIT = 8192


def number(value: float) -> str:
    """``fp_str(value)`` for one number."""
    if type(value) is float or type(value) is int:
        found = _KNOWN.get(value)
        if found is None:
            if len(_KNOWN) >= _LIMIT:
                _KNOWN.clear()
            found = _KNOWN[value] = fp_str(value)
        return found
    return fp_str(value)


def pair(x: float, y: float) -> str:
    """``fp_str(x, y)``: two numbers, a space between."""
    return f"{number(x)} {number(y)}"
