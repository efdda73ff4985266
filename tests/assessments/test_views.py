"""The assessment pages: period ranking, assessment page, the review steps through the UI."""

import pytest
from django.urls import reverse

from assessments import services
from assessments.models import Assessment, Objection, ObjectionAnswer

from .conftest import ZEZHOU, D, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(scenario):
    return services.period_close(
        actor=None, kind="quarter", year=2025, quarter=1, now=at(D(2025, 4, 3))
    )


@pytest.fixture
def zezhou(period):
    return period.assessments.get(jurisdiction__code=ZEZHOU)


def test_a_city_officer_closes_a_period_from_the_list(client, city_officer):
    client.force_login(city_officer)
    page = client.get(reverse("assessments:periods:index"))
    assert page.status_code == 200
    assert 'data-testid="close-period"' in page.content.decode()
    response = client.post(
        reverse("assessments:periods:index"), {"kind": "year", "year": "2024", "quarter": ""}
    )
    assert response.status_code == 302
    assert Assessment.objects.filter(period__year=2024, period__kind="year").count() == 8


def test_a_river_chief_cannot_close_a_period(client, zezhou_river_chief):
    client.force_login(zezhou_river_chief)
    response = client.post(reverse("assessments:periods:index"), {"kind": "year", "year": "2024"})
    assert response.status_code == 403
    assert not Assessment.objects.exists()


def test_the_period_page_ranks_and_charts(client, period, city_officer):
    client.force_login(city_officer)
    page = client.get(reverse("assessments:periods:detail", args=[period.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="ranking-chart"' in html
    assert "泽州县" in html
    assert "38.61" in html
    assert "39.50" in html


def test_the_assessment_page_links_each_number_to_its_cases(client, zezhou, city_officer):
    client.force_login(city_officer)
    page = client.get(reverse("assessments:assessments:detail", args=[zezhou.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    untraced = reverse(
        "assessments:assessments:evidence", args=[zezhou.pk, "survey_trace.untraced"]
    )
    assert untraced in html
    evidence = client.get(untraced)
    assert evidence.status_code == 200
    assert evidence.content.decode().count("data-outfall-id=") == 4


def test_the_review_steps_through_the_pages(
    client, zezhou, scenario, city_officer, city_leader, django_capture_on_commit_callbacks
):
    detail = reverse("assessments:assessments:detail", args=[zezhou.pk])
    # the city officer sends it
    client.force_login(city_officer)
    assert (
        client.post(
            reverse("assessments:assessments:submit", args=[zezhou.pk]), {"note": ""}
        ).status_code
        == 302
    )
    # the chief objects to one item
    client.force_login(scenario.chiefs["qinhe"])
    assert 'data-testid="review-assessment"' in client.get(detail).content.decode()
    response = client.post(
        reverse("assessments:assessments:review", args=[zezhou.pk]),
        {"reason_patrols": "3月巡河记录已补录。", "note": ""},
    )
    assert response.status_code == 302
    objection = Objection.objects.get()
    # the chief cannot answer their own objection
    assert (
        client.get(reverse("assessments:assessments:answer", args=[zezhou.pk])).status_code == 403
    )
    # the city officer keeps the score, with the reason
    client.force_login(city_officer)
    response = client.post(
        reverse("assessments:assessments:answer", args=[zezhou.pk]),
        {f"decision_{objection.pk}": "keep", f"reason_{objection.pk}": "补录时间晚于考核期。"},
    )
    assert response.status_code == 302
    assert ObjectionAnswer.objects.get().decision == "keep"
    # the city leader finalizes; the report can be downloaded
    client.force_login(city_leader)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("assessments:assessments:finalize", args=[zezhou.pk]), {"note": ""}
        )
    assert response.status_code == 302
    zezhou.refresh_from_db()
    html = client.get(detail).content.decode()
    assert 'data-testid="report-pdf"' in html
    assert "补录时间晚于考核期。" in html
    pdf = client.get(reverse("documents:archive:download", args=[zezhou.report_id]))
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    # and the chief can download it too
    client.force_login(scenario.chiefs["qinhe"])
    assert (
        client.get(reverse("documents:archive:download", args=[zezhou.report_id])).status_code
        == 200
    )


def test_a_review_form_error_keeps_the_input(client, zezhou, scenario, city_officer):
    services.assessment_submit(actor=city_officer, assessment=zezhou)
    client.force_login(scenario.chiefs["qinhe"])
    response = client.post(
        reverse("assessments:assessments:review", args=[zezhou.pk]),
        {"reason_patrols": "理由", "file_patrols": _fake_pdf()},
    )
    assert response.status_code == 422
    assert not Objection.objects.exists()


def _fake_pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("a.pdf", b"not a pdf at all", content_type="application/pdf")


@pytest.mark.parametrize(
    ("who", "status"),
    [("chief", 200), ("city_officer", 200), ("county_officer", 200), ("other_county_officer", 404)],
)
def test_an_objection_file_is_served_through_the_record_rule(
    client, zezhou, scenario, city_officer, request, who, status
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    services.assessment_submit(actor=city_officer, assessment=zezhou)
    scan = SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    services.assessment_review(
        actor=scenario.chiefs["qinhe"],
        assessment=zezhou,
        objections=[services.ObjectionInput("patrols", "见附件", scan)],
    )
    user = scenario.chiefs["qinhe"] if who == "chief" else request.getfixturevalue(who)
    client.force_login(user)
    url = reverse("assessments:assessments:objection_file", args=[Objection.objects.get().pk])
    response = client.get(url)
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment")
