"""Scenario helpers of the summons tests: every state reached through the real services."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from workflows import summons as services
from workflows.escalation import sweep
from workflows.models import SummonsProposal

from .conftest import at, register_on

D = dt.date
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SWEEP_L3 = D(2026, 1, 5)  # the case's survey deadline (2023-12-31) is long overdue
PROPOSED, DECIDED, SERVED, MET = D(2026, 1, 6), D(2026, 1, 7), D(2026, 1, 8), D(2026, 1, 12)
REPORT_DUE = MET + dt.timedelta(days=30)


def upload(name: str = "receipt.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def l3_proposal(county_officer) -> SummonsProposal:
    """Run the sweep on an overdue 泽州县 case: the ladder's L3 proposes the summons."""
    register_on(D(2023, 9, 1), actor=county_officer)
    sweep(now=at(SWEEP_L3))
    return SummonsProposal.objects.get(jurisdiction__code="140525")


def propose(city_officer, proposal, **overrides):
    fields = {
        "cause": "入河排污口排查溯源任务逾期未完成",
        "meeting_time": "2026年1月12日上午9:00",
        "meeting_place": "晋城市生态环境局三楼会议室",
        "contact": "王明，0356-2021234",
        "persons": "泽州县人民政府分管副县长",
        **overrides,
    }
    return services.summons_propose(
        actor=city_officer, summons_proposal=proposal, now=at(PROPOSED), **fields
    )


def approve(city_leader, summons):
    return services.summons_decide(
        actor=city_leader, summons=summons, approve=True, now=at(DECIDED)
    )


def serve(city_officer, summons):
    return services.summons_serve(
        actor=city_officer,
        summons=summons,
        method="in_person",
        served_on=SERVED,
        receiver="李华（泽州县政府办）",
        receipt=upload(),
        now=at(SERVED),
    )


def meet(city_officer, summons):
    return services.summons_meet(
        actor=city_officer,
        summons=summons,
        met_on=MET,
        place="晋城市生态环境局三楼会议室",
        attendees="市生态环境局局长\n泽州县副县长",
        problems="排查溯源任务逾期",
        requirements="30日内完成溯源",
        commitments="按期完成整改",
        now=at(MET),
    )


def to_report_due(county_officer, city_officer, city_leader):
    summons = propose(city_officer, l3_proposal(county_officer))
    approve(city_leader, summons)
    serve(city_officer, summons)
    return meet(city_officer, summons)
