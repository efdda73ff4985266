"""Benchmark of the escalation sweep against a set-based SQL floor.

    .venv/bin/python bench/sweep.py --cases 100000                      # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x \\
        .venv/bin/python bench/sweep.py --cases 1000000                 # PostgreSQL

Builds N cases, each with a survey deadline; 5 % are due today with L0 already fired, so
the sweep fires L1 for them: one step each and an overdue notice to the county officer and
the county leader (2 notifications each). Then it restores those deadlines and performs
the same writes with three hand-written set-based statements (the floor), and prints both
times, the sweep's query count and the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
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


def floor() -> float:
    """The same writes as set-based SQL: steps, notifications, deadline positions."""
    from django.db import connection, transaction
    from django.utils import timezone

    from workflows.models import EscalationLevel

    now = timezone.now()
    today = timezone.localdate()
    l1 = EscalationLevel.objects.get(code="L1").pk
    pg = connection.vendor == "postgresql"
    plus15 = "d.due_on + 15" if pg else "date(d.due_on, '+15 days')"
    concat = "||"
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
            f"SELECT g.user_id, 'escalation_l1', d.subject_type, d.subject_id, "
            f"'【督办】' {concat} o.name, '', '/cases/outfalls/' {concat} d.outfall_id "
            f"{concat} '/', 'deadline:' {concat} d.id {concat} ':L1', 'skipped', %s, 0, '' "
            "FROM workflows_deadline d JOIN cases_outfall o ON o.id = d.outfall_id "
            "JOIN base_jurisdiction dj ON dj.id = d.jurisdiction_id "
            "JOIN base_rolegrant g ON g.role IN ('county_officer', 'county_leader') "
            "JOIN base_jurisdiction gj ON gj.id = g.jurisdiction_id "
            f"WHERE dj.path LIKE gj.path {concat} '%%' AND d.next_fire_on <= %s "
            "AND d.status IN ('open', 'missed')",
            [now, today],
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
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    where = django_on_fresh_database("sweep")

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.models import Notification
    from workflows.escalation import sweep
    from workflows.models import EscalationStep

    t0 = time.perf_counter()
    due_ids = build(args.cases, args.due_share)
    print(
        f"{where}: built {args.cases} cases, {len(due_ids)} due, "
        f"in {time.perf_counter() - t0:.1f} s"
    )

    with CaptureQueriesContext(connection) as queries:
        t0 = time.perf_counter()
        result = sweep(batch_size=args.batch_size)
        sweep_s = time.perf_counter() - t0
    steps, notes = EscalationStep.objects.count(), Notification.objects.count()
    assert steps == len(due_ids), (steps, len(due_ids))
    print(
        f"sweep: {sweep_s:.2f} s, {len(queries)} queries, {result.batches} batches, "
        f"{steps} steps, {notes} notifications"
    )

    reset(due_ids)
    floor_s = floor()
    assert EscalationStep.objects.count() == steps
    assert Notification.objects.count() == notes, (Notification.objects.count(), notes)
    print(f"floor (set-based SQL): {floor_s:.2f} s")
    print(
        f"ratio sweep/floor: {sweep_s / floor_s:.2f}x; queries per batch: "
        f"{len(queries) / max(result.batches, 1):.1f}"
    )


if __name__ == "__main__":
    main()
