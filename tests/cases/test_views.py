"""The outfall pages: scoping (404 like missing), forms through the services, query counts."""

import datetime as dt
import html
import json
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from base.models import Department, Jurisdiction, RiverSegment, WaterBody
from cases import factories, registry, services
from cases.choices import Disposition, EvidenceKind, State
from cases.models import (
    Evidence,
    Outfall,
    OutfallEntity,
    OutfallEvent,
    OverrideRequest,
    RemediationPlan,
    ResponsibleEntity,
    Subtype,
    TracingRecord,
)

PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def url(name, *args):
    return reverse(f"cases:outfalls:{name}", args=args)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def row_ids(response) -> set[int]:
    return {int(i) for i in re.findall(r'data-outfall-id="(\d+)"', response.content.decode())}


def event_count(outfall) -> int:
    return OutfallEvent.objects.filter(outfall=outfall).count()


def register_payload(**overrides) -> dict:
    data = {
        "name": "",
        "national_code": "",
        "jurisdiction": Jurisdiction.objects.get(code="140525").pk,
        "town": "南村镇",
        "village": "冶底村",
        "landmark": "冶底桥下游80米",
        "longitude": "112.851234",
        "latitude": "35.512345",
        "water_body": WaterBody.objects.get(slug="qinhe").pk,
        "segment": RiverSegment.objects.get(slug="qinhe-140525").pk,
        "entry_mode": "pipe",
        "discharge_pattern": "intermittent",
        "daily_volume": "12.5",
        "main_pollutants": "COD、氨氮",
        "is_discharging": "on",
        "colour": "浅灰",
        "odour": "",
        "survey_level": "2",
        "survey_date": "2024-05-01",
        "surveyors": "张三、李四",
        "source": "survey",
        "remarks": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def no_approval_policy():
    """A policy that lets transitions apply directly (instead of the workflows policy table)."""
    previous = registry.approval_policy()
    registry.set_approval_policy(lambda transition, outfall: registry.ApprovalRequirement(False))
    yield
    registry.set_approval_policy(previous)


@pytest.fixture
def yangcheng_evidence(yangcheng_outfall):
    return services.evidence_add(
        actor=None,
        outfall=yangcheng_outfall,
        kind=EvidenceKind.PHOTO,
        file=factories.png_upload(),
    )


# --- scoping -------------------------------------------------------------------------------

OUTFALL_PAGES = [
    ("get", "detail", ()),
    ("get", "change", ()),
    ("post", "change", ()),
    ("get", "tracing_add", ()),
    ("post", "tracing_add", ()),
    ("get", "entity_link", ()),
    ("post", "entity_link", ()),
    ("get", "classification", ()),
    ("post", "classification", ()),
    ("get", "rules_preview", ()),
    ("get", "plan", ()),
    ("post", "plan", ()),
    ("get", "progress", ()),
    ("get", "evidence_add", ()),
    ("post", "evidence_add", ()),
    ("get", "transition", ("trace",)),
    ("post", "transition", ("trace",)),
    ("post", "transition", ("void",)),
]


@pytest.mark.parametrize(("method", "name", "extra"), OUTFALL_PAGES)
def test_county_officer_gets_404_for_another_countys_case(
    county_officer, yangcheng_outfall, method, name, extra
):
    # given a 阳城县 case and a 泽州县 officer
    client = logged_in(county_officer)
    before = event_count(yangcheng_outfall)
    # when the officer opens or posts to any of its pages
    response = getattr(client, method)(
        url(name, yangcheng_outfall.pk, *extra), {"finding": "x", "reason": "x"}
    )
    # then it answers 404, exactly like a missing case, and nothing is written
    assert response.status_code == 404
    assert event_count(yangcheng_outfall) == before
    yangcheng_outfall.refresh_from_db()
    assert yangcheng_outfall.state == State.SURVEYED


@pytest.mark.parametrize(("method", "name", "extra"), OUTFALL_PAGES)
def test_missing_case_answers_404_like_an_out_of_scope_one(county_officer, method, name, extra):
    response = getattr(logged_in(county_officer), method)(url(name, 999_999, *extra))
    assert response.status_code == 404


def test_county_officer_gets_404_for_another_countys_evidence(county_officer, yangcheng_evidence):
    response = logged_in(county_officer).get(url("evidence_file", yangcheng_evidence.pk))
    assert response.status_code == 404


def test_county_officer_sees_only_own_county_rows(
    county_officer, zezhou_outfall, yangcheng_outfall
):
    response = logged_in(county_officer).get(url("index"))
    assert response.status_code == 200
    assert row_ids(response) == {zezhou_outfall.pk}
    assert yangcheng_outfall.name not in response.content.decode()


def test_county_officer_search_does_not_reach_another_county(
    county_officer, zezhou_outfall, yangcheng_outfall
):
    response = logged_in(county_officer).get(url("index"), {"q": "上庄村"})
    assert row_ids(response) == set()


def test_city_officer_sees_every_county(
    city_officer, zezhou_outfall, yangcheng_outfall, yangcheng_evidence
):
    client = logged_in(city_officer)
    assert row_ids(client.get(url("index"))) == {zezhou_outfall.pk, yangcheng_outfall.pk}
    assert client.get(url("detail", yangcheng_outfall.pk)).status_code == 200
    assert client.get(url("evidence_file", yangcheng_evidence.pk)).status_code == 200


def test_department_officer_sees_only_cases_their_department_leads(
    department_officer, county_officer
):
    # given two 泽州县 cases, one with a plan led by 泽州住建, one led by 泽州水务
    led = factories.register(actor=county_officer, landmark="住建牵头")
    other = factories.register(actor=county_officer, landmark="水务牵头")
    for outfall, kind in ((led, "housing"), (other, "water")):
        services.plan_set(
            actor=county_officer,
            outfall=outfall,
            measures="截污纳管",
            lead_department=Department.objects.get(code=f"140525-{kind}"),
            deadline=dt.date(2024, 12, 31),
        )
    client = logged_in(department_officer)
    # then the list holds only the housing-led case, and the other answers 404
    assert row_ids(client.get(url("index"))) == {led.pk}
    assert client.get(url("detail", led.pk)).status_code == 200
    assert client.get(url("detail", other.pk)).status_code == 404


def test_river_chief_sees_only_cases_on_their_segment(zezhou_river_chief, county_officer):
    on_segment = factories.register(
        actor=county_officer, segment=RiverSegment.objects.get(slug="qinhe-140525")
    )
    danhe = RiverSegment.objects.get(slug="danhe-140525")
    elsewhere = factories.register(actor=county_officer, segment=danhe, water_body=danhe.water_body)
    client = logged_in(zezhou_river_chief)
    assert row_ids(client.get(url("index"))) == {on_segment.pk}
    assert client.get(url("detail", elsewhere.pk)).status_code == 404
    # a river chief reads, but has no step buttons
    content = client.get(url("detail", on_segment.pk)).content.decode()
    assert url("tracing_add", on_segment.pk) not in content
    assert url("change", on_segment.pk) not in content


@pytest.mark.parametrize("name", ["index", "add", "detail", "evidence_file"])
def test_anonymous_is_redirected_to_login(client, zezhou_outfall, name):
    path = url(name) if name in {"index", "add"} else url(name, zezhou_outfall.pk)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_in_scope_user_without_the_step_permission_gets_403(department_officer, county_officer):
    # given a case the department officer may see (their department leads its plan)
    outfall = factories.register(actor=county_officer)
    services.plan_set(
        actor=county_officer,
        outfall=outfall,
        measures="截污纳管",
        lead_department=Department.objects.get(code="140525-housing"),
        deadline=dt.date(2024, 12, 31),
    )
    client = logged_in(department_officer)
    # then the steps of other roles are refused, and nothing is written
    assert client.get(url("tracing_add", outfall.pk)).status_code == 403
    assert client.post(url("change", outfall.pk), register_payload()).status_code == 403
    assert client.get(url("add")).status_code == 403
    assert not TracingRecord.objects.filter(outfall=outfall).exists()


def test_post_without_csrf_token_is_refused(county_officer, zezhou_outfall):
    client = Client(enforce_csrf_checks=True)
    client.force_login(county_officer)
    response = client.post(
        url("tracing_add", zezhou_outfall.pk),
        {"method": "field", "traced_on": "2024-05-02", "result": "found", "finding": "x"},
    )
    assert response.status_code == 403
    assert not TracingRecord.objects.filter(outfall=zezhou_outfall).exists()


# --- list ----------------------------------------------------------------------------------


def test_list_filters_by_state_and_searches_entity(county_officer, county_leader):
    surveyed = factories.register(actor=county_officer)
    traced = factories.drive_to(factories.register(actor=county_officer), State.TRACED)
    entity_name = traced.entity_links.get().entity.name
    client = logged_in(county_officer)
    assert row_ids(client.get(url("index"), {"state": "traced"})) == {traced.pk}
    assert row_ids(client.get(url("index"), {"state": "surveyed"})) == {surveyed.pk}
    assert row_ids(client.get(url("index"), {"q": entity_name})) == {traced.pk}


def test_list_shows_register_button_only_with_the_permission(county_officer, city_officer):
    assert url("add") in logged_in(county_officer).get(url("index")).content.decode()
    assert url("add") not in logged_in(city_officer).get(url("index")).content.decode()


def test_list_query_count_does_not_grow_with_page_size(county_officer):
    # given 100 cases, with primary entities and plans (columns of the list)
    housing = Department.objects.get(code="140525-housing")
    for i in range(100):
        outfall = factories.register(landmark=f"桥下游{i}米")
        if i % 2:
            services.outfall_entity_link(
                actor=None, outfall=outfall, entity=factories.EntityFactory()
            )
            services.plan_set(
                actor=None,
                outfall=outfall,
                measures="截污纳管",
                lead_department=housing,
                deadline=dt.date(2024, 12, 31),
            )
    client = logged_in(county_officer)
    client.get(url("index"))  # warm caches (content types, permissions)
    counts = {}
    for size in (25, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("index"), {"page_size": size})
        assert len(row_ids(response)) == size
        counts[size] = len(queries)
    # then the number of queries is the same for 25 and 100 rows
    assert counts[25] == counts[100], counts
    assert counts[100] <= 25, counts  # a constant: session, user, scope, page, prefetch


# --- case page -----------------------------------------------------------------------------


def test_case_page_shows_every_part_within_a_fixed_query_bound(county_officer, county_leader):
    # given a case in remediation with several tracing records, evidence and events
    outfall = factories.drive_to(factories.register(actor=county_officer), State.REMEDIATING)
    for i in range(3):
        services.tracing_record_add(
            actor=county_officer,
            outfall=outfall,
            method=TracingRecord.Method.DYE_TEST,
            traced_on=dt.date(2023, 10, 2 + i),
            finding=f"示踪试验第{i + 1}次",
            result=TracingRecord.Result.FOUND,
        )
    factories.add_evidence(
        outfall, EvidenceKind.PHOTO, EvidenceKind.SIGNBOARD, EvidenceKind.SAMPLING_POINT
    )
    services.evidence_add(
        actor=None,
        outfall=outfall,
        kind=EvidenceKind.ACCEPTANCE,
        file=SimpleUploadedFile("验收.pdf", PDF_BYTES),
    )
    client = logged_in(county_officer)
    client.get(url("detail", outfall.pk))  # warm caches
    # when the page is rendered
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("detail", outfall.pk))
    # then it shows facts, entity, tracing, classification, plan, evidence and timeline
    content = response.content.decode()
    assert response.status_code == 200
    assert len(queries) <= 40, len(queries)
    assert event_count(outfall) >= 10
    for text in ("示踪试验第3次", "沿管线排查至企业总排口", "截污纳管", outfall.code, "整治中"):
        assert text in content
    assert content.count('class="oc-tile"') == 4
    assert "picture_as_pdf" in content
    assert content.count("data-event-kind=") == event_count(outfall)


def test_case_page_lists_blocked_transitions_with_their_reasons(county_officer, zezhou_outfall):
    content = logged_in(county_officer).get(url("detail", zezhou_outfall.pk)).content.decode()
    assert 'data-transition="trace"' in content
    assert "请至少添加一条溯源记录。" in content
    assert 'data-transition="void"' in content


def test_case_page_says_which_role_must_approve(county_officer, zezhou_outfall):
    services.tracing_record_add(
        actor=county_officer,
        outfall=zezhou_outfall,
        method="field",
        traced_on=dt.date(2024, 5, 2),
        finding="排查至企业",
        result="found",
    )
    services.outfall_entity_link(
        actor=county_officer, outfall=zezhou_outfall, entity=factories.EntityFactory()
    )
    content = logged_in(county_officer).get(url("detail", zezhou_outfall.pk)).content.decode()
    assert "须经县级审核人审批" in content
    # under the default policy the officer proposes the transition instead of applying it
    assert 'data-testid="propose-trace"' in content
    assert "提请审批" in content


def transition_block(content: str, name: str) -> str:
    """The "next steps" entry of one transition on the case page."""
    rest = content[content.index(f'<li data-transition="{name}">') + 1 :]
    ends = [
        i
        for i in (rest.find("<li data-transition="), rest.find('data-testid="timeline"'))
        if i >= 0
    ]
    return rest[: min(ends)]


def test_incomplete_checklist_names_the_missing_items(county_officer):
    outfall = factories.drive_to(factories.register(actor=county_officer), State.REMEDIATING)
    factories.add_evidence(outfall, EvidenceKind.SIGNBOARD)
    content = logged_in(county_officer).get(url("detail", outfall.pk)).content.decode()
    retain = transition_block(content, "retain")
    assert "缺少：" in retain
    assert "采样点" in retain
    assert "标识牌" not in retain


def test_void_reason_is_asked_on_the_void_form_not_as_a_precondition(
    county_officer, zezhou_outfall
):
    client = logged_in(county_officer)
    content = client.get(url("detail", zezhou_outfall.pk)).content.decode()
    assert "请注明作废原因" not in transition_block(content, "void")
    form = client.get(url("transition", zezhou_outfall.pk, "void")).content.decode()
    assert 'name="closure_reason"' in form
    assert 'name="confirm"' in form


def test_classify_check_does_not_ask_for_the_code_it_assigns(county_officer):
    outfall = factories.drive_to(factories.register(actor=county_officer), State.TRACED)
    content = logged_in(county_officer).get(url("detail", outfall.pk)).content.decode()
    assert "排污口尚未编码" not in content


# --- register and edit ---------------------------------------------------------------------


def select_labels(content: str, name: str) -> list[str]:
    """Option labels of a rendered viewflow select (its options are JSON in an attribute)."""
    tag = re.search(rf'<vf-field-select[^>]*name="{name}"[^>]*>', content).group(0)
    optgroups = json.loads(html.unescape(re.search(r'optgroups="([^"]*)"', tag).group(1)))
    return [group["options"]["label"] for group in optgroups]


def test_register_form_offers_only_own_county(county_officer):
    content = logged_in(county_officer).get(url("add")).content.decode()
    assert select_labels(content, "jurisdiction") == ["---------", "泽州县"]


def test_register_writes_through_the_service(county_officer):
    response = logged_in(county_officer).post(url("add"), register_payload())
    outfall = Outfall.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("detail", outfall.pk)
    assert outfall.created_by == county_officer
    assert outfall.landmark == "冶底桥下游80米"
    assert outfall.name  # generated
    assert outfall.events.get().kind == OutfallEvent.Kind.REGISTERED


def test_register_rejects_coordinates_outside_the_city_and_keeps_input(county_officer):
    response = logged_in(county_officer).post(
        url("add"), register_payload(latitude="39.900000", landmark="保留我")
    )
    content = response.content.decode()
    assert response.status_code == 422
    assert "不在本市范围内" in content
    assert 'value="保留我"' in content
    assert not Outfall.objects.exists()
    assert not OutfallEvent.objects.exists()


def test_register_refuses_another_countys_jurisdiction(county_officer):
    yangcheng = Jurisdiction.objects.get(code="140522")
    response = logged_in(county_officer).post(
        url("add"), register_payload(jurisdiction=yangcheng.pk)
    )
    assert response.status_code == 422
    assert not Outfall.objects.exists()


def test_edit_writes_an_edited_event(county_officer, zezhou_outfall):
    payload = register_payload(town="大东沟镇", name=zezhou_outfall.name)
    response = logged_in(county_officer).post(url("change", zezhou_outfall.pk), payload)
    assert response.status_code == 302
    zezhou_outfall.refresh_from_db()
    assert zezhou_outfall.town == "大东沟镇"
    event = zezhou_outfall.events.latest("id")
    assert event.kind == OutfallEvent.Kind.EDITED
    assert event.diff["town"] == ["南村镇", "大东沟镇"]


def test_edit_with_a_segment_off_the_water_shows_the_error(county_officer, zezhou_outfall):
    danhe = RiverSegment.objects.get(slug="danhe-140525")
    response = logged_in(county_officer).post(
        url("change", zezhou_outfall.pk),
        register_payload(segment=danhe.pk, name=zezhou_outfall.name),
    )
    assert response.status_code == 422
    assert "所选河段不在受纳水体上" in response.content.decode()
    assert event_count(zezhou_outfall) == 1


# --- tracing and entities ------------------------------------------------------------------


def test_tracing_record_is_added(county_officer, zezhou_outfall):
    response = logged_in(county_officer).post(
        url("tracing_add", zezhou_outfall.pk),
        {"method": "cctv", "traced_on": "2024-05-02", "result": "partial", "finding": "管道内窥"},
    )
    assert response.status_code == 302
    record = TracingRecord.objects.get(outfall=zezhou_outfall)
    assert (record.method, record.finding, record.created_by) == (
        "cctv",
        "管道内窥",
        county_officer,
    )
    assert zezhou_outfall.events.latest("id").kind == OutfallEvent.Kind.TRACING_ADDED


def test_tracing_record_without_finding_is_refused(county_officer, zezhou_outfall):
    response = logged_in(county_officer).post(
        url("tracing_add", zezhou_outfall.pk),
        {"method": "cctv", "traced_on": "2024-05-02", "result": "partial", "finding": ""},
    )
    assert response.status_code == 422
    assert "这个字段是必填项" in response.content.decode()
    assert not TracingRecord.objects.exists()
    assert event_count(zezhou_outfall) == 1


def test_existing_entity_is_linked(county_officer, zezhou_outfall):
    entity = factories.EntityFactory()
    response = logged_in(county_officer).post(
        url("entity_link", zezhou_outfall.pk),
        {"mode": "existing", "entity": entity.pk, "is_primary": "on", "share_percent": "100"},
    )
    assert response.status_code == 302
    link = OutfallEntity.objects.get(outfall=zezhou_outfall)
    assert (link.entity, link.is_primary) == (entity, True)
    assert zezhou_outfall.events.latest("id").kind == OutfallEvent.Kind.ENTITY_LINKED


def test_new_entity_is_created_and_linked(county_officer, zezhou_outfall):
    response = logged_in(county_officer).post(
        url("entity_link", zezhou_outfall.pk),
        {
            "mode": "new",
            "name": "晋城新建化工有限公司",
            "credit_code": "91130200699229617x",
            "kind": "enterprise",
            "is_primary": "on",
            "share_percent": "60",
            "permit_number": "91140500MA0K001",
        },
    )
    assert response.status_code == 302
    link = OutfallEntity.objects.select_related("entity").get(outfall=zezhou_outfall)
    assert link.entity.credit_code == "91130200699229617X"
    assert link.entity.jurisdiction == zezhou_outfall.jurisdiction
    assert (link.share_percent, link.permit_number) == (Decimal("60"), "91140500MA0K001")


def test_new_entity_with_a_bad_credit_code_writes_nothing(county_officer, zezhou_outfall):
    response = logged_in(county_officer).post(
        url("entity_link", zezhou_outfall.pk),
        {
            "mode": "new",
            "name": "晋城错误代码有限公司",
            "credit_code": "91130200699229617Y",
            "kind": "enterprise",
            "share_percent": "100",
        },
    )
    content = response.content.decode()
    assert response.status_code == 422
    assert "不是有效的统一社会信用代码" in content
    assert 'value="晋城错误代码有限公司"' in content
    assert not ResponsibleEntity.objects.filter(name="晋城错误代码有限公司").exists()
    assert not OutfallEntity.objects.exists()


def test_government_fallback_needs_a_reason_and_writes_nothing_without(
    county_officer, zezhou_outfall
):
    payload = {
        "mode": "new",
        "name": "泽州县人民政府",
        "is_government_fallback": "on",
        "kind": "enterprise",
        "is_primary": "on",
        "share_percent": "100",
    }
    client = logged_in(county_officer)
    response = client.post(url("entity_link", zezhou_outfall.pk), payload)
    assert response.status_code == 422
    assert "请说明由政府兜底的理由" in response.content.decode()
    assert not ResponsibleEntity.objects.filter(name="泽州县人民政府").exists()
    # with the reason, the fallback entity is created as government and linked
    payload["fallback_reason"] = "多次溯源未查明排污单位"
    assert client.post(url("entity_link", zezhou_outfall.pk), payload).status_code == 302
    entity = ResponsibleEntity.objects.get(name="泽州县人民政府")
    assert entity.is_government_fallback
    assert entity.kind == ResponsibleEntity.Kind.GOVERNMENT
    zezhou_outfall.refresh_from_db()
    assert zezhou_outfall.fallback_reason == "多次溯源未查明排污单位"


# --- classification ------------------------------------------------------------------------


def classification_payload(subtype="qt_other", disposition=Disposition.STANDARDISE, **extra):
    st = Subtype.objects.get(code=subtype)
    return {"category": st.category_id, "subtype": st.pk, "disposition": disposition, **extra}


def test_classification_is_saved(county_officer, zezhou_outfall):
    response = logged_in(county_officer).post(
        url("classification", zezhou_outfall.pk), classification_payload()
    )
    assert response.status_code == 302
    zezhou_outfall.refresh_from_db()
    assert (zezhou_outfall.subtype.code, zezhou_outfall.disposition) == ("qt_other", "standardise")
    assert zezhou_outfall.events.latest("id").kind == OutfallEvent.Kind.CLASSIFICATION_SET


def test_failed_rule_without_override_reason_shows_the_rule_and_writes_nothing(county_officer):
    outfall = factories.register(actor=county_officer, in_drinking_water_zone=True)
    response = logged_in(county_officer).post(
        url("classification", outfall.pk), classification_payload()
    )
    content = response.content.decode()
    assert response.status_code == 422
    assert "规则1：特殊保护区域" in content
    assert 'data-rule="protected_area" data-status="fail"' in content
    outfall.refresh_from_db()
    assert outfall.subtype_id is None
    assert event_count(outfall) == 1


def test_failed_rule_with_override_reason_records_the_override_request(county_officer):
    outfall = factories.register(actor=county_officer, in_drinking_water_zone=True)
    response = logged_in(county_officer).post(
        url("classification", outfall.pk),
        classification_payload(override_protected_area="历史遗留，已有替代水源方案"),
    )
    assert response.status_code == 302
    override = OverrideRequest.objects.get(outfall=outfall)
    assert (override.rule, override.reason) == ("protected_area", "历史遗留，已有替代水源方案")


def test_subtype_outside_its_category_is_refused(county_officer, zezhou_outfall):
    payload = classification_payload()
    payload["subtype"] = Subtype.objects.get(code="gy_enterprise").pk
    response = logged_in(county_officer).post(url("classification", zezhou_outfall.pk), payload)
    assert response.status_code == 422
    zezhou_outfall.refresh_from_db()
    assert zezhou_outfall.subtype_id is None


def test_live_rule_results_evaluate_an_unsaved_copy(county_officer):
    outfall = factories.register(actor=county_officer, in_drinking_water_zone=True)
    client = logged_in(county_officer)
    failing = client.get(url("rules_preview", outfall.pk), classification_payload()).json()
    passing = client.get(
        url("rules_preview", outfall.pk), classification_payload(disposition=Disposition.BAN)
    ).json()
    assert failing["failed"] == ["protected_area"]
    assert failing["results"][0]["status"] == "fail"
    assert passing["failed"] == []
    assert passing["results"][0]["status_label"] == "通过"
    outfall.refresh_from_db()
    assert (outfall.subtype_id, outfall.disposition) == (None, "")
    assert event_count(outfall) == 1


# --- plan, progress, evidence --------------------------------------------------------------


def test_plan_is_set_with_a_department_in_scope(county_officer, zezhou_outfall):
    housing = Department.objects.get(code="140525-housing")
    response = logged_in(county_officer).post(
        url("plan", zezhou_outfall.pk),
        {"measures": "截污纳管", "lead_department": housing.pk, "deadline": "2024-12-31"},
    )
    assert response.status_code == 302
    plan = RemediationPlan.objects.get(outfall=zezhou_outfall)
    assert (plan.lead_department, plan.deadline) == (housing, dt.date(2024, 12, 31))
    assert zezhou_outfall.events.latest("id").kind == OutfallEvent.Kind.PLAN_SET


def test_plan_refuses_a_department_of_another_county(county_officer, zezhou_outfall):
    other = Department.objects.get(code="140522-housing")
    response = logged_in(county_officer).post(
        url("plan", zezhou_outfall.pk),
        {"measures": "截污纳管", "lead_department": other.pk, "deadline": "2024-12-31"},
    )
    assert response.status_code == 422
    assert not RemediationPlan.objects.exists()


def test_department_officer_updates_progress(department_officer, county_officer):
    outfall = factories.register(actor=county_officer)
    services.plan_set(
        actor=county_officer,
        outfall=outfall,
        measures="截污纳管",
        lead_department=Department.objects.get(code="140525-housing"),
        deadline=dt.date(2024, 12, 31),
    )
    response = logged_in(department_officer).post(
        url("progress", outfall.pk), {"progress": "管网已铺设80%"}
    )
    assert response.status_code == 302
    assert RemediationPlan.objects.get(outfall=outfall).progress == "管网已铺设80%"
    event = outfall.events.latest("id")
    assert (event.actor, event.diff["progress"]) == (department_officer, ["", "管网已铺设80%"])


def test_evidence_upload_and_download(county_officer, zezhou_outfall):
    client = logged_in(county_officer)
    response = client.post(
        url("evidence_add", zezhou_outfall.pk),
        {
            "kind": "photo",
            "file": factories.png_upload("现场.png"),
            "taken_at": "2024-05-02 10:30",
            "description": "排口现场",
        },
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get(outfall=zezhou_outfall)
    assert (evidence.content_type, evidence.description) == ("image/png", "排口现场")
    download = client.get(url("evidence_file", evidence.pk))
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("inline")
    assert b"".join(download.streaming_content) == factories.PNG_BYTES


def test_pdf_evidence_downloads_as_attachment(county_officer, zezhou_outfall):
    evidence = services.evidence_add(
        actor=county_officer,
        outfall=zezhou_outfall,
        kind=EvidenceKind.ACCEPTANCE,
        file=SimpleUploadedFile("验收记录.pdf", PDF_BYTES),
    )
    response = logged_in(county_officer).get(url("evidence_file", evidence.pk))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_evidence_that_is_not_an_image_or_pdf_is_refused(county_officer, zezhou_outfall):
    response = logged_in(county_officer).post(
        url("evidence_add", zezhou_outfall.pk),
        {"kind": "photo", "file": SimpleUploadedFile("x.png", b"<html>not an image</html>")},
    )
    assert response.status_code == 422
    assert "只接受 JPEG、PNG 和 PDF 文件" in response.content.decode()
    assert not Evidence.objects.exists()


# --- transitions ---------------------------------------------------------------------------


def ready_to_trace(outfall, actor):
    services.tracing_record_add(
        actor=actor,
        outfall=outfall,
        method="field",
        traced_on=dt.date(2024, 5, 2),
        finding="排查至企业",
        result="found",
    )
    services.outfall_entity_link(actor=actor, outfall=outfall, entity=factories.EntityFactory())
    return outfall


def test_transition_needing_approval_needs_a_reason_to_be_proposed(county_officer, zezhou_outfall):
    outfall = ready_to_trace(zezhou_outfall, county_officer)
    before = event_count(outfall)
    response = logged_in(county_officer).post(url("transition", outfall.pk, "trace"), {})
    assert response.status_code == 422
    assert "须经县级审核人审批" in response.content.decode()
    outfall.refresh_from_db()
    assert outfall.state == State.SURVEYED
    assert event_count(outfall) == before


def test_transition_needing_approval_is_proposed_not_applied(county_officer, zezhou_outfall):
    outfall = ready_to_trace(zezhou_outfall, county_officer)
    response = logged_in(county_officer).post(
        url("transition", outfall.pk, "trace"),
        {"reason": "已查明责任主体", "expected_state": "surveyed"},
    )
    assert response.status_code == 302
    outfall.refresh_from_db()
    assert outfall.state == State.SURVEYED
    event = outfall.events.latest("id")
    assert (event.kind, event.transition, event.actor) == ("proposal", "trace", county_officer)


def test_transition_applies_when_the_policy_needs_no_approval(
    county_officer, zezhou_outfall, no_approval_policy
):
    outfall = ready_to_trace(zezhou_outfall, county_officer)
    response = logged_in(county_officer).post(
        url("transition", outfall.pk, "trace"), {"reason": "溯源完成", "expected_state": "surveyed"}
    )
    assert response.status_code == 302
    outfall.refresh_from_db()
    assert outfall.state == State.TRACED
    event = outfall.events.latest("id")
    assert (event.transition, event.reason, event.actor) == ("trace", "溯源完成", county_officer)


def test_blocked_transition_shows_the_unmet_guards(
    county_officer, zezhou_outfall, no_approval_policy
):
    response = logged_in(county_officer).post(url("transition", zezhou_outfall.pk, "trace"), {})
    assert response.status_code == 422
    assert "请至少添加一条溯源记录。" in response.content.decode()
    zezhou_outfall.refresh_from_db()
    assert zezhou_outfall.state == State.SURVEYED


def test_void_must_be_confirmed(county_officer, zezhou_outfall, no_approval_policy):
    client = logged_in(county_officer)
    payload = {"closure_reason": "duplicate", "reason": "与140525QT0001重复"}
    response = client.post(url("transition", zezhou_outfall.pk, "void"), payload)
    assert response.status_code == 422
    zezhou_outfall.refresh_from_db()
    assert zezhou_outfall.state == State.SURVEYED
    response = client.post(
        url("transition", zezhou_outfall.pk, "void"), payload | {"confirm": "on"}
    )
    assert response.status_code == 302
    zezhou_outfall.refresh_from_db()
    assert (zezhou_outfall.state, zezhou_outfall.closure_reason) == (State.CLOSED, "duplicate")


def test_transition_of_a_case_that_moved_meanwhile_is_refused(
    county_officer, zezhou_outfall, no_approval_policy
):
    outfall = ready_to_trace(zezhou_outfall, county_officer)
    response = logged_in(county_officer).post(
        url("transition", outfall.pk, "trace"), {"expected_state": "traced"}
    )
    assert response.status_code == 409
    outfall.refresh_from_db()
    assert outfall.state == State.SURVEYED
