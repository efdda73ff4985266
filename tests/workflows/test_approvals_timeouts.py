"""Approval tasks time out: a reminder at 5 working days, the city told at 10, each once.

Time is driven the way the dispatcher sees it: the timers' `scheduled` moments are checked
against the working-day calendar, then moved into the past and fired (twice) through
viewflow's `fire_due_timers`, as our beat task does.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS
from viewflow.workflow.timers import fire_due_timers

from notifications.models import Notification
from workflows import approvals
from workflows.models import Proposal
from workflows.tasks import fire_workflow_timers_task

from .approval_helpers import propose_trace, ready_to_trace

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def proposal(county_officer, county_leader, city_officer, city_leader, zezhou_case):
    return propose_trace(ready_to_trace(zezhou_case, county_officer), county_officer)


def _timers(proposal):
    # the two boundary timers of the approval task, in declaration order (remind, escalate)
    return list(Task.objects.filter(process_id=proposal.pk, flow_task_type="TIMER").order_by("pk"))


def _elapse(timer) -> None:
    Task.objects.filter(pk=timer.pk).update(scheduled=timezone.now() - dt.timedelta(minutes=1))


def _told(kind: str) -> list[int]:
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient_id", flat=True))


def test_timeouts_are_counted_in_working_days_across_national_day(
    county_officer, county_leader, zezhou_case
):
    # given a proposal on Friday 2024-09-27 at 16:30, before the National Day holidays
    outfall = ready_to_trace(zezhou_case, county_officer)
    proposed = dt.datetime(2024, 9, 27, 16, 30, tzinfo=TZ)
    proposal = propose_trace(outfall, county_officer, now=proposed)
    # then the reminder is due 5 working days later (the make-up Sunday 09-29 counts,
    # 10-01..10-07 do not) and the escalation 10 working days later, at the same hour
    remind, escalate = _timers(proposal)
    assert (remind.status, escalate.status) == (STATUS.SCHEDULED, STATUS.SCHEDULED)
    assert timezone.localtime(remind.scheduled) == dt.datetime(2024, 10, 10, 16, 30, tzinfo=TZ)
    assert timezone.localtime(escalate.scheduled) == dt.datetime(2024, 10, 16, 16, 30, tzinfo=TZ)


def test_nothing_fires_before_five_working_days(proposal):
    assert fire_due_timers() == 0
    assert _told("approval_reminder") == []


def test_the_reminder_reaches_the_approvers_once(proposal, county_leader):
    # given 5 working days have passed
    remind, escalate = _timers(proposal)
    _elapse(remind)
    # when the dispatcher runs twice
    assert fire_due_timers() == 1
    assert fire_due_timers() == 0
    # then the county leader was reminded once, the city not yet told, the task still open
    assert _told("approval_reminder") == [county_leader.pk]
    assert _told("approval_escalation") == []
    assert Proposal.objects.get(pk=proposal.pk).reminded_at is not None
    human = Task.objects.get(process_id=proposal.pk, flow_task_type="HUMAN")
    assert human.status == STATUS.NEW
    assert Task.objects.get(pk=escalate.pk).status == STATUS.SCHEDULED


def test_the_escalation_reaches_the_city_once(proposal, county_leader, city_officer, city_leader):
    # given 5, then 10 working days have passed
    remind, escalate = _timers(proposal)
    _elapse(remind)
    fire_due_timers()
    _elapse(escalate)
    # when the dispatcher runs twice more
    assert fire_due_timers() == 1
    assert fire_due_timers() == 0
    # then the city officer and leader were told once, the reminder was not repeated
    assert _told("approval_escalation") == sorted([city_officer.pk, city_leader.pk])
    assert _told("approval_reminder") == [county_leader.pk]
    assert Proposal.objects.get(pk=proposal.pk).escalated_at is not None
    # and the task still waits for the county leader's decision
    approvals.proposal_decide(actor=county_leader, proposal=proposal, approve=True)
    assert Proposal.objects.get(pk=proposal.pk).decision == Proposal.Decision.APPROVED


def test_a_claimed_task_reminds_only_its_claimant(proposal, county_leader):
    from base.factories import user_with_role

    user_with_role("county_leader", "140525", username="zz_leader_2")
    approvals.proposal_claim(actor=county_leader, proposal=proposal)
    _elapse(_timers(proposal)[0])
    fire_due_timers()
    assert _told("approval_reminder") == [county_leader.pk]


def test_a_decided_proposal_times_out_no_more(proposal, county_leader):
    # given the proposal was decided in time
    approvals.proposal_decide(actor=county_leader, proposal=proposal, approve=True)
    for timer in _timers(proposal):
        assert timer.status == STATUS.CANCELED
        _elapse(timer)
    # then no timer fires, nobody is told
    assert fire_due_timers() == 0
    assert _told("approval_reminder") == _told("approval_escalation") == []


def test_the_reminder_service_is_idempotent(proposal, county_leader):
    # a reminder run again (a redelivered message, a revived timer) tells nobody twice
    assert approvals.proposal_remind(proposal=proposal) == 1
    assert approvals.proposal_remind(proposal=proposal) == 0
    assert approvals.proposal_escalate(proposal=proposal) == 2
    assert approvals.proposal_escalate(proposal=proposal) == 0


def test_the_beat_task_fires_the_due_timers(proposal, county_leader, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _elapse(_timers(proposal)[0])
    assert fire_workflow_timers_task.delay().get(timeout=10) == 1
    assert _told("approval_reminder") == [county_leader.pk]


def test_the_beat_schedule_fires_workflow_timers_every_five_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["fire-workflow-timers"]
    assert (entry["task"], entry["schedule"]) == ("workflows.fire_workflow_timers", 300.0)
