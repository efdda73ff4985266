"""Reference data of the cases module (seed annex; DOMAIN.md §2, §4), synced on post_migrate.

Jincheng promotes 城镇雨洪排口 to its own first level (YH); HJ 1312-2023 files it under 其他.
"""

from __future__ import annotations

from django.db import transaction

from base.data import upsert

from .choices import Disposition, EvidenceKind
from .models import Category, ChecklistItem, Subtype

CATEGORIES = [
    ("GY", "工业排污口"),
    ("SH", "城镇污水处理厂排污口"),
    ("NY", "农业排口"),
    ("YH", "城镇雨洪排口"),
    ("QT", "其他排口"),
]

# (key, category, name, needs setting approval, stormwater)
SUBTYPES = [
    ("gy_enterprise", "GY", "工矿企业排污口", True, False),
    ("gy_park_plant", "GY", "工业及其他各类园区污水处理厂排污口", True, False),
    ("gy_enterprise_storm", "GY", "工矿企业雨洪排口", False, True),
    ("gy_park_plant_storm", "GY", "工业及其他各类园区污水处理厂雨洪排口", False, True),
    ("sh_urban_plant", "SH", "城镇污水处理厂排污口", True, False),
    ("ny_livestock", "NY", "规模化畜禽养殖排污口", False, False),
    ("ny_aquaculture", "NY", "规模化水产养殖排污口", False, False),
    ("yh_urban_storm", "YH", "城镇雨洪排口", False, True),
    ("qt_irrigation", "QT", "大中型灌区口", False, False),
    ("qt_port", "QT", "港口码头排污口", False, False),
    ("qt_small_livestock", "QT", "规模以下畜禽养殖排污口", False, False),
    ("qt_small_aquaculture", "QT", "规模以下水产养殖排污口", False, False),
    ("qt_urban_scattered", "QT", "城镇生活污水散排口", False, False),
    ("qt_rural_facility", "QT", "农村污水处理设施排污口", False, False),
    ("qt_rural_scattered", "QT", "农村生活污水散排口", False, False),
    ("qt_other", "QT", "其他排污口", False, False),
]

_RETAINED = [Disposition.STANDARDISE, Disposition.KEEP]
E = EvidenceKind

# Sign-off checklists (DESIGN.md §4 guards; DOMAIN.md §4 rule 4). Each item is met by any one
# evidence of the listed kinds. Data: administrators may deactivate or add items.
CHECKLIST = [
    # retain: standardisation (规范化) checklist
    dict(
        code="retain-signboard",
        transition="retain",
        label="标识牌",
        dispositions=_RETAINED,
        evidence_kinds=[E.SIGNBOARD],
    ),
    dict(
        code="retain-sampling-point",
        transition="retain",
        label="采样点",
        dispositions=_RETAINED,
        evidence_kinds=[E.SAMPLING_POINT],
    ),
    dict(
        code="retain-archive",
        transition="retain",
        label="建档资料",
        dispositions=_RETAINED,
        evidence_kinds=[E.ARCHIVE],
    ),
    dict(
        code="retain-acceptance",
        transition="retain",
        label="验收记录",
        dispositions=_RETAINED,
        evidence_kinds=[E.ACCEPTANCE],
    ),
    dict(
        code="retain-setting-approval",
        transition="retain",
        label="设置审核或登记文件",
        dispositions=_RETAINED,
        categories=["GY", "SH"],
        evidence_kinds=[E.SETTING_APPROVAL, E.REGISTRATION],
    ),
    # rule 4: 工矿企业雨洪排口 and sewage-plant inflow overflow outlets
    dict(
        code="retain-gate-valve",
        transition="retain",
        label="出水口闸阀（汛期开启、非汛期封堵）",
        dispositions=_RETAINED,
        subtypes=["gy_enterprise_storm"],
        only_inflow_overflow=True,
        evidence_kinds=[E.GATE_VALVE],
    ),
    dict(
        code="retain-video",
        transition="retain",
        label="在线视频监控",
        dispositions=_RETAINED,
        subtypes=["gy_enterprise_storm"],
        only_inflow_overflow=True,
        evidence_kinds=[E.VIDEO_MONITORING],
    ),
    dict(
        code="retain-filing",
        transition="retain",
        label="向属地生态环境部门备案",
        dispositions=_RETAINED,
        subtypes=["gy_enterprise_storm"],
        only_inflow_overflow=True,
        evidence_kinds=[E.FILING],
    ),
    # close
    dict(
        code="close-ban-removal",
        transition="close",
        label="拆除或封堵证明",
        dispositions=[Disposition.BAN],
        evidence_kinds=[E.PLUG_PROOF],
    ),
    dict(
        code="close-acceptance",
        transition="close",
        label="验收记录",
        dispositions=[Disposition.BAN, Disposition.MERGE],
        evidence_kinds=[E.ACCEPTANCE],
    ),
]


@transaction.atomic
def sync_cases_reference_data() -> None:
    categories = {}
    for sort, (code, name) in enumerate(CATEGORIES):
        obj, _ = Category.objects.update_or_create(code=code, defaults={"name": name, "sort": sort})
        categories[code] = obj
    for sort, (key, category, name, approval, storm) in enumerate(SUBTYPES):
        Subtype.objects.update_or_create(
            code=key,
            defaults={
                "category": categories[category],
                "name": name,
                "sort": sort,
                "needs_setting_approval": approval,
                "is_stormwater": storm,
            },
        )
    for item in CHECKLIST:
        defaults = {
            "transition": item["transition"],
            "label": item["label"],
            "dispositions": [str(d) for d in item.get("dispositions", [])],
            "categories": item.get("categories", []),
            "subtypes": item.get("subtypes", []),
            "only_inflow_overflow": item.get("only_inflow_overflow", False),
            "evidence_kinds": [str(k) for k in item["evidence_kinds"]],
        }
        upsert(ChecklistItem, {"code": item["code"]}, defaults)
