"""Reads of the workflows module (scoped): deadlines and the supervision dashboard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from base.models import Jurisdiction
from base.security import scoped
from cases.choices import EvidenceKind, State
from cases.models import Evidence, Outfall

from .deadlines import LIVE
from .models import Deadline, EscalationLevel, Milestone, SummonsProposal, Supervision


def deadline_list(*, user, outfall: Outfall | None = None) -> QuerySet[Deadline]:
    qs = scoped(Deadline.objects.select_related("jurisdiction"), user)
    if outfall is not None:
        qs = qs.filter(outfall=outfall)
    return qs.order_by("due_on", "id")


@dataclass
class MilestoneProgress:
    milestone: Milestone
    done: int
    total: int

    @property
    def percent(self) -> float:
        return round(100 * self.done / self.total, 1) if self.total else 0.0

    def overdue(self, today: dt.date) -> bool:
        return today > self.milestone.due_on and self.done < self.total


def _voided() -> Q:
    return Q(state=State.CLOSED, closure_reason__in=["duplicate", "not_an_outfall"])


def milestone_progress(*, user, today: dt.date) -> list[MilestoneProgress]:
    cases = scoped(Outfall.objects.all(), user).exclude(_voided())
    signboard = Evidence.objects.filter(outfall=OuterRef("pk"), kind=EvidenceKind.SIGNBOARD)
    counts = cases.aggregate(
        all=Count("pk"),
        traced=Count("pk", filter=~Q(state=State.SURVEYED)),
        classified=Count(
            "pk",
            filter=Q(state__in=[State.CLASSIFIED, State.REMEDIATING, State.RETAINED, State.CLOSED]),
        ),
        remediated=Count("pk", filter=Q(state__in=[State.RETAINED, State.CLOSED])),
        retained=Count("pk", filter=Q(state=State.RETAINED)),
    )
    managed = cases.filter(state=State.RETAINED).filter(Exists(signboard)).count()
    measures = {
        "survey_tracing": (counts["traced"], counts["all"]),
        "remediation": (counts["remediated"], counts["classified"]),
        "management_system": (managed, counts["retained"]),
    }
    return [
        MilestoneProgress(m, *measures.get(m.code, (0, 0)))
        for m in Milestone.objects.order_by("due_on")
    ]


def overdue_matrix(*, user, today: dt.date):
    """Rows per county in scope: overdue live deadlines by the highest level fired."""
    levels = list(EscalationLevel.objects.filter(active=True).order_by("rank"))
    counties = list(
        scoped(
            Jurisdiction.objects.filter(parent__isnull=False, parent__parent__isnull=True), user
        ).order_by("path")
    )
    rows = (
        scoped(Deadline.objects.all(), user)
        .filter(status__in=LIVE, due_on__lt=today)
        .values("jurisdiction_id", "current_rank")
        .annotate(n=Count("pk"))
    )
    table = {(r["jurisdiction_id"], r["current_rank"]): r["n"] for r in rows}
    result = []
    for county in counties:
        cells = [table.get((county.pk, level.rank), 0) for level in levels]
        unescalated = table.get((county.pk, None), 0)
        result.append(
            {
                "county": county,
                "cells": cells,
                "unescalated": unescalated,
                "total": sum(cells) + unescalated,
            }
        )
    return levels, result


def recent_supervisions(*, user, limit: int = 10):
    return scoped(Supervision.objects.select_related("jurisdiction", "outfall"), user)[:limit]


def summons_proposals(*, user, limit: int = 10):
    return (
        scoped(SummonsProposal.objects.select_related("jurisdiction"), user)
        .annotate(case_count=Count("items"))
        .order_by("-month")[:limit]
    )
