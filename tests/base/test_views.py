import pytest
from django.urls import reverse

from base.models import WorkerHeartbeat


def test_anonymous_root_redirects_to_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_is_chinese_by_default(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    content = response.content.decode()
    assert '<html lang="zh-hans"' in content or 'lang="zh-hans"' in content
    assert "入河排污口监督管理系统" in content
    assert "登录" in content


def test_login_form_signs_in_and_lands_on_the_site(client, county_officer):
    response = client.post(
        reverse("login"), {"username": "zz_officer", "password": "demo-pass-2024"}, follow=True
    )
    assert response.status_code == 200
    assert response.wsgi_request.user == county_officer


def test_my_access_page_lists_roles_and_jurisdictions_in_chinese(client, county_officer):
    client.force_login(county_officer)
    response = client.get("/base/access/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "县级经办人" in content
    assert "泽州县" in content
    assert "阳城县" not in content


def test_my_access_page_shows_river_chief_appointment(client, zezhou_river_chief):
    client.force_login(zezhou_river_chief)
    content = client.get("/base/access/").content.decode()
    assert "沁河泽州县段" in content
    assert "县级" in content


def test_missing_holiday_schedule_warning_is_visible(client, county_officer, settings):
    # today is in 2026; 2027's schedule is not entered yet
    client.force_login(county_officer)
    content = client.get("/base/access/").content.decode()
    assert 'data-testid="calendar-warning"' in content
    assert "2027" in content


def test_worker_status_is_shown(client, county_officer, django_capture_on_commit_callbacks):
    from django.utils import timezone

    WorkerHeartbeat.objects.create(hostname="celery@host", last_seen=timezone.now())
    client.force_login(county_officer)
    content = client.get("/base/access/").content.decode()
    assert "运行中" in content


def test_language_switch_to_english(client, county_officer):
    client.force_login(county_officer)
    client.post(reverse("set_language"), {"language": "en", "next": "/base/access/"})
    content = client.get("/base/access/").content.decode()
    assert "My roles and jurisdictions" in content
    assert "County officer" in content


@pytest.mark.parametrize("path", ["/admin/", "/admin/base/jurisdiction/"])
def test_admin_requires_staff(client, county_officer, path):
    client.force_login(county_officer)
    response = client.get(path)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_lists_reference_data_for_administrator(client, system_admin):
    client.force_login(system_admin)
    response = client.get("/admin/base/jurisdiction/")
    assert response.status_code == 200
    assert "泽州县" in response.content.decode()
