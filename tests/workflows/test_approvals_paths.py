"""Rule overrides and deadline extensions, end to end through the services."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from viewflow.workflow.status import PROCESS

from cases import factories as f
from cases import services as case_services
from cases.choices import Disposition, State
from cases.lifecycle import rules_pass_or_overridden
from cases.models import Outfall, OverrideRequest, PlanExtension
from notifications.models import Notification
from workflows import approvals, selectors
from workflows.approvals import ProposalError
from workflows.models import Deadline, DeadlineMove, Proposal

from .approval_helpers import events
from .conftest import at

D = Proposal.Decision
K = Proposal.Kind


# --- rule override -------------------------------------------------------------------------


@pytest.fixture
def override_case(county_officer, city_leader):
    # a case in a drinking-water zone classified to standardise against rule "protected_area"
    outfall = f.trace(f.register(actor=county_officer, in_drinking_water_zone=True))
    subtype = f.Subtype.objects.get(code="qt_other")
    case_services.outfall_classification_set(
        actor=county_officer,
        outfall=outfall,
        category=subtype.category,
        subtype=subtype,
        disposition=Disposition.STANDARDISE,
        overrides={"protected_area": "历史遗留，已纳入水源地调整方案"},
    )
    return Outfall.objects.get(pk=outfall.pk)


def test_a_recorded_override_opens_a_city_leaders_task(
    override_case, county_officer, county_leader, city_leader
):
    # then the override request has its approval process, for the city leader only
    override = OverrideRequest.objects.get(outfall=override_case)
    proposal = Proposal.objects.get(override=override)
    assert (proposal.kind, proposal.proposer, proposal.decision) == (
        K.RULE_OVERRIDE,
        county_officer,
        D.PENDING,
    )
    assert list(selectors.claimable_for(user=city_leader)) == [proposal]
    assert list(selectors.claimable_for(user=county_leader)) == []
    assert Notification.objects.filter(recipient=city_leader, kind="approval_task").exists()


def test_a_county_leader_cannot_approve_an_override(override_case, county_leader):
    proposal = Proposal.objects.get(outfall=override_case, kind=K.RULE_OVERRIDE)
    with pytest.raises(PermissionDenied):
        approvals.proposal_decide(actor=county_leader, proposal=proposal, approve=True)
    assert OverrideRequest.objects.get(outfall=override_case).status == "pending"


def test_an_approved_override_unblocks_the_classification(
    override_case, county_officer, county_leader, city_leader
):
    # given classification is blocked by the failed rule
    assert not rules_pass_or_overridden(override_case)
    proposal = Proposal.objects.get(outfall=override_case, kind=K.RULE_OVERRIDE)
    # when the city leader approves the override
    approvals.proposal_decide(actor=city_leader, proposal=proposal, approve=True, reason="同意")
    # then the override is approved (with its event), the process done
    override = OverrideRequest.objects.get(outfall=override_case)
    assert (override.status, override.decided_by) == ("approved", city_leader)
    assert events(override_case, "override_decided")[-1].approved_by == city_leader
    assert Proposal.objects.get(pk=proposal.pk).status == PROCESS.DONE
    # and the classification can now be proposed and approved by the county
    classify = approvals.proposal_submit(
        actor=county_officer, outfall=override_case, transition="classify", reason="例外已批准"
    )
    approvals.proposal_decide(actor=county_leader, proposal=classify, approve=True)
    assert Outfall.objects.get(pk=override_case.pk).state == State.CLASSIFIED


def test_a_rejected_override_keeps_the_classification_blocked(
    override_case, county_officer, city_leader
):
    proposal = Proposal.objects.get(outfall=override_case, kind=K.RULE_OVERRIDE)
    approvals.proposal_decide(
        actor=city_leader, proposal=proposal, approve=False, reason="不符合一事一议条件"
    )
    override = OverrideRequest.objects.get(outfall=override_case)
    assert (override.status, override.decision_note) == ("rejected", "不符合一事一议条件")
    with pytest.raises(ProposalError):
        approvals.proposal_submit(
            actor=county_officer, outfall=override_case, transition="classify", reason="再试"
        )
    assert Notification.objects.filter(recipient=county_officer, kind="approval_rejected").exists()


def test_an_override_decided_elsewhere_closes_its_task(override_case, city_leader):
    # given the override was decided directly through the cases service
    override = OverrideRequest.objects.get(outfall=override_case)
    case_services.override_decide(actor=city_leader, override=override, approve=True)
    # then its approval task is closed with the same decision, out of every queue
    proposal = Proposal.objects.get(override=override)
    assert (proposal.decision, proposal.decided_by, proposal.status) == (
        D.APPROVED,
        city_leader,
        PROCESS.DONE,
    )
    assert list(selectors.claimable_for(user=city_leader)) == []


# --- deadline extension --------------------------------------------------------------------


@pytest.fixture
def remediating(zezhou_case):
    return f.drive_to(zezhou_case, State.REMEDIATING)  # plan deadline 2024-12-31


def test_an_approved_extension_moves_the_plan_and_its_deadline(
    remediating, county_officer, city_leader
):
    # given the county proposes to extend the plan deadline
    proposal = approvals.extension_propose(
        actor=county_officer,
        outfall=remediating,
        new_date=dt.date(2025, 3, 31),
        reason="汛期施工受限",
        now=at(dt.date(2024, 11, 1)),
    )
    assert (proposal.kind, proposal.old_date, proposal.new_date) == (
        K.DEADLINE_EXTENSION,
        dt.date(2024, 12, 31),
        dt.date(2025, 3, 31),
    )
    assert events(remediating, "proposal")[-1].transition == "deadline_extension"
    assert list(selectors.claimable_for(user=city_leader)) == [proposal]
    # when a city leader approves it
    approvals.proposal_decide(
        actor=city_leader, proposal=proposal, approve=True, now=at(dt.date(2024, 11, 4))
    )
    # then the ledger has the extension, the plan and its deadline row moved
    extension = PlanExtension.objects.get(plan__outfall=remediating)
    assert (extension.old_date, extension.new_date, extension.requested_by, extension.approver) == (
        dt.date(2024, 12, 31),
        dt.date(2025, 3, 31),
        county_officer,
        city_leader,
    )
    deadline = Deadline.objects.get(outfall=remediating, stage="plan")
    assert (deadline.due_on, deadline.original_due_on) == (
        dt.date(2025, 3, 31),
        dt.date(2024, 12, 31),
    )
    assert DeadlineMove.objects.get(deadline=deadline).approver == city_leader
    assert deadline.next_fire_on == dt.date(2025, 3, 24)  # L0 moved with it
    assert Notification.objects.filter(recipient=county_officer, kind="approval_approved").exists()


def test_a_rejected_extension_leaves_the_deadline(remediating, county_officer, city_leader):
    proposal = approvals.extension_propose(
        actor=county_officer, outfall=remediating, new_date=dt.date(2025, 3, 31), reason="延期"
    )
    approvals.proposal_decide(
        actor=city_leader, proposal=proposal, approve=False, reason="理由不足"
    )
    assert Deadline.objects.get(outfall=remediating, stage="plan").due_on == dt.date(2024, 12, 31)
    assert not PlanExtension.objects.exists()
    rejection = events(remediating, "proposal_rejected")[-1]
    assert (rejection.transition, rejection.reason) == ("deadline_extension", "理由不足")


def test_an_extension_is_approved_by_a_city_leader_only(
    remediating, county_officer, county_leader, city_officer
):
    proposal = approvals.extension_propose(
        actor=county_officer, outfall=remediating, new_date=dt.date(2025, 3, 31), reason="延期"
    )
    for user in (county_leader, city_officer, county_officer):
        with pytest.raises(PermissionDenied):
            approvals.proposal_decide(actor=user, proposal=proposal, approve=True)
    assert not PlanExtension.objects.exists()


def test_an_extension_must_move_later(remediating, county_officer):
    with pytest.raises(ValidationError, match="new_date"):
        approvals.extension_propose(
            actor=county_officer, outfall=remediating, new_date=dt.date(2024, 12, 1), reason="x"
        )
    assert not Proposal.objects.exists()


def test_one_open_extension_per_case(remediating, county_officer):
    approvals.extension_propose(
        actor=county_officer, outfall=remediating, new_date=dt.date(2025, 3, 31), reason="延期"
    )
    with pytest.raises(ProposalError):
        approvals.extension_propose(
            actor=county_officer, outfall=remediating, new_date=dt.date(2025, 6, 30), reason="再延"
        )
    assert Proposal.objects.filter(kind=K.DEADLINE_EXTENSION).count() == 1


def test_an_extension_and_a_transition_proposal_may_be_open_together(remediating, county_officer):
    f.add_evidence(remediating, *f.RETAIN_KINDS)
    approvals.extension_propose(
        actor=county_officer, outfall=remediating, new_date=dt.date(2025, 3, 31), reason="延期"
    )
    retain = approvals.proposal_submit(
        actor=county_officer, outfall=remediating, transition="retain", reason="已验收"
    )
    assert retain.decision == D.PENDING
