"""Scenario helpers of the approval tests: real services, like the users' own steps."""

from __future__ import annotations

import datetime as dt

from cases import factories as f
from cases import services
from cases.models import Outfall
from workflows import approvals
from workflows.models import Proposal


def ready_to_trace(outfall: Outfall, officer) -> Outfall:
    """A surveyed case whose tracing guards are met (a record and a responsible entity)."""
    services.tracing_record_add(
        actor=officer,
        outfall=outfall,
        method="field",
        traced_on=dt.date(2023, 10, 1),
        finding="沿管线排查至企业总排口",
        result="found",
    )
    services.outfall_entity_link(actor=officer, outfall=outfall, entity=f.EntityFactory())
    outfall.refresh_from_db()
    return outfall


def propose_trace(outfall: Outfall, officer, **kwargs) -> Proposal:
    return approvals.proposal_submit(
        actor=officer,
        outfall=outfall,
        transition="trace",
        reason=kwargs.pop("reason", "已查明责任主体"),
        **kwargs,
    )


def events(outfall: Outfall, kind: str | None = None) -> list:
    qs = outfall.events.order_by("id")
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs)
