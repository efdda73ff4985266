"""Numbering: gapless per (authority, kind, year), 晋市环约〔2024〕3号, corrections supersede."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from documents import registry, services
from documents.models import DocumentSeries, IssuedDocument

pytestmark = pytest.mark.django_db

CST = ZoneInfo("Asia/Shanghai")
MARCH_2024 = dt.datetime(2024, 3, 5, 10, 0, tzinfo=CST)
JANUARY_2025 = dt.datetime(2025, 1, 2, 9, 0, tzinfo=CST)


def _issue(proposal, now=MARCH_2024, **kwargs):
    return services.document_issue(
        actor=None, doctype="summons_notice", subject=proposal, now=now, **kwargs
    )


def test_numbers_are_consecutive_and_formatted_without_zeros_or_di(summons):
    # when three notices are issued in 2024
    documents = [_issue(summons) for _ in range(3)]
    # then they are numbered 1, 2, 3 of the 晋市环约 series of 2024
    assert [d.number for d in documents] == [
        "晋市环约〔2024〕1号",
        "晋市环约〔2024〕2号",
        "晋市环约〔2024〕3号",
    ]
    assert [(d.authority, d.kind, d.year, d.serial) for d in documents] == [
        ("晋市环", "约", 2024, n) for n in (1, 2, 3)
    ]


def test_each_kind_has_its_own_series(summons):
    # given two summons notices
    _issue(summons)
    _issue(summons)
    # when minutes are issued
    minutes = services.document_issue(
        actor=None, doctype="summons_minutes", subject=summons, now=MARCH_2024
    )
    # then they start their own series at 1
    assert minutes.number == "晋市环纪〔2024〕1号"


def test_a_new_year_restarts_at_one(summons):
    # given two notices in 2024
    _issue(summons)
    _issue(summons)
    # when one is issued on 2 January 2025
    first_of_2025 = _issue(summons, now=JANUARY_2025)
    # then it is number 1 of 2025, and 2024 continues where it stopped
    assert first_of_2025.number == "晋市环约〔2025〕1号"
    assert _issue(summons).number == "晋市环约〔2024〕3号"


def test_the_year_is_that_of_the_local_date(summons):
    # 2024-12-31 17:00 UTC is already 2025-01-01 01:00 in Asia/Shanghai
    now = dt.datetime(2024, 12, 31, 17, 0, tzinfo=dt.UTC)
    assert _issue(summons, now=now).number == "晋市环约〔2025〕1号"


def test_the_series_is_editable_data(summons):
    # given an administrator changed the kind character of summons notices
    DocumentSeries.objects.filter(doctype="summons_notice").update(kind="谈")
    # when a notice is issued
    document = _issue(summons)
    # then the number uses the edited series
    assert document.number == "晋市环谈〔2024〕1号"


def test_a_rolled_back_issue_gives_its_number_back(summons):
    # given an issue whose transaction fails after numbering (here: in the type's callback)
    def failing(document, subject):
        raise RuntimeError("timeline unavailable")

    doctype = registry.get("summons_notice")
    broken = registry.DocumentType(
        **{**doctype.__dict__, "code": "summons_notice_broken", "on_issued": failing}
    )
    DocumentSeries.objects.create(
        doctype=broken.code,
        authority=DocumentSeries.objects.get(doctype="summons_notice").authority,
        kind="约",
    )
    with pytest.raises(RuntimeError, match="timeline"):
        services.document_issue(actor=None, doctype=broken, subject=summons, now=MARCH_2024)
    # when the next notice of the series is issued
    document = _issue(summons)
    # then it takes number 1: no gap, nothing was written by the failed issue
    assert document.number == "晋市环约〔2024〕1号"
    assert IssuedDocument.objects.count() == 1


def test_a_correction_takes_a_new_number_and_supersedes_the_old_one(summons, issue):
    # given an issued notice
    old = issue(actor=None, doctype="summons_notice", subject=summons, now=MARCH_2024)
    # when a correction is issued
    new = issue(
        actor=None,
        doctype="summons_notice",
        subject=summons,
        supersedes=old,
        now=MARCH_2024,
        context_extra={"place": "晋城市生态环境局五楼会议室"},
    )
    # then it has the next number, points to the old one, which stays as it was
    assert new.number == "晋市环约〔2024〕2号"
    assert new.supersedes_id == old.pk
    old_again = IssuedDocument.objects.get(pk=old.pk)
    assert old_again.number == "晋市环约〔2024〕1号"
    assert old_again.sha256 == old.sha256
    assert old_again.superseded_by == new
    assert old_again.is_superseded
    assert new.context["supersedes_number"] == "晋市环约〔2024〕1号"
    # and the old number is never given again
    assert _issue(summons).number == "晋市环约〔2024〕3号"


def test_a_document_is_superseded_at_most_once(summons, issue):
    # given a notice already corrected once
    old = issue(actor=None, doctype="summons_notice", subject=summons, now=MARCH_2024)
    issue(
        actor=None,
        doctype="summons_notice",
        subject=summons,
        supersedes=old,
        now=MARCH_2024,
    )
    # when it is corrected again
    with pytest.raises(ValidationError, match="已被更正替代"), transaction.atomic():
        _issue(summons, supersedes=old)
    # then nothing more was written
    assert IssuedDocument.objects.count() == 2


def test_a_correction_must_be_of_the_same_type_and_subject(summons, issue):
    old = issue(actor=None, doctype="summons_notice", subject=summons, now=MARCH_2024)
    with pytest.raises(ValidationError, match="类型相同"):
        services.document_issue(
            actor=None,
            doctype="summons_minutes",
            subject=summons,
            supersedes=old,
            now=MARCH_2024,
        )
    assert IssuedDocument.objects.count() == 1


def test_a_document_being_rendered_cannot_be_superseded(summons):
    # given a numbered notice whose PDF is not rendered yet (no after-commit run)
    pending = _issue(summons)
    assert pending.status == IssuedDocument.Status.RENDERING
    with pytest.raises(ValidationError, match="只有已印发"):
        _issue(summons, supersedes=pending)


def test_the_context_is_built_in_chinese_whatever_the_active_language(summons, county_officer):
    from django.utils import translation

    from cases import factories
    from workflows.models import Deadline, Stage, SummonsProposalItem

    # given a summons proposal listing an overdue case (its survey deadline)
    outfall = factories.register(actor=county_officer)
    deadline = Deadline.objects.get(outfall=outfall, stage=Stage.SURVEY_TRACING)
    SummonsProposalItem.objects.create(
        proposal=summons.summons_proposal, deadline=deadline, outfall=outfall, days_overdue=31
    )
    # when the notice is issued from English (a worker, a command)
    with translation.override("en"):
        document = services.document_issue(
            actor=None, doctype="summons_notice", subject=summons, now=MARCH_2024
        )
    # then the case rows carry the Chinese labels
    with translation.override("zh-hans"):
        chinese = str(Stage.SURVEY_TRACING.label)
    assert chinese != "Survey and tracing"
    assert [row["stage"] for row in document.context["cases"]] == [chinese]
