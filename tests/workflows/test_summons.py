"""The summons (约谈) process through its services: L3 proposal → closed, and referral."""

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases.models import OutfallEvent
from documents.models import IssuedDocument
from notifications.models import Notification
from workflows import summons as services
from workflows.escalation import sweep
from workflows.models import Accountability, Deadline, EscalationStep, Summons, SummonsProposal

from .conftest import at
from .summons_helpers import (
    DECIDED,
    MET,
    PROPOSED,
    REPORT_DUE,
    approve,
    l3_proposal,
    meet,
    propose,
    serve,
    to_report_due,
    upload,
)

NUMBER = re.compile(r"^晋市环约〔2026〕\d+号$")


@pytest.fixture
def rendered(django_capture_on_commit_callbacks):
    """Run a step with its after-commit callbacks (the PDF render, eager Celery)."""

    def run(step, *args):
        with django_capture_on_commit_callbacks(execute=True):
            return step(*args)

    return run


def test_the_full_path_from_an_l3_proposal_to_closed(
    county_officer, county_leader, city_officer, city_leader, rendered
):
    # given the ladder's L3 proposal for 泽州县
    proposal = l3_proposal(county_officer)
    # when a city officer takes it up
    summons = propose(city_officer, proposal)
    assert summons.state == Summons.State.PENDING
    assert summons.outfalls.count() == 1
    assert SummonsProposal.objects.get(pk=proposal.pk).status == "accepted"
    assert Notification.objects.filter(recipient=city_leader, kind="summons_task").exists()
    # and a city leader approves: the notice is numbered and rendered
    summons = rendered(approve, city_leader, summons)
    notice = IssuedDocument.objects.get(pk=summons.notice_id)
    assert summons.state == Summons.State.APPROVED
    assert NUMBER.match(notice.number)
    assert notice.status == IssuedDocument.Status.ISSUED
    assert notice.file.open("rb").read(5) == b"%PDF-"
    assert notice.context["cases"][0]["outfall_id"] == summons.outfalls.get().pk
    # when it is served, the county is told
    summons = serve(city_officer, summons)
    assert summons.state == Summons.State.SERVED
    assert summons.receipt.open("rb").read(5) == b"%PDF-"
    assert Notification.objects.filter(recipient=county_leader, kind="summons_served").exists()
    # when the meeting is recorded, its minutes are issued and the report falls due
    summons = rendered(meet, city_officer, summons)
    minutes = IssuedDocument.objects.get(pk=summons.minutes_id)
    assert minutes.doctype == "summons_minutes"
    assert minutes.status == IssuedDocument.Status.ISSUED
    deadline = Deadline.objects.get(pk=summons.report_deadline_id)
    assert (deadline.stage, deadline.start_on, deadline.due_on) == (
        "summons_report",
        MET,
        MET + dt.timedelta(days=30),
    )
    assert deadline.next_fire_on == REPORT_DUE
    assert Notification.objects.filter(recipient=city_officer, kind="summons_report_due").exists()
    # when a city officer verifies the report as rectified, the summons closes
    summons = services.summons_verify(
        actor=city_officer,
        summons=summons,
        rectified=True,
        note="整改已落实",
        report=upload("report.pdf"),
        now=at(REPORT_DUE - dt.timedelta(days=3)),
    )
    assert summons.state == Summons.State.CLOSED
    assert Summons.objects.get(pk=summons.pk).status == "DONE"  # viewflow's process ended
    assert Deadline.objects.get(pk=deadline.pk).status == "met"
    assert not Accountability.objects.exists()
    # then both documents are on the case's timeline
    events = OutfallEvent.objects.filter(outfall=summons.outfalls.get(), kind="document_issued")
    assert events.count() == 2


def test_the_proposer_cannot_approve(county_officer, city_officer, city_leader):
    # given a city officer who also holds the city-leader role proposes
    from base import services as base_services
    from base.factories import jurisdiction

    base_services.role_grant_create(
        actor=None, user=city_officer, role="city_leader", jurisdiction=jurisdiction("140500")
    )
    summons = propose(city_officer, l3_proposal(county_officer))
    # when they try to approve their own proposal, then it is refused and nothing changes
    with pytest.raises(PermissionDenied, match="本人"):
        services.summons_decide(actor=city_officer, summons=summons, approve=True, now=at(DECIDED))
    summons.refresh_from_db()
    assert (summons.state, summons.notice_id) == (Summons.State.PENDING, None)
    assert not IssuedDocument.objects.exists()


def test_a_county_leader_cannot_approve_a_summons(county_officer, county_leader, city_officer):
    summons = propose(city_officer, l3_proposal(county_officer))
    with pytest.raises(PermissionDenied):
        services.summons_decide(actor=county_leader, summons=summons, approve=True)
    assert Summons.objects.get(pk=summons.pk).state == Summons.State.PENDING


def test_a_county_officer_cannot_propose_a_summons(county_officer):
    proposal = l3_proposal(county_officer)
    with pytest.raises(PermissionDenied):
        propose(county_officer, proposal)
    assert not Summons.objects.exists()


def test_a_rejection_needs_a_reason_and_frees_the_proposal(
    county_officer, city_officer, city_leader
):
    proposal = l3_proposal(county_officer)
    summons = propose(city_officer, proposal)
    with pytest.raises(ValidationError):
        services.summons_decide(actor=city_leader, summons=summons, approve=False)
    summons = services.summons_decide(
        actor=city_leader, summons=summons, approve=False, reason="先行书面督办"
    )
    assert summons.state == Summons.State.REJECTED
    assert SummonsProposal.objects.get(pk=proposal.pk).status == "proposed"
    assert Notification.objects.filter(recipient=city_officer, kind="summons_rejected").exists()


def test_a_step_out_of_order_is_refused(county_officer, city_officer):
    summons = propose(city_officer, l3_proposal(county_officer))
    with pytest.raises(ValidationError, match="当前不能办理"):
        serve(city_officer, summons)
    assert Summons.objects.get(pk=summons.pk).served_on is None


def test_a_receipt_that_is_not_a_pdf_or_image_is_refused(county_officer, city_officer, city_leader):
    summons = approve(city_leader, propose(city_officer, l3_proposal(county_officer)))
    with pytest.raises(ValidationError, match="JPEG"):
        services.summons_serve(
            actor=city_officer,
            summons=summons,
            method="post",
            served_on=DECIDED,
            receiver="李华",
            receipt=upload("receipt.pdf", b"<html>not a pdf</html>"),
            now=at(DECIDED),
        )
    assert Summons.objects.get(pk=summons.pk).state == Summons.State.APPROVED


def test_a_summons_by_hand_lists_the_chosen_cases(county_officer, city_officer, city_leader):
    from base.models import Jurisdiction

    from .conftest import register_on

    case = register_on(dt.date(2025, 6, 1), actor=county_officer)
    summons = services.summons_propose(
        actor=city_officer,
        jurisdiction=Jurisdiction.objects.get(code="140525"),
        outfalls=[case],
        cause="群众投诉强烈",
        meeting_time="2026年1月12日上午9:00",
        meeting_place="市生态环境局",
        contact="王明，0356-2021234",
        now=at(PROPOSED),
    )
    summons = approve(city_leader, summons)
    assert [row["outfall_id"] for row in summons.notice.context["cases"]] == [case.pk]


def test_not_rectified_opens_an_accountability_proposal(county_officer, city_officer, city_leader):
    summons = to_report_due(county_officer, city_officer, city_leader)
    summons = services.summons_verify(
        actor=city_officer,
        summons=summons,
        rectified=False,
        note="溯源仍未完成",
        now=at(MET + dt.timedelta(days=20)),
    )
    assert summons.state == Summons.State.REFERRED
    accountability = Accountability.objects.get(summons_process=summons)
    assert accountability.trigger == "not_rectified"
    assert accountability.state == Accountability.State.DRAFT
    assert Deadline.objects.get(pk=summons.report_deadline_id).status == "met"


def test_a_missed_report_fires_l4_and_opens_accountability_once(
    county_officer, city_officer, city_leader
):
    # given a summons whose report is due
    summons = to_report_due(county_officer, city_officer, city_leader)
    # when the sweep runs the day before, nothing happens
    sweep(now=at(REPORT_DUE - dt.timedelta(days=1)))
    assert not Accountability.objects.exists()
    # when it runs on the due date, twice
    sweep(now=at(REPORT_DUE))
    sweep(now=at(REPORT_DUE + dt.timedelta(days=1)))
    # then L4 fired once and exactly one accountability proposal exists
    deadline = Deadline.objects.get(pk=summons.report_deadline_id)
    assert list(
        EscalationStep.objects.filter(deadline=deadline).values_list("level__code", flat=True)
    ) == ["L4"]
    accountability = Accountability.objects.get()
    assert (accountability.summons_process_id, accountability.trigger) == (
        summons.pk,
        "report_overdue",
    )
    summons.refresh_from_db()
    assert summons.state == Summons.State.REFERRED
    assert (
        Notification.objects.filter(recipient=city_officer, kind="accountability_draft").count()
        == 1
    )
    # and a late verification is refused
    with pytest.raises(ValidationError, match="当前不能办理"):
        services.summons_verify(
            actor=city_officer, summons=summons, rectified=True, note="x", report=upload()
        )
