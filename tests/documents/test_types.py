"""The registered types render through the real services, with what each must print."""

import datetime as dt

import pytest
from django.utils import timezone

from cases import factories
from cases.models import OutfallEvent
from documents.models import IssuedDocument
from workflows.models import Deadline, Stage, SummonsProposalItem, Supervision

from .pdfcheck import lines, open_pdf, text

pytestmark = pytest.mark.django_db


def _printed(document) -> str:
    assert document.status == IssuedDocument.Status.ISSUED, document.render_error
    with document.file.open("rb") as fh, open_pdf(fh.read()) as pdf:
        return "\n".join(text(r) for page in pdf.pages for r in lines(page))


@pytest.fixture
def overdue_outfall(county_officer):
    return factories.register(actor=county_officer)


@pytest.fixture
def supervision(overdue_outfall):
    deadline = Deadline.objects.get(outfall=overdue_outfall, stage=Stage.SURVEY_TRACING)
    return Supervision.objects.create(
        deadline=deadline,
        jurisdiction=overdue_outfall.jurisdiction,
        outfall=overdue_outfall,
        created_at=timezone.now(),
    )


def test_a_supervision_notice_goes_to_the_county_and_onto_the_case_timeline(
    supervision, overdue_outfall, city_officer, issue
):
    document = issue(
        actor=city_officer,
        doctype="supervision_notice",
        subject=supervision,
        context_extra={"rectify_by": dt.date(2030, 2, 28)},
    )
    printed = _printed(document)
    assert document.number.startswith("晋市环督〔")
    assert "泽州县人民政府：" in printed
    assert "请于2030年2月28日前完成整改" in printed
    event = OutfallEvent.objects.filter(outfall=overdue_outfall).order_by("-id").first()
    assert event.kind == OutfallEvent.Kind.DOCUMENT_ISSUED
    assert document.number in event.reason


def test_a_summons_notice_lists_its_cases_in_an_annex(summons, overdue_outfall, city_leader, issue):
    deadline = Deadline.objects.get(outfall=overdue_outfall, stage=Stage.SURVEY_TRACING)
    SummonsProposalItem.objects.create(
        proposal=summons.summons_proposal,
        deadline=deadline,
        outfall=overdue_outfall,
        days_overdue=40,
    )
    document = issue(
        actor=city_leader,
        doctype="summons_notice",
        subject=summons,
        context_extra={"time": "2024年3月12日上午9:00", "place": "市生态环境局三楼会议室"},
    )
    printed = _printed(document)
    for phrase in (
        "约谈时间",
        "2024年3月12日上午9:00",
        "附件",
        "逾期未完成整治任务的入河排污口清单",
    ):
        assert phrase in printed
    assert "排查溯源" in printed  # the annex row (a table cell wraps the case name)
    assert overdue_outfall.name[:8] in printed
    assert OutfallEvent.objects.filter(
        outfall=overdue_outfall, kind=OutfallEvent.Kind.DOCUMENT_ISSUED
    ).exists()


def test_minutes_list_attendance_without_a_seal(summons, city_leader, issue):
    document = issue(
        actor=city_leader,
        doctype="summons_minutes",
        subject=summons,
        context_extra={
            "date": dt.date(2024, 3, 12),
            "problems": "进度滞后\n溯源不彻底",
            "requirements": ["3月31日前完成整治"],
            "attendees": ["张伟（市生态环境局局长）"],
            "report_due": dt.date(2024, 4, 11),
        },
    )
    printed = _printed(document)
    assert document.number.startswith("晋市环纪〔")
    for phrase in (
        "约谈会议纪要",
        "（一）进度滞后",
        "（二）溯源不彻底",
        "出席：",
        "2024年4月11日前",
    ):
        assert phrase in printed
    assert "晋城市生态环境局\n" not in printed  # no 署名 (and so no seal) on minutes


def test_an_accountability_letter_uses_the_letter_format(accountability, city_leader, issue):
    document = issue(
        actor=city_leader,
        doctype="accountability_letter",
        subject=accountability,
        context_extra={
            "facts": ["约谈后仍未整改。"],
            "officials": [{"name": "李强", "post": "泽州县人民政府副县长"}],
            "handling": "建议予以诫勉。",
        },
    )
    printed = _printed(document)
    assert document.number.startswith("晋市环函〔")
    assert "中共晋城市纪律检查委员会、晋城市监察委员会：" in printed
    assert "李强（泽州县人民政府副县长）" in printed
    with document.file.open("rb") as fh, open_pdf(fh.read()) as pdf:
        first = pdf.pages[0]
        mark = [c for c in first.chars if c["size"] > 25]
        assert text(mark) == "晋城市生态环境局"  # the 函 mark: the authority's name only
        assert min(c["top"] for c in mark) == pytest.approx(30 * 72 / 25.4, abs=72 / 25.4)
        # the number flush right with the text block
        number = next(r for r in lines(first) if text(r) == document.number)
        assert number[-1]["x1"] == pytest.approx((28 + 156) * 72 / 25.4, abs=72 / 25.4)
        # no page number on page 1
        assert not [r for r in lines(first) if text(r).replace(" ", "") == "—1—"]
