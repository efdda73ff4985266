"""The scoring formula as versioned data."""

import copy
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from assessments import formula, services
from assessments.data import COMPONENTS_V1, FORMULA_CODE, GRADES_V1
from assessments.metrics import BASE_NUMBERS
from assessments.models import Assessment, FormulaVersion

from .conftest import ZEZHOU, D, at

METRICS = {
    "survey_trace": {"traced": 45, "untraced": 5},
    "remediation": {"on_time": 0, "late": 0, "overdue": 0},
    "overdue": {"L1": 3, "L3": 1},
    "summons": {"unrectified": 0},
    "patrols": {"required": 4, "credited": 3},
    "reopened": {"reopened": 0},
}
NUMBERS = {**BASE_NUMBERS, "overdue": (*BASE_NUMBERS["overdue"], "L1", "L2", "L3", "L4")}


def revised(**changes):
    components = copy.deepcopy(COMPONENTS_V1)
    for component in components:
        component.update(changes.get(component["code"], {}))
    return components


# --- pure scoring ----------------------------------------------------------------------


def test_each_component_shows_how_it_was_computed():
    result = formula.evaluate(COMPONENTS_V1, GRADES_V1, METRICS)
    rows = {r["code"]: r for r in result.components}
    assert (rows["survey_trace"]["numerator"], rows["survey_trace"]["denominator"]) == (45, 50)
    assert (rows["survey_trace"]["rate"], rows["survey_trace"]["points"]) == ("90.00", "18.00")
    # no remediation task was due: full marks
    assert rows["remediation_on_time"]["empty"] is True
    assert rows["remediation_on_time"]["points"] == "30.00"
    # 3 at L1 (1 each) and 1 at L3 (4 each)
    assert (rows["overdue"]["deduction"], rows["overdue"]["points"]) == ("7.00", "13.00")
    assert rows["patrols"]["points"] == "7.50"
    assert result.score == Decimal("88.50")
    assert (result.grade.code, result.grade.label) == ("good", "良好")


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("100", "优秀"),
        ("90", "优秀"),
        ("89.99", "良好"),
        ("80", "良好"),
        ("70", "合格"),
        ("69.99", "不合格"),
        ("0", "不合格"),
    ],
)
def test_grades_follow_their_minimums(score, grade):
    assert formula.grade_for(Decimal(score), GRADES_V1).label == grade


def test_thresholds_give_full_marks_from_full_at_and_none_below_zero_at():
    components = revised(survey_trace={"full_at": "0.95", "zero_at": "0.5"})
    rows = {r["code"]: r for r in formula.evaluate(components, GRADES_V1, METRICS).components}
    # 90 %: (0.9 - 0.5) / (0.95 - 0.5) × 20 = 17.777…
    assert rows["survey_trace"]["points"] == "17.78"
    low = {**METRICS, "survey_trace": {"traced": 1, "untraced": 9}}
    rows = {r["code"]: r for r in formula.evaluate(components, GRADES_V1, low).components}
    assert rows["survey_trace"]["points"] == "0.00"


def test_a_deduction_never_goes_below_zero():
    many = {**METRICS, "overdue": {"L3": 50}}
    rows = {r["code"]: r for r in formula.evaluate(COMPONENTS_V1, GRADES_V1, many).components}
    assert rows["overdue"]["points"] == "0.00"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"survey_trace": {"weight": "25"}}, "add up to 105"),
        ({"survey_trace": {"metric": "nothing"}}, "unknown metric"),
        ({"survey_trace": {"numerator": ["made_up"]}}, "numerator"),
        ({"overdue": {"per": {"L9": "1"}}}, "per must map"),
        ({"patrols": {"full_at": "0.5", "zero_at": "0.6"}}, "thresholds"),
        ({"reopened": {"method": "bonus"}}, "method"),
    ],
)
def test_an_unusable_formula_is_refused(change, message):
    with pytest.raises(formula.FormulaError, match=message):
        formula.validate(revised(**change), GRADES_V1, NUMBERS)


# --- versions ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_first_version_is_seeded():
    v1 = FormulaVersion.objects.get(code=FORMULA_CODE, version=1)
    assert [c["code"] for c in v1.components] == [
        "survey_trace",
        "remediation_on_time",
        "overdue",
        "summons",
        "patrols",
        "reopened",
    ]


@pytest.mark.django_db
def test_a_formula_change_creates_a_new_version_and_leaves_the_old_one(system_admin):
    v1 = FormulaVersion.objects.get(code=FORMULA_CODE, version=1)
    components = revised(
        survey_trace={"weight": "15"}, patrols={"weight": "15"}, overdue={"per": {"L3": "5"}}
    )
    v2 = services.formula_revise(
        actor=system_admin, components=components, grades=GRADES_V1, note="加大巡河权重"
    )
    assert (v2.version, v2.created_by) == (2, system_admin)
    assert FormulaVersion.objects.get(pk=v1.pk).components == COMPONENTS_V1
    assert services.current_formula() == v2


@pytest.mark.django_db
def test_a_version_is_never_edited_or_deleted():
    v1 = FormulaVersion.objects.get(code=FORMULA_CODE, version=1)
    v1.grades = []
    with pytest.raises(PermissionError):
        v1.save()
    with pytest.raises(PermissionError):
        FormulaVersion.objects.filter(pk=v1.pk).update(note="x")
    with pytest.raises(PermissionError):
        v1.delete()
    assert FormulaVersion.objects.get(pk=v1.pk).grades == GRADES_V1


@pytest.mark.django_db
def test_an_unchanged_or_invalid_formula_makes_no_version(system_admin):
    with pytest.raises(ValidationError):
        services.formula_revise(
            actor=system_admin, components=COMPONENTS_V1, grades=GRADES_V1, note="无变化"
        )
    with pytest.raises(ValidationError):
        services.formula_revise(
            actor=system_admin,
            components=revised(survey_trace={"weight": "30"}),
            grades=GRADES_V1,
            note="权重错误",
        )
    assert FormulaVersion.objects.filter(code=FORMULA_CODE).count() == 1


@pytest.mark.django_db
def test_a_city_officer_may_not_change_the_formula(city_officer):
    with pytest.raises(PermissionDenied):
        services.formula_revise(
            actor=city_officer,
            components=revised(survey_trace={"weight": "15"}, patrols={"weight": "15"}),
            grades=GRADES_V1,
            note="x",
        )
    assert FormulaVersion.objects.filter(code=FORMULA_CODE).count() == 1


@pytest.mark.django_db
def test_frozen_assessments_keep_their_version_and_recompute_to_their_score(scenario, system_admin):
    # given 2025 Q1 closed under version 1
    q1 = services.period_close(
        actor=None, kind="quarter", year=2025, quarter=1, now=at(D(2025, 4, 3))
    )
    before = {a.pk: (a.formula_id, a.score) for a in q1.assessments.all()}
    # when the formula changes
    v2 = services.formula_revise(
        actor=system_admin,
        components=revised(survey_trace={"weight": "10"}, remediation_on_time={"weight": "40"}),
        grades=GRADES_V1,
        note="提高整治按期完成率权重",
    )
    # then Q1's assessments still show version 1 and recompute to the same scores
    for a in Assessment.objects.filter(period=q1):
        assert (a.formula_id, a.score) == before[a.pk]
        assert services.recompute(a).score == a.score
        assert a.formula.version == 1
    # and the next period is scored with version 2 (泽州县: 10×5/9 + 40×1/3 + … differs)
    year = services.period_close(actor=None, kind="year", year=2024, now=at(D(2025, 4, 3)))
    zezhou = year.assessments.get(jurisdiction__code=ZEZHOU)
    assert zezhou.formula == v2
    assert services.recompute(zezhou).score == zezhou.score
