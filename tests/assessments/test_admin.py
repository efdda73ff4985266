"""The formula is changed in the admin by adding a version; old versions are read-only."""

import copy
import json

import pytest
from django.urls import reverse

from assessments.data import COMPONENTS_V1, FORMULA_CODE, GRADES_V1
from assessments.models import FormulaVersion

pytestmark = pytest.mark.django_db


def test_an_administrator_adds_a_formula_version_prefilled_with_the_current_one(
    client, system_admin
):
    client.force_login(system_admin)
    add = reverse("admin:assessments_formulaversion_add")
    page = client.get(add)
    assert page.status_code == 200
    assert "survey_trace" in page.content.decode()
    components = copy.deepcopy(COMPONENTS_V1)
    components[0]["weight"], components[4]["weight"] = "15", "15"
    response = client.post(
        add,
        {
            "name": "评分办法",
            "components": json.dumps(components, ensure_ascii=False),
            "grades": json.dumps(GRADES_V1, ensure_ascii=False),
            "note": "提高巡河权重",
        },
    )
    assert response.status_code == 302
    latest = FormulaVersion.objects.filter(code=FORMULA_CODE).order_by("-version").first()
    assert (latest.version, latest.created_by, latest.components[4]["weight"]) == (
        2,
        system_admin,
        "15",
    )


def test_a_bad_formula_is_refused_in_the_admin(client, system_admin):
    client.force_login(system_admin)
    components = copy.deepcopy(COMPONENTS_V1)
    components[0]["weight"] = "50"
    response = client.post(
        reverse("admin:assessments_formulaversion_add"),
        {
            "name": "评分办法",
            "components": json.dumps(components),
            "grades": json.dumps(GRADES_V1),
            "note": "错误",
        },
    )
    assert response.status_code == 200
    assert "130" in response.content.decode()
    assert FormulaVersion.objects.filter(code=FORMULA_CODE).count() == 1


def test_a_version_has_no_change_form(client, system_admin):
    client.force_login(system_admin)
    v1 = FormulaVersion.objects.get(code=FORMULA_CODE, version=1)
    page = client.get(reverse("admin:assessments_formulaversion_change", args=[v1.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
