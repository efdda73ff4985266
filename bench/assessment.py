"""Benchmark of an assessment period's computation for all jurisdictions (issue 7).

    .venv/bin/python bench/assessment.py --cases 100000                 # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x \\
        .venv/bin/python bench/assessment.py --cases 1000000            # PostgreSQL

Builds N cases in a fresh database with set-based INSERT ... SELECT statements (a numbers
source: `generate_series` on PostgreSQL, a recursive CTE on SQLite), spread over the seven
county-level units, with the rows an assessment reads, all timestamped:

- a registration event for every case; 80 % traced (a `trace` event, the survey deadline
  met), 2 % voided, the other 18 % untraced with a missed survey deadline escalated to L3;
- 60 % classified, each with a remediation deadline due 2024-12-31: 30 % met on time,
  10 % met late (January 2025), 20 % still open and escalated to L2 or L3 during 2025 Q1;
- 1 % reopened in 2025 Q1; a summons proposal per county; a river chief per segment with
  patrols.

Then it times `metrics.compute_period` for 2025 Q1 (every jurisdiction, as of 31 Mar 2025)
and `services.period_close` (the same plus scoring and freezing the snapshots and the ids
behind every number), prints both, the number of queries and the rows read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_fresh_database

TZ = ZoneInfo("Asia/Shanghai")


def moment(y, m, d, h=10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=TZ)


class Builder:
    """INSERT ... SELECT over the numbers 1..N, with every NOT NULL column filled."""

    def __init__(self, n: int):
        from django.db import connection

        self.n = n
        self.connection = connection
        self.pg = connection.vendor == "postgresql"

    def numbers(self) -> str:
        if self.pg:
            return f"generate_series(1, {self.n}) AS g(i)"
        return "g"

    def prefix(self) -> str:
        if self.pg:
            return ""
        return (
            f"WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {self.n}) "
        )

    def value(self, v):
        ops = self.connection.ops
        if isinstance(v, dt.datetime):
            return ops.adapt_datetimefield_value(v)
        if isinstance(v, dt.date):
            return ops.adapt_datefield_value(v)
        return v

    def insert(self, model, columns: dict[str, object], where: str = "1 = 1") -> int:
        """Insert one row per number i matching `where`; `columns` maps a column to an SQL
        expression (str starting with '=') or a constant; other columns get their default."""
        from django.db.models import JSONField

        exprs, params, names = [], [], []
        for field in model._meta.concrete_fields:
            column = field.column
            if column in columns:
                value = columns[column]
            elif field.primary_key:
                continue
            elif field.has_default():
                value = field.get_default()
            elif field.null:
                value = None
            elif field.blank:
                value = ""
            else:
                raise ValueError(f"{model.__name__}.{column} needs a value")
            names.append(self.connection.ops.quote_name(column))
            if isinstance(value, str) and value.startswith("="):
                exprs.append(value[1:].replace("%", "%%"))  # a modulo, not a placeholder
                continue
            if isinstance(field, JSONField):
                import json

                params.append(json.dumps(value))
                exprs.append("CAST(%s AS jsonb)" if self.pg else "%s")
            else:
                params.append(self.value(value))
                # PostgreSQL types the parameters of an INSERT ... SELECT as text: cast them
                exprs.append(f"CAST(%s AS {field.db_type(self.connection)})" if self.pg else "%s")
        table = self.connection.ops.quote_name(model._meta.db_table)
        sql = (
            f"{self.prefix()}INSERT INTO {table} ({', '.join(names)}) "
            f"SELECT {', '.join(exprs)} FROM {self.numbers()} WHERE {where.replace('%', '%%')}"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def reset_sequences(self, *models) -> None:
        if not self.pg:
            return
        with self.connection.cursor() as cursor:
            for model in models:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
                )


def build(n: int) -> dict:
    from django.db import connection, transaction

    from assessments import services
    from base.factories import river_chief
    from base.models import Jurisdiction, RiverSegment, WaterBody
    from cases.models import Outfall, OutfallEvent
    from workflows.models import Deadline, EscalationLevel, EscalationStep, SummonsProposal

    b = Builder(n)
    counties = list(
        Jurisdiction.objects.filter(parent__code="140500")
        .order_by("code")
        .values_list("pk", flat=True)
    )
    water = WaterBody.objects.get(slug="qinhe").pk
    k = len(counties)
    county = (
        "CASE "
        + " ".join(f"WHEN g.i % {k} = {r} THEN {pk}" for r, pk in enumerate(counties))
        + " END"
    )
    levels = dict(EscalationLevel.objects.values_list("code", "pk"))
    with transaction.atomic():
        b.insert(
            Outfall,
            {
                "id": "=g.i",
                "jurisdiction_id": f"={county}",
                "water_body_id": water,
                "longitude": "112.800000",
                "latitude": "35.500000",
                "entry_mode": "pipe",
                "survey_date": dt.date(2024, 3, 1),
                "name": "='基准排口' || CAST(g.i AS TEXT)",
                "created_at": moment(2024, 3, 1),
                "updated_at": moment(2024, 3, 1),
                "state": "surveyed",
                "code": None,
                "national_code": None,
            },
        )

        def event(kind, transition, at, where, to_state=""):
            return b.insert(
                OutfallEvent,
                {
                    "outfall_id": "=g.i",
                    "kind": kind,
                    "transition": transition,
                    "at": at,
                    "to_state": to_state,
                    "diff": {},
                },
                where,
            )

        traced, voided = "g.i % 10 < 8", "g.i % 50 = 49"
        untraced = f"NOT ({traced}) AND NOT ({voided})"
        classified = "g.i % 10 < 6"
        for args in (
            ("registered", "", moment(2024, 3, 1), "1 = 1", "surveyed"),
            ("transition", "trace", moment(2024, 3, 20), traced, "traced"),
            ("transition", "void", moment(2024, 3, 15), voided, "closed"),
            ("transition", "classify", moment(2024, 5, 1), classified, "classified"),
            ("transition", "retain", moment(2024, 10, 1), "g.i % 10 < 3", "retained"),
            ("transition", "retain", moment(2025, 1, 20), "g.i % 10 = 3", "retained"),
            ("transition", "reopen", moment(2025, 2, 15), "g.i % 100 = 0", "remediating"),
        ):
            event(*args)

        def deadline(offset, stage, start, due, where, status, closed_at=None):
            return b.insert(
                Deadline,
                {
                    "id": f"=g.i + {offset}",
                    "outfall_id": "=g.i",
                    "jurisdiction_id": f"={county}",
                    "stage": stage,
                    "start_on": start,
                    "due_on": due,
                    "original_due_on": due,
                    "basis": "calendar",
                    "status": status,
                    "closed_at": closed_at,
                    "subject_type": "cases.outfall",
                    "subject_id": "=CAST(g.i AS TEXT)",
                    "created_at": moment(2024, 3, 1),
                },
                where,
            )

        survey_due, remediation_due = dt.date(2024, 3, 29), dt.date(2024, 12, 31)
        deadline(
            0, "survey_tracing", dt.date(2024, 3, 1), survey_due, traced, "met", moment(2024, 3, 20)
        )
        deadline(
            0,
            "survey_tracing",
            dt.date(2024, 3, 1),
            survey_due,
            voided,
            "waived",
            moment(2024, 3, 15),
        )
        deadline(0, "survey_tracing", dt.date(2024, 3, 1), survey_due, untraced, "missed")
        deadline(
            n,
            "remediation",
            dt.date(2024, 5, 1),
            remediation_due,
            "g.i % 10 < 3",
            "met",
            moment(2024, 10, 1),
        )
        deadline(
            n,
            "remediation",
            dt.date(2024, 5, 1),
            remediation_due,
            "g.i % 10 = 3",
            "met",
            moment(2025, 1, 20),
        )
        deadline(
            n, "remediation", dt.date(2024, 5, 1), remediation_due, "g.i % 10 IN (4, 5)", "missed"
        )

        def steps(offset, code, fired, where):
            return b.insert(
                EscalationStep,
                {
                    "deadline_id": f"=g.i + {offset}",
                    "level_id": levels[code],
                    "fired_at": fired,
                    "due_on": survey_due if offset == 0 else remediation_due,
                },
                where,
            )

        for code in ("L0", "L1", "L2", "L3"):
            steps(0, code, moment(2024, 5, 10), untraced)
        for code in ("L0", "L1", "L2"):
            steps(n, code, moment(2025, 1, 20), "g.i % 10 IN (4, 5)")
        steps(n, "L3", moment(2025, 2, 10), "g.i % 10 = 5")
        b.reset_sequences(Outfall, OutfallEvent, Deadline, EscalationStep)
        for pk in counties:
            SummonsProposal.objects.create(
                jurisdiction_id=pk, month=dt.date(2025, 2, 1), created_at=moment(2025, 2, 1)
            )
        for segment in RiverSegment.objects.all():
            chief = river_chief(segment.slug, username=f"chief_{segment.slug}", email="")
            for day in (dt.date(2025, 1, 15), dt.date(2025, 3, 10)):
                services.patrol_record(
                    actor=chief,
                    segment=segment,
                    patrolled_on=day,
                    route="全段",
                    now=moment(2025, 3, 20),
                )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        model.__name__: model.objects.count()
        for model in (Outfall, OutfallEvent, Deadline, EscalationStep)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of compute_period")
    args = parser.parse_args()
    where = django_on_fresh_database("assessment")

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from assessments import services
    from assessments.metrics import compute_period
    from assessments.models import EvidenceSet

    t0 = time.perf_counter()
    counts = build(args.cases)
    print(f"{where}: built {counts} in {time.perf_counter() - t0:.1f} s")

    period = {"kind": "quarter", "starts_on": dt.date(2025, 1, 1), "ends_on": dt.date(2025, 3, 31)}
    times = []
    for _run in range(args.repeat):
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            result = compute_period(**period)
            times.append(time.perf_counter() - t0)
    city = next(m for m in result.values() if m.numbers["survey_trace"]["registered"] == args.cases)
    print(
        f"compute_period (8 jurisdictions, 2025 Q1): best {min(times):.2f} s, "
        f"runs {', '.join(f'{t:.2f}' for t in times)} s; {len(queries)} queries"
    )
    print(f"city numbers: {city.numbers}")

    t0 = time.perf_counter()
    closed = services.period_close(
        actor=None, kind="quarter", year=2025, quarter=1, now=moment(2025, 4, 3)
    )
    close_s = time.perf_counter() - t0
    ids = sum(len(s.ids) for s in EvidenceSet.objects.filter(assessment__period=closed))
    print(
        f"period_close (compute + score + freeze {ids} evidence ids + 8 review processes): "
        f"{close_s:.2f} s"
    )


if __name__ == "__main__":
    main()
