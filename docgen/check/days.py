"""Counting days the way rules count them: calendar, business or working days."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from typing import Any

DAY_TYPES = ("calendar", "business", "working")


@cache
def _holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    import holidays  # noqa: PLC0415 - only needed for business days

    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year))


def is_counted(day: date, day_type: str, calendar: Mapping[str, Any]) -> bool:
    if day_type == "calendar":
        return True
    if day.weekday() >= 5:
        return False
    if day_type == "working":
        return True
    country = calendar.get("holidays", "US")
    return day not in _holidays(country, calendar.get("subdivision"), day.year)


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
