"""Editable data of the workflows module: milestones, deadline rules, the escalation ladder,
the approval policy.

Created when missing, never overwritten: administrators edit these rows in the admin.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from base.models import Role

from .models import (
    ApprovalLevel,
    Basis,
    DeadlineRule,
    EscalationLevel,
    Milestone,
    Stage,
    TransitionPolicy,
)

# Seed plan 三/四: survey + tracing by 2023-12-31, remediation by 2024-12-31, the management
# system by 2025-12-31 (DOMAIN.md §8).
MILESTONES = [
    ("survey_tracing", "排查溯源完成", dt.date(2023, 12, 31), Stage.SURVEY_TRACING),
    ("remediation", "整治任务完成", dt.date(2024, 12, 31), Stage.REMEDIATION),
    ("management_system", "监督管理制度建立", dt.date(2025, 12, 31), ""),
]

# (stage, milestone, days, basis): the milestone while it lies ahead, else N days later.
DEADLINE_RULES = [
    (Stage.SURVEY_TRACING, "survey_tracing", 20, Basis.WORKING),
    (Stage.REMEDIATION, "remediation", 60, Basis.WORKING),
    (Stage.SUMMONS_REPORT, None, 30, Basis.CALENDAR),
]

A = EscalationLevel.Action
# DESIGN.md §5, as data.
LADDER = [
    dict(
        code="L0",
        rank=0,
        name="提醒",
        offset_days=-7,
        notify_case_officer=True,
        notify_lead_department=True,
        action=A.REMIND,
    ),
    dict(
        code="L1",
        rank=1,
        name="督办",
        offset_days=0,
        recipient_roles=[Role.COUNTY_OFFICER, Role.COUNTY_LEADER],
        action=A.OVERDUE,
    ),
    dict(
        code="L2",
        rank=2,
        name="市级督办",
        offset_days=15,
        recipient_roles=[Role.CITY_OFFICER],
        river_chief_levels=["county"],
        action=A.SUPERVISION,
    ),
    dict(
        code="L3",
        rank=3,
        name="约谈建议",
        offset_days=30,
        recipient_roles=[Role.CITY_LEADER],
        action=A.SUMMONS_PROPOSAL,
    ),
    dict(
        code="L4",
        rank=4,
        name="问责建议",
        offset_days=0,
        stages=[Stage.SUMMONS_REPORT],
        recipient_roles=[Role.CITY_LEADER],
        action=A.ACCOUNTABILITY,
    ),
]


# DESIGN.md §4: every lifecycle transition is proposed by a county (or city) officer and
# approved by a county leader who is not the proposer; rule overrides and deadline
# extensions are approved by a city leader.
_PROPOSERS = [Role.COUNTY_OFFICER, Role.CITY_OFFICER]
APPROVAL_POLICIES = [
    *(
        (name, _PROPOSERS, [Role.COUNTY_LEADER], ApprovalLevel.COUNTY)
        for name in ("trace", "classify", "start_remediation", "retain", "close", "void", "reopen")
    ),
    (TransitionPolicy.RULE_OVERRIDE, _PROPOSERS, [Role.CITY_LEADER], ApprovalLevel.CITY),
    (TransitionPolicy.DEADLINE_EXTENSION, _PROPOSERS, [Role.CITY_LEADER], ApprovalLevel.CITY),
]


@transaction.atomic
def sync_workflows_data() -> None:
    milestones = {}
    for code, name, due_on, stage in MILESTONES:
        milestones[code], _ = Milestone.objects.get_or_create(
            code=code, defaults={"name": name, "due_on": due_on, "stage": stage}
        )
    for stage, milestone, days, basis in DEADLINE_RULES:
        DeadlineRule.objects.get_or_create(
            stage=stage,
            defaults={"milestone": milestones.get(milestone), "days": days, "basis": basis},
        )
    for level in LADDER:
        values = {k: v for k, v in level.items() if k != "code"}
        for key in ("recipient_roles",):
            values[key] = [str(r) for r in values.get(key, [])]
        EscalationLevel.objects.get_or_create(code=level["code"], defaults=values)
    for name, proposers, approvers, level in APPROVAL_POLICIES:
        TransitionPolicy.objects.get_or_create(
            transition=name,
            defaults={
                "requires_approval": True,
                "proposer_roles": [str(r) for r in proposers],
                "approver_roles": [str(r) for r in approvers],
                "level": level,
            },
        )
