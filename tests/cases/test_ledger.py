"""Ledger (台账) export: scoped like the list, filtered like the list, flat query count."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from base.models import Department, WaterBody
from cases import services
from cases.importing import survey_import
from cases.models import Outfall

from .survey_sheets import survey_row, xlsx

EXPORT_URL = "/cases/ledger/ledger.xlsx"


def export(client, user, **params) -> list[dict]:
    client.force_login(user)
    response = client.get(EXPORT_URL, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def import_rows(officer, n: int, start: int = 0, **overrides) -> list[int]:
    rows = [
        survey_row(i, entity_name=f"晋城测试企业{i}", **overrides) for i in range(start, start + n)
    ]
    return survey_import(actor=officer, file=xlsx(rows)).outfall_ids


def test_a_county_officer_exports_only_own_county(
    client, county_officer, zezhou_outfall, yangcheng_outfall
):
    # when
    rows = export(client, county_officer)

    # then
    assert [r["名称"] for r in rows] == [zezhou_outfall.name]
    assert {r["县（市、区）"] for r in rows} == {"泽州县"}


def test_a_city_officer_exports_every_county(
    client, city_officer, zezhou_outfall, yangcheng_outfall
):
    # when
    rows = export(client, city_officer)

    # then
    assert {r["县（市、区）"] for r in rows} == {"泽州县", "阳城县"}
    assert len(rows) == 2


def test_the_ledger_has_location_entity_state_and_deadline(client, county_officer):
    # given
    [pk] = import_rows(county_officer, 1, category="QT", subtype="城镇生活污水散排口")
    outfall = Outfall.objects.get(pk=pk)
    services.plan_set(
        actor=None,
        outfall=outfall,
        measures="截污纳管",
        lead_department=Department.objects.get(code="140525-housing"),
        deadline=dt.date(2024, 12, 31),
    )

    # when
    [row] = export(client, county_officer)

    # then
    assert row["名称"] == outfall.name
    assert row["乡镇（街道）"] == "南村镇"
    assert row["经度（°E）"] == pytest.approx(112.60)
    assert row["受纳水体"] == "沁河"
    assert row["排口类型（二级）"] == "城镇生活污水散排口"
    assert row["主要责任主体"] == "晋城测试企业0"
    assert row["状态"] == outfall.get_state_display()
    assert row["整治期限"].date() == dt.date(2024, 12, 31)


def test_the_query_count_does_not_grow_with_the_rows(
    client, county_officer, django_assert_max_num_queries
):
    # given: the queries of a 2-row ledger
    import_rows(county_officer, 2)
    client.force_login(county_officer)
    with CaptureQueriesContext(connection) as small:
        assert client.get(EXPORT_URL).status_code == 200
    import_rows(county_officer, 40, start=2)

    # when: the ledger has 42 rows
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(EXPORT_URL)

    # then
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    assert len(list(sheet.iter_rows(values_only=True))) == 43


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(lambda: {"water_body": WaterBody.objects.get(slug="danhe").pk}, 1, id="water"),
        pytest.param(lambda: {"possible_duplicate": "1"}, 2, id="possible-duplicate"),
        pytest.param(lambda: {"q": "晋城测试企业1"}, 1, id="search-entity"),
        pytest.param(lambda: {"state": "traced"}, 0, id="state"),
        pytest.param(lambda: {"category": ""}, 4, id="no-filter"),
    ],
)
def test_filters_apply_to_the_export(client, county_officer, params, expected):
    # given: 4 outfalls; rows 0 and 3 are 30 m apart (possible duplicates), row 2 on 丹河
    rows = [
        survey_row(0, entity_name="晋城测试企业0"),
        survey_row(1, entity_name="晋城测试企业1"),
        survey_row(2, water_body="丹河"),
    ]
    rows.append(
        survey_row(3, longitude=rows[0]["longitude"] + 0.00033, latitude=rows[0]["latitude"])
    )
    survey_import(actor=county_officer, file=xlsx(rows))

    # when
    exported = export(client, county_officer, **params())

    # then
    assert len(exported) == expected


def test_the_header_names_every_ledger_column(client, county_officer):
    # when
    client.force_login(county_officer)
    response = client.get(EXPORT_URL)

    # then
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header == [
        "本地编码",
        "国家编码",
        "名称",
        "县（市、区）",
        "乡镇（街道）",
        "村（社区）",
        "具体位置",
        "经度（°E）",
        "纬度（°N）",
        "受纳水体",
        "排口类型（一级）",
        "排口类型（二级）",
        "主要责任主体",
        "统一社会信用代码",
        "整治方式",
        "状态",
        "整治期限",
        "疑似重复",
    ]


@pytest.mark.parametrize("path", ["/cases/ledger/", EXPORT_URL])
def test_users_without_the_export_permission_get_403(client, zezhou_river_chief, path):
    # given
    client.force_login(zezhou_river_chief)

    # when
    response = client.get(path)

    # then
    assert response.status_code == 403


def test_the_ledger_page_offers_the_filters(client, county_leader):
    # given
    client.force_login(county_leader)

    # when
    response = client.get("/cases/ledger/")

    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert f'action="{EXPORT_URL}"' in content
    assert 'name="water_body"' in content
    assert "导出 Excel" in content
