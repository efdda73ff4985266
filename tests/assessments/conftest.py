"""A hand-built data set for 2025 Q1 (1 Jan - 31 Mar 2025; cut-off 1 Apr 2025 00:00 +08:00).

Every case is walked through the real services at the given moments, and the escalation
sweep runs on 10 Jan and 25 Mar 2025 (and once after the period, which must not count):

泽州县 (140525)                                        as of the end of 2025 Q1
  A  reg 2023-09-01, traced, classified 2024-03-01,     traced; remediation on time
     retained 2024-09-30
  B  same, retained 2025-01-15 (plan due 2024-11-30)    traced; remediation late; its
                                                        plan deadline hit L3 on 10 Jan
  C  same, never finished (plan due 2024-12-31)         traced; remediation overdue; L3
  D  traced, classified 2025-01-06, plan due 03-01      traced; remediation not due; L2
  F  reg 2023-09-01, never traced                       untraced; L3
  G  reg 2025-02-24 (survey due 03-24), untraced        untraced; L1
  H  reg 2023-09-01, voided 2024-01-05                  voided
  I  kept and retained 2024-03-10, reopened 2025-02-01  traced; reopened; remediation
                                                        not due
  J  reg 2023-09-01, traced only on 2025-04-05          untraced at the cut-off; L3
  M  reg 2025-02-26 (survey due 03-26), untraced        untraced; overdue, L0 only: "none"
阳城县 (140522)
  K  reg 2023-09-01, traced 2023-10-01                  traced

Summons proposals (L3 of the sweeps): 泽州县 January (B, F, J) and March (C).
Patrols: two county-level chiefs in 泽州县 (沁河, 丹河); the 沁河 chief patrols on 10 Jan and
5 Mar 2025 (and on 30 Dec 2024, and on 31 Mar recorded on 20 Apr: neither counts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from base.factories import river_chief, user_with_role
from base.models import Department, Role
from cases import factories as f
from cases import services
from cases.choices import Disposition
from cases.models import Subtype, TracingRecord
from workflows.escalation import sweep

TZ = ZoneInfo("Asia/Shanghai")
ZEZHOU, YANGCHENG, CITY = "140525", "140522", "140500"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


D = dt.date


class Walker:
    """Drives cases through the real services at chosen moments (actor: the system)."""

    def __init__(self):
        self.leaders = {}

    def leader(self, outfall):
        code = outfall.jurisdiction.code
        if code not in self.leaders:
            self.leaders[code] = user_with_role(
                Role.COUNTY_LEADER, code, username=f"walker_leader_{code}"
            )
        return self.leaders[code]

    def register(self, day, code=ZEZHOU, **overrides):
        return services.outfall_register(
            actor=None, data=f.survey_data(code, survey_date=day, **overrides), now=at(day)
        )

    def apply(self, outfall, name, day, **kwargs):
        return services.outfall_transition(
            actor=None,
            outfall=outfall.pk,
            transition=name,
            approved_by=self.leader(outfall),
            now=at(day, 11),
            **kwargs,
        )

    def trace(self, outfall, day):
        services.tracing_record_add(
            actor=None,
            outfall=outfall,
            method=TracingRecord.Method.FIELD,
            traced_on=day,
            finding="沿管线排查至排放单位",
            result=TracingRecord.Result.FOUND,
            now=at(day),
        )
        services.outfall_entity_link(
            actor=None, outfall=outfall, entity=f.EntityFactory(), now=at(day)
        )
        return self.apply(outfall, "trace", day)

    def classify(self, outfall, day, disposition=Disposition.STANDARDISE):
        subtype = Subtype.objects.select_related("category").get(code="qt_other")
        services.outfall_classification_set(
            actor=None,
            outfall=outfall,
            category=subtype.category,
            subtype=subtype,
            disposition=disposition,
            now=at(day),
        )
        return self.apply(outfall, "classify", day)

    def start(self, outfall, day, deadline):
        department = Department.objects.get(code=f"{outfall.jurisdiction.code}-housing")
        services.plan_set(
            actor=None,
            outfall=outfall,
            measures="截污纳管、规范化建设",
            lead_department=department,
            deadline=deadline,
            now=at(day),
        )
        return self.apply(outfall, "start_remediation", day)

    def retain(self, outfall, day):
        for kind in f.RETAIN_KINDS:
            services.evidence_add(
                actor=None, outfall=outfall, kind=kind, file=f.png_upload(), now=at(day)
            )
        return self.apply(outfall, "retain", day)


@dataclass
class Scenario:
    cases: dict
    chiefs: dict
    patrols: list


@pytest.fixture(autouse=True)
def _english_messages():
    # services' messages are matched in English (pages are rendered in the request's language)
    with translation.override("en"):
        yield


@pytest.fixture
def walker(db):
    return Walker()


@pytest.fixture
def scenario(db, walker) -> Scenario:
    w = walker
    c = {}
    for name in "ABCDFHIJ":
        c[name] = w.register(D(2023, 9, 1))
    c["K"] = w.register(D(2023, 9, 1), code=YANGCHENG)
    for name in "ABCDIK":
        w.trace(c[name], D(2023, 10, 1))
    for name in "ABC":
        w.classify(c[name], D(2024, 3, 1))
    w.start(c["A"], D(2024, 3, 6), D(2024, 10, 31))
    w.start(c["B"], D(2024, 3, 6), D(2024, 11, 30))
    w.start(c["C"], D(2024, 3, 6), D(2024, 12, 31))
    w.retain(c["A"], D(2024, 9, 30))
    w.apply(c["H"], "void", D(2024, 1, 5), changes={"closure_reason": "duplicate"})
    w.classify(c["I"], D(2024, 3, 1), disposition=Disposition.KEEP)
    w.retain(c["I"], D(2024, 3, 10))
    # the period's year
    w.classify(c["D"], D(2025, 1, 6))
    w.start(c["D"], D(2025, 1, 8), D(2025, 3, 1))
    sweep(now=at(D(2025, 1, 10), 6))
    w.retain(c["B"], D(2025, 1, 15))
    w.apply(
        c["I"],
        "reopen",
        D(2025, 2, 1),
        changes={"reopen_basis": "complaint", "reopen_reference": "信访件2025-017"},
    )
    c["G"] = w.register(D(2025, 2, 24))
    c["M"] = w.register(D(2025, 2, 26))
    sweep(now=at(D(2025, 3, 25), 6))
    # after the period: must not count
    w.trace(c["J"], D(2025, 4, 5))
    sweep(now=at(D(2025, 4, 20), 6))

    chiefs = {
        "qinhe": river_chief("qinhe-140525", username="zz_river_chief", full_name="王河长"),
        "danhe": river_chief("danhe-140525", username="zz_danhe_chief", full_name="李河长"),
    }
    from assessments.services import patrol_record
    from base.models import RiverSegment

    qinhe = RiverSegment.objects.get(slug="qinhe-140525")
    patrols = [
        patrol_record(
            actor=chiefs["qinhe"],
            segment=qinhe,
            patrolled_on=day,
            route="冶底桥至东谢匠段",
            now=recorded,
        )
        for day, recorded in [
            (D(2024, 12, 30), at(D(2024, 12, 30), 18)),
            (D(2025, 1, 10), at(D(2025, 1, 10), 18)),
            (D(2025, 3, 5), at(D(2025, 3, 6), 9)),
            (D(2025, 3, 31), at(D(2025, 4, 20), 9)),
        ]
    ]
    return Scenario(cases=c, chiefs=chiefs, patrols=patrols)


def ids(scenario: Scenario, names: str) -> list[int]:
    return sorted(scenario.cases[n].pk for n in names)
