"""What one render of a Word template may cost: a template (an agency's file) cannot hang a run or
fill its memory. Jinja's sandbox bounds what a template can reach, not how long it runs or how much
it builds: ``range()`` is capped at 100,000 items, but two nested loops of it run 10^10 times, and
``'x' * 10**10`` or ``'x'|center(10**10)`` allocate 10 GB.

- **Repetition**: every loop iteration and every call in one render takes one step of a budget of
  :data:`MAX_STEPS` (the loops are drawn through :func:`steps`, in C: no cost per iteration worth
  measuring); a render that runs out fails. Recursive loops are refused when the template compiles
  (their iterations could not be counted).
- **Values**: an operator, filter or method that would build a string or list of more than
  :data:`MAX_VALUE` characters or items (``*``, ``**``, ``%``, ``center``, ``ljust``, ``batch``,
  ``replace``, format widths...) is refused before it builds it.
- **Output and time**: a part is rendered in slices of :data:`SLICE` pieces; between slices, its
  length so far (at most :data:`MAX_OUTPUT` characters) and its time (at most :data:`MAX_SECONDS`)
  are checked.

Each refusal is a :class:`jinja2.exceptions.SecurityError` whose message says which limit, never
what the template or the record holds; docgen reports it as an unsafe template."""
from __future__ import annotations

import contextvars
import functools
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from operator import itemgetter
from typing import Any

from jinja2.exceptions import SecurityError

#: Loop iterations and calls in one render of one part (the longest fixture plan takes 328).
MAX_STEPS = 100_000
#: Characters or items one value a template computes may have.
MAX_VALUE = 100_000  # as long as the longest text a record may hold (model.base.MAX_TEXT)
#: Characters one part (the body, a header, a footer) may render to (a long plan: under 1 MiB).
MAX_OUTPUT = 64 * 1024 * 1024
#: Seconds one part may take to render (a long plan: milliseconds).
MAX_SECONDS = 20.0
#: Pieces rendered between two checks of output and time.
SLICE = 1024

TOO_MANY_STEPS = f"the template loops or calls more than {MAX_STEPS:,} times in one render"
TOO_BIG = f"the template would build a value of more than {MAX_VALUE:,} characters or items"
TOO_LONG_OUTPUT = f"the template writes more than {MAX_OUTPUT // (1024 * 1024)} MiB"
TOO_SLOW = f"the template runs for more than {MAX_SECONDS:g} s"

_STEPS: contextvars.ContextVar[Iterator[int] | None] = contextvars.ContextVar("docgen_template_steps", default=None)
_FIRST = itemgetter(0)


def steps(items: Iterable[Any]) -> Iterable[Any]:
    """``items`` as a loop draws them, each taking a step of the render's budget. A sized collection
    (a list, a range, a string: what templates loop over) takes its steps at once and is looped over
    as it is (so Jinja's ``loop.length`` and ``loop.last`` stay cheap), or fails the render when they
    are more than are left; anything else takes a step an item and, when the budget is spent, ends
    early, and :func:`render` fails the render."""
    budget = _STEPS.get()
    if budget is None:  # a template rendered outside :func:`render` (docgen does not)
        return items
    try:
        count = len(items)  # type: ignore[arg-type]
    except TypeError:
        return map(_FIRST, zip(items, budget, strict=False))
    if count and next(islice(budget, count - 1, None), None) is None:
        raise SecurityError(TOO_MANY_STEPS)
    return items


def step() -> None:
    """One step of the budget (a call)."""
    budget = _STEPS.get()
    if budget is not None and next(budget, None) is None:
        raise SecurityError(TOO_MANY_STEPS)


def render(template: Any, context: dict[str, Any]) -> str:
    """``template.render(**context)`` within the limits of this module."""
    budget = iter(range(MAX_STEPS))
    token = _STEPS.set(budget)
    try:
        pieces = template.root_render_func(template.new_context(context))  # a generator
        out: list[str] = []
        total = 0
        deadline = time.monotonic() + MAX_SECONDS
        while pieces.gi_frame is not None:  # until it has returned
            text = "".join(islice(pieces, SLICE))
            total += len(text)
            out.append(text)
            if total > MAX_OUTPUT:
                raise SecurityError(TOO_LONG_OUTPUT)
            if time.monotonic() > deadline:
                raise SecurityError(TOO_SLOW)
        if next(budget, None) is None:  # a loop ended early: the render is not what the template says
            raise SecurityError(TOO_MANY_STEPS)
        return "".join(out)
    finally:
        _STEPS.reset(token)


# --- values --------------------------------------------------------------------------------------
def _size(value: Any) -> int | None:
    if isinstance(value, (str, bytes, list, tuple)):
        return len(value)
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_repeat(left: Any, right: Any) -> None:
    """``left * right``: a sequence repeated."""
    for seq, times in ((left, right), (right, left)):
        size = _size(seq)
        if size is not None and _is_int(times) and size * times > MAX_VALUE:
            raise SecurityError(TOO_BIG)


def check_power(left: Any, right: Any) -> None:
    """``left ** right`` on integers: its digits are the value built."""
    if _is_int(left) and _is_int(right) and abs(left) > 1 and right > 0 \
            and right * math.log10(abs(left)) > MAX_VALUE:
        raise SecurityError(TOO_BIG)


# widths and precisions in printf-style and str.format-style specifications, and dynamic ones
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_SPEC = re.compile(r"\{[^{}]*:([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}")
_NUMBER = re.compile(r"\d+|\{")


def _arguments(args: Any) -> Iterable[Any]:
    if isinstance(args, dict):
        return args.values()
    return args if isinstance(args, tuple) else (args,)


def _widths(numbers: Iterable[str], arguments: Iterable[Any]) -> None:
    dynamic = False
    for number in numbers:
        if number in ("*", "{"):
            dynamic = True
        elif number and len(number) > 6 and int(number) > MAX_VALUE:
            raise SecurityError(TOO_BIG)
    if dynamic and any(_is_int(a) and abs(a) > MAX_VALUE for a in arguments):
        raise SecurityError(TOO_BIG)


def check_printf(fmt: Any, args: Any) -> None:
    """``fmt % args``: the widths and precisions it asks for."""
    if isinstance(fmt, str):
        _widths((n for m in _PRINTF.finditer(fmt) for n in m.groups() if n), _arguments(args))


def check_format(fmt: str, args: Iterable[Any]) -> None:
    """``fmt.format(*args)``: the widths and precisions of its specifications."""
    _widths((n for spec in _FORMAT_SPEC.findall(fmt) for n in _NUMBER.findall(spec)), args)


def check_replace(text: Any, old: Any, new: Any, count: Any = -1) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        found = text.count(old) if old else len(text) + 1
        if _is_int(count) and count >= 0:
            found = min(found, count)
        if len(text) + found * (len(new) - len(old)) > MAX_VALUE:
            raise SecurityError(TOO_BIG)


def check_arguments(args: Iterable[Any], kwargs: dict[str, Any]) -> None:
    """A filter's or method's integer arguments (widths, counts, sizes) are values' sizes."""
    for value in (*args, *kwargs.values()):
        if _is_int(value) and abs(value) > MAX_VALUE:
            raise SecurityError(TOO_BIG)


#: Methods of strings whose integer arguments are the size of what they build.
GROWING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
#: Built-in filters whose integer arguments are sizes (widths, counts, slices) of what they build.
GROWING_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate", "batch", "slice", "format", "replace"})


def check_method(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """A method of a string called by a template (``'x'.ljust(n)``, ``'x'.replace(a, b)``)."""
    owner = getattr(method, "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(method, "__name__", "")
    if name in GROWING_METHODS:
        check_arguments(args, kwargs)
    elif name == "replace" and len(args) >= 2:
        check_replace(owner, *args[:3])


def bounded_filter(name: str, filter_: Callable[..., Any]) -> Callable[..., Any]:
    """A built-in filter of :data:`GROWING_FILTERS` whose integer arguments are checked, and
    ``replace``'s and ``format``'s growth. Jinja's ``pass_context``/``pass_environment`` marks are kept
    (``functools.wraps``)."""

    @functools.wraps(filter_)
    def checked(*args: Any, **kwargs: Any) -> Any:
        values = args[1:] if getattr(filter_, "jinja_pass_arg", None) is not None else args
        check_arguments(values[1:], kwargs)
        if name == "replace" and len(values) >= 3:
            check_replace(*values[:4])
        elif name == "format" and values:
            check_printf(values[0], values[1:] or kwargs)
        return filter_(*args, **kwargs)

    return checked


__all__ = ["MAX_STEPS", "MAX_VALUE", "MAX_OUTPUT", "MAX_SECONDS", "SLICE", "steps", "step", "render",
           "check_repeat", "check_power", "check_printf", "check_format", "check_replace", "check_arguments",
           "check_method", "bounded_filter", "GROWING_METHODS", "GROWING_FILTERS"]
