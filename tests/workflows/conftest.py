import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from cases import factories as f
from cases import services

TZ = ZoneInfo("Asia/Shanghai")


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def register_on(day: dt.date, actor=None, jurisdiction_code: str = "140525", **overrides):
    return services.outfall_register(
        actor=actor, data=f.survey_data(jurisdiction_code, **overrides), now=at(day)
    )


@pytest.fixture
def zezhou_case(county_officer):
    # registered before the survey milestone, on the 沁河泽州县段 segment
    return register_on(dt.date(2023, 9, 1), actor=county_officer)
