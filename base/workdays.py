"""Working-day calendar (DOMAIN.md §8).

Official holidays and make-up workdays (调休) come from, in order:
1. the admin-edited `CalendarDay` table (overrides everything; a year with any entry counts
   as "schedule entered", its other days follow Monday-Friday);
2. the chinese-calendar package, for the years it covers;
3. otherwise Monday-Friday, and the year is reported by `years_without_schedule` so the UI
   can warn officials that the schedule is missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import chinese_calendar

from .models import CalendarDay

_PACKAGE_YEARS = range(
    min(d.year for d in chinese_calendar.holidays),
    max(d.year for d in chinese_calendar.holidays) + 1,
)


@dataclass
class WorkCalendar:
    """A snapshot of the override table for a date range; cheap to query many times."""

    overrides: dict[dt.date, bool] = field(default_factory=dict)
    entered_years: frozenset[int] = frozenset()

    @classmethod
    def load(cls, start: dt.date, end: dt.date) -> WorkCalendar:
        lo, hi = min(start, end), max(start, end)
        rows = CalendarDay.objects.filter(date__year__gte=lo.year, date__year__lte=hi.year)
        overrides = dict(rows.values_list("date", "is_workday"))
        return cls(overrides=overrides, entered_years=frozenset(d.year for d in overrides))

    def has_schedule(self, year: int) -> bool:
        return year in self.entered_years or year in _PACKAGE_YEARS

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year not in self.entered_years and day.year in _PACKAGE_YEARS:
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5


def _span_end(start: dt.date, n: int) -> dt.date:
    # Generous bound for loading overrides: n working days never span more than 3n+30 days.
    return start + dt.timedelta(days=3 * abs(n) + 30) * (1 if n >= 0 else -1)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The date `n` working days after `start` (before, for negative n); `start` excluded."""
    calendar = WorkCalendar.load(start, _span_end(start, n))
    step = dt.timedelta(days=1 if n >= 0 else -1)
    day, remaining = start, abs(n)
    while remaining:
        day += step
        if calendar.is_workday(day):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]; negative when end is before start."""
    if end < start:
        return -working_days_between(end, start)
    calendar = WorkCalendar.load(start, end)
    return sum(
        calendar.is_workday(start + dt.timedelta(days=i)) for i in range(1, (end - start).days + 1)
    )


def is_workday(day: dt.date) -> bool:
    return WorkCalendar.load(day, day).is_workday(day)


def years_without_schedule(start: dt.date, end: dt.date) -> list[int]:
    """Years in [start, end] counted Monday-Friday because no official schedule is known."""
    calendar = WorkCalendar.load(start, end)
    return [y for y in range(start.year, end.year + 1) if not calendar.has_schedule(y)]
