"""Official documents of the supervision ladder and the summons/accountability processes.

Collected by `documents.registry.autodiscover()` (DOCUMENT_TYPES below):

- 督办通知书 (`supervision_notice`), about a `Supervision` (ladder L2);
- 约谈通知书 (`summons_notice`) and 约谈会议纪要 (`summons_minutes`), about a `Summons`
  (the summons process, summons.py), and 问责建议函 (`accountability_letter`), about an
  `Accountability`. A builder needs `subject.jurisdiction` (the county) and the listed
  cases (`subject_cases`: the summons' L3 proposal items and its hand-picked cases);
  everything a process collects (time, place, attendees, facts, ...) comes in
  `context_extra` — see each builder's docstring for its keys.

Every document is put on the timeline of each case it lists (`cases.services.
outfall_document_recorded`). Users issuing one need a city-level role over the county;
the processes issue as the system (`actor=None`) once the city leader has approved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext_lazy

from base.models import Jurisdiction, Role
from base.security import holds_role_over
from cases import services as case_services
from cases.models import Outfall
from documents.registry import DocumentType
from documents.services import chinese_date

from .models import Deadline, Stage, SummonsProposal, Supervision

PLAN = "《晋城市入河排污口排查整治工作方案》（晋市政办〔2023〕11号）"
CITY_BUREAU = "晋城市生态环境局"
DEFAULT_RECEIVING_BODY = "中共晋城市纪律检查委员会、晋城市监察委员会"
CITY_ROLES = frozenset({Role.CITY_OFFICER, Role.CITY_LEADER})


# --- helpers -------------------------------------------------------------------------------


def government_of(jurisdiction: Jurisdiction) -> str:
    """The county-level government summoned or supervised (泽州县人民政府, …管理委员会)."""
    if jurisdiction.kind == Jurisdiction.Kind.DEV_ZONE:
        return f"{jurisdiction.name}管理委员会"
    return f"{jurisdiction.name}人民政府"


def you(jurisdiction: Jurisdiction) -> str:
    """How a notice addresses the county: 你县 / 你区 / 你市."""
    if jurisdiction.kind == Jurisdiction.Kind.COUNTY:
        return "你县"
    if jurisdiction.kind == Jurisdiction.Kind.COUNTY_CITY:
        return "你市"
    return "你区"


def text(value: Any) -> str:
    """User input as printed text: dates in Arabic numerals (2024年3月5日), the rest str()."""
    if isinstance(value, dt.datetime):
        return f"{chinese_date(value.date())}{value:%H:%M}"
    if isinstance(value, dt.date):
        return chinese_date(value)
    return "" if value is None else str(value).strip()


def lines(value: Any) -> list[str]:
    """A list of printed items from a list, or from text with one item per line."""
    if value is None:
        return []
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    return [text(v) for v in value if text(v)]


def _case_row(outfall: Outfall | None, stage: str, due_on: dt.date, days: int) -> dict:
    return {
        "code": (outfall.code or "") if outfall else "",
        "name": (outfall.name or str(outfall)) if outfall else "",
        "stage": str(Stage(stage).label) if stage in Stage.values else stage,
        "due": chinese_date(due_on),
        "days_overdue": days,
        "outfall_id": outfall.pk if outfall else None,
    }


def subject_cases(subject, today: dt.date) -> list[dict]:
    """The overdue cases a summons or supervision is about, as printed rows."""
    if isinstance(subject, Supervision):
        deadline = subject.deadline
        return [
            _case_row(
                subject.outfall, deadline.stage, deadline.due_on, (today - deadline.due_on).days
            )
        ]
    if isinstance(subject, SummonsProposal):
        items = subject.items.select_related("outfall", "deadline").order_by("-days_overdue", "id")
        return [
            _case_row(i.outfall, i.deadline.stage, i.deadline.due_on, i.days_overdue) for i in items
        ]
    return list(getattr(subject, "document_cases", lambda today: [])(today))


def summons_case_rows(summons, today: dt.date) -> list[dict]:
    """The cases of a summons as printed rows: its proposal's overdue items first, then
    the cases picked by hand (with their most overdue live deadline, if any)."""
    rows = subject_cases(summons.summons_proposal, today) if summons.summons_proposal_id else []
    listed = {row["outfall_id"] for row in rows}
    for outfall in summons.outfalls.order_by("pk"):
        if outfall.pk in listed:
            continue
        deadline = (
            Deadline.objects.filter(outfall=outfall, status__in=("open", "missed"))
            .order_by("due_on")
            .first()
        )
        if deadline is not None:
            rows.append(
                _case_row(
                    outfall, deadline.stage, deadline.due_on, max(0, (today - deadline.due_on).days)
                )
            )
        else:
            rows.append(
                {
                    "code": outfall.code or "",
                    "name": outfall.name or str(outfall),
                    "stage": "",
                    "due": "",
                    "days_overdue": 0,
                    "outfall_id": outfall.pk,
                }
            )
    return rows


def _summons_url(subject_id) -> str | None:
    from django.urls import reverse

    return reverse("workflows:summons:detail", args=[subject_id])


def _accountability_url(subject_id) -> str | None:
    from django.urls import reverse

    return reverse("workflows:accountability:detail", args=[subject_id])


def _common(subject, extra: Mapping[str, Any]) -> dict[str, Any]:
    county = subject.jurisdiction
    today = extra["issued_on"]
    return {
        "county": county.name,
        "government": text(extra.get("summoned_unit")) or government_of(county),
        "you": you(county),
        "as_of": chinese_date(today),
        "cases": subject_cases(subject, today),
        "contact": text(extra.get("contact")),
        "cc": text(extra.get("cc")),
    }


def may_issue_city_document(user, subject) -> bool:
    return user.is_superuser or holds_role_over(user, CITY_ROLES, subject.jurisdiction)


def record_on_case_timelines(document, subject) -> None:
    """Put the document on the timeline of every case it lists."""
    ids = [row["outfall_id"] for row in document.context.get("cases", []) if row["outfall_id"]]
    for outfall in Outfall.objects.filter(pk__in=ids).order_by("pk"):
        case_services.outfall_document_recorded(
            outfall=outfall,
            document_number=document.number,
            title=document.title,
            actor=document.issuer,
            now=document.issued_at,
        )


def section(heading: str, text: str = "", paragraphs=(), numbering: str = "") -> dict:
    """A first-level section (一、heading), its inline text and its paragraphs, numbered
    （一） ("paren"), 1. ("arabic") or not at all."""
    if text and text[-1] not in "。；！？：）":
        text += "。"
    return {
        "heading": heading,
        "text": text,
        "paragraphs": list(paragraphs),
        "numbering": numbering,
    }


def sections(*candidates: dict) -> list[dict]:
    """The non-empty sections, in order (the template numbers them 一、二、…)."""
    return [c for c in candidates if c["text"] or c["paragraphs"]]


def _max_days(cases: Iterable[dict]) -> int:
    return max((c["days_overdue"] for c in cases), default=0)


# --- 督办通知书 ------------------------------------------------------------------------------


def supervision_notice_context(subject: Supervision, extra: Mapping[str, Any]) -> dict[str, Any]:
    """督办通知书. Optional `extra`: rectify_by (date), report_within_days (int),
    requirements (list or lines), contact, cc."""
    context = _common(subject, extra)
    case = context["cases"][0]
    rectify_by = text(extra.get("rectify_by"))
    report_days = int(extra.get("report_within_days") or 5)
    name = case["name"].removeprefix(context["county"])  # "你县" already names the county
    place = f"{name}（编码{case['code']}）" if case["code"] else name
    context.update(
        title=f"关于对{context['county']}入河排污口整治逾期问题进行督办的通知",
        facts=(
            f"经查，{context['you']}{place}“{case['stage']}”任务应于{case['due']}前完成，"
            + (
                f"截至{context['as_of']}已逾期{case['days_overdue']}天，"
                if case["days_overdue"] > 0
                else ""
            )
            + "经县级督办后仍未完成。"
        ),
        basis=f"根据{PLAN}有关规定，现对该问题实行市级挂牌督办，由{context['government']}负责组织整改。有关事项通知如下：",
        sections=sections(
            section(
                "整改时限",
                (f"请于{rectify_by}前完成整改，" if rectify_by else "请立即组织整改，")
                + f"并在整改完成后{report_days}个工作日内将整改情况书面报送我局。",
            ),
            section(
                "工作要求",
                paragraphs=lines(extra.get("requirements"))
                or [
                    "压实属地责任，由县级人民政府分管负责同志牵头，逐项明确整改责任单位、"
                    "责任人和完成时限。",
                    "整改期间加强对排污口的监测和巡查，防止污水直排入河。",
                    "逾期仍未完成整改的，我局将按程序提请市人民政府约谈。",
                ],
                numbering="paren",
            ),
        ),
    )
    return context


# --- 约谈通知书 ------------------------------------------------------------------------------


def summons_notice_context(subject, extra: Mapping[str, Any]) -> dict[str, Any]:
    """约谈通知书. `extra`: persons (约谈对象: who and posts), time, place, conductor (约谈人),
    purpose, cause (overrides the computed cause), materials (list or lines), contact, cc;
    all optional except time and place for a real summons."""
    context = _common(subject, extra)
    cases = context["cases"]
    cause = text(extra.get("cause"))
    if not cause and cases:
        cause = (
            f"经查，截至{context['as_of']}，{context['you']}入河排污口排查整治工作中有"
            f"{len(cases)}个排污口整治任务逾期未完成（详见附件），最长逾期"
            f"{_max_days(cases)}天，工作进展滞后。"
        )
    context.update(
        title=f"关于约谈{context['government']}的通知",
        cause=cause,
        basis=(
            f"根据{PLAN}有关规定，经研究，决定对{context['you']}进行约谈。现将有关事项通知如下："
        ),
        sections=sections(
            section(
                "约谈对象", text(extra.get("persons")) or f"{context['government']}分管负责同志"
            ),
            section("约谈时间", text(extra.get("time"))),
            section("约谈地点", text(extra.get("place"))),
            section("约谈人", text(extra.get("conductor")) or f"{CITY_BUREAU}主要负责同志"),
            section(
                "约谈事项",
                text(extra.get("purpose"))
                or "通报入河排污口排查整治工作存在的问题，听取情况说明，提出整改要求",
            ),
            section(
                "有关要求",
                paragraphs=lines(extra.get("materials"))
                or [
                    "被约谈单位应提前准备书面情况说明，包括问题成因、已采取的措施、"
                    "整改计划和完成时限，约谈时提交。",
                    "被约谈人员须准时参加，不得委托他人代为参加。",
                    "约谈情况将视情向社会公开，并可邀请媒体和公众代表列席。",
                ],
                numbering="arabic",
            ),
        ),
    )
    return context


# --- 约谈会议纪要 ----------------------------------------------------------------------------


def summons_minutes_context(subject, extra: Mapping[str, Any]) -> dict[str, Any]:
    """约谈会议纪要. `extra`: date (of the meeting), place, conductor, persons (summoned),
    problems, requirements, commitments (lists or lines), report_due (date), attendees,
    observers (出席 / 列席: lists or lines), summons_number (the notice's number)."""
    context = _common(subject, extra)
    meeting = text(extra.get("date")) or context["as_of"]
    place = text(extra.get("place"))
    conductor = text(extra.get("conductor")) or f"{CITY_BUREAU}主要负责同志"
    persons = text(extra.get("persons")) or f"{context['government']}分管负责同志"
    report_due = text(extra.get("report_due"))
    notice = text(extra.get("summons_number"))
    context.update(
        title=f"关于约谈{context['government']}的会议纪要",
        opening=(
            f"{meeting}，{conductor}{'在' + place if place else ''}主持召开约谈会，"
            f"{'依据' + notice + '约谈通知，' if notice else ''}"
            f"就入河排污口排查整治工作进展滞后问题约谈了{persons}。现将会议主要内容纪要如下："
        ),
        sections=sections(
            section("存在的问题", paragraphs=lines(extra.get("problems")), numbering="paren"),
            section("整改要求", paragraphs=lines(extra.get("requirements")), numbering="paren"),
            section("表态承诺", paragraphs=lines(extra.get("commitments"))),
        ),
        closing=(
            f"{context['government']}应于{report_due}前将整改落实情况书面报送{CITY_BUREAU}。"
            if report_due
            else f"{context['government']}应于约谈后30日内将整改落实情况书面报送{CITY_BUREAU}。"
        ),
        attendees=lines(extra.get("attendees")),
        observers=lines(extra.get("observers")),
    )
    return context


# --- 问责建议函 ------------------------------------------------------------------------------


def accountability_letter_context(subject, extra: Mapping[str, Any]) -> dict[str, Any]:
    """问责建议函 (letter format). `extra`: receiving_body, facts, duty (the duty breached),
    evidence (list or lines), officials (list of {"name", "post"} or lines), handling (the
    proposed forms, DOMAIN.md §7), contact."""
    context = _common(subject, extra)
    officials = []
    for official in extra.get("officials") or []:
        if isinstance(official, Mapping):
            officials.append(f"{text(official.get('name'))}（{text(official.get('post'))}）")
        elif text(official):
            officials.append(text(official))
    context.update(
        title=f"关于建议对{context['county']}有关责任人员进行问责的函",
        receiving_body=text(extra.get("receiving_body")) or DEFAULT_RECEIVING_BODY,
        opening=(
            f"{context['county']}入河排污口排查整治工作长期滞后，经市级督办、约谈后仍整改不力。"
            f"根据{PLAN}和有关规定，现将有关情况函告如下，建议依规依纪依法进行问责。"
        ),
        sections=sections(
            section("基本事实", paragraphs=lines(extra.get("facts"))),
            section("违反的职责", paragraphs=lines(extra.get("duty"))),
            section("有关证据", paragraphs=lines(extra.get("evidence")), numbering="arabic"),
            section("有关责任人员", paragraphs=["；".join(officials) + "。"] if officials else []),
            section("问责建议", paragraphs=lines(extra.get("handling"))),
        ),
    )
    return context


DOCUMENT_TYPES = [
    DocumentType(
        code="supervision_notice",
        name="督办通知书",
        label=gettext_lazy("Supervision notice"),
        subject_model="workflows.supervision",
        authority="jincheng_eeb",
        kind="督",
        build_context=supervision_notice_context,
        may_issue=may_issue_city_document,
        on_issued=record_on_case_timelines,
    ),
    DocumentType(
        code="summons_notice",
        name="约谈通知书",
        label=gettext_lazy("Summons notice"),
        subject_model="workflows.summons",
        authority="jincheng_eeb",
        kind="约",
        build_context=summons_notice_context,
        may_issue=may_issue_city_document,
        on_issued=record_on_case_timelines,
        subject_url=_summons_url,
    ),
    DocumentType(
        code="summons_minutes",
        name="约谈会议纪要",
        label=gettext_lazy("Summons minutes"),
        subject_model="workflows.summons",
        authority="jincheng_eeb",
        kind="纪",
        build_context=summons_minutes_context,
        may_issue=may_issue_city_document,
        on_issued=record_on_case_timelines,
        subject_url=_summons_url,
    ),
    DocumentType(
        code="accountability_letter",
        name="问责建议函",
        label=gettext_lazy("Accountability referral letter"),
        subject_model="workflows.accountability",
        authority="jincheng_eeb",
        kind="函",
        build_context=accountability_letter_context,
        may_issue=may_issue_city_document,
        on_issued=record_on_case_timelines,
        subject_url=_accountability_url,
    ),
]
