"""Shared fixtures: one user per role (DESIGN.md §1), granted through the real services."""

import pytest

from base.factories import river_chief, user_with_role
from base.models import Department, Role

ZEZHOU, YANGCHENG, CITY = "140525", "140522", "140500"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # uploaded evidence and generated files go to a per-test folder, never to var/
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def county_officer(db):
    return user_with_role(Role.COUNTY_OFFICER, ZEZHOU, username="zz_officer")


@pytest.fixture
def county_leader(db):
    return user_with_role(Role.COUNTY_LEADER, ZEZHOU, username="zz_leader")


@pytest.fixture
def other_county_officer(db):
    return user_with_role(Role.COUNTY_OFFICER, YANGCHENG, username="yc_officer")


@pytest.fixture
def other_county_leader(db):
    return user_with_role(Role.COUNTY_LEADER, YANGCHENG, username="yc_leader")


@pytest.fixture
def department_officer(db):
    department = Department.objects.get(code=f"{ZEZHOU}-housing")
    return user_with_role(
        Role.DEPARTMENT_OFFICER, ZEZHOU, department=department, username="zz_housing"
    )


@pytest.fixture
def city_officer(db):
    return user_with_role(Role.CITY_OFFICER, CITY, username="city_officer")


@pytest.fixture
def city_leader(db):
    return user_with_role(Role.CITY_LEADER, CITY, username="city_leader")


@pytest.fixture
def zezhou_river_chief(db):
    return river_chief("qinhe-140525", username="zz_river_chief")


@pytest.fixture
def system_admin(db):
    user = user_with_role(Role.ADMIN, CITY, username="admin", is_staff=True)
    return user
