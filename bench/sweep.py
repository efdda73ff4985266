"""Benchmark of the escalation sweep against a set-based SQL floor.

    .venv/bin/python bench/sweep.py --cases 100000                      # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x \\
        .venv/bin/python bench/sweep.py --cases 1000000                 # PostgreSQL

Builds N cases, each with a survey deadline; 5 % are due today with L0 already fired, so
the sweep fires L1 for them: one step each and an overdue notice to the county officer and
the county leader (2 notifications each). Then it restores those deadlines and performs
the same writes with three hand-written set-based statements (the floor), checks that the
floor wrote exactly the rows the sweep wrote (steps, notifications with their text, deadline
positions), and prints both times, the sweep's query count and the ratio. Sweep and floor alternate `--repeat` times on
the same data (restored in between); the ratio is of the medians, with every run printed,
since a single run on a shared machine varies by ±20 %.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_fresh_database


def build(n: int, due_share: float) -> list[int]:
    from django.db import transaction
    from django.utils import timezone

    from base.factories import user_with_role
    from base.models import Jurisdiction, WaterBody
    from cases.models import Outfall
    from workflows.models import Deadline

    counties = list(Jurisdiction.objects.filter(parent__code="140500").order_by("code"))
    officers = {}
    for county in counties:
        officers[county.pk] = user_with_role(
            "county_officer", county.code, username=f"o{county.code}", email=""
        )
        user_with_role("county_leader", county.code, username=f"l{county.code}", email="")
    water = WaterBody.objects.get(slug="qinhe")
    today = timezone.localdate()
    due_every = round(1 / due_share)
    chunk = 20000
    for start in range(0, n, chunk):
        with transaction.atomic():
            outfalls = Outfall.objects.bulk_create(
                Outfall(
                    jurisdiction=counties[i % len(counties)],
                    water_body=water,
                    longitude=Decimal("112.5") + Decimal(i % 1000) / 1000,
                    latitude=Decimal("35.5") + Decimal(i // 1000 % 500) / 1000,
                    entry_mode="pipe",
                    survey_date=dt.date(2024, 5, 1),
                    created_by=officers[counties[i % len(counties)].pk],
                    name=f"基准排口{i}",
                )
                for i in range(start, min(n, start + chunk))
            )
            rows = []
            for o in outfalls:
                due = (o.pk % due_every) == 0
                due_on = today if due else today + dt.timedelta(days=90)
                rows.append(
                    Deadline(
                        outfall=o,
                        jurisdiction_id=o.jurisdiction_id,
                        stage="survey_tracing",
                        start_on=dt.date(2024, 5, 1),
                        due_on=due_on,
                        original_due_on=due_on,
                        basis="calendar",
                        current_rank=0 if due else None,
                        next_rank=1 if due else 0,
                        next_fire_on=today if due else due_on - dt.timedelta(days=7),
                        subject_type="cases.outfall",
                        subject_id=str(o.pk),
                    )
                )
            Deadline.objects.bulk_create(rows, batch_size=5000)
    return list(Deadline.objects.filter(next_fire_on__lte=today).values_list("pk", flat=True))


def reset(due_ids: list[int]) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from notifications.models import Notification
    from workflows.models import Deadline, EscalationStep

    today = timezone.localdate()
    with transaction.atomic():
        EscalationStep.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {Notification._meta.db_table}")
        Deadline.objects.filter(current_rank=1).update(
            current_rank=0, next_rank=1, next_fire_on=today, status="open"
        )
    assert Deadline.objects.filter(next_fire_on__lte=today).count() == len(due_ids)
    settle()


def settle() -> None:
    """On PostgreSQL, the same starting point for every run, whatever autovacuum did yet."""
    from django.db import connection

    from cases.models import Outfall
    from notifications.models import Notification
    from workflows.models import Deadline, EscalationStep

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Notification, EscalationStep, Deadline, Outfall):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


def _l1_texts() -> tuple[list[str], list[str]]:
    """The sweep's L1 title and body for a survey deadline due today, split around the
    case name and the due date (the floor writes the same text, and `writes` checks it)."""
    from django.utils.translation import gettext as _

    from workflows.models import EscalationLevel, Stage

    level = EscalationLevel.objects.get(code="L1")
    mark = "\x00"
    title = _("[%(level)s] %(subject)s: %(stage)s overdue by %(n)s days") % {
        "level": level.name,
        "subject": mark,
        "stage": str(Stage("survey_tracing").label),
        "n": 0,
    }
    body = _("Due on %(due)s. Action: %(action)s.") % {
        "due": mark,
        "action": str(level.get_action_display()),
    }
    return title.split(mark), body.split(mark)


def writes() -> tuple[int, int, int]:
    """A fingerprint of what a run wrote: steps, notifications and deadline positions
    (without the clock), to check that the floor wrote exactly what the sweep did."""
    from notifications.models import Notification
    from workflows.models import Deadline, EscalationStep

    steps = hash(frozenset(EscalationStep.objects.values_list("deadline_id", "level_id", "due_on")))
    notes = hash(
        frozenset(
            Notification.objects.values_list(
                "recipient_id",
                "kind",
                "subject_type",
                "subject_id",
                "title",
                "body",
                "link",
                "dedupe_key",
                "email_status",
            )
        )
    )
    positions = hash(
        frozenset(
            Deadline.objects.filter(current_rank=1).values_list(
                "id", "current_rank", "next_rank", "next_fire_on", "status"
            )
        )
    )
    return steps, notes, positions


def floor() -> float:
    """The same writes as set-based SQL: steps, notifications, deadline positions."""
    from django.db import connection, transaction
    from django.utils import timezone

    from workflows.models import EscalationLevel

    now = timezone.now()
    today = timezone.localdate()
    l1 = EscalationLevel.objects.get(code="L1").pk
    (title_head, title_tail), (body_head, body_tail) = _l1_texts()
    pg = connection.vendor == "postgresql"
    plus15 = "d.due_on + 15" if pg else "date(d.due_on, '+15 days')"
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as c:
        c.execute(
            "INSERT INTO workflows_escalationstep (deadline_id, level_id, fired_at, due_on) "
            "SELECT d.id, %s, %s, d.due_on FROM workflows_deadline d "
            "WHERE d.next_fire_on <= %s AND d.status IN ('open', 'missed')",
            [l1, now, today],
        )
        c.execute(
            "INSERT INTO notifications_notification (recipient_id, kind, subject_type, "
            "subject_id, title, body, link, dedupe_key, email_status, created_at, "
            "email_attempts, email_error) "
            "SELECT g.user_id, 'escalation_l1', d.subject_type, d.subject_id, "
            "%s || TRIM(COALESCE(o.code, '') || ' ' || o.name) || %s, "
            "%s || d.due_on || %s, '/cases/outfalls/' || d.outfall_id || '/', "
            "'deadline:' || d.id || ':L1', 'skipped', %s, 0, '' "
            "FROM workflows_deadline d JOIN cases_outfall o ON o.id = d.outfall_id "
            "JOIN base_jurisdiction dj ON dj.id = d.jurisdiction_id "
            "JOIN base_rolegrant g ON g.role IN ('county_officer', 'county_leader') "
            "JOIN base_jurisdiction gj ON gj.id = g.jurisdiction_id "
            "WHERE dj.path LIKE gj.path || '%%' AND d.next_fire_on <= %s "
            "AND d.status IN ('open', 'missed')",
            [title_head, title_tail, body_head, body_tail, now, today],
        )
        c.execute(
            f"UPDATE workflows_deadline AS d SET current_rank = 1, next_rank = 2, "
            f"next_fire_on = {plus15}, status = 'missed' "
            "WHERE d.next_fire_on <= %s AND d.status IN ('open', 'missed')",
            [today],
        )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--due-share", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the sweep's")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    where = django_on_fresh_database("sweep")

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.models import Notification
    from workflows.escalation import BATCH_SIZE, sweep
    from workflows.models import EscalationStep

    t0 = time.perf_counter()
    due_ids = build(args.cases, args.due_share)
    settle()
    print(
        f"{where}: built {args.cases} cases, {len(due_ids)} due, "
        f"in {time.perf_counter() - t0:.1f} s"
    )

    sweeps, floors = [], []
    for run in range(args.repeat):
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            result = sweep(batch_size=args.batch_size or BATCH_SIZE)
            sweeps.append(time.perf_counter() - t0)
        steps, notes = EscalationStep.objects.count(), Notification.objects.count()
        assert steps == len(due_ids), (steps, len(due_ids))
        swept = writes()
        if run == 0:
            print(
                f"sweep: {len(queries)} queries, {result.batches} batches of "
                f"{args.batch_size or BATCH_SIZE}, "
                f"{steps} steps, {notes} notifications"
            )
        reset(due_ids)
        floors.append(floor())
        assert EscalationStep.objects.count() == steps
        assert Notification.objects.count() == notes, (Notification.objects.count(), notes)
        assert writes() == swept, "the floor must write exactly what the sweep wrote"
        reset(due_ids)
        print(f"run {run + 1}: sweep {sweeps[-1]:.2f} s, floor {floors[-1]:.2f} s")
    sweep_s, floor_s = statistics.median(sweeps), statistics.median(floors)
    print(f"sweep (median of {args.repeat}): {sweep_s:.2f} s")
    print(f"floor (set-based SQL, median of {args.repeat}): {floor_s:.2f} s")
    print(
        f"ratio sweep/floor: {sweep_s / floor_s:.2f}x; queries per batch: "
        f"{len(queries) / max(result.batches, 1):.1f}"
    )


if __name__ == "__main__":
    main()
