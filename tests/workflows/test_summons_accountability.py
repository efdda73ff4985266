"""The accountability (问责) process through its services, and the scope of both processes."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from documents.models import IssuedDocument
from notifications.models import Notification
from workflows import selectors
from workflows import summons as services
from workflows.models import Accountability, Summons

from .conftest import at
from .summons_helpers import MET, approve, l3_proposal, propose, to_report_due

LATER = MET + dt.timedelta(days=20)


@pytest.fixture
def referred(county_officer, city_officer, city_leader, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        summons = to_report_due(county_officer, city_officer, city_leader)
    summons = services.summons_verify(
        actor=city_officer, summons=summons, rectified=False, note="溯源仍未完成", now=at(LATER)
    )
    return Accountability.objects.get(summons_process=summons)


def _submit(actor, accountability):
    return services.accountability_submit(
        actor=actor,
        accountability=accountability,
        facts="约谈后仍未完成排查溯源。",
        duty="未履行属地管理责任。",
        officials=[{"name": "李强", "post": "泽州县人民政府副县长"}],
        handling="admonition",
        receiving_body="discipline",
        now=at(LATER),
    )


def test_the_evidence_list_is_compiled_from_case_events_notice_and_minutes(referred):
    summons = referred.summons_process
    kinds = [item["kind"] for item in referred.evidence]
    numbers = {item.get("number") for item in referred.evidence}
    # the case's events (registration at least) and both documents of the summons
    case = summons.outfalls.get()
    event_ids = {i["event_id"] for i in referred.evidence if i["kind"] == "case_event"}
    assert event_ids == set(
        case.events.exclude(kind="document_issued").values_list("pk", flat=True)
    )
    assert "case_event" in kinds
    assert {summons.notice.number, summons.minutes.number} <= numbers


def test_the_accountability_path_to_closed(
    referred, city_officer, city_leader, django_capture_on_commit_callbacks
):
    # when a city officer completes and submits the draft
    accountability = _submit(city_officer, referred)
    assert accountability.state == Accountability.State.PENDING
    assert Notification.objects.filter(recipient=city_leader, kind="accountability_task").exists()
    # and a city leader approves: the 问责建议函 is issued
    with django_capture_on_commit_callbacks(execute=True):
        accountability = services.accountability_decide(
            actor=city_leader, accountability=accountability, approve=True, now=at(LATER)
        )
    letter = IssuedDocument.objects.get(pk=accountability.letter_id)
    assert letter.doctype == "accountability_letter"
    assert letter.number.startswith("晋市环函〔2026〕")
    assert letter.status == IssuedDocument.Status.ISSUED
    assert "诫勉" in letter.context["sections"][-1]["paragraphs"][0]
    assert any(
        referred.summons_process.notice.number in p
        for s in letter.context["sections"]
        for p in s["paragraphs"]
    )
    assert Notification.objects.filter(
        recipient=city_officer, kind="accountability_approved"
    ).exists()
    # when the outcome is recorded, it closes
    accountability = services.accountability_record_outcome(
        actor=city_officer,
        accountability=accountability,
        decision="市纪委监委对李强同志予以诫勉",
        form="admonition",
        decided_on=LATER.date() if hasattr(LATER, "date") else LATER,
        now=at(LATER + dt.timedelta(days=1)),
    )
    assert accountability.state == Accountability.State.CLOSED
    assert Accountability.objects.get(pk=accountability.pk).status == "DONE"


def test_the_proposer_cannot_approve_the_referral(referred, city_officer):
    from base import services as base_services
    from base.factories import jurisdiction

    base_services.role_grant_create(
        actor=None, user=city_officer, role="city_leader", jurisdiction=jurisdiction("140500")
    )
    accountability = _submit(city_officer, referred)
    with pytest.raises(PermissionDenied, match="本人"):
        services.accountability_decide(
            actor=city_officer, accountability=accountability, approve=True
        )
    accountability.refresh_from_db()
    assert (accountability.state, accountability.letter_id) == ("pending", None)


# --- scope --------------------------------------------------------------------------------


@pytest.fixture
def approved(county_officer, city_officer, city_leader, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return approve(city_leader, propose(city_officer, l3_proposal(county_officer)))


def test_an_other_county_officer_gets_404_on_the_summons_and_its_documents(
    approved, other_county_officer, client
):
    client.force_login(other_county_officer)
    assert client.get(reverse("workflows:summons:detail", args=[approved.pk])).status_code == 404
    assert (
        client.get(reverse("documents:archive:download", args=[approved.notice_id])).status_code
        == 404
    )
    assert (
        client.get(reverse("documents:archive:detail", args=[approved.notice_id])).status_code
        == 404
    )
    with pytest.raises(Http404):
        selectors.summons_get(user=other_county_officer, pk=approved.pk)


def test_a_river_chief_sees_nothing_of_it(approved, zezhou_river_chief, client):
    assert not selectors.summons_list(user=zezhou_river_chief).exists()
    client.force_login(zezhou_river_chief)
    assert client.get(reverse("workflows:summons:detail", args=[approved.pk])).status_code == 404
    assert (
        client.get(reverse("documents:archive:download", args=[approved.notice_id])).status_code
        == 404
    )


def test_the_summoned_county_sees_and_downloads_its_notice(approved, county_leader, client):
    client.force_login(county_leader)
    page = client.get(reverse("workflows:summons:detail", args=[approved.pk]))
    assert page.status_code == 200
    response = client.get(reverse("documents:archive:download", args=[approved.notice_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_the_city_leader_approves_from_the_page(county_officer, city_officer, city_leader, client):
    summons = propose(city_officer, l3_proposal(county_officer))
    client.force_login(city_leader)
    url = reverse("workflows:summons:step", args=[summons.pk])
    # without the confirmation nothing happens
    response = client.post(url, {"step": "decide", "decision": "approve"})
    assert response.status_code == 422
    assert Summons.objects.get(pk=summons.pk).state == "pending"
    response = client.post(url, {"step": "decide", "decision": "approve", "confirmed": "1"})
    assert response.status_code == 302
    assert Summons.objects.get(pk=summons.pk).state == "approved"


def test_the_list_and_the_propose_page_render(county_officer, city_officer, client):
    proposal = l3_proposal(county_officer)
    summons = propose(city_officer, proposal)
    client.force_login(city_officer)
    listing = client.get(reverse("workflows:summons:index"), {"state": "pending"})
    assert listing.status_code == 200
    assert reverse("workflows:summons:detail", args=[summons.pk]).encode() in listing.content
    assert client.get(reverse("workflows:summons:propose")).status_code == 200
    assert client.get(reverse("workflows:dashboard:index")).status_code == 200


def test_the_receipt_is_served_only_within_scope(
    county_officer, other_county_officer, city_officer, city_leader, client
):
    from .summons_helpers import serve

    summons = serve(
        city_officer, approve(city_leader, propose(city_officer, l3_proposal(county_officer)))
    )
    url = reverse("workflows:summons:file", args=[summons.pk, "receipt"])
    client.force_login(other_county_officer)
    assert client.get(url).status_code == 404
    client.force_login(county_officer)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
