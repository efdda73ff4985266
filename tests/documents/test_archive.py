"""The archive: immutability, stored hash, verification page, scoped download, timeline."""

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from cases.models import OutfallEvent
from documents import selectors, services
from documents.models import IssuedDocument

pytestmark = pytest.mark.django_db


@pytest.fixture
def signboard(classified_outfall, county_officer, issue):
    document = issue(actor=county_officer, doctype="outfall_signboard", subject=classified_outfall)
    assert document.status == IssuedDocument.Status.ISSUED, document.render_error
    return document


# --- immutability and hash ------------------------------------------------------------------


def test_an_issued_document_cannot_be_saved(signboard):
    signboard.title = "改过的标题"
    with pytest.raises(PermissionError, match="cannot be changed"):
        signboard.save()
    assert IssuedDocument.objects.get(pk=signboard.pk).title != "改过的标题"


def test_an_issued_document_cannot_be_updated_in_bulk(signboard):
    with pytest.raises(PermissionError, match="cannot be changed"):
        IssuedDocument.objects.filter(pk=signboard.pk).update(title="改过的标题")
    assert IssuedDocument.objects.get(pk=signboard.pk).title == signboard.title


def test_documents_are_never_deleted(signboard):
    with pytest.raises(PermissionError, match="never deleted"):
        signboard.delete()
    with pytest.raises(PermissionError, match="never deleted"):
        IssuedDocument.objects.filter(pk=signboard.pk).delete()
    assert IssuedDocument.objects.filter(pk=signboard.pk).exists()


def test_the_stored_sha256_verifies(signboard):
    with signboard.file.open("rb") as fh:
        content = fh.read()
    assert content.startswith(b"%PDF-")
    assert signboard.sha256 == hashlib.sha256(content).hexdigest()
    assert selectors.stored_file_sha256(signboard) == signboard.sha256
    assert signboard.size == len(content)
    assert signboard.file.name.startswith("documents/")


def test_rendering_again_changes_nothing(signboard):
    # the task may run twice (acks_late): an issued document is returned untouched
    again = services.document_render(document_id=signboard.pk)
    assert (again.sha256, again.file.name, again.rendered_at) == (
        signboard.sha256,
        signboard.file.name,
        signboard.rendered_at,
    )


def test_the_snapshot_is_what_was_printed(signboard, classified_outfall):
    # the context is frozen at issue time: later edits of the case do not reach the document
    assert signboard.context["outfall_code"] == classified_outfall.code
    assert signboard.context["number"] == signboard.number
    assert signboard.context["supervisor"] == "晋城市生态环境局泽州分局"
    assert signboard.subject_type == "cases.outfall"
    assert signboard.subject_id == classified_outfall.pk


def test_a_render_error_marks_the_document_failed_and_keeps_its_number(summons, monkeypatch, issue):
    from documents import rendering

    def broken(html, **kwargs):
        raise ValueError("layout exploded")

    monkeypatch.setattr(rendering, "html_to_pdf", broken)
    document = issue(actor=None, doctype="summons_notice", subject=summons)
    assert document.status == IssuedDocument.Status.FAILED
    assert "layout exploded" in document.render_error
    assert not document.file
    # once the cause is fixed, rendering it again issues it under the same number
    monkeypatch.undo()
    rendered = services.document_render(document_id=document.pk)
    assert rendered.status == IssuedDocument.Status.ISSUED
    assert rendered.number == document.number


# --- who may issue --------------------------------------------------------------------------


def test_an_outfall_out_of_scope_cannot_get_a_signboard(classified_outfall, other_county_officer):
    with pytest.raises(Http404):
        services.document_issue(
            actor=other_county_officer, doctype="outfall_signboard", subject=classified_outfall
        )
    assert not IssuedDocument.objects.exists()


def test_a_role_without_the_permission_cannot_issue(classified_outfall, county_leader):
    with pytest.raises(PermissionDenied):
        services.document_issue(
            actor=county_leader, doctype="outfall_signboard", subject=classified_outfall
        )
    assert not IssuedDocument.objects.exists()


def test_a_county_officer_cannot_issue_a_city_summons(summons, county_officer):
    with pytest.raises(PermissionDenied):
        services.document_issue(actor=county_officer, doctype="summons_notice", subject=summons)
    assert not IssuedDocument.objects.exists()


def test_a_signboard_needs_a_code(county_officer, issue):
    from cases import factories

    outfall = factories.register(actor=county_officer)
    with pytest.raises(ValidationError, match="赋码"):
        services.document_issue(actor=county_officer, doctype="outfall_signboard", subject=outfall)
    assert not IssuedDocument.objects.exists()


# --- the case timeline ----------------------------------------------------------------------


def test_a_signboard_appears_on_the_case_timeline(signboard, classified_outfall, county_officer):
    event = OutfallEvent.objects.filter(outfall=classified_outfall).order_by("-id").first()
    assert event.kind == OutfallEvent.Kind.DOCUMENT_ISSUED
    assert event.reason == f"{signboard.number}《{signboard.title}》"
    assert event.actor == county_officer
    assert event.at == signboard.issued_at


# --- verification page ----------------------------------------------------------------------


def test_the_verification_page_shows_number_type_issuer_date_and_hash(client, signboard):
    response = client.get(reverse("document_verify", args=[signboard.token]))
    assert response.status_code == 200
    page = response.content.decode()
    for value in (
        signboard.number,
        "入河排污口标识牌",
        "晋城市生态环境局",
        signboard.issued_at.astimezone().strftime("%Y"),
        signboard.sha256,
    ):
        assert value in page
    # and nothing about the subject
    for private in (signboard.context["outfall_name"], signboard.context["outfall_code"]):
        assert private not in page


def test_the_verification_page_needs_no_login(client, signboard):
    client.logout()
    assert client.get(reverse("document_verify", args=[signboard.token])).status_code == 200


@pytest.mark.parametrize("token", ["unknown", "A" * 32, "x-_y"])
def test_the_verification_page_404s_for_unknown_tokens(client, signboard, token):
    assert client.get(reverse("document_verify", args=[token])).status_code == 404


def test_the_verification_page_404s_before_the_pdf_exists(client, summons):
    pending = services.document_issue(
        actor=None, doctype="summons_notice", subject=summons
    )  # no after-commit: still rendering
    assert client.get(reverse("document_verify", args=[pending.token])).status_code == 404


def test_the_verification_page_tells_a_document_was_superseded(client, signboard, issue):
    new = issue(
        actor=None,
        doctype="outfall_signboard",
        subject=signboard_subject(signboard),
        supersedes=signboard,
    )
    page = client.get(reverse("document_verify", args=[signboard.token])).content.decode()
    assert new.number in page


def signboard_subject(document):
    from cases.models import Outfall

    return Outfall.objects.get(pk=document.subject_id)


# --- archive pages and download ---------------------------------------------------------------


def _download(client, user, document):
    client.force_login(user)
    return client.get(reverse("documents:archive:download", args=[document.pk]))


def test_an_officer_in_scope_downloads_the_pdf(client, county_officer, signboard):
    response = _download(client, county_officer, signboard)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == signboard.sha256


@pytest.mark.parametrize("user", ["other_county_officer", "other_county_leader"])
def test_an_officer_of_another_county_gets_404(client, request, signboard, user):
    # a 阳城县 officer and a 泽州县 outfall's signboard: as if it did not exist
    response = _download(client, request.getfixturevalue(user), signboard)
    assert response.status_code == 404
    detail = client.get(reverse("documents:archive:detail", args=[signboard.pk]))
    assert detail.status_code == 404


@pytest.mark.parametrize(
    "user", ["county_leader", "city_officer", "city_leader", "zezhou_river_chief"]
)
def test_officials_whose_scope_covers_the_case_download(client, request, signboard, user):
    assert _download(client, request.getfixturevalue(user), signboard).status_code == 200


def test_the_archive_lists_only_documents_in_scope(
    client, county_officer, other_county_officer, signboard, yangcheng_classified_outfall, issue
):
    theirs = issue(
        actor=other_county_officer,
        doctype="outfall_signboard",
        subject=yangcheng_classified_outfall,
    )
    client.force_login(county_officer)
    response = client.get(reverse("documents:archive:index"))
    assert response.status_code == 200
    assert [r["document"] for r in response.context["rows"]] == [signboard]
    assert theirs.number not in response.content.decode()


def test_the_archive_filters_by_type_and_year(client, city_leader, signboard, summons, issue):
    notice = issue(actor=city_leader, doctype="summons_notice", subject=summons)
    client.force_login(city_leader)
    url = reverse("documents:archive:index")
    by_type = client.get(url, {"doctype": "summons_notice"}).context["rows"]
    assert [r["document"] for r in by_type] == [notice]
    by_year = client.get(url, {"year": signboard.year}).context["rows"]
    assert {r["document"] for r in by_year} == {notice, signboard}
    assert client.get(url, {"year": signboard.year - 1}).context["rows"] == []


def test_the_detail_page_offers_the_download(client, county_officer, signboard):
    client.force_login(county_officer)
    response = client.get(reverse("documents:archive:detail", args=[signboard.pk]))
    assert response.status_code == 200
    assert reverse("documents:archive:download", args=[signboard.pk]) in response.content.decode()


def test_the_case_page_lists_its_documents_and_issues_a_signboard(
    client, county_officer, classified_outfall, django_capture_on_commit_callbacks
):
    client.force_login(county_officer)
    page = reverse("cases:outfalls:detail", args=[classified_outfall.pk])
    assert 'data-testid="issue-signboard"' in client.get(page).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("documents:archive:issue", args=["outfall_signboard", classified_outfall.pk])
        )
    document = IssuedDocument.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("documents:archive:detail", args=[document.pk])
    assert document.number in client.get(page).content.decode()


def test_issuing_for_a_case_out_of_scope_answers_404(
    client, other_county_officer, classified_outfall
):
    client.force_login(other_county_officer)
    response = client.post(
        reverse("documents:archive:issue", args=["outfall_signboard", classified_outfall.pk])
    )
    assert response.status_code == 404
    assert not IssuedDocument.objects.exists()


def test_types_that_need_input_cannot_be_issued_from_the_generic_view(client, city_leader, summons):
    client.force_login(city_leader)
    response = client.post(reverse("documents:archive:issue", args=["summons_notice", summons.pk]))
    assert response.status_code == 404
    assert not IssuedDocument.objects.exists()
