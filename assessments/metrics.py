"""Metrics of an assessment period, computed AS OF the period's end from timestamped rows.

Nothing here reads a case's current state: every number comes from rows that carry a time
at or before the end of the period's last day (`cutoff`, local midnight after `ends_on`):

- survey and tracing (cumulative): the survey-and-tracing deadline row every registration
  (or import) starts on its day, met by the `trace` transition and waived by `void` at the
  time of that event (`closed_at`): registered by the end date, traced or voided before the
  cutoff. A voided case reopened since (a `reopen` event) is no longer void.
- remediation on time: the remediation-stage deadline rows started by the end date. A task
  is done when its deadline was met before the cutoff, on time when met by the end of its
  due day; the due day is the original one or the last extension moved before the cutoff
  (`DeadlineMove`). Tasks not done and due by the end date are overdue; the others are not
  due yet (outside the rate). A reopened case is a new remediation task.
- overdue cases by level: the case stages' deadlines live at the cutoff and due by the end
  date, each case at the highest escalation level fired for them before the cutoff
  (`EscalationStep.fired_at`); a reminder (L0) or nothing is "not escalated".
- summons: the summons proposals (约谈建议, ladder L3 and assessment rankings) of months in
  the period, created before the cutoff; of those, the ones whose summons meeting was held
  by the period's end, and the ones whose implementation report was verified as rectified
  before it (workflows.Summons); the others count as unrectified.
- patrols: patrols dated in the period (and recorded within `PATROL_RECORDING_GRACE_DAYS`
  after it) against each appointment in force during the period whose level has a
  requirement (`PatrolRequirement`); a chief's patrols count up to what is required.
  City-level appointments count for the city only.
- reopened cases: `reopen` transition events in the period.

Each family is ONE aggregate query grouped by jurisdiction with conditional (FILTER)
aggregates; the ids behind every number are aggregated by the database into one array per
jurisdiction (`array_agg` on PostgreSQL, `json_group_array` on SQLite): Python never loops
over cases. The city's numbers are the sum of its county-level units (every case belongs to
exactly one), plus all patrol duties. A case counts for the county it was registered in
(the deadline rows keep it), the reopen events for its current county.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from base.models import Jurisdiction, RiverChiefAppointment
from cases.models import Outfall, OutfallEvent
from workflows.models import (
    Deadline,
    DeadlineMove,
    EscalationLevel,
    EscalationStep,
    Stage,
    Summons,
    SummonsProposal,
    SummonsProposalItem,
)

from .models import Patrol, PatrolRequirement

PATROL_RECORDING_GRACE_DAYS = 7
REPORTING_WORK_MEM = "128MB"
CASE_STAGES = (Stage.SURVEY_TRACING, Stage.REMEDIATION, Stage.PLAN)
NOT_ESCALATED = "none"

# the numbers of each metric (what a formula component may name), besides the ladder codes
BASE_NUMBERS = {
    "survey_trace": ("registered", "voided", "traced", "untraced"),
    "remediation": ("on_time", "late", "overdue", "not_due"),
    "overdue": (NOT_ESCALATED, "total"),
    "summons": ("proposed", "held", "rectified", "unrectified"),
    "patrols": ("required", "credited", "done", "missing"),
    "reopened": ("reopened",),
}

# which evidence sets make up a number (a leaf set is named "<metric>.<number>")
COMPOSITE = {
    "survey_trace.registered": (
        "survey_trace.traced",
        "survey_trace.untraced",
        "survey_trace.voided",
    ),
    "summons.proposed": ("summons.proposals",),
    "summons.cases": ("summons.cases",),
    "patrols.done": ("patrols.patrols",),
    "patrols.credited": ("patrols.patrols",),
}
# what the ids of a set are (default: outfall cases)
SET_KINDS = {
    "summons.proposals": "summons_proposal",
    "summons.held": "summons_proposal",
    "summons.rectified": "summons_proposal",
    "summons.unrectified": "summons_proposal",
    "patrols.patrols": "patrol",
}


def ladder_codes() -> list[tuple[int, str]]:
    """(rank, code) of the escalation levels above the reminder, lowest first."""
    return list(
        EscalationLevel.objects.filter(rank__gt=0).order_by("rank").values_list("rank", "code")
    )


def metric_numbers() -> dict[str, tuple[str, ...]]:
    numbers = dict(BASE_NUMBERS)
    numbers["overdue"] = (*BASE_NUMBERS["overdue"], *(code for _r, code in ladder_codes()))
    return numbers


def evidence_keys(key: str, sets: dict) -> list[str]:
    """The leaf sets behind a number (`overdue.total` is every ladder bucket)."""
    if key == "overdue.total":
        return sorted(k for k in sets if k.startswith("overdue."))
    return list(COMPOSITE.get(key, (key,)))


def cutoff(ends_on: dt.date) -> dt.datetime:
    """The end of a period: local midnight after its last day."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return dt.datetime.combine(ends_on + dt.timedelta(days=1), dt.time(0), tzinfo=tz)


@dataclass
class JurisdictionMetrics:
    numbers: dict[str, dict] = field(default_factory=dict)
    sets: dict[str, list[int]] = field(default_factory=dict)
    patrol_chiefs: list[dict] = field(default_factory=list)

    def snapshot(self) -> dict:
        return {**self.numbers, "patrol_chiefs": self.patrol_chiefs}


# --- SQL helpers ---------------------------------------------------------------------------


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _ids(expression: str, condition: str) -> str:
    """An aggregate of the ids matching `condition` (an array, or JSON text on SQLite)."""
    if _pg():
        return f"array_agg({expression}) FILTER (WHERE {condition})"
    return f"json_group_array({expression}) FILTER (WHERE {condition})"


def _as_list(value) -> list[int]:
    if value is None:
        return []
    if isinstance(value, str):
        return json.loads(value)
    return value


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _dt(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _d(value: dt.date):
    return connection.ops.adapt_datefield_value(value)


def _due_cutoff(due: str, moment: dt.datetime) -> str:
    """SQL: the moment a deadline's due day ends (local midnight after it)."""
    if _pg():
        return f"(({due} + 1)::timestamp AT TIME ZONE '{settings.TIME_ZONE}')"
    hours = int(moment.utcoffset().total_seconds() // 3600)
    return f"datetime({due}, '+1 day', '{-hours:+d} hours')"


def _moves(moved_before: str) -> str:
    """A derived table: each deadline's last move before the cutoff (its due date then)."""
    m = _t(DeadlineMove)
    return (
        f"(SELECT m.deadline_id, m.new_date FROM {m} m JOIN "
        f"(SELECT deadline_id, MAX(id) AS id FROM {m} WHERE moved_at < {moved_before} "
        f"GROUP BY deadline_id) lm ON lm.id = m.id)"
    )


def _tune_for_reporting() -> None:
    """PostgreSQL, for this transaction only: room to hash and sort a period's rows in
    memory (the default 4 MB spills to disk), parallel scans of the large tables sooner,
    and no JIT (its compile time outweighs what it saves on these few aggregates)."""
    if _pg():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{REPORTING_WORK_MEM}'")
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL parallel_setup_cost = 10")
            cursor.execute("SET LOCAL parallel_tuple_cost = 0.01")


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- the families --------------------------------------------------------------------------


def _survey(end_date: dt.date, end: dt.datetime) -> dict[int, dict[str, list[int]]]:
    """Registered, traced, voided and untraced cases, from the survey-and-tracing deadline
    every registration (or import) starts: met by the `trace` transition, waived by `void`,
    both with the time (`closed_at`) of that event. A voided case reopened since (a
    `reopen` event) is no longer void."""
    d, e = _t(Deadline), _t(OutfallEvent)
    traced = "(d.status = 'met' AND d.closed_at < %(end)s)"
    reopened = (
        f"EXISTS (SELECT 1 FROM {e} e WHERE e.outfall_id = d.outfall_id "
        f"AND e.kind = 'transition' AND e.transition = 'reopen' AND e.at < %(end)s)"
    )
    voided = f"(d.status = 'waived' AND d.closed_at < %(end)s AND NOT {reopened})"
    sql = (
        f"SELECT d.jurisdiction_id, "
        f"{_ids('d.outfall_id', traced)}, "
        f"{_ids('d.outfall_id', voided)}, "
        f"{_ids('d.outfall_id', f'NOT {traced} AND NOT {voided}')} "
        f"FROM {d} d WHERE d.stage = '{Stage.SURVEY_TRACING}' AND d.outfall_id IS NOT NULL "
        f"AND d.start_on <= %(end_date)s GROUP BY d.jurisdiction_id"
    )
    return {
        row[0]: {
            "traced": sorted(_as_list(row[1])),
            "voided": sorted(_as_list(row[2])),
            "untraced": sorted(_as_list(row[3])),
        }
        for row in _fetch(sql, {"end": _dt(end), "end_date": _d(end_date)})
    }


def _reopened(start: dt.datetime, end: dt.datetime) -> dict[int, list[int]]:
    """Cases reopened in the period (`reopen` transition events; proposals name the
    transition too, so only applied transitions count)."""
    e, o = _t(OutfallEvent), _t(Outfall)
    sql = (
        f"SELECT o.jurisdiction_id, {_ids('e.outfall_id', '1 = 1')} "
        f"FROM {e} e JOIN {o} o ON o.id = e.outfall_id "
        f"WHERE e.at >= %s AND e.at < %s AND e.kind = 'transition' AND e.transition = 'reopen' "
        f"GROUP BY o.jurisdiction_id"
    )
    return {
        jurisdiction_id: sorted(set(_as_list(ids)))
        for jurisdiction_id, ids in _fetch(sql, [_dt(start), _dt(end)])
    }


def _remediation(end_date: dt.date, end: dt.datetime) -> dict[int, dict[str, list[int]]]:
    d = _t(Deadline)
    due = "COALESCE(mv.new_date, d.original_due_on)"
    done = "(d.status = 'met' AND d.closed_at < %(end)s)"
    on_time = f"(d.closed_at < {_due_cutoff(due, end)})"
    sql = (
        f"SELECT d.jurisdiction_id, "
        f"{_ids('d.outfall_id', f'{done} AND {on_time}')}, "
        f"{_ids('d.outfall_id', f'{done} AND NOT {on_time}')}, "
        f"{_ids('d.outfall_id', f'NOT {done} AND {due} <= %(end_date)s')}, "
        f"{_ids('d.outfall_id', f'NOT {done} AND {due} > %(end_date)s')} "
        f"FROM {d} d LEFT JOIN {_moves('%(end)s')} mv ON mv.deadline_id = d.id "
        f"WHERE d.stage = 'remediation' AND d.outfall_id IS NOT NULL "
        f"AND d.start_on <= %(end_date)s "
        f"AND NOT (d.status = 'waived' AND d.closed_at < %(end)s) "
        f"GROUP BY d.jurisdiction_id"
    )
    rows = _fetch(sql, {"end": _dt(end), "end_date": _d(end_date)})
    return {
        row[0]: {
            "on_time": sorted(_as_list(row[1])),
            "late": sorted(_as_list(row[2])),
            "overdue": sorted(_as_list(row[3])),
            "not_due": sorted(_as_list(row[4])),
        }
        for row in rows
    }


def _overdue(
    end_date: dt.date, end: dt.datetime, ladder: list[tuple[int, str]]
) -> dict[int, dict[str, list[int]]]:
    d, s = _t(Deadline), _t(EscalationStep)
    due = "COALESCE(mv.new_date, d.original_due_on)"
    stages = ", ".join(f"'{stage}'" for stage in CASE_STAGES)
    # the level's rank by its id (a handful of rows): saves a join per step
    ranks = dict(EscalationLevel.objects.values_list("pk", "rank"))
    rank = (
        "CASE s.level_id "
        + " ".join(f"WHEN {int(pk)} THEN {int(r)}" for pk, r in ranks.items())
        + " ELSE -1 END"
        if ranks
        else "-1"
    )
    # the overdue deadlines joined to their steps fired before the cutoff, one row per case
    per_case = (
        f"SELECT d.jurisdiction_id, d.outfall_id, MAX(COALESCE({rank}, -1)) AS rank "
        f"FROM {d} d LEFT JOIN {_moves('%(end)s')} mv ON mv.deadline_id = d.id "
        f"LEFT JOIN {s} s ON s.deadline_id = d.id AND s.fired_at < %(end)s "
        f"WHERE d.outfall_id IS NOT NULL AND d.stage IN ({stages}) "
        f"AND d.start_on <= %(end_date)s "
        f"AND NOT (d.status IN ('met', 'waived') AND d.closed_at < %(end)s) "
        f"AND {due} <= %(end_date)s "
        f"GROUP BY d.jurisdiction_id, d.outfall_id"
    )
    sql = (
        f"SELECT x.jurisdiction_id, x.rank, {_ids('x.outfall_id', '1 = 1')} "
        f"FROM ({per_case}) x GROUP BY x.jurisdiction_id, x.rank"
    )
    codes = dict(ladder)
    result: dict[int, dict[str, list[int]]] = defaultdict(
        lambda: {NOT_ESCALATED: [], **{code: [] for _r, code in ladder}}
    )
    for jurisdiction_id, rank, ids in _fetch(sql, {"end": _dt(end), "end_date": _d(end_date)}):
        code = codes.get(rank, NOT_ESCALATED) if rank is not None and rank > 0 else NOT_ESCALATED
        result[jurisdiction_id][code].extend(_as_list(ids))
    return {j: {k: sorted(v) for k, v in buckets.items()} for j, buckets in result.items()}


def overdue_deadlines(jurisdiction_id: int, ends_on: dt.date) -> list[tuple[int, int, dt.date]]:
    """(deadline, outfall, due date then) of a county's case deadlines overdue at the end of
    a period (as `_overdue` counts them): what a summons proposal lists."""
    d = _t(Deadline)
    end = cutoff(ends_on)
    due = "COALESCE(mv.new_date, d.original_due_on)"
    stages = ", ".join(f"'{stage}'" for stage in CASE_STAGES)
    sql = (
        f"SELECT d.id, d.outfall_id, {due} FROM {d} d "
        f"LEFT JOIN {_moves('%(end)s')} mv ON mv.deadline_id = d.id "
        f"WHERE d.jurisdiction_id = %(jurisdiction)s AND d.outfall_id IS NOT NULL "
        f"AND d.stage IN ({stages}) AND d.start_on <= %(end_date)s "
        f"AND NOT (d.status IN ('met', 'waived') AND d.closed_at < %(end)s) "
        f"AND {due} <= %(end_date)s ORDER BY d.id"
    )
    rows = _fetch(sql, {"end": _dt(end), "end_date": _d(ends_on), "jurisdiction": jurisdiction_id})
    return [
        (pk, outfall, day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day)))
        for pk, outfall, day in rows
    ]


def _summons(start_date: dt.date, end_date: dt.date, end: dt.datetime):
    proposals = SummonsProposal.objects.filter(
        month__gte=start_date, month__lte=end_date, created_at__lt=end
    )
    result: dict[int, dict[str, list[int]]] = defaultdict(lambda: {"proposals": [], "cases": []})
    for jurisdiction_id, pk in proposals.values_list("jurisdiction_id", "pk").order_by("pk"):
        result[jurisdiction_id]["proposals"].append(pk)
    items = SummonsProposalItem.objects.filter(
        proposal__in=proposals, outfall_id__isnull=False
    ).values_list("proposal__jurisdiction_id", "outfall_id")
    for jurisdiction_id, outfall_id in items:
        result[jurisdiction_id]["cases"].append(outfall_id)
    # what became of each proposal by the period's end: the summons meeting held, and the
    # implementation report verified as rectified
    held, rectified = set(), set()
    for proposal_id, met_on, is_rectified, verified_at in Summons.objects.filter(
        summons_proposal__in=proposals
    ).values_list("summons_proposal_id", "met_on", "rectified", "verified_at"):
        if met_on and met_on <= end_date:
            held.add(proposal_id)
        if is_rectified and verified_at and verified_at < end:
            rectified.add(proposal_id)
    return {
        j: {
            "proposals": v["proposals"],
            "held": [p for p in v["proposals"] if p in held],
            "rectified": [p for p in v["proposals"] if p in rectified],
            "unrectified": [p for p in v["proposals"] if p not in rectified],
            "cases": sorted(set(v["cases"])),
        }
        for j, v in result.items()
    }


def _patrols(period_kind: str, start_date: dt.date, end_date: dt.date, end: dt.datetime, city_id):
    requirements = {
        r.level: r.required_in(period_kind) for r in PatrolRequirement.objects.filter(active=True)
    }
    requirements = {level: n for level, n in requirements.items() if n}
    appointments = (
        RiverChiefAppointment.objects.filter(level__in=list(requirements))
        .filter(valid_from__lte=end_date)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start_date))
        .values_list(
            "person_id",
            "person__full_name",
            "person__username",
            "segment_id",
            "segment__name",
            "segment__jurisdiction_id",
            "level",
        )
        .order_by("segment_id", "person_id", "level")
    )
    recorded_by = end + dt.timedelta(days=PATROL_RECORDING_GRACE_DAYS)
    p = _t(Patrol)
    sql = (
        f"SELECT chief_id, segment_id, COUNT(*), {_ids('id', '1 = 1')} FROM {p} "
        f"WHERE patrolled_on >= %s AND patrolled_on <= %s AND recorded_at < %s "
        f"GROUP BY chief_id, segment_id"
    )
    done = {
        (chief, segment): (count, _as_list(ids))
        for chief, segment, count, ids in _fetch(
            sql, [_d(start_date), _d(end_date), _dt(recorded_by)]
        )
    }
    totals: dict[int, dict] = defaultdict(
        lambda: {"required": 0, "credited": 0, "done": 0, "ids": [], "chiefs": []}
    )
    seen = set()
    for person, full_name, username, segment, segment_name, jurisdiction, level in appointments:
        if (person, segment, level) in seen:
            continue
        seen.add((person, segment, level))
        required = requirements[level]
        count, ids = done.get((person, segment), (0, []))
        chief = {
            "person": person,
            "name": full_name or username,
            "level": level,
            "segment": segment_name,
            "required": required,
            "done": count,
        }
        targets = (
            [city_id] if level == RiverChiefAppointment.Level.CITY else [jurisdiction, city_id]
        )
        for target in dict.fromkeys(targets):
            bucket = totals[target]
            bucket["required"] += required
            bucket["credited"] += min(count, required)
            bucket["done"] += count
            bucket["ids"].extend(ids)
            bucket["chiefs"].append(chief)
    return totals


# --- the period ----------------------------------------------------------------------------


def assessed_jurisdictions() -> list[Jurisdiction]:
    """The city and its county-level units, city first."""
    county_level = [
        Jurisdiction.Kind.DISTRICT,
        Jurisdiction.Kind.COUNTY,
        Jurisdiction.Kind.COUNTY_CITY,
        Jurisdiction.Kind.DEV_ZONE,
    ]
    return list(
        Jurisdiction.objects.filter(
            Q(kind=Jurisdiction.Kind.CITY, parent__isnull=True) | Q(kind__in=county_level)
        ).order_by("path")
    )


def compute_period(
    *, kind: str, starts_on: dt.date, ends_on: dt.date
) -> dict[int, JurisdictionMetrics]:
    """The metrics of every assessed jurisdiction for the period, as of its end."""
    start = cutoff(starts_on - dt.timedelta(days=1))
    end = cutoff(ends_on)
    jurisdictions = assessed_jurisdictions()
    city = next((j for j in jurisdictions if j.kind == Jurisdiction.Kind.CITY), None)
    city_id = city.pk if city else None
    ladder = ladder_codes()
    # PostgreSQL's settings are per transaction; SQLite would take its write lock for one
    with transaction.atomic() if _pg() else nullcontext():
        _tune_for_reporting()
        survey = _survey(ends_on, end)
        reopened = _reopened(start, end)
        remediation = _remediation(ends_on, end)
        overdue = _overdue(ends_on, end, ladder)
        summons = _summons(starts_on, ends_on, end)
        patrols = _patrols(kind, starts_on, ends_on, end, city_id)
    empty_overdue = {NOT_ESCALATED: [], **{code: [] for _r, code in ladder}}

    def county_sets(jurisdiction_id: int) -> dict[str, list[int]]:
        ev = survey.get(jurisdiction_id, {})
        rem = remediation.get(jurisdiction_id, {})
        od = overdue.get(jurisdiction_id, empty_overdue)
        sm = summons.get(jurisdiction_id, {})
        sets = {f"survey_trace.{k}": ev.get(k, []) for k in ("traced", "untraced", "voided")}
        sets.update(
            {f"remediation.{k}": rem.get(k, []) for k in ("on_time", "late", "overdue", "not_due")}
        )
        sets.update({f"overdue.{k}": od.get(k, []) for k in empty_overdue})
        sets["summons.proposals"] = sm.get("proposals", [])
        for key in ("held", "rectified", "unrectified"):
            sets[f"summons.{key}"] = sm.get(key, [])
        sets["summons.cases"] = sm.get("cases", [])
        sets["reopened.reopened"] = reopened.get(jurisdiction_id, [])
        return sets

    county_ids = [j.pk for j in jurisdictions if j.pk != city_id]
    result: dict[int, JurisdictionMetrics] = {}
    all_sets = {j: county_sets(j) for j in county_ids}
    if city_id is not None:
        city_sets: dict[str, list[int]] = defaultdict(list)
        for sets in all_sets.values():
            for key, ids in sets.items():
                city_sets[key].extend(ids)
        all_sets[city_id] = {k: sorted(v) for k, v in city_sets.items()}
    for jurisdiction in jurisdictions:
        sets = all_sets[jurisdiction.pk]
        patrol = patrols.get(
            jurisdiction.pk, {"required": 0, "credited": 0, "done": 0, "ids": [], "chiefs": []}
        )
        sets["patrols.patrols"] = sorted(patrol["ids"])
        n = {key: len(ids) for key, ids in sets.items()}
        traced, untraced, voided = (
            n["survey_trace.traced"],
            n["survey_trace.untraced"],
            n["survey_trace.voided"],
        )
        proposed = n["summons.proposals"]
        numbers = {
            "survey_trace": {
                "registered": traced + untraced + voided,
                "voided": voided,
                "traced": traced,
                "untraced": untraced,
            },
            "remediation": {
                k: n[f"remediation.{k}"] for k in ("on_time", "late", "overdue", "not_due")
            },
            "overdue": {
                **{k: n[f"overdue.{k}"] for k in empty_overdue},
                "total": sum(n[f"overdue.{k}"] for k in empty_overdue),
            },
            "summons": {
                "proposed": proposed,
                "held": n["summons.held"],
                "rectified": n["summons.rectified"],
                "unrectified": n["summons.unrectified"],
                "rectification_recorded": True,
            },
            "patrols": {
                "required": patrol["required"],
                "credited": patrol["credited"],
                "done": patrol["done"],
                "missing": patrol["required"] - patrol["credited"],
            },
            "reopened": {"reopened": n["reopened.reopened"]},
        }
        result[jurisdiction.pk] = JurisdictionMetrics(
            numbers=numbers, sets=sets, patrol_chiefs=patrol["chiefs"]
        )
    return result
