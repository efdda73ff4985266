"""Survey import: all-or-nothing, row errors naming row/column/reason, duplicates, pages."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from openpyxl import load_workbook

from base.factories import user_with_role
from base.models import Role
from cases import factories
from cases.importing import COLUMNS, SurveyImportError, survey_import
from cases.models import Outfall, OutfallEntity, OutfallEvent, ResponsibleEntity

from .survey_sheets import LABEL, survey_row, xlsx

VALID_CODE = "91130200699229617X"
IMPORT_URL = "/cases/survey/"


def nothing_written() -> bool:
    return (
        not Outfall.objects.exists()
        and not OutfallEvent.objects.exists()
        and not ResponsibleEntity.objects.exists()
        and not OutfallEntity.objects.exists()
    )


# --- the happy path ------------------------------------------------------------------------


def test_a_valid_file_of_1000_rows_imports_every_row(county_officer):
    # given
    content = xlsx([survey_row(i) for i in range(1000)])

    # when
    result = survey_import(actor=county_officer, file=content, filename="survey.xlsx")

    # then
    assert result.created == 1000
    assert result.possible_duplicates == 0
    assert Outfall.objects.filter(jurisdiction__code="140525", state="surveyed").count() == 1000
    assert OutfallEvent.objects.filter(kind="imported", actor=county_officer).count() == 1000
    outfall = Outfall.objects.get(village="冶底7村")
    assert outfall.entry_mode == "pipe"
    assert outfall.discharge_pattern == "intermittent"
    assert outfall.daily_volume == Decimal("12.50")
    assert outfall.longitude == Decimal("112.614000")
    assert outfall.is_discharging is True
    assert outfall.survey_date == dt.date(2023, 9, 12)
    assert outfall.segment.slug == "qinhe-140525"
    assert outfall.name == "泽州县南村镇冶底7村排污口"
    assert outfall.created_by == county_officer


def test_category_subtype_and_entity_are_stored(county_officer):
    # given
    row = survey_row(
        category="GY",
        subtype="工矿企业排污口",
        entity_name="晋城市某某化工有限公司",
        credit_code=VALID_CODE,
        in_drinking_water_zone="是",
        in_industrial_park="是",
    )

    # when
    result = survey_import(actor=county_officer, file=xlsx([row]))

    # then
    outfall = Outfall.objects.get(pk=result.outfall_ids[0])
    assert (outfall.category.code, outfall.subtype.code) == ("GY", "gy_enterprise")
    assert outfall.in_drinking_water_zone
    assert outfall.in_industrial_park
    link = outfall.entity_links.get()
    assert link.is_primary
    assert (link.entity.name, link.entity.credit_code) == ("晋城市某某化工有限公司", VALID_CODE)
    event = outfall.events.get(kind="imported")
    assert event.diff["entity"] == [None, "晋城市某某化工有限公司"]


def test_an_entity_is_reused_by_its_credit_code(county_officer):
    # given
    entity = factories.EntityFactory(name="已登记企业", credit_code=VALID_CODE)
    row = survey_row(entity_name="另一个写法", credit_code=VALID_CODE.lower())

    # when
    result = survey_import(actor=county_officer, file=xlsx([row]))

    # then
    assert result.entities_created == 0
    assert ResponsibleEntity.objects.count() == 1
    assert Outfall.objects.get(pk=result.outfall_ids[0]).entity_links.get().entity == entity


# --- all or nothing ------------------------------------------------------------------------


def test_one_bad_row_imports_nothing_and_names_row_column_and_reason(county_officer):
    # given: row 502 of the sheet (header is row 1) names an unknown water body
    rows = [survey_row(i) for i in range(1000)]
    rows[500]["water_body"] = "汾河"

    # when
    with pytest.raises(SurveyImportError) as caught:
        survey_import(actor=county_officer, file=xlsx(rows))

    # then
    assert [(i.row, i.column) for i in caught.value.issues] == [(502, "受纳水体")]
    assert "未知的水体“汾河”" in caught.value.issues[0].message
    assert nothing_written()


REJECTIONS = [
    pytest.param({"county": None}, "county", "此项必填", id="missing-required-value"),
    pytest.param({"survey_date": ""}, "survey_date", "此项必填", id="missing-survey-date"),
    pytest.param({"latitude": 40.1}, "latitude", "超出本市范围", id="latitude-outside-city"),
    pytest.param({"longitude": 110.5}, "longitude", "超出本市范围", id="longitude-outside-city"),
    pytest.param({"county": "小店区"}, "county", "未知的县（市、区）", id="unknown-county"),
    pytest.param({"county": "晋城市"}, "county", "不是县级单位", id="city-is-not-a-county"),
    pytest.param({"water_body": "汾河"}, "water_body", "未知的水体", id="unknown-water-body"),
    pytest.param(
        {"entity_name": "某企业", "credit_code": "91130200699229617Y"},
        "credit_code",
        "不是有效的统一社会信用代码",
        id="bad-credit-code",
    ),
    pytest.param(
        {"category": "工业排污口", "subtype": "城镇雨洪排口"},
        "subtype",
        "不属于一级类型",
        id="subtype-not-in-category",
    ),
    pytest.param({"daily_volume": "约十吨"}, "daily_volume", "不是数字", id="non-numeric-volume"),
    pytest.param({"daily_volume": -3}, "daily_volume", "不能为负数", id="negative-volume"),
    pytest.param({"entry_mode": "暗管"}, "entry_mode", "未知的取值", id="unknown-entry-mode"),
    pytest.param({"survey_date": "去年秋天"}, "survey_date", "不是日期", id="bad-date"),
    pytest.param({"is_discharging": "也许"}, "is_discharging", "不是“是”或“否”", id="bad-yes-no"),
    pytest.param({"credit_code": VALID_CODE}, "entity_name", "请填写", id="code-without-name"),
]


@pytest.mark.parametrize(("overrides", "column", "reason"), REJECTIONS)
def test_a_bad_value_rejects_the_file(county_officer, overrides, column, reason):
    # given
    content = xlsx([survey_row(0), survey_row(1, **overrides), survey_row(2)])

    # when
    with pytest.raises(SurveyImportError) as caught:
        survey_import(actor=county_officer, file=content)

    # then
    issue = caught.value.issues[0]
    assert (issue.row, issue.column) == (3, LABEL[column])
    assert reason in issue.message
    assert nothing_written()


def test_an_exact_duplicate_within_the_file_is_rejected(county_officer):
    # given
    content = xlsx([survey_row(0), survey_row(1), survey_row(0, village="另一个村")])

    # when
    with pytest.raises(SurveyImportError) as caught:
        survey_import(actor=county_officer, file=content)

    # then
    [issue] = caught.value.issues
    assert issue.row == 4
    assert "与第 2 行重复" in issue.message
    assert nothing_written()


def test_an_exact_duplicate_of_a_registered_outfall_is_rejected(county_officer):
    # given
    existing = factories.register(actor=county_officer)
    row = survey_row(
        longitude=float(existing.longitude),
        latitude=float(existing.latitude),
        water_body=existing.water_body.name,
    )

    # when
    with pytest.raises(SurveyImportError) as caught:
        survey_import(actor=county_officer, file=xlsx([survey_row(5), row]))

    # then
    [issue] = caught.value.issues
    assert issue.row == 3
    assert "与已登记的排污口" in issue.message
    assert Outfall.objects.count() == 1
    assert OutfallEvent.objects.filter(kind="imported").count() == 0


def _sheet_without_data() -> bytes:
    return xlsx([])


def _text_file() -> bytes:
    return "县,经度,纬度\n泽州县,112.8,35.5\n".encode()


def _zip_that_is_not_a_workbook() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


def _old_xls() -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(_sheet_without_data, "没有数据行", id="empty-file"),
        pytest.param(lambda: b"", "文件是空的", id="zero-bytes"),
        pytest.param(_text_file, "不是 Excel 工作簿", id="csv-renamed"),
        pytest.param(_zip_that_is_not_a_workbook, "不是 Excel 工作簿", id="zip-not-xlsx"),
        pytest.param(_old_xls, "另存为", id="old-xls"),
        pytest.param(
            lambda: xlsx([survey_row(0)], keys=["county", "longitude", "latitude"]),
            "缺少“受纳水体”列",
            id="missing-column",
        ),
    ],
)
def test_a_file_that_is_not_a_survey_sheet_is_rejected(county_officer, make, reason):
    # given
    content = make()

    # when
    with pytest.raises(SurveyImportError) as caught:
        survey_import(actor=county_officer, file=content)

    # then
    [issue] = caught.value.issues
    assert issue.row is None
    assert reason in issue.message
    assert nothing_written()


def test_a_file_over_the_size_limit_is_rejected_before_it_is_read(county_officer, settings):
    # given
    settings.OUTFALLS_IMPORT_MAX_BYTES = 1024
    content = xlsx([survey_row(i) for i in range(50)])
    assert len(content) > 1024

    # when
    with pytest.raises(SurveyImportError) as caught:
        survey_import(actor=county_officer, file=io.BytesIO(content))

    # then
    assert "文件大于 1 KB" in caught.value.issues[0].message
    assert nothing_written()


# --- near duplicates -----------------------------------------------------------------------


def test_a_near_duplicate_of_a_registered_outfall_is_imported_flagged_and_linked(county_officer):
    # given: a registered outfall and a new point 20 m north of it on the same water
    existing = factories.register(actor=county_officer)
    row = survey_row(
        longitude=float(existing.longitude),
        latitude=float(existing.latitude) + 0.00018,
        water_body=existing.water_body.name,
    )

    # when
    result = survey_import(actor=county_officer, file=xlsx([row, survey_row(3)]))

    # then
    assert result.created == 2
    assert result.possible_duplicates == 1
    new = Outfall.objects.get(pk=result.outfall_ids[0])
    existing.refresh_from_db()
    assert new.is_possible_duplicate
    assert existing.is_possible_duplicate
    assert list(new.possible_duplicate_of.all()) == [existing]
    assert list(existing.possible_duplicate_of.all()) == [new]
    assert not Outfall.objects.get(pk=result.outfall_ids[1]).is_possible_duplicate
    assert existing.events.filter(kind="edited", diff__is_possible_duplicate=[False, True]).exists()


def test_near_duplicates_within_the_file_are_linked_both_ways(county_officer):
    # given: rows 2 and 3 are 30 m apart on the same water; row 4 is the same spot on another
    first = survey_row(0)
    second = survey_row(0, longitude=round(first["longitude"] + 0.00033, 6))
    other_water = survey_row(0, water_body="丹河", village="另一条河")

    # when
    result = survey_import(actor=county_officer, file=xlsx([first, second, other_water]))

    # then
    a, b, c = (Outfall.objects.get(pk=pk) for pk in result.outfall_ids)
    assert result.possible_duplicates == 2
    assert list(a.possible_duplicate_of.all()) == [b]
    assert list(b.possible_duplicate_of.all()) == [a]
    assert not c.is_possible_duplicate
    assert not c.possible_duplicate_of.exists()


def test_points_51_m_apart_are_not_near_duplicates(county_officer):
    # given: 0.00046° of latitude ≈ 51 m
    first = survey_row(0)
    second = survey_row(0, latitude=round(first["latitude"] + 0.00046, 6))

    # when
    result = survey_import(actor=county_officer, file=xlsx([first, second]))

    # then
    assert result.possible_duplicates == 0


# --- scope and permission ------------------------------------------------------------------


def test_an_officer_cannot_import_rows_of_another_county(county_officer):
    # given
    content = xlsx([survey_row(0), survey_row(1, county="阳城县")])

    # when
    with pytest.raises(SurveyImportError) as caught:
        survey_import(actor=county_officer, file=content)

    # then
    [issue] = caught.value.issues
    assert (issue.row, issue.column) == (3, LABEL["county"])
    assert "阳城县不在您的辖区内" in issue.message
    assert nothing_written()


def test_a_user_without_the_import_permission_is_refused(county_leader):
    from django.core.exceptions import PermissionDenied

    # when / then
    with pytest.raises(PermissionDenied):
        survey_import(actor=county_leader, file=xlsx([survey_row(0)]))
    assert nothing_written()


# --- command -------------------------------------------------------------------------------


def test_the_command_imports_a_file(county_officer, tmp_path):
    # given
    path = tmp_path / "survey.xlsx"
    path.write_bytes(xlsx([survey_row(i) for i in range(3)]))
    out = io.StringIO()

    # when
    call_command("import_survey", str(path), "--user", "zz_officer", stdout=out)

    # then
    assert "已导入 3 个排污口" in out.getvalue()
    assert Outfall.objects.count() == 3
    assert set(OutfallEvent.objects.values_list("actor__username", flat=True)) == {"zz_officer"}


def test_the_command_prints_row_errors_and_fails(db, tmp_path):
    # given
    path = tmp_path / "survey.xlsx"
    path.write_bytes(xlsx([survey_row(0), survey_row(1, latitude="北纬35度")]))
    report = tmp_path / "errors.xlsx"
    err = io.StringIO()

    # when
    with pytest.raises(CommandError, match="未导入任何数据"):
        call_command("import_survey", str(path), "--report", str(report), stderr=err)

    # then
    assert "第 3 行，纬度（°N）：“北纬35度”不是数字。" in err.getvalue()
    assert report.is_file()
    assert nothing_written()


# --- pages ---------------------------------------------------------------------------------


def _csrf_client(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(IMPORT_URL)
    assert page.status_code == 200
    return client, page.cookies["csrftoken"].value


def _upload(client, token, content: bytes, name="survey.xlsx"):
    return client.post(
        IMPORT_URL, {"file": _named(content, name), "csrfmiddlewaretoken": token}, follow=True
    )


def _named(content: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_the_upload_page_imports_a_sheet(county_officer, settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path
    client, token = _csrf_client(county_officer)

    # when
    response = _upload(client, token, xlsx([survey_row(i) for i in range(3)]))

    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="import-result"' in content
    assert "已从 survey.xlsx 导入 3 个排污口" in content
    assert Outfall.objects.count() == 3


def test_the_upload_page_needs_the_csrf_token(county_officer):
    # given
    client, _token = _csrf_client(county_officer)

    # when
    response = client.post(IMPORT_URL, {"file": _named(xlsx([survey_row(0)]), "s.xlsx")})

    # then
    assert response.status_code == 403
    assert nothing_written()


def test_the_upload_page_shows_errors_and_a_report_only_its_uploader_may_download(
    county_officer, settings, tmp_path
):
    # given
    settings.MEDIA_ROOT = tmp_path
    client, token = _csrf_client(county_officer)
    rows = [survey_row(0), survey_row(1, water_body="汾河"), survey_row(2)]

    # when
    response = _upload(client, token, xlsx(rows))

    # then: the page names row, column and reason and links the report
    content = response.content.decode()
    assert 'data-testid="import-errors"' in content
    assert "未导入任何数据" in content
    assert re.search(
        r"<td[^>]*>3</td><td[^>]*>受纳水体</td><td[^>]*>未知的水体“汾河”。</td>", content
    )
    link = re.search(r'href="(/cases/survey/report/[0-9a-f]{32}\.xlsx)"', content).group(1)
    assert nothing_written()

    # the uploader downloads the same sheet with an error column
    report = client.get(link)
    assert report.status_code == 200
    sheet = load_workbook(io.BytesIO(report.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[-1] == "错误信息"
    assert sheet.cell(row=3, column=len(header)).value == "受纳水体：未知的水体“汾河”。"
    assert sheet.cell(row=2, column=len(header)).value is None
    assert sheet.cell(row=3, column=header.index("受纳水体") + 1).value == "汾河"

    # another importing officer cannot fetch it, even with the link
    other = user_with_role(Role.COUNTY_OFFICER, "140525", username="zz_officer_2")
    intruder = Client()
    intruder.force_login(other)
    assert intruder.get(link).status_code == 404


@pytest.mark.parametrize("path", [IMPORT_URL, "/cases/survey/template.xlsx"])
def test_users_without_the_import_permission_get_403(client, county_leader, path):
    # given
    client.force_login(county_leader)

    # when
    response = client.get(path)

    # then
    assert response.status_code == 403


@pytest.mark.parametrize(("role", "shown"), [("county_officer", True), ("county_leader", False)])
def test_the_import_menu_entry_needs_the_permission(client, request, role, shown):
    # given: a cases page, whose menu lists the cases entries this user may open
    client.force_login(request.getfixturevalue(role))

    # when
    content = client.get("/cases/ledger/").content.decode()

    # then
    assert 'href="/cases/ledger/"' in content
    assert (f'href="{IMPORT_URL}"' in content) is shown


def test_the_template_has_the_headers_and_a_reference_sheet(client, county_officer):
    # given
    client.force_login(county_officer)

    # when
    response = client.get("/cases/survey/template.xlsx")

    # then
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    survey, lists = workbook.worksheets
    assert [c.value for c in survey[1]] == [LABEL[c.key] for c in COLUMNS]
    assert survey["A1"].comment is not None
    assert survey.data_validations.dataValidation
    values = {c.value for row in lists.iter_rows() for c in row}
    assert {"泽州县", "阳城县", "沁河", "丹河", "工业排污口", "城镇雨洪排口", "明渠"} <= values


def test_the_template_round_trips_through_the_import(client, county_officer):
    # given: the downloaded template with rows filled in under its header
    client.force_login(county_officer)
    workbook = load_workbook(io.BytesIO(client.get("/cases/survey/template.xlsx").content))
    sheet = workbook.worksheets[0]
    for offset, i in enumerate(range(2)):
        row = survey_row(i)
        for index, column in enumerate(COLUMNS, start=1):
            sheet.cell(row=2 + offset, column=index, value=row.get(column.key))
    buffer = io.BytesIO()
    workbook.save(buffer)

    # when
    result = survey_import(actor=county_officer, file=buffer.getvalue())

    # then
    assert result.created == 2
