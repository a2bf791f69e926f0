"""Counting days the way rules count them: calendar, business or working days.

Business days leave out the public holidays of the profile's ``[calendar]`` table::

    [calendar]
    holidays = "US"                 # a country of the holidays package (default US: federal holidays)
    subdivision = "TX"              # optional: a state's holidays too
    observed = false                # optional (default true): no weekday substitute for a weekend holiday
    exclude = ["Good Friday"]       # optional: holidays of the package that are business days all the same

A day that holds several holidays stays a holiday unless every one of them is excluded.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from typing import Any

DAY_TYPES = ("calendar", "business", "working")
CALENDAR_KEYS = ("holidays", "subdivision", "observed", "exclude")
#: The years an ``exclude`` name is looked for when a profile is loaded (a typo must not pass silently).
_NAME_YEARS = range(2024, 2032)


def _calendar(country: str, subdivision: str | None, years: Any, observed: bool) -> Any:
    import holidays  # noqa: PLC0415 - only needed for business days

    return holidays.country_holidays(country, subdiv=subdivision or None, years=years, observed=observed)


@cache
def _holidays(country: str, subdivision: str | None, year: int, observed: bool = True,
              exclude: frozenset[str] = frozenset()) -> frozenset[date]:
    table = _calendar(country, subdivision, year, observed)
    return frozenset(day for day in table if not exclude or any(n not in exclude for n in table.get_list(day)))


def is_counted(day: date, day_type: str, calendar: Mapping[str, Any]) -> bool:
    if day_type == "calendar":
        return True
    if day.weekday() >= 5:
        return False
    if day_type == "working":
        return True
    country = calendar.get("holidays", "US")
    return day not in _holidays(country, calendar.get("subdivision"), day.year, bool(calendar.get("observed", True)),
                                frozenset(calendar.get("exclude", ())))


def days_between(start: date, end: date, day_type: str, calendar: Mapping[str, Any] | None = None) -> int:
    """Days of ``day_type`` after ``start`` up to and including ``end`` (0 when end <= start).

    calendar: every day; working: Monday to Friday; business: Monday to Friday that are not public
    holidays of the profile's ``[calendar]`` (default: US federal holidays)."""
    if day_type not in DAY_TYPES:
        raise ValueError(f"day_type must be one of {', '.join(DAY_TYPES)}, not '{day_type}'")
    if end <= start:
        return 0
    if day_type == "calendar":
        return (end - start).days
    calendar = calendar or {}
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_counted(day, day_type, calendar)
    return count


def calendar_problems(calendar: Mapping[str, Any], lookup: bool = True) -> list[str]:
    """What is wrong with a profile's ``[calendar]`` table (empty when nothing): unknown keys, wrong
    types and, with ``lookup`` (it loads the holidays package: ~0.1 s), a country or subdivision the
    package does not have or an ``exclude`` name that is no holiday of that calendar."""
    problems = [f"unknown key(s) {', '.join(sorted(set(calendar) - set(CALENDAR_KEYS)))} in [calendar] "
                f"(known: {', '.join(CALENDAR_KEYS)})"] if set(calendar) - set(CALENDAR_KEYS) else []
    for key in ("holidays", "subdivision"):
        if key in calendar and not isinstance(calendar[key], str):
            problems.append(f"calendar.{key} must be text")
    if "observed" in calendar and not isinstance(calendar["observed"], bool):
        problems.append("calendar.observed must be true or false")
    exclude = calendar.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(name, str) for name in exclude):
        problems.append("calendar.exclude must be a list of holiday names")
        exclude = []
    if problems or not lookup:
        return problems
    country, subdivision = calendar.get("holidays", "US"), calendar.get("subdivision")
    try:
        table = _calendar(country, subdivision, _NAME_YEARS, bool(calendar.get("observed", True)))
    except NotImplementedError:
        return [f"calendar: the holidays package has no calendar '{country}'"
                + (f" with subdivision '{subdivision}'" if subdivision else "")]
    names = {name for day in table for name in table.get_list(day)}
    where = country + (f"-{subdivision}" if subdivision else "")
    return [f"calendar.exclude: no holiday named '{name}' in the {where} calendar "
            f"({_NAME_YEARS.start}-{_NAME_YEARS.stop - 1})" for name in exclude if name not in names]
