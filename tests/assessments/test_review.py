"""The review process: draft → river chief → answers → city leader → report; ranking."""

import io
from decimal import Decimal
from pathlib import Path

import pdfplumber
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404

from assessments import services
from assessments.models import (
    Assessment,
    AssessmentEvent,
    AssessmentPeriod,
    AssessmentReview,
    Objection,
    ObjectionAnswer,
)
from assessments.services import AnswerInput, ObjectionInput
from base.factories import river_chief
from base.models import RiverChiefAppointment
from cases.factories import PNG_BYTES
from documents.models import IssuedDocument
from workflows.models import SummonsProposal

from .conftest import CITY, ZEZHOU, D, at

pytestmark = pytest.mark.django_db
S = Assessment.Status
CLOSE = at(D(2025, 4, 3))


@pytest.fixture
def period(scenario):
    return services.period_close(actor=None, kind="quarter", year=2025, quarter=1, now=CLOSE)


@pytest.fixture
def zezhou(period):
    return period.assessments.get(jurisdiction__code=ZEZHOU)


@pytest.fixture
def chief(scenario):
    return scenario.chiefs["qinhe"]


def submitted(assessment, officer):
    return services.assessment_submit(actor=officer, assessment=assessment, now=at(D(2025, 4, 4)))


def test_the_whole_review_with_one_objection_ends_in_a_numbered_report(
    zezhou, chief, city_officer, city_leader, django_capture_on_commit_callbacks
):
    # given the draft sent to the river chiefs of 泽州县
    a = submitted(zezhou, city_officer)
    assert a.status == S.IN_REVIEW
    # when the chief objects to the patrol item with a reason
    a = services.assessment_review(
        actor=chief,
        assessment=a,
        objections=[ObjectionInput("patrols", "丹河段河长3月已巡河，记录延迟录入。")],
        now=at(D(2025, 4, 7)),
    )
    # then it waits for the city officer's answers, the objection on the record
    assert a.status == S.ANSWERING
    assert a.review_outcome == Assessment.Outcome.OBJECTED
    objection = Objection.objects.get(assessment=a)
    assert (objection.component, objection.raised_by) == ("patrols", chief)
    # when the city officer adjusts the item
    a = services.assessment_answer(
        actor=city_officer,
        assessment=a,
        answers=[AnswerInput(objection.pk, "adjust", "核实巡河记录后调整。", Decimal("10"))],
        now=at(D(2025, 4, 8)),
    )
    # then the score moves by the adjustment only and a city leader finalizes next
    assert a.status == S.AWAITING_FINAL
    assert a.score == Decimal("43.61")
    assert a.computed_score == Decimal("38.61")
    # when the city leader finalizes
    with django_capture_on_commit_callbacks(execute=True):
        a = services.assessment_finalize(actor=city_leader, assessment=a, now=at(D(2025, 4, 9)))
    # then the report is numbered in the city bureau's 考 series and rendered
    report = IssuedDocument.objects.get(pk=a.report_id)
    assert report.number == "晋市环考〔2025〕1号"
    assert report.status == IssuedDocument.Status.ISSUED
    with report.file.open("rb") as fh, pdfplumber.open(io.BytesIO(fh.read())) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    assert "泽州县" in text
    assert "43.61" in text
    assert "河长巡河频次" in text
    assert "丹河段河长3月已巡河" in text
    assert list(a.events.values_list("kind", flat=True)) == [
        "drafted",
        "submitted",
        "objected",
        "answered",
        "finalized",
    ]
    assert AssessmentReview.objects.get(assessment=a).status == "DONE"


def test_accepting_goes_straight_to_finalization(zezhou, chief, city_officer):
    a = submitted(zezhou, city_officer)
    a = services.assessment_review(actor=chief, assessment=a, now=at(D(2025, 4, 7)))
    assert (a.status, a.review_outcome) == (S.AWAITING_FINAL, Assessment.Outcome.ACCEPTED)
    assert services.current_step(a) == "finalize"
    assert not Objection.objects.exists()


def test_without_a_river_chief_the_draft_goes_to_finalization(period, city_officer):
    # 陵川县 has no river segment, so no river chief
    lingchuan = period.assessments.get(jurisdiction__code="140524")
    a = submitted(lingchuan, city_officer)
    assert (a.status, a.review_outcome) == (S.AWAITING_FINAL, Assessment.Outcome.NO_REVIEWER)
    assert a.events.filter(kind=AssessmentEvent.Kind.NO_REVIEWER).exists()


def test_a_chief_of_another_county_cannot_even_see_it(zezhou, city_officer):
    a = submitted(zezhou, city_officer)
    other = river_chief("qinhe-140522", username="yc_chief")
    with pytest.raises(Http404):
        services.assessment_review(actor=other, assessment=a)
    assert Assessment.objects.get(pk=a.pk).status == S.IN_REVIEW


def test_a_township_chief_sees_it_but_does_not_review(zezhou, city_officer):
    a = submitted(zezhou, city_officer)
    township = river_chief(
        "qinhe-140525", level=RiverChiefAppointment.Level.TOWNSHIP, username="zz_town_chief"
    )
    with pytest.raises(PermissionDenied):
        services.assessment_review(
            actor=township, assessment=a, objections=[ObjectionInput("patrols", "理由")]
        )
    assert not Objection.objects.exists()


def test_an_objection_needs_a_reason_and_nothing_is_written(zezhou, chief, city_officer, settings):
    a = submitted(zezhou, city_officer)
    photo = SimpleUploadedFile("patrol.png", PNG_BYTES, content_type="image/png")
    with pytest.raises(ValidationError, match="reason"):
        services.assessment_review(
            actor=chief,
            assessment=a,
            objections=[
                ObjectionInput("patrols", "有理由", photo),
                ObjectionInput("overdue", "   "),
            ],
        )
    assert not Objection.objects.exists()
    assert not (Path(settings.MEDIA_ROOT) / "objections").exists()
    assert Assessment.objects.get(pk=a.pk).status == S.IN_REVIEW


def test_an_objection_file_is_checked_by_content(zezhou, chief, city_officer):
    a = submitted(zezhou, city_officer)
    fake = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError, match="PDF"):
        services.assessment_review(
            actor=chief, assessment=a, objections=[ObjectionInput("patrols", "理由", fake)]
        )
    assert not Objection.objects.exists()
    # a real image is kept with its hash
    photo = SimpleUploadedFile("patrol.png", PNG_BYTES, content_type="image/png")
    services.assessment_review(
        actor=chief, assessment=a, objections=[ObjectionInput("patrols", "理由", photo)]
    )
    objection = Objection.objects.get()
    assert objection.attachment_type == "image/png"
    assert len(objection.attachment_sha256) == 64


def test_every_objection_must_be_answered(zezhou, chief, city_officer):
    a = submitted(zezhou, city_officer)
    a = services.assessment_review(
        actor=chief,
        assessment=a,
        objections=[ObjectionInput("patrols", "理由一"), ObjectionInput("overdue", "理由二")],
    )
    first = Objection.objects.get(component="patrols")
    with pytest.raises(ValidationError, match="every objection"):
        services.assessment_answer(
            actor=city_officer, assessment=a, answers=[AnswerInput(first.pk, "keep", "维持。")]
        )
    assert not ObjectionAnswer.objects.exists()


def test_only_a_city_officer_answers(zezhou, chief, city_officer, city_leader):
    a = submitted(zezhou, city_officer)
    a = services.assessment_review(
        actor=chief, assessment=a, objections=[ObjectionInput("patrols", "理由")]
    )
    objection = Objection.objects.get()
    with pytest.raises(PermissionDenied):
        services.assessment_answer(
            actor=city_leader, assessment=a, answers=[AnswerInput(objection.pk, "keep", "维持")]
        )
    assert not ObjectionAnswer.objects.exists()


@pytest.fixture
def answered(zezhou, chief, city_officer):
    a = submitted(zezhou, city_officer)
    a = services.assessment_review(
        actor=chief, assessment=a, objections=[ObjectionInput("patrols", "理由")]
    )
    objection = Objection.objects.get()
    return services.assessment_answer(
        actor=city_officer,
        assessment=a,
        answers=[AnswerInput(objection.pk, "keep", "巡河记录不在考核期内。")],
    )


def test_objections_and_answers_are_on_the_record(answered):
    objection = Objection.objects.get()
    answer = ObjectionAnswer.objects.get()
    for row in (objection, answer):
        row.reason = "改写"
        with pytest.raises(PermissionError):
            row.save()
        with pytest.raises(PermissionError):
            row.delete()
    with pytest.raises(PermissionError):
        Objection.objects.update(reason="改写")
    with pytest.raises(PermissionError):
        ObjectionAnswer.objects.all().delete()
    assert Objection.objects.get().reason == "理由"
    assert ObjectionAnswer.objects.get().reason == "巡河记录不在考核期内。"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database triggers: PostgreSQL")
def test_the_database_refuses_to_change_the_record(answered):
    from django.db import DatabaseError, transaction

    for table in ("assessments_objection", "assessments_objectionanswer"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET reason = 'x'")


def test_a_finalized_assessment_cannot_be_edited(answered, city_leader, city_officer):
    a = services.assessment_finalize(actor=city_leader, assessment=answered)
    assert a.status == S.FINALIZED
    # no service step applies any more
    with pytest.raises(ValidationError, match="finalized"):
        services.assessment_submit(actor=city_officer, assessment=a)
    with pytest.raises(ValidationError, match="finalized"):
        services.assessment_finalize(actor=city_leader, assessment=a)
    # and the model refuses a direct write
    a.score = Decimal("99")
    with pytest.raises(PermissionError):
        a.save()
    with pytest.raises(PermissionError):
        Assessment.objects.filter(pk=a.pk).update(score=Decimal("99"))
    assert Assessment.objects.get(pk=a.pk).score == Decimal("38.61")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database triggers: PostgreSQL")
def test_the_database_refuses_to_change_a_finalized_assessment(answered, city_leader):
    from django.db import DatabaseError, transaction

    services.assessment_finalize(actor=city_leader, assessment=answered)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE assessments_assessment SET score = 99 WHERE status = 'finalized'")


def test_only_a_city_leader_finalizes(answered, city_officer):
    with pytest.raises(PermissionDenied):
        services.assessment_finalize(actor=city_officer, assessment=answered)
    assert Assessment.objects.get(pk=answered.pk).status == S.AWAITING_FINAL


def test_the_bottom_ranked_county_is_proposed_for_summons(period, chief, city_officer, city_leader):
    # given every county-level assessment sent, reviewed where a chief exists, and final
    for a in period.assessments.exclude(jurisdiction__code=CITY).order_by("pk"):
        a = submitted(a, city_officer)
        if a.status == S.IN_REVIEW:
            a = services.assessment_review(actor=chief, assessment=a)
        assert a.status == S.AWAITING_FINAL
        services.assessment_finalize(actor=city_leader, assessment=a, now=at(D(2025, 4, 10)))
    # then the period is ranked, 泽州县 last
    period = AssessmentPeriod.objects.get(pk=period.pk)
    assert period.status == AssessmentPeriod.Status.RANKED
    last = period.ranking[-1]
    assert (last["name"], last["score"], last["rank"]) == ("泽州县", "38.61", 7)
    assert {row["rank"] for row in period.ranking[:-1]} == {1}
    # and 泽州县's April summons proposal (the sweep of 20 April made it for D) lists every
    # case overdue at the period's end
    proposal = SummonsProposal.objects.get(jurisdiction__code=ZEZHOU, month=D(2025, 4, 1))
    assert list(period.summons_proposals.all()) == [proposal]
    assert proposal.items.count() == 7
    assert AssessmentEvent.objects.filter(kind="summons_proposed").count() == 1


def test_ranking_twice_changes_nothing(period, city_officer, city_leader, chief):
    for a in period.assessments.exclude(jurisdiction__code=CITY):
        a = submitted(a, city_officer)
        if a.status == S.IN_REVIEW:
            a = services.assessment_review(actor=chief, assessment=a)
        services.assessment_finalize(actor=city_leader, assessment=a, now=at(D(2025, 4, 10)))
    before = AssessmentPeriod.objects.get(pk=period.pk).ranking
    services.period_rank(period=period, now=at(D(2025, 5, 10)))
    assert AssessmentPeriod.objects.get(pk=period.pk).ranking == before
    assert SummonsProposal.objects.filter(month__gte=D(2025, 4, 1)).count() == 1
