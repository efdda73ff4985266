import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from base.factories import UserFactory
from notifications import services
from notifications.models import EmailMode

from .backends import BouncingBackend, FlakyBackend

BOUNCING = "tests.notifications.backends.BouncingBackend"
FLAKY = "tests.notifications.backends.FlakyBackend"
BROKEN = "tests.notifications.backends.BrokenBackend"

# a fixed clock: Wednesday 2024-05-15 10:00 in Asia/Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2024, 5, 15, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _reset_backends():
    BouncingBackend.attempts.clear()
    FlakyBackend.failures_left = 0


def user_in_mode(username: str, mode: str, *, email: str | None = None):
    user = UserFactory(username=username, **({"email": email} if email is not None else {}))
    if mode != EmailMode.IMMEDIATE:
        services.notification_preference_set(
            user=user, email_mode=mode, now=NOW - dt.timedelta(days=30)
        )
    return user


@pytest.fixture
def immediate_user(db):
    return user_in_mode("immediate", EmailMode.IMMEDIATE)


@pytest.fixture
def digest_user(db):
    return user_in_mode("digester", EmailMode.DIGEST)


@pytest.fixture
def quiet_user(db):
    return user_in_mode("quiet", EmailMode.NONE)


@pytest.fixture
def no_address_user(db):
    return user_in_mode("no_address", EmailMode.IMMEDIATE, email="")


@pytest.fixture
def bouncing_user(db):
    return user_in_mode("bouncing", EmailMode.IMMEDIATE, email="bounce@example.org")
