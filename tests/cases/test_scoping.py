"""Record rules of the cases module through the selectors (the UI has its own tests)."""

import datetime as dt

import pytest
from django.http import Http404

from base.models import Department, RiverSegment
from cases import factories as f
from cases import selectors, services


@pytest.fixture
def outfalls(db):
    return {
        "zezhou": f.register(village="冶底村"),
        "yangcheng": f.register(jurisdiction_code="140522", village="上庄村"),
    }


@pytest.mark.parametrize(
    ("role_fixture", "visible"),
    [
        ("county_officer", {"zezhou"}),
        ("county_leader", {"zezhou"}),
        ("other_county_officer", {"yangcheng"}),
        ("city_officer", {"zezhou", "yangcheng"}),
        ("city_leader", {"zezhou", "yangcheng"}),
        ("department_officer", set()),
        ("zezhou_river_chief", {"zezhou"}),
    ],
)
def test_outfall_list_and_get_follow_the_record_rule(request, outfalls, role_fixture, visible):
    user = request.getfixturevalue(role_fixture)
    # when
    listed = set(selectors.outfall_list(user=user).values_list("pk", flat=True))
    # then
    assert listed == {outfalls[k].pk for k in visible}
    for key, outfall in outfalls.items():
        if key in visible:
            assert selectors.outfall_get(user=user, pk=outfall.pk) == outfall
        else:
            with pytest.raises(Http404):
                selectors.outfall_get(user=user, pk=outfall.pk)


def test_missing_and_forbidden_look_the_same(county_officer, outfalls):
    with pytest.raises(Http404):
        selectors.outfall_get(user=county_officer, pk=outfalls["yangcheng"].pk)
    with pytest.raises(Http404):
        selectors.outfall_get(user=county_officer, pk=999999)
    with pytest.raises(Http404):
        selectors.outfall_get(user=county_officer, pk="abc")


def test_department_officer_sees_cases_led_by_their_department(department_officer, outfalls):
    # given a plan led by 泽州县住建 on the 泽州 case
    housing = Department.objects.get(code="140525-housing")
    services.plan_set(
        actor=None,
        outfall=outfalls["zezhou"],
        measures="截污纳管",
        lead_department=housing,
        deadline=dt.date(2024, 12, 31),
    )
    # then the department officer sees it and may update progress, nothing else
    assert list(selectors.outfall_list(user=department_officer)) == [outfalls["zezhou"]]
    plan = services.plan_progress_update(
        actor=department_officer, plan=outfalls["zezhou"].plan, progress="管网已铺设60%"
    )
    assert plan.progress == "管网已铺设60%"


def test_river_chief_sees_only_own_segment(zezhou_river_chief, db):
    on_segment = f.register(segment=RiverSegment.objects.get(slug="qinhe-140525"))
    other_segment = f.register(
        segment=RiverSegment.objects.get(slug="danhe-140525"),
        water_body=RiverSegment.objects.get(slug="danhe-140525").water_body,
    )
    listed = list(selectors.outfall_list(user=zezhou_river_chief))
    assert on_segment in listed
    assert other_segment not in listed


def test_events_and_evidence_follow_their_outfall(county_officer, other_county_officer, outfalls):
    f.add_evidence(outfalls["yangcheng"], "photo")
    evidence = outfalls["yangcheng"].evidence.get()
    with pytest.raises(Http404):
        selectors.evidence_get(user=county_officer, pk=evidence.pk)
    assert selectors.evidence_get(user=other_county_officer, pk=evidence.pk) == evidence
    assert not selectors.outfall_events(user=county_officer, outfall=outfalls["yangcheng"]).exists()


def test_officer_cannot_register_in_another_county(county_officer, db):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        f.register(actor=county_officer, jurisdiction_code="140522")
    assert not selectors.outfall_list(user=county_officer).exists()


def test_search_by_code_name_and_entity(county_officer, outfalls):
    services.outfall_entity_link(
        actor=None, outfall=outfalls["zezhou"], entity=f.EntityFactory(name="晋城冶底洗煤有限公司")
    )
    found = selectors.outfall_list(user=county_officer, filters={"q": "洗煤"})
    assert list(found) == [outfalls["zezhou"]]
    assert not selectors.outfall_list(user=county_officer, filters={"q": "上庄"}).exists()
