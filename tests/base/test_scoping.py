import pytest
from django.db.models import Q

from base import selectors
from base.models import Jurisdiction, RiverSegment, WaterBody
from base.security import object_in_scope, register_record_rule, scoped


@pytest.fixture
def zezhou_segment(db):
    return RiverSegment.objects.get(slug="qinhe-140525")


@pytest.fixture
def yangcheng_segment(db):
    return RiverSegment.objects.get(slug="qinhe-140522")


def test_county_officer_cannot_see_other_county_object(
    county_officer, zezhou_segment, yangcheng_segment
):
    # given a 泽州县 officer and one segment in each county
    # when / then: has_perm with the object follows the record rule
    assert county_officer.has_perm("base.view_riversegment", zezhou_segment)
    assert not county_officer.has_perm("base.view_riversegment", yangcheng_segment)


def test_city_officer_sees_both_counties_through_descendants(
    city_officer, zezhou_segment, yangcheng_segment
):
    assert city_officer.has_perm("base.view_riversegment", zezhou_segment)
    assert city_officer.has_perm("base.view_riversegment", yangcheng_segment)


def test_selector_lists_only_segments_in_scope(county_officer, city_officer):
    # when
    county_rows = set(selectors.segment_list(user=county_officer).values_list("slug", flat=True))
    city_rows = set(selectors.segment_list(user=city_officer).values_list("slug", flat=True))
    # then
    assert county_rows == {"qinhe-140525", "danhe-140525"}
    assert city_rows == set(RiverSegment.objects.values_list("slug", flat=True))


def test_model_permission_is_required_as_well_as_scope(county_officer, zezhou_segment):
    # a county officer is in scope of the segment but holds no change permission on it
    assert object_in_scope(county_officer, zezhou_segment)
    assert not county_officer.has_perm("base.change_riversegment", zezhou_segment)


def test_user_without_grant_sees_nothing(django_user_model, zezhou_segment):
    user = django_user_model.objects.create_user("nobody", password="x-long-password-1")
    assert not selectors.segment_list(user=user).exists()
    assert not selectors.jurisdiction_list(user=user).exists()
    assert not user.has_perm("base.view_riversegment", zezhou_segment)


def test_inactive_user_has_no_permission(county_officer, zezhou_segment):
    county_officer.is_active = False
    assert not county_officer.has_perm("base.view_riversegment", zezhou_segment)


def test_scope_covers_descendants_of_a_county(county_officer):
    # given a town under 泽州县
    zezhou = Jurisdiction.objects.get(code="140525")
    town = Jurisdiction.objects.create(
        code="140525100",
        name="南村镇",
        kind=Jurisdiction.Kind.TOWN,
        parent=zezhou,
        path=f"{zezhou.path}140525100/",
    )
    # then the 泽州 officer sees it, a 阳城 town would not be
    assert town in selectors.jurisdiction_list(user=county_officer)
    assert not selectors.jurisdiction_list(user=county_officer).filter(code="140522").exists()


def test_river_chief_appointment_brings_segment_jurisdiction_into_scope(zezhou_river_chief):
    codes = set(selectors.jurisdiction_list(user=zezhou_river_chief).values_list("code", flat=True))
    assert codes == {"140525"}


def test_model_without_record_rule_is_hidden_from_officials(city_officer):
    # given a model whose rule is removed (secure default)
    from base import security

    saved = security._RECORD_RULES.pop("base.waterbody")
    try:
        assert not scoped(WaterBody.objects.all(), city_officer).exists()
    finally:
        register_record_rule("base.waterbody", saved)
    assert scoped(WaterBody.objects.all(), city_officer).count() == WaterBody.objects.count()


def test_superuser_is_unrestricted(django_user_model, yangcheng_segment):
    root = django_user_model.objects.create_superuser("root", password="x-long-password-1")
    assert root.has_perm("base.change_riversegment", yangcheng_segment)
    assert scoped(RiverSegment.objects.all(), root).filter(~Q(pk=None)).count() == 6
