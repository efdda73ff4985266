"""Metrics of 2025 Q1 on the hand-built data set (conftest.py), computed as of the period's end."""

from decimal import Decimal

import pytest

from assessments.metrics import compute_period
from assessments.models import Assessment, EvidenceSet
from assessments.services import period_close
from base.models import Jurisdiction
from cases import services as case_services

from .conftest import CITY, YANGCHENG, ZEZHOU, D, at, ids

pytestmark = pytest.mark.django_db

Q1 = {"kind": "quarter", "starts_on": D(2025, 1, 1), "ends_on": D(2025, 3, 31)}


def jid(code: str) -> int:
    return Jurisdiction.objects.get(code=code).pk


def test_zezhou_numbers_match_the_hand_computed_values(scenario):
    # when
    metrics = compute_period(**Q1)[jid(ZEZHOU)]
    # then
    assert metrics.numbers == {
        "survey_trace": {"registered": 10, "voided": 1, "traced": 5, "untraced": 4},
        "remediation": {"on_time": 1, "late": 1, "overdue": 1, "not_due": 2},
        "overdue": {"none": 1, "L1": 1, "L2": 1, "L3": 3, "L4": 0, "total": 6},
        "summons": {
            "proposed": 2,
            "held": 0,
            "rectified": 0,
            "unrectified": 2,
            "rectification_recorded": True,
        },
        "patrols": {"required": 2, "credited": 1, "done": 2, "missing": 1},
        "reopened": {"reopened": 1},
    }


def test_each_number_keeps_the_cases_behind_it(scenario):
    sets = compute_period(**Q1)[jid(ZEZHOU)].sets
    assert sets["survey_trace.traced"] == ids(scenario, "ABCDI")
    assert sets["survey_trace.untraced"] == ids(scenario, "FGJM")
    assert sets["survey_trace.voided"] == ids(scenario, "H")
    assert sets["remediation.on_time"] == ids(scenario, "A")
    assert sets["remediation.late"] == ids(scenario, "B")
    assert sets["remediation.overdue"] == ids(scenario, "C")
    assert sets["remediation.not_due"] == ids(scenario, "DI")
    assert sets["overdue.none"] == ids(scenario, "M")
    assert sets["overdue.L1"] == ids(scenario, "G")
    assert sets["overdue.L2"] == ids(scenario, "D")
    assert sets["overdue.L3"] == ids(scenario, "CFJ")
    assert sets["summons.cases"] == ids(scenario, "BCFJ")
    assert len(sets["summons.proposals"]) == 2
    assert sets["reopened.reopened"] == ids(scenario, "I")
    counted = [p.pk for p in scenario.patrols[1:3]]
    assert sets["patrols.patrols"] == counted


def test_the_city_sums_its_counties_and_other_counties_are_separate(scenario):
    metrics = compute_period(**Q1)
    city, yangcheng = metrics[jid(CITY)], metrics[jid(YANGCHENG)]
    assert yangcheng.numbers["survey_trace"] == {
        "registered": 1,
        "voided": 0,
        "traced": 1,
        "untraced": 0,
    }
    assert yangcheng.numbers["patrols"]["required"] == 0
    assert city.numbers["survey_trace"] == {
        "registered": 11,
        "voided": 1,
        "traced": 6,
        "untraced": 4,
    }
    assert city.numbers["overdue"]["total"] == 6
    assert city.numbers["patrols"] == {"required": 2, "credited": 1, "done": 2, "missing": 1}
    assert city.sets["survey_trace.traced"] == ids(scenario, "ABCDIK")


def test_scores_match_the_hand_computed_values(scenario):
    # when
    period = period_close(actor=None, kind="quarter", year=2025, quarter=1, now=at(D(2025, 4, 3)))
    # then: 20×5/9 + 30×1/3 + (20-0.5-1-2-12) + (10-2×5) + 10×1/2 + (10-2)
    zezhou = period.assessments.get(jurisdiction__code=ZEZHOU)
    points = {c["code"]: c["points"] for c in zezhou.components}
    assert points == {
        "survey_trace": "11.11",
        "remediation_on_time": "10.00",
        "overdue": "4.50",
        "summons": "0.00",
        "patrols": "5.00",
        "reopened": "8.00",
    }
    assert zezhou.score == Decimal("38.61")
    assert (zezhou.grade, zezhou.grade_label) == ("fail", "不合格")
    assert period.assessments.get(jurisdiction__code=CITY).score == Decimal("39.50")
    assert period.assessments.get(jurisdiction__code=YANGCHENG).score == Decimal("100.00")
    assert period.assessments.count() == 8


def test_recomputing_after_later_changes_gives_the_same_metrics(scenario, walker):
    # given the period's metrics
    before = compute_period(**Q1)
    # when cases change after the period: C is finished, G traced, F voided... later
    walker.retain(scenario.cases["C"], D(2025, 5, 6))
    walker.trace(scenario.cases["G"], D(2025, 5, 7))
    # then the metrics as of the period's end do not move
    after = compute_period(**Q1)
    assert {j: m.numbers for j, m in after.items()} == {j: m.numbers for j, m in before.items()}
    assert {j: m.sets for j, m in after.items()} == {j: m.sets for j, m in before.items()}


def test_editing_a_case_after_the_period_closed_does_not_change_the_snapshot(
    scenario, walker, county_officer
):
    # given a closed period
    period = period_close(actor=None, kind="quarter", year=2025, quarter=1, now=at(D(2025, 4, 3)))
    zezhou = period.assessments.get(jurisdiction__code=ZEZHOU)
    frozen = (zezhou.metrics, zezhou.components, zezhou.score)
    frozen_sets = dict(EvidenceSet.objects.filter(assessment=zezhou).values_list("key", "ids"))
    # when cases are edited and moved on afterwards
    case_services.outfall_update(
        actor=county_officer,
        outfall=scenario.cases["F"],
        data={"name": "改名后的排污口", "landmark": "新地标"},
        now=at(D(2025, 4, 10)),
    )
    walker.trace(scenario.cases["F"], D(2025, 4, 11))
    walker.retain(scenario.cases["C"], D(2025, 4, 12))
    # then the frozen snapshot is exactly as it was
    zezhou = Assessment.objects.get(pk=zezhou.pk)
    assert (zezhou.metrics, zezhou.components, zezhou.score) == frozen
    assert (
        dict(EvidenceSet.objects.filter(assessment=zezhou).values_list("key", "ids")) == frozen_sets
    )


def test_a_period_is_closed_only_after_it_ended(db):
    from django.core.exceptions import ValidationError

    from assessments.models import AssessmentPeriod

    with pytest.raises(ValidationError, match="2025-03-31"):
        period_close(actor=None, kind="quarter", year=2025, quarter=1, now=at(D(2025, 3, 31), 23))
    assert not AssessmentPeriod.objects.exists()


def test_a_period_is_closed_once(db):
    from django.core.exceptions import ValidationError

    period_close(actor=None, kind="year", year=2024, now=at(D(2025, 1, 2)))
    with pytest.raises(ValidationError, match="already closed"):
        period_close(actor=None, kind="year", year=2024, now=at(D(2025, 1, 3)))
    assert Assessment.objects.count() == 8


def test_a_yearly_period_requires_four_quarterly_patrols_of_a_county_chief(scenario):
    metrics = compute_period(kind="year", starts_on=D(2025, 1, 1), ends_on=D(2025, 12, 31))
    # the 31 Mar patrol, recorded on 20 Apr, is in time for the year
    assert metrics[jid(ZEZHOU)].numbers["patrols"] == {
        "required": 8,
        "credited": 3,
        "done": 3,
        "missing": 5,
    }
