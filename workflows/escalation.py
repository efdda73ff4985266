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
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Concat, Trim
from django.utils import timezone
from django.utils.translation import gettext as _

from base.models import Jurisdiction, RiverChiefAppointment, Role, RoleGrant
from notifications.services import Announcement, notify_announcements

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

# Deadlines per batch (one transaction): long enough that the per-batch work (a commit,
# a WAL checkpoint on SQLite, the handful of statements) is small next to the rows', short
# enough to hold the row locks (SQLite: the write lock) for well under a second.
# bench/sweep.py --batch-size measures the trade-off.
BATCH_SIZE = 2000


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
        self._audiences: dict[tuple[int, int], tuple[int, ...]] = {}

    def holders(self, roles, jurisdiction_path: str) -> set[int]:
        # a grant on the case's county or an ancestor covers it; never another county's
        return {
            user_id
            for role in roles
            for user_id, path in self.role_holders.get(role, ())
            if jurisdiction_path.startswith(path)
        }

    def audience(self, level: EscalationLevel, jurisdiction_id: int) -> tuple[int, ...]:
        """The level's role holders over a jurisdiction, sorted: a handful of distinct answers
        per sweep, so each is worked out once."""
        key = (level.id, jurisdiction_id)
        audience = self._audiences.get(key)
        if audience is None:
            roles, path = level.recipient_roles, self.paths[jurisdiction_id]
            audience = self._audiences[key] = tuple(sorted(self.holders(roles, path)))
        return audience


def recipients(
    level: EscalationLevel, deadline: DeadlineRow, directory: Directory
) -> tuple[int, ...]:
    """Who is told when `level` fires for `deadline` (user ids, sorted)."""
    users = directory.audience(level, deadline.jurisdiction_id)
    extra = set()
    if level.notify_case_officer and deadline.case_officer:
        extra.add(deadline.case_officer)
    if level.notify_lead_department and deadline.lead_department:
        extra.update(directory.department_officers.get(deadline.lead_department, ()))
    if deadline.segment:
        for chief_level in level.river_chief_levels:
            extra.update(directory.river_chiefs.get((deadline.segment, chief_level), ()))
    return tuple(sorted(extra.union(users))) if extra else users


_BLANK = "\x00"  # where the case goes in a title worked out in advance


class _Messages:
    """The translated texts of a batch, worked out once per (level, stage, due date) with
    the case left as the only blank (deadlines due the same day read alike)."""

    def __init__(self, today: dt.date):
        self.today = today
        self._cache: dict[tuple[int, str, dt.date], tuple[str, str]] = {}

    def __call__(self, level: EscalationLevel, deadline: DeadlineRow, subject: str):
        key = (level.id, deadline.stage, deadline.due_on)
        texts = self._cache.get(key)
        if texts is None:
            texts = self._cache[key] = self._texts(level, deadline)
        title, body = texts
        return title.replace(_BLANK, subject), body

    def _texts(self, level: EscalationLevel, deadline: DeadlineRow) -> tuple[str, str]:
        if level.action == A.REMIND:
            title = _("[Reminder] %(subject)s: %(stage)s due on %(due)s")
            body = _("The deadline is in %(n)s days.")
        else:
            title = _("[%(level)s] %(subject)s: %(stage)s overdue by %(n)s days")
            body = _("Due on %(due)s. Action: %(action)s.")
        days = (self.today - deadline.due_on).days
        values = {
            "stage": _stage_label(deadline.stage),
            "due": deadline.due_on,
            "level": level.name,
            "n": -days if level.action == A.REMIND else days,
            "action": level.get_action_display(),
        }
        return title % {**values, "subject": _BLANK}, body % values


def _stage_label(stage: str) -> str:
    return str(Stage(stage).label)


def _due_levels(deadline: DeadlineRow, levels: list[EscalationLevel], today: dt.date):
    """The levels now due, in order; `levels` are those that apply to the deadline's stage."""
    for level in levels:
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
    message = _Messages(today)
    by_stage: dict[str, list[EscalationLevel]] = {}
    steps: dict[int, list[int]] = defaultdict(list)  # level pk -> deadline pks
    announcements, supervisions, proposal_items = [], [], []
    accountability = []
    kinds = {level.id: f"escalation_{level.code.lower()}" for level in levels}
    for deadline in deadlines:
        if deadline.outfall_id is not None:
            subject, link = deadline.title, f"/cases/outfalls/{deadline.outfall_id}/"
        else:
            subject, link = f"{deadline.subject_type}:{deadline.subject_id}", ""
        stage_levels = by_stage.get(deadline.stage)
        if stage_levels is None:
            stage_levels = by_stage[deadline.stage] = [
                level for level in levels if level.applies_to(deadline.stage)
            ]
        for level in _due_levels(deadline, stage_levels, today):
            steps[level.id].append(deadline.pk)
            result.by_level[level.code] += 1
            users = recipients(level, deadline, directory)
            if users:
                title, body = message(level, deadline, subject)
                announcements.append(
                    Announcement(
                        recipient_ids=users,
                        kind=kinds[level.id],
                        title=title,
                        body=body,
                        link=link,
                        subject_type=deadline.subject_type,
                        subject_id=deadline.subject_id,
                        dedupe_key=f"deadline:{deadline.pk}:{level.code}",
                    )
                )
            action = level.action
            if action == A.SUPERVISION:
                supervisions.append(
                    Supervision(
                        deadline_id=deadline.pk,
                        outfall_id=deadline.outfall_id,
                        jurisdiction_id=deadline.jurisdiction_id,
                        created_at=now,
                    )
                )
            elif action == A.SUMMONS_PROPOSAL:
                proposal_items.append((deadline, (today - deadline.due_on).days))
            elif action == A.ACCOUNTABILITY:
                accountability.append(deadline)
            deadline.current_rank = level.rank
            if level.offset_days >= 0:  # from the overdue notice on, the deadline is missed
                deadline.status = Deadline.Status.MISSED
        schedule(deadline, stage_levels)
    for level_id, deadline_ids in steps.items():
        _insert_steps(level_id, deadline_ids, now)
        result.steps += len(deadline_ids)
    if supervisions:
        Supervision.objects.bulk_create(supervisions, batch_size=1000, ignore_conflicts=True)
    if proposal_items:
        _add_to_proposals(proposal_items, today, now)
    result.notifications += notify_announcements(announcements, now=now)
    _save_positions(deadlines)
    for deadline in accountability:
        registry.accountability_due(deadline)
    result.deadlines += len(deadlines)


def _ids_in(ids: list[int]) -> tuple[str, str]:
    """An `id` condition for many ids as ONE parameter, and that parameter.

    One parameter, not one per id: a 1,000-placeholder IN list costs more to send, split
    and plan than the rows it selects (and psycopg adapts a Python list per element).
    """
    if connection.vendor == "postgresql":
        return "id = ANY(%s::bigint[])", "{" + ",".join(map(str, ids)) + "}"
    return "id IN (SELECT value FROM json_each(%s))", json.dumps(ids)


def _insert_steps(level_id: int, deadline_ids: list[int], now: dt.datetime) -> None:
    """Record one level for many deadlines in one statement; firing the same (deadline,
    level) twice violates the unique constraint and fails the batch (never silently doubles)."""
    steps = connection.ops.quote_name(EscalationStep._meta.db_table)
    deadlines = connection.ops.quote_name(Deadline._meta.db_table)
    ids, param = _ids_in(deadline_ids)
    sql = (
        f"INSERT INTO {steps} (deadline_id, level_id, due_on, fired_at) "
        f"SELECT id, %s, due_on, %s FROM {deadlines} WHERE {ids}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [level_id, connection.ops.adapt_datetimefield_value(now), param])


def _save_positions(deadlines: list[DeadlineRow]) -> None:
    """Write the ladder positions of a batch: one UPDATE per distinct move.

    A deadline's next date is always its due date plus the next level's offset (see
    `schedule`), so the rows of a batch fall into a few moves (rank, next rank, offset,
    status), bounded by the ladder's size, not by the number of rows; bulk_update's CASE WHEN
    chains and a per-row JSON join both cost more than the rest of the sweep.
    """
    moves: dict[tuple, list[int]] = defaultdict(list)
    for d in deadlines:
        offset = (d.next_fire_on - d.due_on).days if d.next_fire_on is not None else None
        moves[(d.current_rank, d.next_rank, offset, d.status)].append(d.pk)
    table = connection.ops.quote_name(Deadline._meta.db_table)
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for (current_rank, next_rank, offset, status), pks in moves.items():
            ids, param = _ids_in(pks)
            if offset is None:
                next_fire_on, date_param = "NULL", []
            elif pg:
                next_fire_on, date_param = "due_on + %s", [offset]
            else:
                next_fire_on, date_param = "date(due_on, %s)", [f"{offset:+d} days"]
            cursor.execute(
                f"UPDATE {table} SET current_rank = %s, next_rank = %s, "
                f"next_fire_on = {next_fire_on}, status = %s WHERE {ids}",
                [current_rank, next_rank, *date_param, status, param],
            )


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
    subject_type: str
    subject_id: str
    # the case's, when the deadline has one (a summons follow-up has none)
    title: str | None
    case_officer: int | None  # the assigned officer, else who registered it
    lead_department: int | None  # the plan's lead department, else the case's
    segment: int | None
    # where the ladder goes next: worked out by `schedule`, never read
    next_rank: int | None = None
    next_fire_on: dt.date | None = None


_ROW_FIELDS = (
    "pk",
    "jurisdiction_id",
    "outfall_id",
    "stage",
    "due_on",
    "status",
    "current_rank",
    "subject_type",
    "subject_id",
)


# the case's facts, worked out in the same query
_FACTS = {
    "title": Trim(Concat(Coalesce("outfall__code", Value("")), Value(" "), "outfall__name")),
    "case_officer": Coalesce("outfall__assigned_officer_id", "outfall__created_by_id"),
    "lead_department": Coalesce("outfall__plan__lead_department_id", "outfall__lead_department_id"),
    "segment": F("outfall__segment_id"),
}


def _rows(queryset) -> list[DeadlineRow]:
    """The deadlines of `queryset` with their cases' facts, in one query."""
    values = queryset.annotate(**_FACTS).values_list(*_ROW_FIELDS, *_FACTS)
    return [DeadlineRow(*row) for row in values]


def _lock_batch(today: dt.date, size: int, skipped: set[int]):
    """The next due deadlines, locked (skipping rows another sweep holds), as a queryset.

    The lock and the LIMIT are in a subquery and the case facts are joined outside it:
    joined inside, PostgreSQL reads every due deadline's case before the LIMIT (and cannot
    lock the nullable side of an outer join).
    """
    locked = (
        Deadline.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(next_fire_on__lte=today, status__in=LIVE)
        .exclude(pk__in=skipped)
        .order_by("next_fire_on", "id")
        .values("pk")[:size]
    )
    return Deadline.objects.filter(pk__in=locked).order_by("next_fire_on", "id")


def sweep(
    *,
    now: dt.datetime | None = None,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
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
            batch = _rows(_lock_batch(today, batch_size, skipped))
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
        lock = Deadline.objects.select_for_update().filter(pk=deadline.pk).values("pk")
        locked = _rows(Deadline.objects.filter(pk__in=lock))
        _process(locked, ladder(), Directory(timezone.localdate(now)), now, result)
    return result.steps
