"""Who sees which assessment: river chiefs only where they are appointed (404 elsewhere)."""

import pytest
from django.http import Http404
from django.urls import reverse

from assessments import selectors, services
from base.factories import river_chief
from base.models import RiverChiefAppointment

from .conftest import CITY, YANGCHENG, ZEZHOU, D, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(scenario):
    return services.period_close(
        actor=None, kind="quarter", year=2025, quarter=1, now=at(D(2025, 4, 3))
    )


def visible(user, period) -> set[str]:
    return {a.jurisdiction.code for a in selectors.period_assessments(user=user, period=period)}


def test_a_county_chief_sees_only_the_county_of_the_segment(period, scenario):
    chief = scenario.chiefs["qinhe"]
    assert visible(chief, period) == {ZEZHOU}
    yangcheng = period.assessments.get(jurisdiction__code=YANGCHENG)
    with pytest.raises(Http404):
        selectors.assessment_get(user=chief, pk=yangcheng.pk)
    with pytest.raises(Http404):
        selectors.assessment_get(user=chief, pk=period.assessments.get(jurisdiction__code=CITY).pk)


def test_a_city_level_chief_sees_the_city_and_the_county_of_the_segment(period):
    city_chief = river_chief(
        "danhe-140581", level=RiverChiefAppointment.Level.CITY, username="city_chief"
    )
    assert visible(city_chief, period) == {CITY, "140581"}


def test_a_chief_appointed_after_the_period_does_not_see_it(period):
    later = river_chief("qinhe-140522", username="later_chief")
    RiverChiefAppointment.objects.filter(person=later).update(valid_from=D(2025, 4, 1))
    assert visible(later, period) == set()


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("county_officer", {ZEZHOU}),
        ("other_county_officer", {YANGCHENG}),
        (
            "city_officer",
            {CITY, "140502", "140521", YANGCHENG, "140524", ZEZHOU, "140581", "140571"},
        ),
        ("department_officer", set()),
    ],
)
def test_officials_see_their_jurisdictions(period, request, who, expected):
    assert visible(request.getfixturevalue(who), period) == expected


def test_the_pages_of_another_county_answer_404_to_a_chief(client, period, scenario):
    client.force_login(scenario.chiefs["qinhe"])
    zezhou = period.assessments.get(jurisdiction__code=ZEZHOU)
    yangcheng = period.assessments.get(jurisdiction__code=YANGCHENG)
    assert (
        client.get(reverse("assessments:assessments:detail", args=[zezhou.pk])).status_code == 200
    )
    for name, args in [
        ("detail", [yangcheng.pk]),
        ("evidence", [yangcheng.pk, "survey_trace.traced"]),
        ("review", [yangcheng.pk]),
    ]:
        response = client.get(reverse(f"assessments:assessments:{name}", args=args))
        assert response.status_code == 404, name
    period_page = client.get(reverse("assessments:periods:detail", args=[period.pk]))
    assert period_page.status_code == 200
    assert "阳城县" not in period_page.content.decode()


def test_evidence_lists_only_the_cases_the_user_may_open(period, scenario):
    zezhou = period.assessments.get(jurisdiction__code=ZEZHOU)
    # the 沁河 chief sees the untraced cases (all on the 沁河 segment)
    found = selectors.evidence(
        user=scenario.chiefs["qinhe"], assessment=zezhou, key="survey_trace.untraced"
    )
    assert (found.total, len(found.rows), found.hidden) == (4, 4, 0)
    # the 丹河 chief sees the same number, but none of those cases
    found = selectors.evidence(
        user=scenario.chiefs["danhe"], assessment=zezhou, key="survey_trace.untraced"
    )
    assert (found.total, len(found.rows), found.hidden) == (4, 0, 4)


def test_a_composite_number_is_the_union_of_its_sets(period, scenario, city_officer):
    zezhou = period.assessments.get(jurisdiction__code=ZEZHOU)
    registered = selectors.evidence(
        user=city_officer, assessment=zezhou, key="survey_trace.registered"
    )
    overdue = selectors.evidence(user=city_officer, assessment=zezhou, key="overdue.total")
    assert registered.total == 10
    assert {o.pk for o in overdue.rows} == {scenario.cases[n].pk for n in "CDFGJM"}
