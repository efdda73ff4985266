"""Assessment metrics read what became of a summons by the period's end (issue 7 × 6)."""

import datetime as dt

from assessments.metrics import compute_period
from base.models import Jurisdiction
from workflows import summons as services

from .conftest import at
from .summons_helpers import to_report_due, upload

D = dt.date


def _summons_numbers(ends_on):
    zezhou = Jurisdiction.objects.get(code="140525").pk
    metrics = compute_period(kind="quarter", starts_on=D(2026, 1, 1), ends_on=ends_on)
    return metrics[zezhou].numbers["summons"]


def test_summons_held_and_rectified_as_of_the_period_end(county_officer, city_officer, city_leader):
    # given a summons proposed in January 2026, held on 01-12, verified rectified on 02-05
    summons = to_report_due(county_officer, city_officer, city_leader)
    services.summons_verify(
        actor=city_officer,
        summons=summons,
        rectified=True,
        note="已按期完成整改",
        report=upload("report.pdf"),
        now=at(D(2026, 2, 5)),
    )
    # then a period ending in January sees it held but not yet rectified
    assert _summons_numbers(D(2026, 1, 31)) == {
        "proposed": 1,
        "held": 1,
        "rectified": 0,
        "unrectified": 1,
        "rectification_recorded": True,
    }
    # and the quarter sees it rectified
    assert _summons_numbers(D(2026, 3, 31)) == {
        "proposed": 1,
        "held": 1,
        "rectified": 1,
        "unrectified": 0,
        "rectification_recorded": True,
    }
