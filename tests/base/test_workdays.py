import datetime as dt

import pytest

from base.models import CalendarDay
from base.workdays import (
    add_working_days,
    is_workday,
    working_days_between,
    years_without_schedule,
)

D = dt.date


@pytest.mark.parametrize("day", [D(2024, 2, 4), D(2024, 2, 18)])
def test_2024_spring_festival_make_up_sundays_are_workdays(db, day):
    assert day.weekday() == 6
    assert is_workday(day)


@pytest.mark.parametrize("offset", range(8))
def test_2024_spring_festival_holidays_are_not_workdays(db, offset):
    day = D(2024, 2, 10) + dt.timedelta(days=offset)
    assert not is_workday(day)


def test_add_working_days_jumps_the_spring_festival(db):
    # 2024-02-09 (Fri) + 1 working day: the next is the make-up Sunday 02-18
    assert add_working_days(D(2024, 2, 9), 1) == D(2024, 2, 18)
    assert add_working_days(D(2024, 2, 9), 2) == D(2024, 2, 19)


def test_add_working_days_backwards(db):
    assert add_working_days(D(2024, 2, 18), -1) == D(2024, 2, 9)


def test_working_days_between_counts_make_up_days(db):
    # (02-03, 02-19]: 02-04 (make-up), 05-09, 18 (make-up), 19
    assert working_days_between(D(2024, 2, 3), D(2024, 2, 19)) == 8
    assert working_days_between(D(2024, 2, 19), D(2024, 2, 3)) == -8


def test_2027_counts_monday_to_friday_with_a_warning(db):
    # given no 2027 schedule (the package stops at 2026)
    assert years_without_schedule(D(2026, 12, 1), D(2027, 2, 1)) == [2027]
    # then 2027-01-01 (Fri) + 1 working day is Monday 01-04
    assert add_working_days(D(2027, 1, 1), 1) == D(2027, 1, 4)
    assert is_workday(D(2027, 1, 1))


def test_2027_follows_the_entered_schedule(db):
    # given an administrator enters the 2027 New Year holiday and a make-up Saturday
    CalendarDay.objects.create(date=D(2027, 1, 1), is_workday=False, name="元旦")
    CalendarDay.objects.create(date=D(2027, 1, 4), is_workday=False, name="元旦")
    CalendarDay.objects.create(date=D(2027, 1, 9), is_workday=True, name="元旦调休")
    # then the warning is gone and counting follows the table
    assert years_without_schedule(D(2026, 12, 1), D(2027, 2, 1)) == []
    assert not is_workday(D(2027, 1, 1))
    assert add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 5)
    assert is_workday(D(2027, 1, 9))
    assert working_days_between(D(2027, 1, 3), D(2027, 1, 10)) == 5


def test_entered_day_overrides_the_package(db):
    # given a local override of a package year (e.g. a one-off regional holiday)
    CalendarDay.objects.create(date=D(2024, 3, 5), is_workday=False, name="本地调整")
    assert not is_workday(D(2024, 3, 5))
    # other days of that year still follow Monday-Friday plus entered rows
    assert is_workday(D(2024, 3, 6))
