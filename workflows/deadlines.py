"""Deadlines follow the cases through the lifecycle hooks (cases does not import us).

Each case stage gets a `Deadline` row: survey and tracing from registration, remediation
from classification (ban/merge/standardise), the plan deadline from the remediation plan.
Moving on meets it (the ladder stops); voiding waives it; an extension moves it and every
pending level with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone

from base.workdays import add_working_days

from .models import Basis, Deadline, DeadlineMove, DeadlineRule, EscalationLevel, Stage

LIVE = (Deadline.Status.OPEN, Deadline.Status.MISSED)
REMEDIATED = {"ban", "merge", "standardise"}


def compute_due(rule: DeadlineRule, start: dt.date) -> tuple[dt.date, str]:
    """The milestone while it lies ahead of `start`, else `days` after it."""
    if rule.milestone_id and start <= rule.milestone.due_on:
        return rule.milestone.due_on, Basis.CALENDAR
    if rule.basis == Basis.WORKING:
        return add_working_days(start, rule.days), Basis.WORKING
    return start + dt.timedelta(days=rule.days), Basis.CALENDAR


def ladder(levels: Iterable[EscalationLevel] | None = None) -> list[EscalationLevel]:
    if levels is None:
        levels = EscalationLevel.objects.filter(active=True)
    return sorted((lv for lv in levels if lv.active), key=lambda lv: lv.rank)


def schedule(deadline: Deadline, levels: list[EscalationLevel]) -> None:
    """Set the next level and its date from the current position (in memory)."""
    if deadline.status not in LIVE:
        deadline.next_rank = deadline.next_fire_on = None
        return
    for level in levels:
        if not level.applies_to(deadline.stage):
            continue
        if deadline.current_rank is not None and level.rank <= deadline.current_rank:
            continue
        deadline.next_rank = level.rank
        deadline.next_fire_on = deadline.due_on + dt.timedelta(days=level.offset_days)
        return
    deadline.next_rank = deadline.next_fire_on = None


def _new(
    outfall, stage: str, start: dt.date, due_on: dt.date, basis: str, levels: list[EscalationLevel]
) -> Deadline:
    deadline = Deadline(
        outfall_id=outfall.pk,
        jurisdiction_id=outfall.jurisdiction_id,
        stage=stage,
        start_on=start,
        due_on=due_on,
        original_due_on=due_on,
        basis=basis,
        subject_type="cases.outfall",
        subject_id=str(outfall.pk),
    )
    schedule(deadline, levels)
    return deadline


def _close(outfall_ids, stages, status: str, now: dt.datetime) -> int:
    return Deadline.objects.filter(
        outfall_id__in=outfall_ids, stage__in=stages, status__in=LIVE
    ).update(status=status, closed_at=now, next_rank=None, next_fire_on=None)


def move(
    deadline: Deadline,
    new_date: dt.date,
    *,
    reason: str,
    approver,
    now: dt.datetime,
    levels: list[EscalationLevel],
) -> Deadline:
    """Apply an extension: the due date and every pending level move; fired levels stay."""
    DeadlineMove.objects.create(
        deadline=deadline,
        old_date=deadline.due_on,
        new_date=new_date,
        reason=reason,
        approver=approver,
        moved_at=now,
    )
    deadline.due_on = new_date
    today = timezone.localdate(now)
    if deadline.status == Deadline.Status.MISSED and new_date >= today:
        deadline.status = Deadline.Status.OPEN
    schedule(deadline, levels)
    deadline.save(update_fields=["due_on", "status", "next_rank", "next_fire_on"])
    return deadline


def on_case_events(events: list) -> None:
    """Lifecycle hook (cases.registry): create, meet, waive and move deadlines."""
    if not events:
        return
    rules = {r.stage: r for r in DeadlineRule.objects.select_related("milestone")}
    levels = ladder()
    created: list[Deadline] = []
    dues: dict[tuple[str, dt.date], tuple[dt.date, str]] = {}

    def due_for(stage: str, start: dt.date) -> tuple[dt.date, str]:
        # a bulk import starts thousands of deadlines on one day: compute each date once
        if (stage, start) not in dues:
            dues[stage, start] = compute_due(rules[stage], start)
        return dues[stage, start]

    for event in events:
        outfall = event.outfall
        now = event.at
        start = timezone.localdate(now)
        kind, name = event.kind, event.transition
        if kind in ("registered", "imported") and Stage.SURVEY_TRACING in rules:
            due, basis = due_for(Stage.SURVEY_TRACING, start)
            created.append(_new(outfall, Stage.SURVEY_TRACING, start, due, basis, levels))
        elif kind == "transition" and name == "trace":
            _close([outfall.pk], [Stage.SURVEY_TRACING], Deadline.Status.MET, now)
        elif kind == "transition" and name == "void":
            _close([outfall.pk], list(Stage.values), Deadline.Status.WAIVED, now)
        elif kind == "transition" and name in ("classify", "reopen"):
            if (name == "reopen" or outfall.disposition in REMEDIATED) and (
                Stage.REMEDIATION in rules
            ):
                due, basis = due_for(Stage.REMEDIATION, start)
                created.append(_new(outfall, Stage.REMEDIATION, start, due, basis, levels))
        elif kind == "transition" and name in ("retain", "close"):
            _close([outfall.pk], [Stage.REMEDIATION, Stage.PLAN], Deadline.Status.MET, now)
        elif kind == "plan_set":
            from cases.models import RemediationPlan

            plan = RemediationPlan.objects.get(outfall_id=outfall.pk)
            live = Deadline.objects.filter(outfall=outfall, stage=Stage.PLAN, status__in=LIVE)
            if not live.exists() and outfall.state not in ("retained", "closed"):
                created.append(
                    _new(outfall, Stage.PLAN, start, plan.deadline, Basis.CALENDAR, levels)
                )
        elif kind == "plan_extended":
            new_date = dt.date.fromisoformat(event.diff["deadline"][1])
            for deadline in Deadline.objects.filter(
                outfall=outfall, stage=Stage.PLAN, status__in=LIVE
            ):
                move(
                    deadline,
                    new_date,
                    reason=event.reason,
                    approver=event.approved_by,
                    now=now,
                    levels=levels,
                )
    if created:
        Deadline.objects.bulk_create(created, batch_size=1000)


def live_deadlines_q() -> Q:
    return Q(status__in=LIVE)
