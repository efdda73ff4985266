"""Reads of the workflows module (scoped): deadlines, the supervision dashboard, approvals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from base.models import Jurisdiction
from base.security import scoped
from cases.choices import EvidenceKind, State
from cases.models import Evidence, Outfall

from .deadlines import LIVE
from .models import (
    Deadline,
    EscalationLevel,
    Milestone,
    Proposal,
    Summons,
    SummonsProposal,
    Supervision,
)

OPEN_TASK = (STATUS.NEW, STATUS.ASSIGNED)


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
        .annotate(
            case_count=Count("items"),
            # the summons taken up from it (a rejected one frees the proposal again)
            summons_pk=Subquery(
                Summons.objects.filter(summons_proposal=OuterRef("pk"))
                .exclude(state=Summons.State.REJECTED)
                .order_by("-pk")
                .values("pk")[:1]
            ),
        )
        .order_by("-month")[:limit]
    )


# --- approval requests (issue 5) -----------------------------------------------------------


def _proposals(user) -> QuerySet[Proposal]:
    open_task = Task.objects.filter(
        process_id=OuterRef("pk"), flow_task_type="HUMAN", status__in=OPEN_TASK
    )
    return (
        scoped(Proposal.objects.all(), user)
        .select_related(
            "outfall__jurisdiction", "outfall__water_body", "proposer", "decided_by", "plan"
        )
        .annotate(
            task_owner_id=Subquery(open_task.values("owner_id")[:1]),
            task_open=Exists(open_task),
        )
    )


def proposal_get(*, user, pk) -> Proposal:
    """One approval request the user may see; missing and out of scope both raise Http404."""
    try:
        return _proposals(user).select_related("override").get(pk=pk)
    except (Proposal.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def proposals_of_case(*, user, outfall: Outfall, only_open: bool = False):
    qs = _proposals(user).filter(outfall=outfall)
    if only_open:
        qs = qs.filter(decision=Proposal.Decision.PENDING)
    return qs.order_by("-proposed_at", "-pk")


def tasks_of(*, user) -> QuerySet[Proposal]:
    """我的待办: open approval tasks the user has claimed."""
    from .approvals import in_queue_q

    return (
        _proposals(user)
        .filter(in_queue_q(user), decision=Proposal.Decision.PENDING, task_owner_id=user.pk)
        .order_by("proposed_at", "pk")
    )


def claimable_for(*, user) -> QuerySet[Proposal]:
    """待领取: open approval tasks nobody has claimed, that the user may decide."""
    from .approvals import in_queue_q

    return (
        _proposals(user)
        .filter(in_queue_q(user), decision=Proposal.Decision.PENDING, task_open=True)
        .filter(task_owner_id__isnull=True)
        .order_by("proposed_at", "pk")
    )


def decided_for(*, user) -> QuerySet[Proposal]:
    """已办: decided (or withdrawn) requests of the cases in the user's scope."""
    return (
        _proposals(user).exclude(decision=Proposal.Decision.PENDING).order_by("-decided_at", "-pk")
    )


def submitted_by(*, user) -> QuerySet[Proposal]:
    """我的申请: the requests the user proposed, open first."""
    return _proposals(user).filter(proposer=user).order_by("-proposed_at", "-pk")


# --- summons (约谈) and accountability (问责) ------------------------------------------------


def summons_list(*, user, state: str = "", county: int | str | None = None):
    from .models import Summons

    qs = scoped(Summons.objects.select_related("jurisdiction", "proposer", "notice"), user)
    if state:
        qs = qs.filter(state=state)
    if county:
        qs = qs.filter(jurisdiction_id=county)
    return qs.order_by("-proposed_at", "-pk")


def summons_get(*, user, pk):
    """One summons in the user's scope; Http404 for missing and forbidden alike."""
    from .models import Summons

    if not user.has_perm("workflows.view_summons"):
        raise Http404
    found = (
        scoped(Summons.objects.select_related("jurisdiction", "proposer", "decided_by"), user)
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def accountability_list(*, user, state: str = ""):
    from .models import Accountability

    qs = scoped(Accountability.objects.select_related("jurisdiction", "proposer"), user)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-pk")


def accountability_get(*, user, pk):
    from .models import Accountability

    if not user.has_perm("workflows.view_accountability"):
        raise Http404
    found = (
        scoped(
            Accountability.objects.select_related(
                "jurisdiction", "summons_process", "proposer", "decided_by", "letter"
            ),
            user,
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def summons_counties(*, user):
    from .models import Summons

    ids = scoped(Summons.objects.all(), user).values("jurisdiction_id")
    return Jurisdiction.objects.filter(pk__in=ids).order_by("path")
