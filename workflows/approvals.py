"""Four-eyes approvals (issue 5): the services behind the approval processes of flows.py.

A proposal (审批申请) is one of:

- a lifecycle transition of an outfall, proposed from the case page (`proposal_submit`) and,
  once approved, applied by `cases.services.outfall_transition` with the proposer as actor
  and the approver as `approved_by` — guards and permissions are checked again then;
- a rule override, opened when the classification records an `OverrideRequest` (event hook)
  and decided through `cases.services.override_decide`;
- a deadline extension (过渡期, `extension_propose`), applied by `cases.services.plan_extend`
  (the plan deadline and its escalation ladder move through the deadlines hook).

Who proposes and who approves is the approval policy (`TransitionPolicy`, editable data),
which also answers the lifecycle's policy registry. A decider holds an approver role over
the case's jurisdiction and is never the proposer (also a database constraint). Every step
takes the flow lock (a row lock of the process on PostgreSQL), re-reads the proposal and
checks it is still open, so two approvers at once decide it exactly once. Notifications are
written in the transaction with de-duplication keys: a timer fired twice tells nobody twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from base.models import Role, RoleGrant, User
from base.security import holds_role_over
from cases import registry
from cases import services as case_services
from cases.choices import State
from cases.lifecycle import (
    TRANSITION_LABELS,
    TRANSITIONS,
    close_checklist_complete,
    missing_checklist_items,
    retain_checklist_complete,
)
from cases.lifecycle import transition_checks as lifecycle_checks
from cases.models import Evidence, Outfall, OutfallEvent, OverrideRequest, RemediationPlan
from cases.services import TransitionConflict, TransitionError
from notifications.services import notify

from .flows import FLOWS
from .models import Proposal, TransitionPolicy

K = Proposal.Kind
D = Proposal.Decision
OPEN_TASK = (STATUS.NEW, STATUS.ASSIGNED)

# the model permission a decider needs on the case, besides the approver role of the policy
DECIDE_PERMISSION = {
    K.TRANSITION: "cases.approve_transition",
    K.RULE_OVERRIDE: "cases.approve_override",
    K.DEADLINE_EXTENSION: "cases.add_planextension",
}
# and the one a proposer needs
PROPOSE_PERMISSION = {
    K.TRANSITION: "cases.transition_outfall",
    K.DEADLINE_EXTENSION: "cases.add_remediationplan",
}
EXTENSION_STATES = (State.CLASSIFIED, State.REMEDIATING)
CITY_ROLES = frozenset({Role.CITY_OFFICER, Role.CITY_LEADER})
# DESIGN.md §4 default, used when the policy table has no row (fail closed)
FALLBACK = registry.ApprovalRequirement(True, frozenset({Role.COUNTY_LEADER}))


class ProposalError(TransitionError):
    """A proposal or a decision that cannot be made now; nothing was written."""


# --- the policy ----------------------------------------------------------------------------


def policy_subject(transition: str) -> str:
    # "retain" is one arrow for users; from classified the FSM calls it retain_compliant
    return "retain" if transition == "retain_compliant" else transition


def fsm_name(outfall: Outfall, transition: str) -> str:
    return (
        "retain_compliant"
        if transition == "retain" and outfall.state == State.CLASSIFIED
        else transition
    )


def policy_for(subject: str) -> TransitionPolicy | None:
    return TransitionPolicy.objects.filter(transition=policy_subject(subject)).first()


def approval_requirement(transition: str, outfall) -> registry.ApprovalRequirement:
    """The lifecycle's policy provider (cases.registry): read from the table on every call,
    so an administrator's edit applies at once."""
    policy = policy_for(transition)
    if policy is None:
        return FALLBACK
    return registry.ApprovalRequirement(policy.requires_approval, frozenset(policy.approver_roles))


def proposal_subject(proposal: Proposal) -> str:
    return proposal.transition if proposal.kind == K.TRANSITION else proposal.kind


def approver_roles(proposal: Proposal) -> frozenset[str]:
    if proposal.kind == K.TRANSITION:
        return approval_requirement(proposal.transition, proposal.outfall).approver_roles
    policy = policy_for(proposal.kind)
    return frozenset(policy.approver_roles) if policy else frozenset({Role.CITY_LEADER})


def may_decide(user, proposal: Proposal) -> bool:
    """Whether `user` may claim, approve or reject this proposal (not whether it is open)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if proposal.proposer_id is not None and proposal.proposer_id == user.pk:
        return False
    outfall = proposal.outfall
    return (
        user.has_perm("workflows.decide_proposal")
        and user.has_perm(DECIDE_PERMISSION[proposal.kind], outfall)
        and holds_role_over(user, approver_roles(proposal), outfall.jurisdiction)
    )


def may_propose(user, outfall: Outfall, kind: str, subject: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if not (
        user.has_perm("workflows.add_proposal") and user.has_perm(PROPOSE_PERMISSION[kind], outfall)
    ):
        return False
    policy = policy_for(subject)
    roles = policy.proposer_roles if policy else []
    return not roles or holds_role_over(user, roles, outfall.jurisdiction)


def role_holders(roles: Iterable[str], outfall: Outfall) -> set[int]:
    """Active users holding one of `roles` over the outfall's county (grant on an ancestor)."""
    ancestors = [code for code in outfall.jurisdiction.path.split("/") if code]
    return set(
        RoleGrant.objects.filter(
            role__in=list(roles), jurisdiction__code__in=ancestors, user__is_active=True
        ).values_list("user_id", flat=True)
    )


def eligible_approvers(proposal: Proposal) -> list[User]:
    ids = role_holders(approver_roles(proposal), proposal.outfall) - {proposal.proposer_id}
    users = User.objects.filter(pk__in=ids).order_by("pk")
    return [u for u in users if may_decide(u, proposal)]


def open_task(proposal: Proposal) -> Task | None:
    """The approval task while it waits for a decision."""
    return (
        Task.objects.filter(process_id=proposal.pk, flow_task_type="HUMAN", status__in=OPEN_TASK)
        .select_related("owner")
        .first()
    )


# --- helpers -------------------------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _name(user) -> str:
    if user is None:
        return _("System")
    return user.get_full_name() or user.get_username()


def _link(proposal: Proposal) -> str:
    return reverse("workflows:proposals:detail", args=[proposal.pk])


def _case_title(outfall: Outfall) -> str:
    return f"{outfall.code} {outfall}" if outfall.code and outfall.name else str(outfall)


def proposal_title(proposal: Proposal) -> str:
    """What is asked, in a few words: "确认溯源", "整治规则例外", "延长整治期限"."""
    if proposal.kind == K.TRANSITION:
        return str(TRANSITION_LABELS.get(proposal.transition, proposal.transition))
    if proposal.kind == K.DEADLINE_EXTENSION:
        return _("Deadline extension to %(date)s") % {"date": proposal.new_date}
    return _("Rule override")


def _locked_outfall(actor, outfall: Outfall | int) -> Outfall:
    pk = outfall.pk if isinstance(outfall, Outfall) else outfall
    try:
        locked = (
            Outfall.objects.select_for_update(of=("self",))
            .select_related("jurisdiction")
            .get(pk=pk)
        )
    except (Outfall.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if actor is None or not actor.has_perm("cases.view_outfall", locked):
        raise Http404
    return locked


def _require_proposer(actor, outfall: Outfall, kind: str, subject: str) -> None:
    if not may_propose(actor, outfall, kind, subject):
        raise PermissionDenied(_("Your role cannot make this proposal for this outfall."))


def _reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: _("Give the reason.")})
    return reason


def _evidence(outfall: Outfall, evidence: Iterable) -> list[Evidence]:
    ids = {getattr(item, "pk", item) for item in evidence or ()}
    if not ids:
        return []
    found = list(Evidence.objects.filter(outfall=outfall, pk__in=ids))
    if len(found) != len(ids):
        raise ValidationError({"evidence": _("Choose evidence of this outfall.")})
    return found


def _clean_changes(name: str, changes: dict[str, Any] | None) -> dict[str, str]:
    changes = {k: (v.strip() if isinstance(v, str) else v) for k, v in (changes or {}).items()}
    allowed = case_services.TRANSITION_FIELDS.get(name, set())
    if set(changes) - allowed:
        raise ValidationError(_("These fields cannot change with this transition."))
    if "closure_reason" in changes and changes["closure_reason"] not in (
        Outfall.ClosureReason.DUPLICATE,
        Outfall.ClosureReason.NOT_AN_OUTFALL,
    ):
        raise ValidationError({"closure_reason": _("Choose why the case is void.")})
    if "reopen_basis" in changes and changes["reopen_basis"] not in Outfall.ReopenBasis.values:
        raise ValidationError({"reopen_basis": _("Choose the basis for reopening.")})
    if len(str(changes.get("reopen_reference", ""))) > 200:
        raise ValidationError({"reopen_reference": _("At most 200 characters.")})
    return changes


def unmet_guards(outfall: Outfall, transition: str, changes: dict | None = None):
    """The transition's check on the case as it is now, with the proposal's changes applied
    in memory (never saved): None when the transition cannot leave the current state."""
    probe = Outfall.objects.select_related("category", "subtype", "jurisdiction").get(pk=outfall.pk)
    for field, value in (changes or {}).items():
        setattr(probe, field, value)
    name = fsm_name(probe, transition)
    check = next((c for c in lifecycle_checks(probe) if c.name == name), None)
    if check is None:
        return None
    checklist = {str(retain_checklist_complete.reason), str(close_checklist_complete.reason)}
    reasons = []
    for reason in check.unmet:
        missing = (
            missing_checklist_items(probe, "close" if name == "close" else "retain")
            if reason in checklist
            else []
        )
        if missing:
            reason = _("%(reason)s Missing: %(items)s.") % {
                "reason": reason,
                "items": "、".join(item.label for item in missing),
            }
        reasons.append(reason)
    return tuple(reasons)


def _start(kind: str, **fields) -> Proposal:
    flow_class = FLOWS[kind]
    try:
        with transaction.atomic():
            return flow_class.start.run(kind=kind, **fields)
    except IntegrityError as exc:
        raise ProposalError(
            _("This outfall already has an open proposal of this kind: wait for its decision.")
        ) from exc


def _notify_approvers(proposal: Proposal, now: dt.datetime) -> None:
    recipients = eligible_approvers(proposal)
    if not recipients:
        return
    notify(
        recipients=recipients,
        kind="approval_task",
        title=_("[To approve] %(what)s: %(case)s")
        % {"what": proposal_title(proposal), "case": _case_title(proposal.outfall)},
        body=_("Proposed by %(who)s. Reason: %(reason)s")
        % {"who": _name(proposal.proposer), "reason": proposal.reason},
        link=_link(proposal),
        subject=proposal,
        dedupe_key=f"approval:{proposal.pk}:task",
        now=now,
    )


# --- proposing -----------------------------------------------------------------------------


@transaction.atomic
def proposal_submit(
    *,
    actor: User,
    outfall: Outfall | int,
    transition: str,
    reason: str,
    changes: dict[str, Any] | None = None,
    evidence: Iterable = (),
    now: dt.datetime | None = None,
) -> Proposal:
    """Propose a lifecycle transition that the policy has approved by a second person.

    Refused (nothing written) when the case is out of the actor's scope (Http404), the actor
    may not propose it (PermissionDenied), a guard is unmet, the transition needs no
    approval, or the outfall already has an open transition proposal (ProposalError).
    """
    now = _now(now)
    locked = _locked_outfall(actor, outfall)
    if transition not in TRANSITIONS or transition == "retain_compliant":
        raise ProposalError(_("Unknown transition “%(name)s”.") % {"name": transition})
    _require_proposer(actor, locked, K.TRANSITION, transition)
    if isinstance(outfall, Outfall) and outfall.state != locked.state:
        raise TransitionConflict(
            _("The case changed meanwhile: it is now “%(state)s”.")
            % {"state": locked.get_state_display()}
        )
    name = fsm_name(locked, transition)
    label = TRANSITION_LABELS[name]
    if not approval_requirement(name, locked).required:
        raise ProposalError(
            _("“%(t)s” needs no approval: apply it directly from the case page.") % {"t": label}
        )
    reason = _reason(reason)
    changes = _clean_changes(name, changes)
    items = _evidence(locked, evidence)
    pending = Proposal.objects.filter(outfall=locked, kind=K.TRANSITION, decision=D.PENDING)
    existing = pending.first()
    if existing is not None:
        raise ProposalError(
            _("“%(t)s” was already proposed for this outfall and awaits a decision.")
            % {"t": TRANSITION_LABELS.get(existing.transition, existing.transition)}
        )
    unmet = unmet_guards(locked, transition, changes)
    if unmet is None:
        raise ProposalError(
            _("“%(t)s” is not possible from the state “%(s)s”.")
            % {"t": label, "s": locked.get_state_display()}
        )
    if unmet:
        raise ProposalError(_("The transition is blocked:"), unmet)
    proposal = _start(
        K.TRANSITION,
        outfall=locked,
        transition=transition,
        from_state=locked.state,
        changes=changes,
        reason=reason,
        proposer=actor,
        proposed_at=now,
        created=now,
    )
    proposal.evidence.set(items)
    case_services.outfall_event_record(
        actor=actor,
        outfall=locked,
        kind=OutfallEvent.Kind.PROPOSAL,
        transition=transition,
        reason=reason,
        diff={k: [None, v] for k, v in changes.items()},
        now=now,
    )
    _notify_approvers(proposal, now)
    return proposal


@transaction.atomic
def extension_propose(
    *,
    actor: User,
    outfall: Outfall | int,
    new_date: dt.date,
    reason: str,
    evidence: Iterable = (),
    now: dt.datetime | None = None,
) -> Proposal:
    """Ask a city leader to move the case's remediation plan deadline (过渡期)."""
    now = _now(now)
    locked = _locked_outfall(actor, outfall)
    _require_proposer(actor, locked, K.DEADLINE_EXTENSION, K.DEADLINE_EXTENSION)
    plan = RemediationPlan.objects.filter(outfall=locked).first()
    if plan is None:
        raise ValidationError(_("This case has no remediation plan yet."))
    if locked.state not in EXTENSION_STATES:
        raise ProposalError(
            _("The deadline of a case in the state “%(state)s” does not move.")
            % {"state": locked.get_state_display()}
        )
    if new_date is None or new_date <= plan.deadline:
        raise ValidationError(
            {
                "new_date": _("The new deadline must be after the current one (%(date)s).")
                % {"date": plan.deadline}
            }
        )
    reason = _reason(reason)
    items = _evidence(locked, evidence)
    if Proposal.objects.filter(
        outfall=locked, kind=K.DEADLINE_EXTENSION, decision=D.PENDING
    ).exists():
        raise ProposalError(_("An extension of this case's deadline already awaits a decision."))
    proposal = _start(
        K.DEADLINE_EXTENSION,
        outfall=locked,
        plan=plan,
        old_date=plan.deadline,
        new_date=new_date,
        from_state=locked.state,
        reason=reason,
        proposer=actor,
        proposed_at=now,
        created=now,
    )
    proposal.evidence.set(items)
    case_services.outfall_event_record(
        actor=actor,
        outfall=locked,
        kind=OutfallEvent.Kind.PROPOSAL,
        transition=K.DEADLINE_EXTENSION,
        reason=reason,
        diff={"deadline": [plan.deadline, new_date]},
        now=now,
    )
    _notify_approvers(proposal, now)
    return proposal


def override_proposal_start(*, override: OverrideRequest, now: dt.datetime | None = None):
    """Open the city leader's approval of a recorded rule override (once per request)."""
    now = _now(now)
    existing = Proposal.objects.filter(override=override).first()
    if existing is not None or override.status != OverrideRequest.Status.PENDING:
        return existing
    outfall = Outfall.objects.select_related("jurisdiction").get(pk=override.outfall_id)
    proposal = _start(
        K.RULE_OVERRIDE,
        outfall=outfall,
        override=override,
        from_state=outfall.state,
        reason=override.reason,
        proposer_id=override.requested_by_id,
        proposed_at=now,
        created=now,
    )
    _notify_approvers(proposal, now)
    return proposal


def on_case_events(events: list) -> None:
    """Case-event hook (cases.registry): an override request opens its approval process; an
    override decided elsewhere closes it."""
    for event in events:
        if event.kind == OutfallEvent.Kind.OVERRIDE_REQUESTED:
            rule = (event.diff or {}).get("rule", [None, None])[1]
            disposition = (event.diff or {}).get("disposition", [None, None])[1]
            override = OverrideRequest.objects.filter(
                outfall_id=event.outfall_id,
                rule=rule,
                disposition=disposition,
                status=OverrideRequest.Status.PENDING,
            ).first()
            if override is not None:
                override_proposal_start(override=override, now=event.at)
        elif event.kind == OutfallEvent.Kind.OVERRIDE_DECIDED:
            _settle_decided_overrides(event.outfall_id, event.at)


def _settle_decided_overrides(outfall_id: int, now: dt.datetime) -> None:
    stale = Proposal.objects.filter(
        outfall_id=outfall_id, kind=K.RULE_OVERRIDE, decision=D.PENDING
    ).exclude(override__status=OverrideRequest.Status.PENDING)
    for proposal in stale.select_related("override"):
        override = proposal.override
        with FLOWS[proposal.kind].lock(proposal.pk):
            proposal.decision = (
                D.APPROVED if override.status == OverrideRequest.Status.APPROVED else D.REJECTED
            )
            proposal.decided_by_id = override.decided_by_id
            proposal.decided_at = override.decided_at or now
            proposal.decision_reason = override.decision_note
            proposal.save(update_fields=["decision", "decided_by", "decided_at", "decision_reason"])
            task = open_task(proposal)
            if task is not None:
                _complete(task, override.decided_by, now)


# --- deciding ------------------------------------------------------------------------------


def _fetch(actor, proposal: Proposal | int) -> Proposal:
    """Re-read a proposal for `actor`; out of scope answers 404 like a missing one."""
    pk = proposal.pk if isinstance(proposal, Proposal) else proposal
    try:
        found = Proposal.objects.select_related(
            "outfall__jurisdiction", "proposer", "decided_by", "override", "plan"
        ).get(pk=pk)
    except (Proposal.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if actor is None or not actor.has_perm("workflows.view_proposal", found):
        raise Http404
    return found


def _require_open(proposal: Proposal) -> Task:
    task = open_task(proposal) if proposal.decision == D.PENDING else None
    if task is None:
        raise ProposalError(
            _("This proposal was already decided: %(decision)s.")
            % {"decision": proposal.get_decision_display()}
        )
    return task


def _require_decider(actor, proposal: Proposal) -> None:
    if proposal.proposer_id is not None and proposal.proposer_id == actor.pk:
        raise PermissionDenied(_("You cannot approve your own proposal."))
    if not may_decide(actor, proposal):
        raise PermissionDenied(
            _("Only a holder of an approver role over this outfall's jurisdiction decides this.")
        )


def _complete(task: Task, decider, now: dt.datetime) -> None:
    """Finish the approval task (viewflow): claimed by the decider, started, executed."""
    activation = task.flow_task.activation_class(task)
    if task.status == STATUS.NEW:
        task.assigned = now
        activation.assign(decider)
    activation.start(None)
    activation.execute()


@transaction.atomic
def proposal_claim(*, actor: User, proposal: Proposal | int, now: dt.datetime | None = None):
    """Take the approval task: it leaves the others' queue and waits in the actor's tasks."""
    now = _now(now)
    proposal = _fetch(actor, proposal)
    with FLOWS[proposal.kind].lock(proposal.pk):
        proposal = _fetch(actor, proposal)
        task = _require_open(proposal)
        _require_decider(actor, proposal)
        if task.owner_id == actor.pk:
            return proposal
        if task.owner_id is not None:
            raise ProposalError(
                _("%(name)s has already claimed this task.") % {"name": _name(task.owner)}
            )
        task.assigned = now
        task.flow_task.activation_class(task).assign(actor)
    return proposal


@transaction.atomic
def proposal_release(*, actor: User, proposal: Proposal | int, now: dt.datetime | None = None):
    """Give a claimed task back to the queue (only the one who claimed it)."""
    proposal = _fetch(actor, proposal)
    with FLOWS[proposal.kind].lock(proposal.pk):
        proposal = _fetch(actor, proposal)
        task = _require_open(proposal)
        if task.owner_id != actor.pk:
            raise PermissionDenied(_("Only the one who claimed this task can release it."))
        task.assigned = None
        task.flow_task.activation_class(task).unassign()
    return proposal


@transaction.atomic
def proposal_decide(
    *,
    actor: User,
    proposal: Proposal | int,
    approve: bool,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Proposal:
    """Approve or reject a proposal: the second pair of eyes.

    An approval applies the proposal at once (transition, override, extension) through the
    cases services, which lock the case and check guards and permissions again: a guard that
    became unmet since the proposal refuses the approval with its reason, and nothing is
    written (the task stays open; the approver may reject it). A rejection needs a reason
    and leaves the case as it is; it is put on the case timeline. The proposer is told
    either way.
    """
    now = _now(now)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationError({"reason": _("Give the reason for the rejection.")})
    proposal = _fetch(actor, proposal)
    with FLOWS[proposal.kind].lock(proposal.pk):
        proposal = _fetch(actor, proposal)  # re-read under the lock: decided meanwhile?
        task = _require_open(proposal)
        _require_decider(actor, proposal)
        if task.owner_id is not None and task.owner_id != actor.pk:
            raise ProposalError(
                _("%(name)s has claimed this task: only they decide it now.")
                % {"name": _name(task.owner)}
            )
        proposal.decision = D.APPROVED if approve else D.REJECTED
        proposal.decided_by, proposal.decided_at, proposal.decision_reason = actor, now, reason
        proposal.save(update_fields=["decision", "decided_by", "decided_at", "decision_reason"])
        if approve:
            _apply(proposal, actor, now)
        else:
            _record_rejection(proposal, actor, now)
        _complete(task, actor, now)
        _notify_proposer(proposal, now)
    return proposal


def _apply(proposal: Proposal, approver: User, now: dt.datetime) -> None:
    if proposal.kind == K.TRANSITION:
        current = Outfall.objects.get(pk=proposal.outfall_id)
        if current.state != proposal.from_state:
            raise TransitionConflict(
                _("The case changed since the proposal: it is now “%(state)s”. Reject it.")
                % {"state": current.get_state_display()}
            )
        try:
            case_services.outfall_transition(
                actor=proposal.proposer,
                outfall=current,
                transition=proposal.transition,
                reason=proposal.reason,
                approved_by=approver,
                changes=proposal.changes,
                now=now,
            )
        except Http404 as exc:
            raise ProposalError(_("The proposer no longer has access to this case.")) from exc
    elif proposal.kind == K.RULE_OVERRIDE:
        case_services.override_decide(
            actor=approver, override=proposal.override, approve=True, note=proposal.decision_reason
        )
    else:
        try:
            case_services.plan_extend(
                actor=proposal.proposer,
                plan=proposal.plan,
                new_date=proposal.new_date,
                reason=proposal.reason,
                approver=approver,
                now=now,
            )
        except Http404 as exc:
            raise ProposalError(_("The proposer no longer has access to this case.")) from exc


def _record_rejection(proposal: Proposal, approver: User, now: dt.datetime) -> None:
    if proposal.kind == K.RULE_OVERRIDE:
        case_services.override_decide(
            actor=approver, override=proposal.override, approve=False, note=proposal.decision_reason
        )
        return
    diff = (
        {"deadline": [proposal.old_date, proposal.new_date]}
        if proposal.kind == K.DEADLINE_EXTENSION
        else {}
    )
    case_services.outfall_event_record(
        actor=approver,
        outfall=proposal.outfall,
        kind=OutfallEvent.Kind.PROPOSAL_REJECTED,
        transition=proposal_subject(proposal),
        reason=proposal.decision_reason,
        diff=diff,
        now=now,
    )


def _notify_proposer(proposal: Proposal, now: dt.datetime) -> None:
    if proposal.proposer_id is None:
        return
    approved = proposal.decision == D.APPROVED
    notify(
        recipients=[proposal.proposer_id],
        kind="approval_approved" if approved else "approval_rejected",
        title=(
            _("[Approved] %(what)s: %(case)s")
            if approved
            else _("[Not approved] %(what)s: %(case)s")
        )
        % {"what": proposal_title(proposal), "case": _case_title(proposal.outfall)},
        body=_("Decided by %(who)s. %(reason)s")
        % {"who": _name(proposal.decided_by), "reason": proposal.decision_reason},
        link=_link(proposal),
        subject=proposal,
        dedupe_key=f"approval:{proposal.pk}:decided",
        now=now,
    )


@transaction.atomic
def proposal_withdraw(
    *, actor: User, proposal: Proposal | int, reason: str, now: dt.datetime | None = None
) -> Proposal:
    """The proposer takes back an open transition or extension proposal."""
    now = _now(now)
    reason = _reason(reason)
    proposal = _fetch(actor, proposal)
    flow_class = FLOWS[proposal.kind]
    with flow_class.lock(proposal.pk):
        proposal = _fetch(actor, proposal)
        _require_open(proposal)
        if proposal.proposer_id != actor.pk or proposal.kind == K.RULE_OVERRIDE:
            raise PermissionDenied(_("Only the proposer can withdraw this proposal."))
        proposal.decision, proposal.decided_by, proposal.decided_at = D.WITHDRAWN, actor, now
        proposal.decision_reason = reason
        proposal.save(update_fields=["decision", "decided_by", "decided_at", "decision_reason"])
        flow_class.instance.cancel(proposal)
        case_services.outfall_event_record(
            actor=actor,
            outfall=proposal.outfall,
            kind=OutfallEvent.Kind.NOTE,
            transition=proposal_subject(proposal),
            reason=_("Proposal withdrawn (%(what)s): %(reason)s")
            % {"what": proposal_title(proposal), "reason": reason},
            now=now,
        )
    return proposal


# --- timeouts (fired by flows.py timers) ---------------------------------------------------


def proposal_remind(*, proposal: Proposal, now: dt.datetime | None = None) -> int:
    """5 working days without a decision: remind whoever may decide (the claimant, if any).

    Runs under the flow lock (the timer dispatcher); returns how many were told. A second
    firing, or one after the decision, tells nobody.
    """
    now = _now(now)
    proposal = Proposal.objects.select_related("outfall__jurisdiction", "proposer").get(
        pk=proposal.pk
    )
    task = open_task(proposal) if proposal.decision == D.PENDING else None
    if task is None or proposal.reminded_at is not None:
        return 0
    recipients = [task.owner] if task.owner_id else eligible_approvers(proposal)
    created = notify(
        recipients=recipients,
        kind="approval_reminder",
        title=_("[Reminder] %(what)s: %(case)s has waited 5 working days for your decision")
        % {"what": proposal_title(proposal), "case": _case_title(proposal.outfall)},
        body=_("Proposed by %(who)s on %(at)s.")
        % {
            "who": _name(proposal.proposer),
            "at": timezone.localtime(proposal.proposed_at).strftime("%Y-%m-%d %H:%M"),
        },
        link=_link(proposal),
        subject=proposal,
        dedupe_key=f"approval:{proposal.pk}:reminder",
        now=now,
    )
    Proposal.objects.filter(pk=proposal.pk).update(reminded_at=now)
    return len(created)


def proposal_escalate(*, proposal: Proposal, now: dt.datetime | None = None) -> int:
    """10 working days without a decision: tell the city level (officers and leaders)."""
    now = _now(now)
    proposal = Proposal.objects.select_related("outfall__jurisdiction", "proposer").get(
        pk=proposal.pk
    )
    task = open_task(proposal) if proposal.decision == D.PENDING else None
    if task is None or proposal.escalated_at is not None:
        return 0
    recipients = role_holders(CITY_ROLES, proposal.outfall) - {proposal.proposer_id}
    created = notify(
        recipients=sorted(recipients),
        kind="approval_escalation",
        title=_("[Escalated] %(what)s: %(case)s has waited 10 working days for approval")
        % {"what": proposal_title(proposal), "case": _case_title(proposal.outfall)},
        body=_("Proposed by %(who)s on %(at)s; waiting for: %(waiting)s.")
        % {
            "who": _name(proposal.proposer),
            "at": timezone.localtime(proposal.proposed_at).strftime("%Y-%m-%d %H:%M"),
            "waiting": _name(task.owner)
            if task.owner_id
            else "、".join(str(Role(r).label) for r in sorted(approver_roles(proposal))),
        },
        link=_link(proposal),
        subject=proposal,
        dedupe_key=f"approval:{proposal.pk}:escalation",
        now=now,
    )
    Proposal.objects.filter(pk=proposal.pk).update(escalated_at=now)
    return len(created)


# --- the case page's proposal backend (cases.registry) -------------------------------------


def summary(proposal: Proposal) -> registry.ProposalSummary:
    task = open_task(proposal) if proposal.decision == D.PENDING else None
    if task is not None and task.owner_id:
        detail = _("Claimed by %(name)s") % {"name": _name(task.owner)}
    elif task is not None:
        detail = _("Waiting for a %(roles)s") % {
            "roles": "、".join(str(Role(r).label) for r in sorted(approver_roles(proposal)))
        }
    else:
        detail = _name(proposal.decided_by) if proposal.decided_by_id else ""
    return registry.ProposalSummary(
        pk=proposal.pk,
        transition=proposal.transition,
        title=proposal_title(proposal),
        status=proposal.decision,
        status_label=str(proposal.get_decision_display()),
        proposer=_name(proposal.proposer),
        proposed_at=proposal.proposed_at,
        url=_link(proposal),
        detail=detail,
    )


class CaseProposals(registry.ProposalBackend):
    """What the case page of `cases` asks the approval workflow."""

    def submit(self, *, actor, outfall, transition, reason, changes, evidence):
        return summary(
            proposal_submit(
                actor=actor,
                outfall=outfall,
                transition=transition,
                reason=reason,
                changes=changes,
                evidence=evidence,
            )
        )

    def open_proposals(self, *, user, outfall):
        from .selectors import proposals_of_case

        return [summary(p) for p in proposals_of_case(user=user, outfall=outfall, only_open=True)]

    def case_actions(self, *, user, outfall):
        if outfall.state not in EXTENSION_STATES or not may_propose(
            user, outfall, K.DEADLINE_EXTENSION, K.DEADLINE_EXTENSION
        ):
            return []
        if not RemediationPlan.objects.filter(outfall=outfall).exists():
            return []
        if Proposal.objects.filter(
            outfall=outfall, kind=K.DEADLINE_EXTENSION, decision=D.PENDING
        ).exists():
            return []  # the open one shows among the case's open proposals
        return [
            registry.CaseAction(
                label=_("Propose a deadline extension"),
                url=reverse("workflows:proposals:extension", args=[outfall.pk]),
                icon="update",
                testid="propose-extension",
            )
        ]


def in_queue_q(user) -> Q:
    """Proposals whose approval `user` may take: approver role over the county, perm, not own.

    Built from the live policy rows (one condition per row), so an edit applies at once.
    """
    nothing = Q(pk__in=[])
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return nothing
    if not user.has_perm("workflows.decide_proposal"):
        return nothing
    grants = list(RoleGrant.objects.filter(user=user).values_list("role", "jurisdiction__path"))
    if not grants:
        return nothing

    def under(roles) -> Q:
        q = nothing
        for role, path in grants:
            if role in roles:
                q |= Q(outfall__jurisdiction__path__startswith=path)
        return q

    condition = nothing
    policies = {p.transition: p for p in TransitionPolicy.objects.all()}
    for kind, perm in DECIDE_PERMISSION.items():
        if not user.has_perm(perm):
            continue
        if kind == K.TRANSITION:
            for name in TRANSITIONS:
                if name == "retain_compliant":
                    continue
                policy = policies.get(name)
                roles = set(policy.approver_roles) if policy else set(FALLBACK.approver_roles)
                condition |= Q(kind=kind, transition=name) & under(roles)
        else:
            policy = policies.get(kind)
            roles = set(policy.approver_roles) if policy else {Role.CITY_LEADER}
            condition |= Q(kind=kind) & under(roles)
    return condition & ~Q(proposer=user)
