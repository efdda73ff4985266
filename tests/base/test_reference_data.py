from django.contrib.auth.models import Group

from base.data import JURISDICTIONS, sync_reference_data
from base.models import Department, Jurisdiction, RiverSegment, Role, WaterBody
from base.security import declared_role_permissions, sync_roles


def _snapshot():
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Jurisdiction, WaterBody, RiverSegment, Department)
    }


def test_reference_sync_twice_leaves_identical_rows(db):
    # given the data synced on migrate
    before = _snapshot()
    # when
    sync_reference_data()
    sync_reference_data()
    # then
    assert _snapshot() == before


def test_reference_sync_restores_a_changed_name_without_new_rows(db):
    Jurisdiction.objects.filter(code="140525").update(name="泽州")
    count = Jurisdiction.objects.count()
    sync_reference_data()
    assert Jurisdiction.objects.get(code="140525").name == "泽州县"
    assert Jurisdiction.objects.count() == count


def test_jincheng_tree_matches_domain(db):
    city = Jurisdiction.objects.get(code="140500")
    children = set(city.children.values_list("code", flat=True))
    assert children == {"140502", "140521", "140522", "140524", "140525", "140581", "140571"}
    assert not Jurisdiction.objects.filter(code="140523").exists()
    zone = Jurisdiction.objects.get(kind=Jurisdiction.Kind.DEV_ZONE)
    assert zone.is_local_code
    assert Jurisdiction.objects.filter(is_local_code=True).count() == 1
    assert len(JURISDICTIONS) == Jurisdiction.objects.count()
    assert set(WaterBody.objects.values_list("name", flat=True)) == {"沁河", "丹河"}


def test_every_county_level_unit_has_the_seven_departments(db):
    for jurisdiction in Jurisdiction.objects.all():
        kinds = set(jurisdiction.departments.values_list("kind", flat=True))
        assert kinds == set(Department.Kind.values), jurisdiction.code


def _group_perms():
    return {
        g.name: sorted(g.permissions.values_list("content_type__app_label", "codename"))
        for g in Group.objects.order_by("name")
    }


def test_role_sync_is_idempotent(db):
    before = _group_perms()
    sync_roles()
    sync_roles()
    assert _group_perms() == before
    assert set(before) == set(Role.values)


def test_role_sync_removes_permissions_not_declared(db):
    # given an extra permission added by hand to a role group
    group = Group.objects.get(name=Role.COUNTY_OFFICER)
    from django.contrib.auth.models import Permission

    group.permissions.add(Permission.objects.get(codename="delete_jurisdiction"))
    # when
    sync_roles()
    # then the group holds exactly what the code declares
    names = {
        f"{app}.{code}"
        for app, code in group.permissions.values_list("content_type__app_label", "codename")
    }
    assert names == declared_role_permissions()[Role.COUNTY_OFFICER]
