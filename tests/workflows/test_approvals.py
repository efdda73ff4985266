"""Four-eyes approval of transitions through the services (issue 5).

The policy table, proposing (guards, one open proposal per outfall), deciding (never the
proposer, only an approver role over the county), re-checking at approval time, rejection
on the timeline, claim/release and withdrawal.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from base.factories import user_with_role
from base.models import Role
from cases import registry
from cases import services as case_services
from cases.choices import State
from cases.models import Evidence, Outfall, OutfallEntity, OutfallEvent
from notifications.models import Notification
from workflows import approvals, selectors
from workflows.approvals import ProposalError
from workflows.models import Proposal, TransitionPolicy

from .approval_helpers import events, propose_trace, ready_to_trace

D = Proposal.Decision


@pytest.fixture
def proposal(county_officer, zezhou_case):
    return propose_trace(ready_to_trace(zezhou_case, county_officer), county_officer)


def _state(outfall) -> str:
    return Outfall.objects.get(pk=outfall.pk).state


def _task(proposal) -> Task:
    return Task.objects.get(process_id=proposal.pk, flow_task_type="HUMAN")


# --- the policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "approvers", "level"),
    [
        ("trace", ["county_leader"], "county"),
        ("classify", ["county_leader"], "county"),
        ("start_remediation", ["county_leader"], "county"),
        ("retain", ["county_leader"], "county"),
        ("close", ["county_leader"], "county"),
        ("void", ["county_leader"], "county"),
        ("reopen", ["county_leader"], "county"),
        ("rule_override", ["city_leader"], "city"),
        ("deadline_extension", ["city_leader"], "city"),
    ],
)
def test_policy_is_seeded_from_the_design(db, subject, approvers, level):
    policy = TransitionPolicy.objects.get(transition=subject)
    assert (policy.requires_approval, policy.approver_roles, policy.level) == (
        True,
        approvers,
        level,
    )
    assert policy.proposer_roles == ["county_officer", "city_officer"]


def test_the_lifecycle_reads_the_policy_table_and_sees_an_admin_edit(county_officer, zezhou_case):
    # given the administrator lets tracing apply without approval
    outfall = ready_to_trace(zezhou_case, county_officer)
    assert registry.approval_requirement("trace", outfall).required
    TransitionPolicy.objects.filter(transition="trace").update(requires_approval=False)
    # when the officer applies it directly
    applied = case_services.outfall_transition(
        actor=county_officer, outfall=outfall.pk, transition="trace"
    )
    # then it applies, and classification still needs a county leader
    assert applied.state == State.TRACED
    assert registry.approval_requirement("classify", outfall).approver_roles == {"county_leader"}


def test_retain_from_classified_follows_the_retain_row(db):
    TransitionPolicy.objects.filter(transition="retain").update(approver_roles=["city_leader"])
    assert registry.approval_requirement("retain_compliant", None).approver_roles == {"city_leader"}


def test_a_missing_policy_row_fails_closed(db):
    TransitionPolicy.objects.filter(transition="close").delete()
    requirement = registry.approval_requirement("close", None)
    assert (requirement.required, requirement.approver_roles) == (True, {"county_leader"})


@pytest.mark.parametrize("subject", ["rule_override", "deadline_extension"])
def test_overrides_and_extensions_stay_with_the_city_leader(db, subject):
    policy = TransitionPolicy.objects.get(transition=subject)
    policy.approver_roles = ["county_leader"]
    with pytest.raises(ValidationError, match="市生态环境局领导审批"):
        policy.full_clean()


# --- proposing -----------------------------------------------------------------------------


def test_a_proposal_opens_a_task_and_leaves_the_case_unchanged(
    county_officer, county_leader, other_county_leader, proposal
):
    outfall = proposal.outfall
    # then the case is still surveyed, with the proposal on its timeline
    assert _state(outfall) == State.SURVEYED
    event = events(outfall)[-1]
    assert (event.kind, event.transition, event.actor, event.reason) == (
        "proposal",
        "trace",
        county_officer,
        "已查明责任主体",
    )
    # and an open approval task waits, unclaimed, in the county leader's queue only
    assert (proposal.decision, _task(proposal).status, _task(proposal).owner) == (
        D.PENDING,
        STATUS.NEW,
        None,
    )
    assert list(selectors.claimable_for(user=county_leader)) == [proposal]
    assert list(selectors.claimable_for(user=other_county_leader)) == []
    assert list(selectors.claimable_for(user=county_officer)) == []
    # and the county leader is told, nobody else
    told = set(
        Notification.objects.filter(kind="approval_task").values_list("recipient", flat=True)
    )
    assert told == {county_leader.pk}


def test_a_proposal_with_an_unmet_guard_is_refused_with_the_reason(county_officer, zezhou_case):
    # given a case without a tracing record
    before = events(zezhou_case)
    # when the officer proposes to confirm the tracing
    with pytest.raises(ProposalError, match="请至少添加一条溯源记录"):
        propose_trace(zezhou_case, county_officer)
    # then nothing was written
    assert events(zezhou_case) == before
    assert not Proposal.objects.exists()


def test_a_proposal_needs_a_reason(county_officer, zezhou_case):
    outfall = ready_to_trace(zezhou_case, county_officer)
    with pytest.raises(ValidationError, match="理由"):
        propose_trace(outfall, county_officer, reason="  ")
    assert not Proposal.objects.exists()


@pytest.mark.parametrize("second", ["trace", "void"])
def test_a_second_proposal_is_refused_while_one_is_open(county_officer, proposal, second):
    # when the officer proposes again for the same outfall
    with pytest.raises(ProposalError, match="正在等待审批"):
        approvals.proposal_submit(
            actor=county_officer,
            outfall=proposal.outfall,
            transition=second,
            reason="再次提请",
            changes={"closure_reason": "duplicate"} if second == "void" else None,
        )
    # then there is still exactly one proposal
    assert Proposal.objects.filter(outfall=proposal.outfall).count() == 1


def test_the_database_refuses_a_second_open_proposal(proposal):
    # given the check of the service bypassed, the partial unique index still holds
    duplicate = Proposal(
        kind=Proposal.Kind.TRANSITION,
        outfall=proposal.outfall,
        transition="void",
        reason="直接写入",
        proposer=proposal.proposer,
        proposed_at=timezone.now(),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_after_a_rejection_a_new_proposal_is_possible(county_officer, county_leader, proposal):
    approvals.proposal_decide(actor=county_leader, proposal=proposal, approve=False, reason="补充")
    again = propose_trace(proposal.outfall, county_officer, reason="已补充材料")
    assert again.decision == D.PENDING


def test_a_transition_without_approval_cannot_be_proposed(county_officer, zezhou_case):
    outfall = ready_to_trace(zezhou_case, county_officer)
    TransitionPolicy.objects.filter(transition="trace").update(requires_approval=False)
    with pytest.raises(ProposalError, match="无须审批"):
        propose_trace(outfall, county_officer)


def test_only_a_proposer_role_in_the_jurisdiction_proposes(
    county_leader, other_county_officer, county_officer, zezhou_case
):
    outfall = ready_to_trace(zezhou_case, county_officer)
    with pytest.raises(Http404):
        propose_trace(outfall, other_county_officer)
    with pytest.raises(PermissionDenied):
        propose_trace(outfall, county_leader)
    assert not Proposal.objects.exists()


def test_evidence_of_another_outfall_is_refused(county_officer, zezhou_case):
    outfall = ready_to_trace(zezhou_case, county_officer)
    other = case_services.outfall_register(
        actor=county_officer, data={**_survey(), "landmark": "另一处"}
    )
    photo = case_services.evidence_add(
        actor=county_officer, outfall=other, kind="photo", file=_png()
    )
    with pytest.raises(ValidationError):
        propose_trace(outfall, county_officer, evidence=[photo.pk])
    assert not Proposal.objects.exists()


def test_evidence_is_attached_to_the_proposal(county_officer, zezhou_case):
    outfall = ready_to_trace(zezhou_case, county_officer)
    photo = case_services.evidence_add(
        actor=county_officer, outfall=outfall, kind="photo", file=_png()
    )
    proposal = propose_trace(outfall, county_officer, evidence=[photo])
    assert list(proposal.evidence.all()) == [Evidence.objects.get(pk=photo.pk)]


# --- deciding ------------------------------------------------------------------------------


def test_approval_applies_the_transition_in_the_proposers_name(
    county_officer, county_leader, proposal
):
    # when the county leader approves
    decided = approvals.proposal_decide(
        actor=county_leader, proposal=proposal, approve=True, reason="同意"
    )
    # then the case moved, recorded with both people
    outfall = proposal.outfall
    assert _state(outfall) == State.TRACED
    event = events(outfall, "transition")[-1]
    assert (event.actor, event.approved_by, event.reason) == (
        county_officer,
        county_leader,
        "已查明责任主体",
    )
    # and the process finished: the task done, the timers canceled
    assert (decided.decision, decided.decided_by, decided.decision_reason) == (
        D.APPROVED,
        county_leader,
        "同意",
    )
    assert Proposal.objects.get(pk=proposal.pk).status == PROCESS.DONE
    statuses = dict(
        Task.objects.filter(process_id=proposal.pk).values_list("flow_task_type", "status")
    )
    assert statuses["HUMAN"] == STATUS.DONE
    assert statuses["TIMER"] == STATUS.CANCELED
    # and the proposer is told
    note = Notification.objects.get(recipient=county_officer, kind="approval_approved")
    assert note.link == f"/workflows/proposals/{proposal.pk}/"


def test_the_proposer_cannot_approve_their_own_proposal(zezhou_case):
    # given one person holding both the officer and the leader role of the county
    both = user_with_role(Role.COUNTY_OFFICER, "140525", username="zz_both")
    user_with_role(Role.COUNTY_LEADER, "140525", username="zz_both")
    proposal = propose_trace(ready_to_trace(zezhou_case, both), both)
    # then the task is not in their queue and they cannot approve it
    assert list(selectors.claimable_for(user=both)) == []
    with pytest.raises(PermissionDenied, match="不能审批本人"):
        approvals.proposal_decide(actor=both, proposal=proposal, approve=True)
    with pytest.raises(PermissionDenied):
        approvals.proposal_claim(actor=both, proposal=proposal)
    # and nothing changed
    assert _state(proposal.outfall) == State.SURVEYED
    assert Proposal.objects.get(pk=proposal.pk).decision == D.PENDING
    assert _task(proposal).owner is None


def test_the_database_refuses_a_decider_who_is_the_proposer(proposal):
    Proposal.objects.filter(pk=proposal.pk).update(decision=D.APPROVED, decided_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Proposal.objects.filter(pk=proposal.pk).update(decided_by=proposal.proposer)


def test_an_approver_outside_the_jurisdiction_gets_404(other_county_leader, proposal):
    for call in (
        lambda: approvals.proposal_decide(
            actor=other_county_leader, proposal=proposal, approve=True
        ),
        lambda: approvals.proposal_claim(actor=other_county_leader, proposal=proposal),
        lambda: selectors.proposal_get(user=other_county_leader, pk=proposal.pk),
    ):
        with pytest.raises(Http404):
            call()
    assert _state(proposal.outfall) == State.SURVEYED
    assert _task(proposal).owner is None


def test_a_role_that_does_not_approve_transitions_is_refused(city_leader, city_officer, proposal):
    # the city leader sees the case but approves overrides and extensions, not transitions
    for user in (city_leader, city_officer):
        with pytest.raises(PermissionDenied):
            approvals.proposal_decide(actor=user, proposal=proposal, approve=True)
    assert _state(proposal.outfall) == State.SURVEYED


def test_a_rejection_needs_a_reason_and_writes_nothing_without_it(county_leader, proposal):
    before = events(proposal.outfall)
    with pytest.raises(ValidationError, match="理由"):
        approvals.proposal_decide(actor=county_leader, proposal=proposal, approve=False, reason="")
    assert events(proposal.outfall) == before
    assert Proposal.objects.get(pk=proposal.pk).decision == D.PENDING


def test_a_rejection_leaves_the_case_unchanged_and_logs_the_reason(
    county_officer, county_leader, proposal
):
    # when the county leader rejects with a reason
    approvals.proposal_decide(
        actor=county_leader, proposal=proposal, approve=False, reason="溯源记录不完整"
    )
    # then the case did not move, the timeline has the rejection and its reason
    outfall = proposal.outfall
    assert _state(outfall) == State.SURVEYED
    assert not events(outfall, "transition")
    rejection = events(outfall, "proposal_rejected")[-1]
    assert (rejection.actor, rejection.transition, rejection.reason) == (
        county_leader,
        "trace",
        "溯源记录不完整",
    )
    # and the proposer is told why
    note = Notification.objects.get(recipient=county_officer, kind="approval_rejected")
    assert "溯源记录不完整" in note.body
    assert Proposal.objects.get(pk=proposal.pk).status == PROCESS.DONE


def test_an_approval_whose_guard_became_unmet_is_refused_with_the_reason(county_leader, proposal):
    # given the responsible entity was unlinked after the proposal (a guard of "trace")
    outfall = proposal.outfall
    OutfallEntity.objects.filter(outfall=outfall).delete()
    before = events(outfall)
    # when the county leader approves
    with pytest.raises(case_services.TransitionError) as refused:
        approvals.proposal_decide(actor=county_leader, proposal=proposal, approve=True)
    # then the approval is refused with the guard's reason and the case is unchanged
    assert "请关联责任主体" in str(refused.value)
    assert _state(outfall) == State.SURVEYED
    assert events(outfall) == before
    # and the task stays open so that it can be rejected
    assert Proposal.objects.get(pk=proposal.pk).decision == D.PENDING
    assert _task(proposal).status == STATUS.NEW
    approvals.proposal_decide(
        actor=county_leader, proposal=proposal, approve=False, reason="责任主体已撤销"
    )
    assert Proposal.objects.get(pk=proposal.pk).decision == D.REJECTED


def test_an_approval_after_the_case_moved_is_refused(county_leader, proposal):
    # given the case was voided meanwhile (by hand, as if through another path)
    Outfall.objects.filter(pk=proposal.outfall_id).update(
        state=State.CLOSED, closure_reason="duplicate"
    )
    with pytest.raises(case_services.TransitionConflict, match="提请后案件已发生变化"):
        approvals.proposal_decide(actor=county_leader, proposal=proposal, approve=True)
    assert Proposal.objects.get(pk=proposal.pk).decision == D.PENDING


def test_an_approval_rechecks_the_proposers_permission(county_officer, county_leader, proposal):
    # given the proposer lost their role since
    county_officer.grants.all().delete()
    with pytest.raises(ProposalError, match="申请人已无权办理此案件"):
        approvals.proposal_decide(actor=county_leader, proposal=proposal, approve=True)
    assert _state(proposal.outfall) == State.SURVEYED


def test_a_decided_proposal_cannot_be_decided_again(county_leader, proposal):
    second = user_with_role(Role.COUNTY_LEADER, "140525", username="zz_leader_2")
    approvals.proposal_decide(actor=county_leader, proposal=proposal, approve=True)
    with pytest.raises(ProposalError, match="此申请已办理"):
        approvals.proposal_decide(actor=second, proposal=proposal, approve=False, reason="晚了")
    assert events(proposal.outfall, "proposal_rejected") == []


def test_void_proposal_carries_its_closure_reason(county_officer, county_leader, zezhou_case):
    proposal = approvals.proposal_submit(
        actor=county_officer,
        outfall=zezhou_case,
        transition="void",
        reason="与已登记排污口重复",
        changes={"closure_reason": "duplicate"},
    )
    approvals.proposal_decide(actor=county_leader, proposal=proposal, approve=True)
    outfall = Outfall.objects.get(pk=zezhou_case.pk)
    assert (outfall.state, outfall.closure_reason) == (State.CLOSED, "duplicate")


def test_void_without_its_closure_reason_is_blocked(county_officer, zezhou_case):
    with pytest.raises(ProposalError, match="请注明作废原因"):
        approvals.proposal_submit(
            actor=county_officer, outfall=zezhou_case, transition="void", reason="重复"
        )


# --- claim, release, withdraw --------------------------------------------------------------


def test_a_claimed_task_moves_from_the_queue_to_my_tasks(county_leader, proposal):
    approvals.proposal_claim(actor=county_leader, proposal=proposal)
    assert list(selectors.tasks_of(user=county_leader)) == [proposal]
    assert list(selectors.claimable_for(user=county_leader)) == []
    assert (_task(proposal).owner, _task(proposal).status) == (county_leader, STATUS.ASSIGNED)


def test_only_the_claimant_decides_a_claimed_task(county_leader, proposal):
    second = user_with_role(Role.COUNTY_LEADER, "140525", username="zz_leader_2")
    approvals.proposal_claim(actor=county_leader, proposal=proposal)
    assert list(selectors.claimable_for(user=second)) == []
    with pytest.raises(ProposalError):
        approvals.proposal_decide(actor=second, proposal=proposal, approve=True)
    with pytest.raises(ProposalError):
        approvals.proposal_claim(actor=second, proposal=proposal)
    # until the claimant releases it
    approvals.proposal_release(actor=county_leader, proposal=proposal)
    assert list(selectors.claimable_for(user=second)) == [proposal]
    approvals.proposal_decide(actor=second, proposal=proposal, approve=True)
    assert _state(proposal.outfall) == State.TRACED


def test_the_proposer_withdraws_an_open_proposal(county_officer, county_leader, proposal):
    with pytest.raises(PermissionDenied):
        approvals.proposal_withdraw(actor=county_leader, proposal=proposal, reason="不是我的")
    approvals.proposal_withdraw(actor=county_officer, proposal=proposal, reason="材料有误")
    withdrawn = Proposal.objects.get(pk=proposal.pk)
    assert (withdrawn.decision, withdrawn.status) == (D.WITHDRAWN, PROCESS.CANCELED)
    assert list(selectors.claimable_for(user=county_leader)) == []
    note = events(proposal.outfall, OutfallEvent.Kind.NOTE)[-1]
    assert "材料有误" in note.reason
    # and a new proposal is possible
    assert propose_trace(proposal.outfall, county_officer).decision == D.PENDING


# --- helpers -------------------------------------------------------------------------------


def _survey():
    from cases.factories import survey_data

    return survey_data()


def _png():
    from cases.factories import png_upload

    return png_upload()
