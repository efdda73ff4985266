"""Editable data of the assessments module: patrol requirements and the first formula version.

Created when missing, never overwritten (`get_or_create`): administrators edit the patrol
requirements in the admin, and change the formula by adding a version (`services.
formula_revise`), never by editing one.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from base.models import RiverChiefAppointment

from .models import FormulaVersion, PatrolRequirement, PeriodKind

FORMULA_CODE = "river_chief_outfall"
FORMULA_NAME = "河长制考核入河排污口整治和监督管理项目评分办法"

# DOMAIN.md §9: city-level river chiefs patrol at least twice a year, county-level at
# least once a quarter (level, times, per).
PATROL_REQUIREMENTS = [
    (RiverChiefAppointment.Level.CITY, 2, PeriodKind.YEAR),
    (RiverChiefAppointment.Level.COUNTY, 1, PeriodKind.QUARTER),
]

# Version 1 of the formula (100 points; seed 四(十三): outfall remediation and supervision
# enter the river-chief assessment). Overdue and reopened cases deduct per case; a summons
# proposal not yet rectified deducts 5.
COMPONENTS_V1 = [
    {
        "code": "survey_trace",
        "label": "排查溯源完成率",
        "method": "ratio",
        "weight": "20",
        "metric": "survey_trace",
        "numerator": ["traced"],
        "denominator": ["traced", "untraced"],
        "full_at": "1",
        "zero_at": "0",
        "empty": "full",
    },
    {
        "code": "remediation_on_time",
        "label": "整治按期完成率",
        "method": "ratio",
        "weight": "30",
        "metric": "remediation",
        "numerator": ["on_time"],
        "denominator": ["on_time", "late", "overdue"],
        "full_at": "1",
        "zero_at": "0",
        "empty": "full",
    },
    {
        "code": "overdue",
        "label": "逾期督办情况",
        "method": "deduct",
        "weight": "20",
        "metric": "overdue",
        "per": {"none": "0.5", "L1": "1", "L2": "2", "L3": "4", "L4": "5"},
    },
    {
        "code": "summons",
        "label": "约谈整改情况",
        "method": "deduct",
        "weight": "10",
        "metric": "summons",
        "per": {"unrectified": "5"},
    },
    {
        "code": "patrols",
        "label": "河长巡河频次",
        "method": "ratio",
        "weight": "10",
        "metric": "patrols",
        "numerator": ["credited"],
        "denominator": ["required"],
        "full_at": "1",
        "zero_at": "0",
        "empty": "full",
    },
    {
        "code": "reopened",
        "label": "问题反弹情况",
        "method": "deduct",
        "weight": "10",
        "metric": "reopened",
        "per": {"reopened": "2"},
    },
]

GRADES_V1 = [
    {"code": "excellent", "label": "优秀", "min": "90"},
    {"code": "good", "label": "良好", "min": "80"},
    {"code": "pass", "label": "合格", "min": "70"},
    {"code": "fail", "label": "不合格", "min": "0"},
]


@transaction.atomic
def sync_assessments_data() -> None:
    for level, times, per in PATROL_REQUIREMENTS:
        PatrolRequirement.objects.get_or_create(level=level, defaults={"times": times, "per": per})
    if not FormulaVersion.objects.filter(code=FORMULA_CODE).exists():
        FormulaVersion.objects.create(
            code=FORMULA_CODE,
            version=1,
            name=FORMULA_NAME,
            components=COMPONENTS_V1,
            grades=GRADES_V1,
            note="初始版本",
            created_at=timezone.now(),
        )
