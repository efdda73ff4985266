"""Reads of the assessments module, always through the record rules (404 for out of scope)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from base.models import RiverChiefAppointment, RiverSegment
from base.security import scoped
from cases.models import Outfall
from workflows.models import SummonsProposal

from .metrics import SET_KINDS, evidence_keys
from .models import (
    Assessment,
    AssessmentEvent,
    AssessmentPeriod,
    EvidenceSet,
    FormulaVersion,
    Objection,
    ObjectionAnswer,
    Patrol,
    PatrolFinding,
    PatrolPhoto,
)


def _get(qs: QuerySet, pk):
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# --- periods and assessments ---------------------------------------------------------------


def period_list(*, user) -> QuerySet[AssessmentPeriod]:
    """Periods in which the user sees at least one assessment, newest first."""
    visible = scoped(Assessment.objects.all(), user).values("period_id")
    return (
        scoped(AssessmentPeriod.objects.all(), user)
        .filter(pk__in=visible)
        .annotate(
            assessment_count=Count("assessments", distinct=True),
            finalized_count=Count(
                "assessments", filter=Q(assessments__status="finalized"), distinct=True
            ),
        )
        .order_by("-ends_on", "kind")
    )


def period_get(*, user, pk: int) -> AssessmentPeriod:
    visible = scoped(Assessment.objects.all(), user).values("period_id")
    return _get(scoped(AssessmentPeriod.objects.filter(pk__in=visible), user), pk)


def period_assessments(*, user, period: AssessmentPeriod) -> list[Assessment]:
    """The period's assessments the user may see, best score first (the city last)."""
    rows = list(
        scoped(Assessment.objects.filter(period=period), user).select_related(
            "jurisdiction", "formula"
        )
    )
    return sorted(
        rows, key=lambda a: (a.jurisdiction.parent_id is None, -a.score, a.jurisdiction.path)
    )


def period_summons(*, user, period: AssessmentPeriod) -> QuerySet[SummonsProposal]:
    return scoped(period.summons_proposals.select_related("jurisdiction"), user)


def assessment_get(*, user, pk: int) -> Assessment:
    """One assessment the user may see; Http404 for missing and forbidden alike."""
    return _get(
        scoped(Assessment.objects.all(), user).select_related(
            "period",
            "jurisdiction",
            "formula",
            "reviewed_by",
            "submitted_by",
            "finalized_by",
            "report",
        ),
        pk,
    )


def assessment_objections(*, user, assessment: Assessment) -> list[Objection]:
    return list(
        scoped(Objection.objects.filter(assessment=assessment), user)
        .select_related("raised_by")
        .prefetch_related(
            Prefetch("answer", queryset=ObjectionAnswer.objects.select_related("answered_by"))
        )
        .order_by("raised_at", "pk")
    )


def objection_get(*, user, pk: int) -> Objection:
    return _get(scoped(Objection.objects.select_related("assessment"), user), pk)


def assessment_events(*, user, assessment: Assessment) -> QuerySet[AssessmentEvent]:
    return scoped(AssessmentEvent.objects.filter(assessment=assessment), user).select_related(
        "actor"
    )


@dataclass
class Evidence:
    """The rows behind one number: what the user may open, and how many they may not."""

    key: str
    kind: str  # "case", "patrol" or "summons_proposal"
    total: int
    rows: list
    hidden: int


def evidence(*, user, assessment: Assessment, key: str) -> Evidence:
    """The cases (or patrols, or summons proposals) behind a number of the snapshot, each
    fetched through its own record rule: a case the user may not see is only counted."""
    sets = {s.key: s.ids for s in scoped(EvidenceSet.objects.filter(assessment=assessment), user)}
    keys = [k for k in evidence_keys(key, sets) if k in sets]
    if not keys:
        raise Http404
    kind = SET_KINDS.get(keys[0], "case")
    ids = sorted({i for k in keys for i in sets[k]})
    if kind == "patrol":
        rows = list(
            scoped(Patrol.objects.filter(pk__in=ids), user).select_related("chief", "segment")
        )
    elif kind == "summons_proposal":
        rows = list(
            scoped(SummonsProposal.objects.filter(pk__in=ids), user).select_related("jurisdiction")
        )
    else:
        rows = list(
            scoped(Outfall.objects.filter(pk__in=ids), user)
            .select_related("jurisdiction", "water_body")
            .order_by("pk")
        )
    return Evidence(key=key, kind=kind, total=len(ids), rows=rows, hidden=len(ids) - len(rows))


def formula_versions(*, user, code: str) -> QuerySet[FormulaVersion]:
    return scoped(FormulaVersion.objects.filter(code=code), user).order_by("-version")


# --- patrols -------------------------------------------------------------------------------


def patrol_list(*, user) -> QuerySet[Patrol]:
    return (
        scoped(Patrol.objects.all(), user)
        .select_related("chief", "segment", "jurisdiction")
        .annotate(finding_count=Count("findings"))
        .order_by("-patrolled_on", "-pk")
    )


def patrol_get(*, user, pk: int) -> Patrol:
    return _get(
        scoped(Patrol.objects.all(), user).select_related(
            "chief", "segment__water_body", "segment__jurisdiction", "appointment"
        ),
        pk,
    )


def patrol_findings(*, user, patrol: Patrol) -> list[PatrolFinding]:
    return list(
        scoped(PatrolFinding.objects.filter(patrol=patrol), user)
        .select_related("outfall")
        .prefetch_related("photos")
        .order_by("recorded_at", "pk")
    )


def photo_get(*, user, pk: int) -> PatrolPhoto:
    return _get(scoped(PatrolPhoto.objects.select_related("finding__patrol"), user), pk)


def patrol_segments(*, user, on: dt.date) -> QuerySet[RiverSegment]:
    """The segments the user is appointed to on `on` (where they may record patrols)."""
    ids = (
        RiverChiefAppointment.objects.filter(person=user, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .values("segment_id")
    )
    return RiverSegment.objects.filter(pk__in=ids).select_related("water_body", "jurisdiction")


def segment_outfalls(*, user, segment: RiverSegment) -> QuerySet[Outfall]:
    """Registered outfalls the user may see on a segment (to link a finding to)."""
    return scoped(Outfall.objects.filter(segment=segment), user).order_by("code", "pk")
