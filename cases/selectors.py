"""Reads of the cases module. Every selector takes `user` and applies the record rule."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from base.security import scoped

from .models import (
    Evidence,
    Outfall,
    OutfallEntity,
    OutfallEvent,
    OverrideRequest,
    PlanExtension,
    RemediationPlan,
    TracingRecord,
)


def outfall_list(*, user, filters: dict | None = None) -> QuerySet[Outfall]:
    """The outfalls the user may see, filtered; ready for a list page or an export."""
    filters = filters or {}
    qs = (
        scoped(Outfall.objects.all(), user)
        .select_related("jurisdiction", "water_body", "category", "subtype", "plan")
        .prefetch_related(
            Prefetch(
                "entity_links",
                queryset=OutfallEntity.objects.filter(is_primary=True).select_related("entity"),
                to_attr="primary_links",
            )
        )
    )
    if filters.get("jurisdiction"):
        qs = qs.filter(jurisdiction__path__startswith=filters["jurisdiction"].path)
    for field in ("water_body", "category", "subtype"):
        if filters.get(field):
            qs = qs.filter(**{field: filters[field]})
    for field in ("state", "disposition", "source"):
        if filters.get(field):
            qs = qs.filter(**{field: filters[field]})
    if filters.get("possible_duplicate") in (True, "1", "true", "yes"):
        qs = qs.filter(is_possible_duplicate=True)
    if filters.get("q"):
        term = filters["q"].strip()
        qs = qs.filter(
            Q(code__icontains=term)
            | Q(national_code__icontains=term)
            | Q(name__icontains=term)
            | Q(entity_links__entity__name__icontains=term)
            | Q(entity_links__entity__credit_code__iexact=term)
        ).distinct()
    return qs.order_by("-id")


def outfall_get(*, user, pk: int, for_update: bool = False) -> Outfall:
    """One outfall the user may see; missing and out of scope both raise Http404."""
    qs = scoped(Outfall.objects.all(), user).select_related(
        "jurisdiction",
        "water_body",
        "segment",
        "category",
        "subtype",
        "lead_department",
        "assigned_officer",
        "merge_target",
        "created_by",
    )
    try:
        return qs.get(pk=pk)
    except (Outfall.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def outfall_events(*, user, outfall: Outfall) -> QuerySet[OutfallEvent]:
    return scoped(OutfallEvent.objects.filter(outfall=outfall), user).select_related(
        "actor", "approved_by"
    )


def outfall_entity_links(*, user, outfall: Outfall) -> QuerySet[OutfallEntity]:
    return scoped(OutfallEntity.objects.filter(outfall=outfall), user).select_related("entity")


def outfall_tracing_records(*, user, outfall: Outfall) -> QuerySet[TracingRecord]:
    return scoped(TracingRecord.objects.filter(outfall=outfall), user).select_related("created_by")


def outfall_plan(*, user, outfall: Outfall) -> RemediationPlan | None:
    """The case's remediation plan with its extension ledger, or None."""
    return (
        scoped(RemediationPlan.objects.filter(outfall=outfall), user)
        .select_related("lead_department")
        .prefetch_related(
            Prefetch(
                "extensions",
                queryset=PlanExtension.objects.select_related("approver", "requested_by"),
            )
        )
        .first()
    )


def outfall_evidence(*, user, outfall: Outfall) -> QuerySet[Evidence]:
    return scoped(Evidence.objects.filter(outfall=outfall), user).select_related("uploaded_by")


def outfall_overrides(*, user, outfall: Outfall) -> QuerySet[OverrideRequest]:
    return scoped(OverrideRequest.objects.filter(outfall=outfall), user).select_related(
        "requested_by", "decided_by"
    )


def evidence_get(*, user, pk: int) -> Evidence:
    qs = scoped(Evidence.objects.select_related("outfall"), user)
    try:
        return qs.get(pk=pk)
    except (Evidence.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def primary_entity(outfall: Outfall):
    links = getattr(outfall, "primary_links", None)
    if links is not None:
        return links[0].entity if links else None
    link = outfall.entity_links.filter(is_primary=True).select_related("entity").first()
    return link.entity if link else None


def replay_state(events) -> str:
    """The state reached by replaying transition events from `surveyed`."""
    state = "surveyed"
    for event in events:
        if event.kind == OutfallEvent.Kind.TRANSITION:
            if event.from_state != state:
                raise ValueError(f"event {event.pk} leaves {event.from_state}, expected {state}")
            state = event.to_state
    return state
