"""The approval pages: inbox tabs, the approval page, scoping (404), no self-approval."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from cases import factories as f
from cases import services as case_services
from cases.choices import State
from cases.models import Outfall
from workflows import approvals
from workflows.models import Proposal, TransitionPolicy

from .approval_helpers import events, propose_trace, ready_to_trace

D = Proposal.Decision


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def proposal_url(name, proposal) -> str:
    return reverse(f"workflows:proposals:{name}", args=[proposal.pk])


def listed(response) -> set[int]:
    return {int(i) for i in re.findall(r'data-proposal-id="(\d+)"', response.content.decode())}


@pytest.fixture
def proposal(county_officer, county_leader, zezhou_case):
    outfall = ready_to_trace(zezhou_case, county_officer)
    photo = case_services.evidence_add(
        actor=county_officer, outfall=outfall, kind="photo", file=f.png_upload()
    )
    return propose_trace(outfall, county_officer, evidence=[photo])


def _state(proposal) -> str:
    return Outfall.objects.get(pk=proposal.outfall_id).state


# --- inbox ---------------------------------------------------------------------------------


def test_the_queue_lists_the_task_for_the_countys_leader(county_leader, proposal):
    response = logged_in(county_leader).get(reverse("workflows:queue:index"))
    assert response.status_code == 200
    assert listed(response) == {proposal.pk}
    content = response.content.decode()
    assert "确认溯源" in content
    # one decision per case: no bulk approval from a list
    assert proposal_url("decide", proposal) not in content
    assert 'type="checkbox"' not in content


@pytest.mark.parametrize("tab", ["workflows:queue:index", "workflows:tasks:index"])
def test_the_queues_of_others_do_not_list_it(
    other_county_leader, city_leader, county_officer, proposal, tab
):
    for user in (other_county_leader, city_leader):
        assert listed(logged_in(user).get(reverse(tab))) == set()


def test_a_claimed_task_is_in_my_tasks(county_leader, proposal):
    client = logged_in(county_leader)
    response = client.post(proposal_url("claim", proposal))
    assert response.status_code == 302
    assert listed(client.get(reverse("workflows:tasks:index"))) == {proposal.pk}
    assert listed(client.get(reverse("workflows:queue:index"))) == set()


def test_the_proposer_finds_it_under_my_proposals(county_officer, proposal):
    response = logged_in(county_officer).get(reverse("workflows:proposals:index"))
    assert listed(response) == {proposal.pk}


def test_decided_proposals_are_in_the_archive(county_leader, river_scope_users, proposal):
    approvals.proposal_decide(actor=county_leader, proposal=proposal, approve=True)
    for user in (county_leader, *river_scope_users):
        assert listed(logged_in(user).get(reverse("workflows:archive:index"))) == {proposal.pk}


@pytest.fixture
def river_scope_users(city_officer, zezhou_river_chief):
    return [city_officer, zezhou_river_chief]


# --- scoping -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["detail", "claim", "release", "decide", "withdraw"])
def test_every_proposal_url_is_404_out_of_jurisdiction(other_county_leader, proposal, name):
    client = logged_in(other_county_leader)
    response = (
        client.get(proposal_url(name, proposal))
        if name == "detail"
        else client.post(proposal_url(name, proposal), {"decision": "approve", "confirmed": "1"})
    )
    assert response.status_code == 404
    assert _state(proposal) == State.SURVEYED
    assert Proposal.objects.get(pk=proposal.pk).decision == D.PENDING


def test_a_missing_proposal_is_404_too(county_leader, db):
    response = logged_in(county_leader).get(reverse("workflows:proposals:detail", args=[9999]))
    assert response.status_code == 404


# --- the approval page ---------------------------------------------------------------------


def test_the_approval_page_shows_what_an_approver_needs(county_leader, proposal):
    response = logged_in(county_leader).get(proposal_url("detail", proposal))
    content = response.content.decode()
    assert response.status_code == 200
    # the request, the live guard check, the evidence thumbnail, the rules and the history
    assert "已查明责任主体" in content
    assert 'data-testid="conditions-met"' in content
    photo = proposal.evidence.get()
    assert reverse("cases:outfalls:evidence_file", args=[photo.pk]) in content
    assert 'data-testid="rules"' in content
    assert 'data-event-kind="proposal"' in content
    # and the decision with a confirmation step before approving
    assert 'data-testid="approve-dialog"' in content
    assert 'data-testid="confirm-approve"' in content


def test_the_page_shows_a_guard_that_became_unmet(county_leader, proposal):
    from cases.models import OutfallEntity

    OutfallEntity.objects.filter(outfall_id=proposal.outfall_id).delete()
    content = logged_in(county_leader).get(proposal_url("detail", proposal)).content.decode()
    assert 'data-testid="unmet"' in content
    assert "请关联责任主体" in content


def test_the_proposer_sees_no_decision_buttons_and_cannot_post_one(county_officer, proposal):
    client = logged_in(county_officer)
    content = client.get(proposal_url("detail", proposal)).content.decode()
    assert 'data-testid="own-proposal"' in content
    assert 'data-testid="approve"' not in content
    response = client.post(
        proposal_url("decide", proposal), {"decision": "approve", "confirmed": "1"}
    )
    assert response.status_code == 403
    assert "不能审批本人" in response.content.decode()
    assert _state(proposal) == State.SURVEYED
    assert Proposal.objects.get(pk=proposal.pk).decision == D.PENDING


def test_approving_needs_the_confirmation(county_leader, proposal):
    response = logged_in(county_leader).post(
        proposal_url("decide", proposal), {"decision": "approve"}
    )
    assert response.status_code == 422
    assert _state(proposal) == State.SURVEYED


def test_an_approval_applies_the_transition(county_officer, county_leader, proposal):
    client = logged_in(county_leader)
    response = client.post(
        proposal_url("decide", proposal), {"decision": "approve", "confirmed": "1", "reason": ""}
    )
    assert response.status_code == 302
    assert _state(proposal) == State.TRACED
    page = client.get(proposal_url("detail", proposal)).content.decode()
    assert 'data-decision="approved"' in page


def test_a_rejection_needs_a_reason(county_leader, proposal):
    client = logged_in(county_leader)
    response = client.post(proposal_url("decide", proposal), {"decision": "reject", "reason": ""})
    assert response.status_code == 422
    assert 'data-testid="reason-error"' in response.content.decode()
    response = client.post(
        proposal_url("decide", proposal), {"decision": "reject", "reason": "请补充溯源照片"}
    )
    assert response.status_code == 302
    assert Proposal.objects.get(pk=proposal.pk).decision == D.REJECTED
    assert _state(proposal) == State.SURVEYED


def test_a_refused_approval_is_shown_with_its_reason(county_leader, proposal):
    from cases.models import TracingRecord

    TracingRecord.objects.filter(outfall_id=proposal.outfall_id).delete()
    response = logged_in(county_leader).post(
        proposal_url("decide", proposal), {"decision": "approve", "confirmed": "1"}
    )
    assert response.status_code == 422
    assert "请至少添加一条溯源记录" in response.content.decode()
    assert _state(proposal) == State.SURVEYED


def test_the_proposer_withdraws_from_the_page(county_officer, proposal):
    client = logged_in(county_officer)
    response = client.post(proposal_url("withdraw", proposal), {"reason": "材料有误"})
    assert response.status_code == 302
    assert Proposal.objects.get(pk=proposal.pk).decision == D.WITHDRAWN


# --- the case page -------------------------------------------------------------------------


def test_the_case_page_shows_the_open_proposal(county_officer, proposal):
    url = reverse("cases:outfalls:detail", args=[proposal.outfall_id])
    content = logged_in(county_officer).get(url).content.decode()
    assert 'data-testid="open-proposals"' in content
    assert 'data-testid="pending-trace"' in content
    assert proposal_url("detail", proposal) in content
    # and offers no second proposal meanwhile
    assert 'data-testid="propose-void"' not in content


def test_the_transition_page_refuses_a_second_proposal(county_officer, proposal):
    url = reverse("cases:outfalls:transition", args=[proposal.outfall_id, "void"])
    client = logged_in(county_officer)
    assert 'data-testid="open-proposal"' in client.get(url).content.decode()
    response = client.post(url, {"closure_reason": "duplicate", "reason": "重复", "confirm": "on"})
    assert response.status_code == 422
    assert Proposal.objects.filter(outfall_id=proposal.outfall_id).count() == 1


def test_the_officer_proposes_with_evidence_from_the_case_page(county_officer, zezhou_case):
    outfall = ready_to_trace(zezhou_case, county_officer)
    photo = case_services.evidence_add(
        actor=county_officer, outfall=outfall, kind="photo", file=f.png_upload()
    )
    url = reverse("cases:outfalls:transition", args=[outfall.pk, "trace"])
    client = logged_in(county_officer)
    page = client.get(url).content.decode()
    assert f'name="evidence" value="{photo.pk}"' in page
    response = client.post(
        url, {"reason": "已查明", "expected_state": "surveyed", "evidence": [photo.pk]}
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get(outfall=outfall)
    assert list(proposal.evidence.values_list("pk", flat=True)) == [photo.pk]
    assert events(outfall)[-1].kind == "proposal"


# --- deadline extension page ---------------------------------------------------------------


def test_the_extension_is_proposed_from_the_case_page(county_officer, city_leader, zezhou_case):
    outfall = f.drive_to(zezhou_case, State.REMEDIATING)
    client = logged_in(county_officer)
    case_page = client.get(reverse("cases:outfalls:detail", args=[outfall.pk])).content.decode()
    url = reverse("workflows:proposals:extension", args=[outfall.pk])
    assert url in case_page
    response = client.post(url, {"new_date": "2025-03-31", "reason": "汛期施工受限"})
    assert response.status_code == 302
    proposal = Proposal.objects.get(outfall=outfall, kind=Proposal.Kind.DEADLINE_EXTENSION)
    assert proposal.new_date == dt.date(2025, 3, 31)
    assert listed(logged_in(city_leader).get(reverse("workflows:queue:index"))) == {proposal.pk}


def test_the_extension_page_is_404_out_of_scope(other_county_officer, zezhou_case):
    outfall = f.drive_to(zezhou_case, State.REMEDIATING)
    url = reverse("workflows:proposals:extension", args=[outfall.pk])
    assert logged_in(other_county_officer).get(url).status_code == 404


# --- the policy in the admin ---------------------------------------------------------------


def test_an_administrator_edits_the_policy_and_it_applies(
    system_admin, county_officer, zezhou_case
):
    policy = TransitionPolicy.objects.get(transition="trace")
    client = logged_in(system_admin)
    url = reverse("admin:workflows_transitionpolicy_change", args=[policy.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "proposer_roles": ["county_officer"],
            "approver_roles": ["county_leader"],
            "level": "county",
        },
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.requires_approval, policy.proposer_roles) == (False, ["county_officer"])
    # and the case page now applies the tracing directly
    outfall = ready_to_trace(zezhou_case, county_officer)
    response = logged_in(county_officer).post(
        reverse("cases:outfalls:transition", args=[outfall.pk, "trace"]),
        {"reason": "", "expected_state": "surveyed"},
    )
    assert response.status_code == 302
    assert Outfall.objects.get(pk=outfall.pk).state == State.TRACED
    assert not Proposal.objects.exists()
