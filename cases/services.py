"""Writes of the cases module: one service per user action (STYLE.md).

Each service is keyword-only, runs in one transaction, checks the actor's permission on the
object (model permission AND record rule: out of scope reads as not found), writes an
`OutfallEvent`, and schedules side effects with `transaction.on_commit`. `actor=None` is the
system (imports by an operator command, tasks).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from base.models import Department, User
from base.security import holds_role_over
from base.uploads import check_upload

from . import registry
from .choices import Disposition, EvidenceKind, State
from .coding import code_scheme, default_name
from .lifecycle import TRANSITIONS, transition_checks
from .models import (
    Category,
    Evidence,
    Outfall,
    OutfallEntity,
    OutfallEvent,
    OverrideRequest,
    PlanExtension,
    RemediationPlan,
    ResponsibleEntity,
    Subtype,
    TracingRecord,
)
from .rules import evaluate


class TransitionError(Exception):
    """A transition that cannot be applied now; `reasons` are shown to the user."""

    def __init__(self, message: str, reasons: list[str] | tuple[str, ...] = ()):
        super().__init__(message)
        self.message = message
        self.reasons = list(reasons)

    def __str__(self):
        return "；".join([self.message, *self.reasons]) if self.reasons else self.message


class TransitionConflict(TransitionError):
    """Someone else changed the case at the same moment; nothing was written."""


# --- helpers -------------------------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _require(actor: User | None, perm: str, obj: Model | None = None) -> None:
    """System actions (actor None) pass; users need the permission on the object.

    Out-of-scope objects raise Http404, exactly like missing ones (DESIGN.md §8); an object
    in scope without the permission raises PermissionDenied.
    """
    if actor is None:
        return
    if obj is not None and not actor.has_perm(
        perm.split(".")[0] + ".view_" + obj._meta.model_name, obj
    ):
        raise Http404
    if not actor.has_perm(perm, obj):
        raise PermissionDenied(_("You do not have permission to do this."))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Model):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _snapshot(obj: Model, fields: list[str]) -> dict[str, Any]:
    return {f: _jsonable(getattr(obj, f)) for f in fields}


def _diff(before: dict, after: dict) -> dict[str, list]:
    return {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}


def _event(
    outfall: Outfall, kind: str, actor: User | None, now: dt.datetime, **fields
) -> OutfallEvent:
    event = OutfallEvent(outfall=outfall, kind=kind, actor=actor, at=now, **fields)
    event.save()
    registry.run_event_hooks([event])
    return event


def _locked(outfall: Outfall | int) -> Outfall:
    pk = outfall.pk if isinstance(outfall, Outfall) else outfall
    return (
        Outfall.objects.select_for_update(of=("self",))
        .select_related("jurisdiction", "category", "subtype", "water_body")
        .get(pk=pk)
    )


EDITABLE_FIELDS = [
    "name",
    "national_code",
    "jurisdiction",
    "town",
    "village",
    "landmark",
    "longitude",
    "latitude",
    "water_body",
    "segment",
    "entry_mode",
    "discharge_pattern",
    "daily_volume",
    "main_pollutants",
    "is_discharging",
    "colour",
    "odour",
    "survey_level",
    "survey_date",
    "surveyors",
    "source",
    "remarks",
    "in_drinking_water_zone",
    "in_spring_zone",
    "in_nature_reserve",
    "in_red_line",
    "in_basic_farmland",
    "in_other_protected",
    "in_sewer_coverage",
    "in_industrial_park",
    "is_inflow_overflow",
    "is_new_or_changed",
    "is_historical",
    "assigned_officer",
    "lead_department",
]
REGISTER_FIELDS = [f for f in EDITABLE_FIELDS if f not in {"name"}] + ["name"]


# --- register / edit -----------------------------------------------------------------------


@transaction.atomic
def outfall_register(
    *,
    actor: User | None,
    data: dict[str, Any],
    now: dt.datetime | None = None,
    event_kind: str = OutfallEvent.Kind.REGISTERED,
) -> Outfall:
    """Register a surveyed outfall. `data` holds model field values (FKs as objects)."""
    now = _now(now)
    unknown = set(data) - set(REGISTER_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    outfall = Outfall(created_by=actor, **data)
    if actor is not None:
        if not actor.has_perm("cases.add_outfall"):
            raise PermissionDenied(_("You do not have permission to do this."))
        from .security import FULL_SCOPE_ROLES

        if not actor.is_superuser and not holds_role_over(
            actor, FULL_SCOPE_ROLES, outfall.jurisdiction
        ):
            raise PermissionDenied(_("You may register outfalls only in your own jurisdiction."))
    if not outfall.name:
        outfall.name = default_name(outfall)
    outfall.full_clean(exclude=["code", "state"])
    outfall.save()
    _event(
        outfall,
        event_kind,
        actor,
        now,
        to_state=outfall.state,
        diff={k: [None, _jsonable(v)] for k, v in data.items()},
    )
    return outfall


@transaction.atomic
def outfall_update(
    *, actor: User | None, outfall: Outfall, data: dict[str, Any], now: dt.datetime | None = None
) -> Outfall:
    now = _now(now)
    _require(actor, "cases.change_outfall", outfall)
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    locked = _locked(outfall)
    before = _snapshot(locked, list(data))
    for field, value in data.items():
        setattr(locked, field, value)
    locked.full_clean(exclude=["state"])
    diff = _diff(before, _snapshot(locked, list(data)))
    if not diff:
        return locked
    locked.save(update_fields=[*data, "updated_at"])
    _event(locked, OutfallEvent.Kind.EDITED, actor, now, diff=diff)
    return locked


# --- tracing and responsible entities ------------------------------------------------------


@transaction.atomic
def tracing_record_add(
    *,
    actor: User | None,
    outfall: Outfall,
    method: str,
    traced_on: dt.date,
    finding: str,
    result: str,
    now: dt.datetime | None = None,
) -> TracingRecord:
    now = _now(now)
    _require(actor, "cases.add_tracingrecord", outfall)
    record = TracingRecord(
        outfall=outfall,
        method=method,
        traced_on=traced_on,
        finding=finding,
        result=result,
        created_by=actor,
    )
    record.full_clean()
    record.save()
    _event(
        outfall,
        OutfallEvent.Kind.TRACING_ADDED,
        actor,
        now,
        reason=finding,
        diff={"method": [None, method], "result": [None, result]},
    )
    return record


@transaction.atomic
def entity_create(*, actor: User | None, data: dict[str, Any]) -> ResponsibleEntity:
    if actor is not None and not actor.has_perm("cases.add_responsibleentity"):
        raise PermissionDenied(_("You do not have permission to do this."))
    entity = ResponsibleEntity(**data)
    entity.full_clean()
    entity.save()
    return entity


@transaction.atomic
def outfall_entity_link(
    *,
    actor: User | None,
    outfall: Outfall,
    entity: ResponsibleEntity,
    is_primary: bool = True,
    share_percent: Decimal | int = 100,
    permit_number: str = "",
    designated_by_government: bool = False,
    fallback_reason: str = "",
    now: dt.datetime | None = None,
) -> OutfallEntity:
    """Link a responsible entity; the primary link replaces an earlier primary.

    Linking the government fallback (兜底) as primary needs the reason tracing failed.
    """
    now = _now(now)
    _require(actor, "cases.add_outfallentity", outfall)
    locked = _locked(outfall)
    if entity.is_government_fallback and is_primary and not fallback_reason.strip():
        raise ValidationError(
            {"fallback_reason": _("Give the reason the government is the fallback entity.")}
        )
    replaced = None
    if is_primary:
        # the new primary replaces the earlier one (tracing found the real discharger, or
        # the fallback is superseded); the audit event keeps the history
        previous = (
            OutfallEntity.objects.filter(outfall=locked, is_primary=True)
            .exclude(entity=entity)
            .select_related("entity")
            .first()
        )
        if previous is not None:
            replaced = previous.entity.name
            previous.delete()
    link, _created = OutfallEntity.objects.update_or_create(
        outfall=locked,
        entity=entity,
        defaults={
            "is_primary": is_primary,
            "share_percent": share_percent,
            "permit_number": permit_number,
            "designated_by_government": designated_by_government,
        },
    )
    link.full_clean()
    total = sum(
        OutfallEntity.objects.filter(outfall=locked).values_list("share_percent", flat=True)
    )
    if total > 100:
        raise ValidationError(
            {
                "share_percent": _("Responsibility shares add up to %(total)s%%, over 100%%.")
                % {"total": total}
            }
        )
    if is_primary and entity.is_government_fallback:
        locked.fallback_reason = fallback_reason.strip()
        locked.save(update_fields=["fallback_reason", "updated_at"])
    _event(
        locked,
        OutfallEvent.Kind.ENTITY_LINKED,
        actor,
        now,
        reason=fallback_reason,
        diff={
            "entity": [replaced, entity.name],
            "primary": [None, is_primary],
            "share_percent": [None, str(share_percent)],
        },
    )
    return link


# --- classification ------------------------------------------------------------------------


@transaction.atomic
def outfall_classification_set(
    *,
    actor: User | None,
    outfall: Outfall,
    category: Category,
    subtype: Subtype,
    disposition: str,
    overrides: dict[str, str] | None = None,
    merge_target: Outfall | None = None,
    merge_into_network: bool = False,
    now: dt.datetime | None = None,
) -> tuple[Outfall, list]:
    """Set category, subtype and disposition; evaluate the disposition rules.

    A failed rule needs an override reason in `overrides[rule]`: an `OverrideRequest` is then
    recorded for city-level approval. Without a reason, nothing is written.
    Returns the outfall and the rule results.
    """
    now = _now(now)
    _require(actor, "cases.change_outfall", outfall)
    locked = _locked(outfall)
    if locked.state not in {State.SURVEYED, State.TRACED}:
        raise ValidationError(_("The classification can change only before it is confirmed."))
    if subtype.category_id != category.pk:
        raise ValidationError(
            {
                "subtype": _("Subtype “%(subtype)s” is not in category “%(category)s”.")
                % {"subtype": subtype.name, "category": category.name}
            }
        )
    if disposition not in Disposition.values:
        raise ValidationError({"disposition": _("Choose a valid disposition.")})
    if merge_target is not None:
        if merge_target.pk == locked.pk:
            raise ValidationError({"merge_target": _("An outfall cannot merge into itself.")})
        _require(actor, "cases.view_outfall", merge_target)
    fields = ["category", "subtype", "disposition", "merge_target", "merge_into_network"]
    before = _snapshot(locked, fields)
    locked.category, locked.subtype, locked.disposition = category, subtype, disposition
    locked.merge_target, locked.merge_into_network = merge_target, merge_into_network
    results = evaluate(locked)
    overrides = {k: v.strip() for k, v in (overrides or {}).items() if v and v.strip()}
    missing = [r for r in results if r.failed and r.rule not in overrides]
    already = set(
        OverrideRequest.objects.filter(
            outfall=locked,
            disposition=disposition,
            status__in=[OverrideRequest.Status.PENDING, OverrideRequest.Status.APPROVED],
        ).values_list("rule", flat=True)
    )
    missing = [r for r in missing if r.rule not in already]
    if missing:
        raise ValidationError(
            {
                "overrides": [
                    _("%(title)s fails: %(why)s An override needs a reason.")
                    % {"title": r.title, "why": r.explanation}
                    for r in missing
                ]
            }
        )
    locked.save(update_fields=[*fields, "updated_at"])
    _event(
        locked,
        OutfallEvent.Kind.CLASSIFICATION_SET,
        actor,
        now,
        diff=_diff(before, _snapshot(locked, fields)),
    )
    for result in results:
        if result.failed and result.rule in overrides and result.rule not in already:
            override_request(
                actor=actor,
                outfall=locked,
                rule=result.rule,
                disposition=disposition,
                explanation=result.explanation,
                reason=overrides[result.rule],
                now=now,
            )
    return locked, results


@transaction.atomic
def override_request(
    *,
    actor: User | None,
    outfall: Outfall,
    rule: str,
    disposition: str,
    explanation: str,
    reason: str,
    now: dt.datetime | None = None,
) -> OverrideRequest:
    now = _now(now)
    _require(actor, "cases.add_overriderequest", outfall)
    if not reason.strip():
        raise ValidationError({"reason": _("An override needs a reason.")})
    request = OverrideRequest.objects.create(
        outfall=outfall,
        rule=rule,
        disposition=disposition,
        explanation=explanation,
        reason=reason.strip(),
        requested_by=actor,
    )
    _event(
        outfall,
        OutfallEvent.Kind.OVERRIDE_REQUESTED,
        actor,
        now,
        reason=reason,
        diff={"rule": [None, rule], "disposition": [None, disposition]},
    )
    return request


@transaction.atomic
def override_decide(
    *,
    actor: User,
    override: OverrideRequest,
    approve: bool,
    note: str = "",
    now: dt.datetime | None = None,
) -> OverrideRequest:
    """A city leader (never the requester) approves or rejects a rule override."""
    now = _now(now)
    locked = OverrideRequest.objects.select_for_update().get(pk=override.pk)
    outfall = locked.outfall
    _require(actor, "cases.approve_override", outfall)
    if locked.status != OverrideRequest.Status.PENDING:
        raise ValidationError(_("This override request was already decided."))
    if locked.requested_by_id == actor.pk:
        raise PermissionDenied(_("You cannot decide your own request."))
    if not approve and not note.strip():
        raise ValidationError({"note": _("Give the reason for the rejection.")})
    locked.status = OverrideRequest.Status.APPROVED if approve else OverrideRequest.Status.REJECTED
    locked.decided_by, locked.decided_at, locked.decision_note = actor, now, note.strip()
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _event(
        outfall,
        OutfallEvent.Kind.OVERRIDE_DECIDED,
        actor,
        now,
        reason=note,
        approved_by=actor if approve else None,
        diff={"rule": [None, locked.rule], "status": ["pending", locked.status]},
    )
    return locked


# --- events recorded for a higher module ------------------------------------------------

RECORDABLE_EVENT_KINDS = frozenset(
    {
        OutfallEvent.Kind.PROPOSAL,
        OutfallEvent.Kind.PROPOSAL_REJECTED,
        OutfallEvent.Kind.NOTE,
    }
)


@transaction.atomic
def outfall_event_record(
    *,
    actor: User | None,
    outfall: Outfall,
    kind: str,
    reason: str = "",
    transition: str = "",
    diff: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> OutfallEvent:
    """Put a proposal, a rejection or a note on the case timeline (the approval workflow).

    Only these kinds: the facts of the case itself are written by the services above.
    """
    now = _now(now)
    if kind not in RECORDABLE_EVENT_KINDS:
        raise ValueError(f"outfall_event_record does not write {kind!r} events")
    _require(actor, "cases.view_outfall", outfall)
    return _event(
        outfall,
        kind,
        actor,
        now,
        from_state=outfall.state,
        transition=transition,
        reason=reason,
        diff={k: [_jsonable(v) for v in pair] for k, pair in (diff or {}).items()},
    )


# --- plan and evidence ---------------------------------------------------------------------


@transaction.atomic
def plan_set(
    *,
    actor: User | None,
    outfall: Outfall,
    measures: str,
    lead_department: Department,
    deadline: dt.date,
    progress: str | None = None,
    now: dt.datetime | None = None,
) -> RemediationPlan:
    now = _now(now)
    existing = RemediationPlan.objects.filter(outfall=outfall).first()
    _require(
        actor, "cases.change_remediationplan" if existing else "cases.add_remediationplan", outfall
    )
    if existing and existing.deadline != deadline:
        raise ValidationError(
            {"deadline": _("A plan deadline moves only through an approved extension.")}
        )
    fields = ["measures", "lead_department", "deadline", "progress"]
    plan = existing or RemediationPlan(outfall=outfall)
    before = _snapshot(plan, fields) if existing else {}
    plan.measures, plan.lead_department, plan.deadline = measures, lead_department, deadline
    if progress is not None:
        plan.progress = progress
    plan.full_clean()
    plan.save()
    if outfall.lead_department_id != lead_department.pk:
        Outfall.objects.filter(pk=outfall.pk).update(lead_department=lead_department)
    _event(
        outfall, OutfallEvent.Kind.PLAN_SET, actor, now, diff=_diff(before, _snapshot(plan, fields))
    )
    return plan


@transaction.atomic
def plan_progress_update(
    *, actor: User | None, plan: RemediationPlan, progress: str, now: dt.datetime | None = None
) -> RemediationPlan:
    now = _now(now)
    _require(actor, "cases.change_remediationplan", plan.outfall)
    before = plan.progress
    plan.progress = progress
    plan.save(update_fields=["progress", "updated_at"])
    _event(
        plan.outfall, OutfallEvent.Kind.PLAN_SET, actor, now, diff={"progress": [before, progress]}
    )
    return plan


@transaction.atomic
def plan_extend(
    *,
    actor: User | None,
    plan: RemediationPlan,
    new_date: dt.date,
    reason: str,
    approver: User,
    now: dt.datetime | None = None,
) -> PlanExtension:
    """Record an approved extension (过渡期) and move the plan deadline."""
    now = _now(now)
    plan = RemediationPlan.objects.select_for_update().get(pk=plan.pk)
    if actor is not None:
        _require(actor, "cases.view_remediationplan", plan.outfall)
    if approver == actor:
        raise PermissionDenied(_("An extension is approved by someone other than the proposer."))
    if not (
        approver.has_perm("cases.add_planextension", plan.outfall)
        and holds_role_over(approver, {"city_leader"}, plan.outfall.jurisdiction)
    ):
        raise PermissionDenied(_("Extensions are approved by a city leader."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the extension.")})
    if new_date <= plan.deadline:
        raise ValidationError({"new_date": _("The new deadline must be after the current one.")})
    extension = PlanExtension.objects.create(
        plan=plan,
        old_date=plan.deadline,
        new_date=new_date,
        reason=reason.strip(),
        requested_by=actor,
        approver=approver,
    )
    plan.deadline = new_date
    plan.save(update_fields=["deadline", "updated_at"])
    _event(
        plan.outfall,
        OutfallEvent.Kind.PLAN_EXTENDED,
        actor,
        now,
        reason=reason,
        approved_by=approver,
        diff={"deadline": [extension.old_date.isoformat(), new_date.isoformat()]},
    )
    return extension


# --- documents ---------------------------------------------------------------------------


def outfall_document_recorded(
    *,
    outfall: Outfall,
    document_number: str,
    title: str,
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> OutfallEvent:
    """Put an issued official document on the case's timeline (called by the documents
    module's type registrations, inside the issuing transaction; the issuer was checked)."""
    return _event(
        outfall,
        OutfallEvent.Kind.DOCUMENT_ISSUED,
        actor,
        _now(now),
        reason=f"{document_number}《{title}》",
    )


@transaction.atomic
def evidence_add(
    *,
    actor: User | None,
    outfall: Outfall,
    kind: str,
    file: UploadedFile,
    taken_at: dt.datetime | None = None,
    longitude: Decimal | None = None,
    latitude: Decimal | None = None,
    description: str = "",
    now: dt.datetime | None = None,
) -> Evidence:
    now = _now(now)
    _require(actor, "cases.add_evidence", outfall)
    if kind not in EvidenceKind.values:
        raise ValidationError({"kind": _("Choose a valid evidence kind.")})
    upload = check_upload(file, field="file")
    evidence = Evidence(
        outfall=outfall,
        kind=kind,
        original_name=file.name[:255],
        content_type=upload.content_type,
        size=file.size,
        sha256=upload.sha256,
        taken_at=taken_at,
        longitude=longitude,
        latitude=latitude,
        description=description,
        uploaded_by=actor,
    )
    evidence.file.save(f"{upload.sha256[:32]}{upload.ext}", file, save=False)
    try:
        evidence.full_clean()
        evidence.save()
    except Exception:
        evidence.file.delete(save=False)
        raise
    _event(
        outfall,
        OutfallEvent.Kind.EVIDENCE_ADDED,
        actor,
        now,
        reason=description,
        diff={
            "kind": [None, kind],
            "file": [None, evidence.original_name],
            "sha256": [None, evidence.sha256],
        },
    )
    return evidence


# --- transitions ---------------------------------------------------------------------------

TRANSITION_FIELDS = {
    "void": {"closure_reason"},
    "reopen": {"reopen_basis", "reopen_reference"},
}


def _resolve_name(outfall: Outfall, name: str) -> str:
    # "retain" is one arrow for users; from classified it is the keep-as-compliant method.
    if name == "retain" and outfall.state == State.CLASSIFIED:
        return "retain_compliant"
    return name


def check_approver(
    *, transition: str, outfall: Outfall, actor: User | None, approved_by: User | None
) -> None:
    requirement = registry.approval_requirement(transition, outfall)
    if not requirement.required:
        return
    if approved_by is None:
        raise PermissionDenied(_("This transition needs a second person's approval."))
    if actor is not None and approved_by.pk == actor.pk:
        raise PermissionDenied(_("You cannot approve your own proposal."))
    if not (
        approved_by.has_perm("cases.approve_transition", outfall)
        and holds_role_over(approved_by, requirement.approver_roles, outfall.jurisdiction)
    ):
        raise PermissionDenied(
            _("The approver must hold the approver role over this outfall's jurisdiction.")
        )


@transaction.atomic
def outfall_transition(
    *,
    actor: User | None,
    outfall: Outfall | int,
    transition: str,
    reason: str = "",
    approved_by: User | None = None,
    changes: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Outfall:
    """Apply a lifecycle transition: permission, approval, row lock, FSM, event, hooks.

    Raises Http404 (out of scope), PermissionDenied, TransitionError (with the unmet
    guards' reasons) or TransitionConflict; in every failure nothing is written.
    """
    now = _now(now)
    if transition not in TRANSITIONS:
        raise TransitionError(_("Unknown transition “%(name)s”.") % {"name": transition})
    try:
        locked = _locked(outfall)
    except Outfall.DoesNotExist as exc:
        raise Http404 from exc
    expected_state = outfall.state if isinstance(outfall, Outfall) else None
    _require(actor, "cases.transition_outfall", locked)
    if expected_state is not None and locked.state != expected_state:
        raise TransitionConflict(
            _("The case changed meanwhile: it is now “%(state)s”.")
            % {"state": locked.get_state_display()}
        )
    name = _resolve_name(locked, transition)
    check_approver(transition=name, outfall=locked, actor=actor, approved_by=approved_by)
    changes = dict(changes or {})
    allowed = TRANSITION_FIELDS.get(name, set())
    if set(changes) - allowed:
        raise TransitionError(_("These fields cannot change with this transition."))
    with transaction.atomic():  # savepoint: a refused transition leaves no trace
        for field, value in changes.items():
            setattr(locked, field, value)
        if name == "classify" and not locked.code and locked.category_id:
            locked.code = code_scheme().next_code(locked)
            if not locked.name or locked.name == default_name(_without_subtype(locked)):
                locked.name = default_name(locked, _primary_entity_name(locked))
        checks = {c.name: c for c in transition_checks(locked)}
        check = checks.get(name)
        if check is None:
            raise TransitionError(
                _("“%(t)s” is not possible from the state “%(s)s”.")
                % {"t": transition, "s": locked.get_state_display()}
            )
        if not check.allowed:
            raise TransitionError(_("The transition is blocked:"), check.unmet)
        from_state = locked.state
        try:
            getattr(locked, name)()
            locked.save()
        except TransitionNotAllowed as exc:
            raise TransitionError(str(exc)) from exc
        except (ConcurrentTransition, IntegrityError) as exc:
            raise TransitionConflict(_("Someone else changed this case at the same time.")) from exc
    event = _event(
        locked,
        OutfallEvent.Kind.TRANSITION,
        actor,
        now,
        from_state=from_state,
        to_state=locked.state,
        transition="retain" if name == "retain_compliant" else name,
        reason=reason,
        approved_by=approved_by,
        diff={k: [None, _jsonable(v)] for k, v in changes.items()}
        | ({"code": [None, locked.code]} if name == "classify" else {}),
    )
    applied = registry.TransitionApplied(
        outfall_id=locked.pk,
        transition=event.transition,
        from_state=from_state,
        to_state=locked.state,
        event_id=event.pk,
        actor_id=actor.pk if actor else None,
    )
    for hook in registry.transition_hooks(in_transaction=True):
        hook(applied)
    for hook in registry.transition_hooks(in_transaction=False):
        transaction.on_commit(_after_commit_call(hook, applied), robust=True)
    return locked


def _after_commit_call(hook, applied):
    # a named function, not functools.partial: Django logs a failing robust callback by its
    # __qualname__, which a partial lacks
    def run_transition_hook():
        hook(applied)

    return run_transition_hook


def _without_subtype(outfall: Outfall) -> Outfall:
    clone = Outfall(
        jurisdiction=outfall.jurisdiction,
        town=outfall.town,
        village=outfall.village,
        landmark=outfall.landmark,
    )
    return clone


def _primary_entity_name(outfall: Outfall) -> str | None:
    link = outfall.entity_links.filter(is_primary=True).select_related("entity").first()
    if link is None or link.entity.is_government_fallback:
        return None
    return link.entity.name
