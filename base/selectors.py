"""Reads of the base module, always scoped to the asking user."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from .models import Jurisdiction, RiverChiefAppointment, RiverSegment, Role, RoleGrant
from .security import scoped


def grants_of(user) -> QuerySet[RoleGrant]:
    return RoleGrant.objects.filter(user=user).select_related("jurisdiction", "department")


def appointments_of(user, *, on: dt.date | None = None) -> QuerySet[RiverChiefAppointment]:
    qs = RiverChiefAppointment.objects.filter(person=user).select_related(
        "segment__water_body", "segment__jurisdiction"
    )
    if on is not None:
        qs = qs.filter(valid_from__lte=on).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    return qs


def jurisdiction_list(*, user) -> QuerySet[Jurisdiction]:
    return scoped(Jurisdiction.objects.all(), user)


def segment_list(*, user) -> QuerySet[RiverSegment]:
    return scoped(RiverSegment.objects.select_related("water_body", "jurisdiction"), user)


def roles_of(user) -> set[str]:
    return set(grants_of(user).values_list("role", flat=True)) | (
        {Role.RIVER_CHIEF} if appointments_of(user).exists() else set()
    )


def worker_status(*, now: dt.datetime, stale_after: dt.timedelta = dt.timedelta(minutes=3)):
    """The freshest worker heartbeat and whether it is recent enough to call the worker up."""
    from .models import WorkerHeartbeat

    latest = WorkerHeartbeat.objects.order_by("-last_seen").first()
    return {"latest": latest, "alive": bool(latest and now - latest.last_seen <= stale_after)}
