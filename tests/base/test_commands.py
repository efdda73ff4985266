import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from base.models import Jurisdiction, RoleGrant, User


def test_load_demo_creates_one_user_per_role_and_is_repeatable(db):
    call_command("load_demo")
    call_command("load_demo")
    roles = set(RoleGrant.objects.values_list("role", flat=True))
    assert roles >= {
        "county_officer",
        "county_leader",
        "department_officer",
        "city_officer",
        "city_leader",
        "admin",
    }
    assert User.objects.get(username="zz_river_chief").appointments.count() == 1
    assert RoleGrant.objects.filter(user__username="zz_officer").get().jurisdiction.code == "140525"
    assert User.objects.filter(username="zz_officer").count() == 1


@override_settings(DEMO_DATA_ALLOWED=False)
def test_load_demo_refuses_when_demo_data_is_not_allowed(db):
    with pytest.raises(CommandError, match="production"):
        call_command("load_demo")
    assert not User.objects.exists()


def test_load_demo_refuses_with_production_settings():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="s" * 60,
        DJANGO_ALLOWED_HOSTS="example.org",
        DATABASE_URL="sqlite:////nonexistent/never.db",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "load_demo"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "refused with production settings" in result.stderr


def test_seed_reference_is_idempotent(db):
    before = list(Jurisdiction.objects.values())
    call_command("seed_reference")
    assert list(Jurisdiction.objects.values()) == before
