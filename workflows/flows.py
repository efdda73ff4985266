"""The approval processes (viewflow): a proposal waits for a second person's decision.

Three flows with one shape, one per kind of approval request (`Proposal.kind`):

    start (from a service) ─→ approve (a person's task) ─→ end
                                │ 5 working days ─→ remind approvers ─→ end
                                └ 10 working days ─→ escalate to the city ─→ end

The processes are started and advanced only by the services of `approvals.py`, which hold
the validation (guards, roles, jurisdiction, four eyes): the flows' generic viewflow views are
never mounted, and the officials' pages (`approval_views.py`) are scoped by the case rule.
Both timeouts are non-interrupting `TimerBoundary` events on the task (database rows fired
by our beat task through `viewflow.workflow.timers.fire_due_timers`); the task stays open.
On PostgreSQL every step runs under a `SELECT ... FOR UPDATE` lock of the process row.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import SelectForUpdateLock, no_lock

from base.workdays import add_working_days

from .models import Accountability, Proposal, Summons

REMIND_AFTER_WORKING_DAYS = 5
ESCALATE_AFTER_WORKING_DAYS = 10


class DatabaseLock:
    """A real row lock on PostgreSQL, decided per call (the database may change per run).

    PostgreSQL: viewflow's `SelectForUpdateLock`, waiting for the holder rather than failing
    at once (NOWAIT would abort the surrounding transaction). SQLite has no row locks; its
    writers are serialised by `BEGIN IMMEDIATE` (settings), so viewflow's transaction-only
    lock is what it can have.
    """

    def __init__(self):
        self._row_lock = SelectForUpdateLock(nowait=False)

    @contextmanager
    def __call__(self, flow_class, process_pk):
        lock = self._row_lock if connection.vendor == "postgresql" else no_lock
        with lock(flow_class, process_pk):
            yield


database_lock = DatabaseLock()


def working_days_after(moment: dt.datetime, days: int) -> dt.datetime:
    """The same time of day, `days` working days (with 调休) after `moment`."""
    local = timezone.localtime(moment)
    day = add_working_days(local.date(), days)
    return dt.datetime.combine(day, local.timetz())


class _ApprovalSteps:
    """The callbacks the three flows share (nodes are declared in each flow)."""

    process_class = Proposal
    lock_impl = database_lock

    def start_process(self, activation, **fields):
        for name, value in fields.items():
            setattr(activation.process, name, value)
        return activation.process

    def reminder_due(self, activation) -> dt.datetime:
        return working_days_after(activation.process.proposed_at, REMIND_AFTER_WORKING_DAYS)

    def escalation_due(self, activation) -> dt.datetime:
        return working_days_after(activation.process.proposed_at, ESCALATE_AFTER_WORKING_DAYS)

    def send_reminder(self, activation) -> None:
        from .approvals import proposal_remind

        proposal_remind(proposal=activation.process)

    def send_escalation(self, activation) -> None:
        from .approvals import proposal_escalate

        proposal_escalate(proposal=activation.process)


class TransitionApprovalFlow(_ApprovalSteps, flow.Flow):
    """Transition approval

    A county officer proposes a lifecycle transition of an outfall; a county leader who is
    not the proposer approves it (the transition is applied then) or rejects it.
    """

    process_title = _("Transition approval")

    start = flow.StartHandle(this.start_process).Next(this.approve)
    approve = (
        flow.View(None)
        .Annotation(title=_("Approve the transition"))
        .OnTimeout(this.reminder_due, this.remind, interrupting=False)
        .OnTimeout(this.escalation_due, this.escalate, interrupting=False)
        .Next(this.end)
    )
    remind = flow.Function(this.send_reminder).Next(this.reminded)
    reminded = flow.End()
    escalate = flow.Function(this.send_escalation).Next(this.escalated)
    escalated = flow.End()
    end = flow.End()


class RuleOverrideFlow(_ApprovalSteps, flow.Flow):
    """Rule override approval

    A classification that overrides a failed disposition rule (with its recorded reason)
    waits for a city leader's approval; the plan forbids "一刀切" for historical cases.
    """

    process_title = _("Rule override approval")

    start = flow.StartHandle(this.start_process).Next(this.approve)
    approve = (
        flow.View(None)
        .Annotation(title=_("Approve the rule override"))
        .OnTimeout(this.reminder_due, this.remind, interrupting=False)
        .OnTimeout(this.escalation_due, this.escalate, interrupting=False)
        .Next(this.end)
    )
    remind = flow.Function(this.send_reminder).Next(this.reminded)
    reminded = flow.End()
    escalate = flow.Function(this.send_escalation).Next(this.escalated)
    escalated = flow.End()
    end = flow.End()


class DeadlineExtensionFlow(_ApprovalSteps, flow.Flow):
    """Deadline extension (过渡期)

    The county asks to move a remediation plan's deadline; a city leader approves (the
    extension ledger and the deadlines move) or rejects it.
    """

    process_title = _("Deadline extension")

    start = flow.StartHandle(this.start_process).Next(this.approve)
    approve = (
        flow.View(None)
        .Annotation(title=_("Approve the deadline extension"))
        .OnTimeout(this.reminder_due, this.remind, interrupting=False)
        .OnTimeout(this.escalation_due, this.escalate, interrupting=False)
        .Next(this.end)
    )
    remind = flow.Function(this.send_reminder).Next(this.reminded)
    reminded = flow.End()
    escalate = flow.Function(this.send_escalation).Next(this.escalated)
    escalated = flow.End()
    end = flow.End()


FLOWS = {
    Proposal.Kind.TRANSITION: TransitionApprovalFlow,
    Proposal.Kind.RULE_OVERRIDE: RuleOverrideFlow,
    Proposal.Kind.DEADLINE_EXTENSION: DeadlineExtensionFlow,
}
APPROVAL_NODES = [flow_class.approve for flow_class in FLOWS.values()]


# --- summons (约谈) and accountability (问责) (issue 6) --------------------------------------


class _ProcessSteps:
    """Started and advanced only by the services of `summons.py` (like the approvals)."""

    lock_impl = database_lock

    def start_process(self, activation, **fields):
        for name, value in fields.items():
            setattr(activation.process, name, value)
        return activation.process


class SummonsFlow(_ProcessSteps, flow.Flow):
    """Summons (约谈)

    A city officer proposes (from an L3 proposal or by hand); a city leader who is not the
    proposer approves and the notice is issued; service is recorded; the meeting is
    recorded and its minutes issued; a city officer verifies the implementation report.
    Not rectified, or the report missed (ladder L4), and the summons is referred for
    accountability.
    """

    process_class = Summons
    process_title = _("Summons")

    start = flow.StartHandle(this.start_process).Next(this.approve)
    approve = flow.View(None).Annotation(title=_("Approve the summons")).Next(this.approved)
    approved = (
        flow.If(lambda activation: activation.process.state != Summons.State.REJECTED)
        .Then(this.serve)
        .Else(this.rejected)
    )
    serve = flow.View(None).Annotation(title=_("Record the service")).Next(this.meet)
    meet = flow.View(None).Annotation(title=_("Record the meeting")).Next(this.verify)
    verify = (
        flow.View(None).Annotation(title=_("Verify the implementation report")).Next(this.outcome)
    )
    outcome = (
        flow.If(lambda activation: activation.process.state == Summons.State.CLOSED)
        .Then(this.end)
        .Else(this.referred)
    )
    rejected = flow.End()
    referred = flow.End()
    end = flow.End()


class AccountabilityFlow(_ProcessSteps, flow.Flow):
    """Accountability (问责)

    Drafted by the system after a summons failed; a city officer completes and submits it;
    a city leader who is not the submitter approves and the referral letter (问责建议函) is
    issued; the outcome is recorded.
    """

    process_class = Accountability
    process_title = _("Accountability")

    start = flow.StartHandle(this.start_process).Next(this.submit)
    submit = flow.View(None).Annotation(title=_("Complete and submit")).Next(this.approve)
    approve = flow.View(None).Annotation(title=_("Approve the referral")).Next(this.approved)
    approved = (
        flow.If(lambda activation: activation.process.state != Accountability.State.REJECTED)
        .Then(this.record_outcome)
        .Else(this.rejected)
    )
    record_outcome = flow.View(None).Annotation(title=_("Record the outcome")).Next(this.end)
    rejected = flow.End()
    end = flow.End()
