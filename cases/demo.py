"""Demo cases for `manage.py load_demo`: a handful of outfalls in every lifecycle state,
built through the real services with the demo officers and leaders (idempotent)."""

from __future__ import annotations

from decimal import Decimal

from base.models import User

from . import factories as f
from .choices import Disposition, State
from .models import Outfall

DEMO_MARK = "演示数据"

# (county code, officer, leader, town, village, landmark, lon, lat, state, disposition, subtype)
DEMO_CASES = [
    (
        "140525",
        "zz_officer",
        "zz_leader",
        "南村镇",
        "冶底村",
        "冶底桥下游50米",
        "112.851",
        "35.512",
        State.SURVEYED,
        None,
        None,
    ),
    (
        "140525",
        "zz_officer",
        "zz_leader",
        "北义城镇",
        "北义城村",
        "村东涵洞",
        "112.902",
        "35.421",
        State.TRACED,
        None,
        None,
    ),
    (
        "140525",
        "zz_officer",
        "zz_leader",
        "金村镇",
        "金村",
        "丹河左岸排水渠",
        "112.883",
        "35.598",
        State.CLASSIFIED,
        Disposition.STANDARDISE,
        "yh_urban_storm",
    ),
    (
        "140525",
        "zz_officer",
        "zz_leader",
        "高都镇",
        "高都村",
        "工业园区雨水口",
        "112.921",
        "35.634",
        State.REMEDIATING,
        Disposition.STANDARDISE,
        "qt_other",
    ),
    (
        "140525",
        "zz_officer",
        "zz_leader",
        "大东沟镇",
        "东沟村",
        "养殖场排口",
        "112.755",
        "35.467",
        State.CLOSED,
        Disposition.BAN,
        "qt_small_livestock",
    ),
    (
        "140525",
        "zz_officer",
        "zz_leader",
        "巴公镇",
        "巴公一村",
        "污水处理厂总排口",
        "112.958",
        "35.651",
        State.RETAINED,
        Disposition.STANDARDISE,
        "qt_other",
    ),
    (
        "140522",
        "yc_officer",
        "yc_leader",
        "润城镇",
        "上庄村",
        "沁河右岸",
        "112.498",
        "35.502",
        State.SURVEYED,
        None,
        None,
    ),
    (
        "140522",
        "yc_officer",
        "yc_leader",
        "北留镇",
        "郭峪村",
        "村南排水沟",
        "112.534",
        "35.524",
        State.TRACED,
        None,
        None,
    ),
]


def load_demo_cases() -> int:
    if Outfall.objects.filter(remarks=DEMO_MARK).exists():
        return 0
    count = 0
    for (
        code,
        officer,
        leader,
        town,
        village,
        landmark,
        lon,
        lat,
        state,
        disposition,
        subtype,
    ) in DEMO_CASES:
        actor = User.objects.get(username=officer)
        approver = User.objects.get(username=leader)
        outfall = f.register(
            actor=actor,
            jurisdiction_code=code,
            town=town,
            village=village,
            landmark=landmark,
            longitude=Decimal(lon),
            latitude=Decimal(lat),
            remarks=DEMO_MARK,
        )
        f.drive_to(
            outfall,
            state,
            disposition=disposition or Disposition.STANDARDISE,
            subtype=subtype or "qt_other",
            approver=approver,
            actor=actor,
        )
        count += 1
    return count
