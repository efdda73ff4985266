"""Demo data for `manage.py load_demo`: a patrol of the demo river chief and the last
complete quarter closed, with 泽州县's draft sent to the chief for review (idempotent)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from base.models import RiverSegment, User

from . import services
from .models import AssessmentPeriod, Patrol, PeriodKind


def _last_quarter(today: dt.date) -> tuple[int, int]:
    quarter = (today.month - 1) // 3  # the quarter before the current one
    return (today.year, quarter) if quarter else (today.year - 1, 4)


def load_demo_assessments() -> int:
    chief = User.objects.filter(username="zz_river_chief").first()
    officer = User.objects.filter(username="city_officer").first()
    if chief is None or officer is None:
        return 0
    created = 0
    today = timezone.localdate()
    segment = RiverSegment.objects.get(slug="qinhe-140525")
    if not Patrol.objects.filter(chief=chief).exists():
        services.patrol_record(
            actor=chief, segment=segment, patrolled_on=today, route="冶底桥至东谢匠段（演示）"
        )
        created += 1
    year, quarter = _last_quarter(today)
    if not AssessmentPeriod.objects.filter(
        kind=PeriodKind.QUARTER, year=year, quarter=quarter
    ).exists():
        period = services.period_close(
            actor=officer, kind=PeriodKind.QUARTER, year=year, quarter=quarter
        )
        services.assessment_submit(
            actor=officer,
            assessment=period.assessments.get(jurisdiction__code="140525"),
            note="请审核（演示数据）",
        )
        created += period.assessments.count()
    return created
