import pytest

from base.factories import user_with_role
from cases import factories as f


@pytest.fixture
def county_admin(db):
    return user_with_role("admin", "140525", username="zz_admin", is_staff=True)


def test_admin_outfall_list_is_scoped(client, county_admin, other_county_officer):
    # given one outfall in each county
    mine = f.register(village="冶底村")
    theirs = f.register(jurisdiction_code="140522", village="上庄村")
    # when a county-scoped administrator opens the admin list
    client.force_login(county_admin)
    response = client.get("/admin/cases/outfall/")
    # then only the own county's case is listed, the other answers 404-like redirect
    content = response.content.decode()
    assert response.status_code == 200
    assert mine.name in content
    assert theirs.name not in content
    assert client.get(f"/admin/cases/outfall/{theirs.pk}/change/").status_code == 302


def test_admin_cannot_edit_cases_or_events(client, county_admin):
    outfall = f.register()
    client.force_login(county_admin)
    assert client.get("/admin/cases/outfall/add/").status_code == 403
    response = client.post(f"/admin/cases/outfall/{outfall.pk}/change/", {"name": "x"})
    assert response.status_code == 403
    outfall.refresh_from_db()
    assert outfall.name != "x"
    assert client.get("/admin/cases/outfallevent/add/").status_code == 403
