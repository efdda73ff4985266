"""The escalation sweep (DESIGN.md §5; STYLE.md Celery): due deadlines in batches.

Each batch is one transaction: rows are picked with `select_for_update(skip_locked=True)`,
every level now due is recorded as an `EscalationStep` under the (deadline, level) unique
constraint, its action runs (notifications with per-recipient de-duplication keys, a
supervision record, the month's summons proposal), and the deadline's ladder position
moves on. A crash or a SIGKILL rolls the batch back; a rerun redoes exactly the missing
work. A batch that fails is retried row by row, each row in its own savepoint: a failing
row is logged and skipped, the others go through. Queries grow with batches, not rows.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from base.models import Jurisdiction, RiverChiefAppointment, Role, RoleGrant
from notifications.services import NotificationSpec, notify_bulk

from . import registry
from .deadlines import LIVE, ladder, schedule
from .models import (
    Deadline,
    EscalationLevel,
    EscalationStep,
    Stage,
    SummonsProposal,
    SummonsProposalItem,
    Supervision,
)

logger = logging.getLogger(__name__)
A = EscalationLevel.Action


@dataclass
class SweepResult:
    batches: int = 0
    deadlines: int = 0
    steps: int = 0
    notifications: int = 0
    failed: int = 0
    by_level: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def merge(self, other: SweepResult) -> None:
        self.deadlines += other.deadlines
        self.steps += other.steps
        self.notifications += other.notifications
        for code, n in other.by_level.items():
            self.by_level[code] += n

    def as_dict(self) -> dict:
        return {
            "batches": self.batches,
            "deadlines": self.deadlines,
            "steps": self.steps,
            "notifications": self.notifications,
            "failed": self.failed,
            "by_level": dict(self.by_level),
        }


class Directory:
    """Who holds which role where, and which river chief has which segment: loaded once."""

    def __init__(self, today: dt.date):
        self.paths: dict[int, str] = dict(Jurisdiction.objects.values_list("pk", "path"))
        self.role_holders: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for user_id, role, path in RoleGrant.objects.filter(user__is_active=True).values_list(
            "user_id", "role", "jurisdiction__path"
        ):
            self.role_holders[role].append((user_id, path))
        self.department_officers: dict[int, list[int]] = defaultdict(list)
        for user_id, department_id in RoleGrant.objects.filter(
            role=Role.DEPARTMENT_OFFICER, user__is_active=True
        ).values_list("user_id", "department_id"):
            self.department_officers[department_id].append(user_id)
        self.river_chiefs: dict[tuple[int, str], list[int]] = defaultdict(list)
        appointments = RiverChiefAppointment.objects.filter(
            valid_from__lte=today, person__is_active=True
        ).exclude(valid_to__lt=today)
        for user_id, segment_id, level in appointments.values_list(
            "person_id", "segment_id", "level"
        ):
            self.river_chiefs[(segment_id, level)].append(user_id)

    def holders(self, roles, jurisdiction_path: str) -> set[int]:
        # a grant on the case's county or an ancestor covers it; never another county's
        return {
            user_id
            for role in roles
            for user_id, path in self.role_holders.get(role, ())
            if jurisdiction_path.startswith(path)
        }


@dataclass
class CaseFacts:
    title: str
    link: str
    path: str
    case_officer: int | None
    lead_department: int | None
    segment: int | None


def _case_facts(deadlines: list[DeadlineRow]) -> dict[int, CaseFacts]:
    from cases.models import Outfall

    ids = [d.outfall_id for d in deadlines if d.outfall_id]
    facts = {}
    rows = Outfall.objects.filter(pk__in=ids).values_list(
        "pk",
        "code",
        "name",
        "jurisdiction__path",
        "assigned_officer_id",
        "created_by_id",
        "lead_department_id",
        "plan__lead_department_id",
        "segment_id",
    )
    for pk, code, name, path, officer, creator, lead, plan_lead, segment in rows:
        facts[pk] = CaseFacts(
            title=f"{code or ''} {name}".strip(),
            link=f"/cases/outfalls/{pk}/",
            path=path,
            case_officer=officer or creator,
            lead_department=plan_lead or lead,
            segment=segment,
        )
    return facts


def recipients(
    level: EscalationLevel,
    deadline: Deadline,
    facts: CaseFacts | None,
    directory: Directory,
    jurisdiction_path: str,
) -> set[int]:
    users = directory.holders(level.recipient_roles, jurisdiction_path)
    if facts is not None:
        if level.notify_case_officer and facts.case_officer:
            users.add(facts.case_officer)
        if level.notify_lead_department and facts.lead_department:
            users.update(directory.department_officers.get(facts.lead_department, ()))
        if facts.segment:
            for chief_level in level.river_chief_levels:
                users.update(directory.river_chiefs.get((facts.segment, chief_level), ()))
    return users


class _Messages:
    """Translated message templates, built once per batch and level (not per row)."""

    def __init__(self):
        self._cache: dict[tuple[int, str], tuple[str, str, str, str]] = {}

    def __call__(
        self, level: EscalationLevel, deadline: Deadline, subject: str, today: dt.date
    ) -> tuple[str, str]:
        key = (level.pk, deadline.stage)
        if key not in self._cache:
            if level.action == A.REMIND:
                title = _("[Reminder] %(subject)s: %(stage)s due on %(due)s")
                body = _("The deadline is in %(n)s days.")
            else:
                title = _("[%(level)s] %(subject)s: %(stage)s overdue by %(n)s days")
                body = _("Due on %(due)s. Action: %(action)s.")
            self._cache[key] = (
                title,
                body,
                _stage_label(deadline.stage),
                str(level.get_action_display()),
            )
        title, body, stage, action = self._cache[key]
        days = (today - deadline.due_on).days
        values = {
            "subject": subject,
            "stage": stage,
            "due": deadline.due_on,
            "level": level.name,
            "n": -days if level.action == A.REMIND else days,
            "action": action,
        }
        return title % values, body % values


def _stage_label(stage: str) -> str:
    return str(Stage(stage).label)


def _due_levels(deadline: Deadline, levels: list[EscalationLevel], today: dt.date):
    for level in levels:
        if not level.applies_to(deadline.stage):
            continue
        if deadline.current_rank is not None and level.rank <= deadline.current_rank:
            continue
        if deadline.due_on + dt.timedelta(days=level.offset_days) <= today:
            yield level
        else:
            break


def _process(
    deadlines: list[DeadlineRow],
    levels: list[EscalationLevel],
    directory: Directory,
    now: dt.datetime,
    result: SweepResult,
) -> None:
    today = timezone.localdate(now)
    facts = _case_facts(deadlines)
    message = _Messages()
    steps, specs, supervisions, proposal_items = [], [], [], []
    accountability = []
    for deadline in deadlines:
        fact = facts.get(deadline.outfall_id)
        subject = fact.title if fact else f"{deadline.subject_type}:{deadline.subject_id}"
        link = fact.link if fact else ""
        for level in _due_levels(deadline, levels, today):
            steps.append((deadline.pk, level.pk, deadline.due_on.isoformat()))
            result.by_level[level.code] += 1
            title, body = message(level, deadline, subject, today)
            for user_id in sorted(
                recipients(
                    level, deadline, fact, directory, directory.paths[deadline.jurisdiction_id]
                )
            ):
                specs.append(
                    NotificationSpec(
                        recipient_id=user_id,
                        kind=f"escalation_{level.code.lower()}",
                        title=title,
                        body=body,
                        link=link,
                        subject_type=deadline.subject_type,
                        subject_id=deadline.subject_id,
                        dedupe_key=f"deadline:{deadline.pk}:{level.code}",
                    )
                )
            if level.action == A.SUPERVISION:
                supervisions.append(
                    Supervision(
                        deadline_id=deadline.pk,
                        outfall_id=deadline.outfall_id,
                        jurisdiction_id=deadline.jurisdiction_id,
                        created_at=now,
                    )
                )
            elif level.action == A.SUMMONS_PROPOSAL:
                proposal_items.append((deadline, (today - deadline.due_on).days))
            elif level.action == A.ACCOUNTABILITY:
                accountability.append(deadline)
            deadline.current_rank = level.rank
            if level.offset_days >= 0:  # from the overdue notice on, the deadline is missed
                deadline.status = Deadline.Status.MISSED
        schedule(deadline, levels)
    _insert_steps(steps, now)
    result.steps += len(steps)
    if supervisions:
        Supervision.objects.bulk_create(supervisions, batch_size=1000, ignore_conflicts=True)
    if proposal_items:
        _add_to_proposals(proposal_items, today, now)
    result.notifications += notify_bulk(specs, now=now)
    _save_positions(deadlines)
    for deadline in accountability:
        registry.accountability_due(deadline)
    result.deadlines += len(deadlines)


def _json_source(columns: str) -> tuple[str, object]:
    """A FROM clause reading a JSON array of objects, and a column accessor."""
    if connection.vendor == "postgresql":
        return f"jsonb_to_recordset(%s::jsonb) AS x({columns})", "x.{}".format
    return "json_each(%s) AS j", "json_extract(j.value, '$.{}')".format


def _insert_steps(steps: list[tuple[int, int, str]], now: dt.datetime) -> None:
    """Insert a batch's steps in one statement; firing the same (deadline, level) twice
    violates the unique constraint and fails the batch (never silently doubles)."""
    if not steps:
        return
    payload = json.dumps([{"d": d, "l": lv, "due": due} for d, lv, due in steps])
    source, value = _json_source("d bigint, l bigint, due date")
    table = connection.ops.quote_name(EscalationStep._meta.db_table)
    sql = (
        f"INSERT INTO {table} (deadline_id, level_id, due_on, fired_at) "
        f"SELECT {value('d')}, {value('l')}, {value('due')}, %s FROM {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(now), payload])


def _save_positions(deadlines: list[DeadlineRow]) -> None:
    """Write the ladder positions of a batch in one statement (bulk_update's CASE WHEN
    chains cost more than everything else in the sweep)."""
    if not deadlines:
        return
    payload = json.dumps(
        [
            {
                "id": d.pk,
                "current_rank": d.current_rank,
                "next_rank": d.next_rank,
                "next_fire_on": d.next_fire_on.isoformat() if d.next_fire_on else None,
                "status": d.status,
            }
            for d in deadlines
        ]
    )
    table = connection.ops.quote_name(Deadline._meta.db_table)
    source, value = _json_source(
        "id bigint, current_rank smallint, next_rank smallint, next_fire_on date, status text"
    )
    key = value("id")
    sql = (
        f"UPDATE {table} SET current_rank = {value('current_rank')}, "
        f"next_rank = {value('next_rank')}, next_fire_on = {value('next_fire_on')}, "
        f"status = {value('status')} FROM {source} WHERE {table}.id = {key}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [payload])


def _add_to_proposals(items, today: dt.date, now: dt.datetime) -> None:
    """At most one summons proposal per county per month, listing its overdue cases."""
    month = today.replace(day=1)
    by_county = defaultdict(list)
    for deadline, days in items:
        by_county[deadline.jurisdiction_id].append((deadline, days))
    for county_id, rows in by_county.items():
        proposal, _created = SummonsProposal.objects.get_or_create(
            jurisdiction_id=county_id, month=month, defaults={"created_at": now}
        )
        SummonsProposalItem.objects.bulk_create(
            [
                SummonsProposalItem(
                    proposal=proposal,
                    deadline_id=d.pk,
                    outfall_id=d.outfall_id,
                    days_overdue=days,
                )
                for d, days in rows
            ],
            ignore_conflicts=True,
        )


@dataclass(slots=True)
class DeadlineRow:
    """The fields of a deadline the sweep reads and moves: plain values, not a model
    instance (building thousands of instances per batch cost more than the writes)."""

    pk: int
    jurisdiction_id: int
    outfall_id: int | None
    stage: str
    due_on: dt.date
    status: str
    current_rank: int | None
    next_rank: int | None
    next_fire_on: dt.date | None
    subject_type: str
    subject_id: str


_ROW_FIELDS = (
    "pk",
    "jurisdiction_id",
    "outfall_id",
    "stage",
    "due_on",
    "status",
    "current_rank",
    "next_rank",
    "next_fire_on",
    "subject_type",
    "subject_id",
)


def _rows(queryset) -> list[DeadlineRow]:
    return [DeadlineRow(*values) for values in queryset.values_list(*_ROW_FIELDS)]


def sweep(
    *, now: dt.datetime | None = None, batch_size: int = 500, max_batches: int | None = None
) -> SweepResult:
    """Escalate every due deadline; safe to run twice or concurrently (see module doc)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    levels = ladder()
    directory = Directory(today)
    result = SweepResult()
    skipped: set[int] = set()
    while max_batches is None or result.batches < max_batches:
        with transaction.atomic():
            batch = _rows(
                Deadline.objects.select_for_update(skip_locked=True)
                .filter(next_fire_on__lte=today, status__in=LIVE)
                .exclude(pk__in=skipped)
                .order_by("next_fire_on", "id")[:batch_size]
            )
            if not batch:
                break
            result.batches += 1
            try:
                with transaction.atomic():
                    part = SweepResult()
                    _process(batch, levels, directory, now, part)
                result.merge(part)
            except Exception:
                logger.exception("escalation batch failed; retrying row by row")
                for deadline in batch:
                    [fresh] = _rows(Deadline.objects.filter(pk=deadline.pk))
                    try:
                        with transaction.atomic():
                            part = SweepResult()
                            _process([fresh], levels, directory, now, part)
                        result.merge(part)
                    except Exception:
                        logger.exception("escalation of deadline %s failed; skipped", fresh.pk)
                        skipped.add(fresh.pk)
                        result.failed += 1
    return result


def escalate_to_accountability(*, deadline: Deadline, now: dt.datetime | None = None) -> int:
    """L4 hook for the summons process: fire L4 for a missed follow-up deadline now."""
    now = now or timezone.now()
    if deadline.stage != Stage.SUMMONS_REPORT:
        raise ValueError("L4 applies to summons follow-up deadlines")
    result = SweepResult()
    with transaction.atomic():
        locked = _rows(Deadline.objects.select_for_update().filter(pk=deadline.pk))
        _process(locked, ladder(), Directory(timezone.localdate(now)), now, result)
    return result.steps
