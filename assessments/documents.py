"""The assessment report (河长制考核入河排污口项目考核结果通报), an official document.

Collected by `documents.registry.autodiscover()` (DOCUMENT_TYPES below) and issued by
`services.assessment_finalize` through `documents.services.document_issue`: numbered in the
city bureau's 考 series (晋市环考〔2024〕1号), rendered from the JSON snapshot built here in
GB/T 9704 layout (templates/documents/assessment_report.html) with a chart of the components
and a table of the items. Who may see and download it follows the assessment's record rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy

from base.models import Jurisdiction, Role
from base.security import holds_role_over
from documents.registry import DocumentType
from documents.services import chinese_date
from workflows.documents import PLAN, government_of, you
from workflows.models import EscalationLevel

from .formula import dec
from .models import Assessment, ObjectionAnswer
from .security import assessment_scope

NUMBER_LABELS_ZH = {
    "registered": "已排查登记",
    "voided": "已注销",
    "traced": "已溯源",
    "untraced": "未溯源",
    "on_time": "按期完成",
    "late": "逾期完成",
    "overdue": "逾期未完成",
    "not_due": "未到期",
    "none": "逾期未升级",
    "total": "逾期合计",
    "proposed": "约谈建议",
    "rectified": "已整改",
    "unrectified": "未整改",
    "required": "应巡河次数",
    "credited": "达标次数",
    "done": "实际巡河次数",
    "missing": "欠缺次数",
    "reopened": "反弹复发",
}


def _number_label(key: str, ladder: Mapping[str, str]) -> str:
    if key in ladder:
        return f"{key}{ladder[key]}"
    return NUMBER_LABELS_ZH.get(key, key)


def _join(keys, ladder) -> str:
    return "＋".join(_number_label(k, ladder) for k in keys)


def how_zh(component: Mapping[str, Any], ladder: Mapping[str, str]) -> str:
    """How a component's points were computed, in Chinese (for the report)."""
    weight = dec(component["weight"])
    if component["method"] == "ratio":
        if component.get("empty"):
            text = f"无应计数量（{_join(component['denominator_keys'], ladder)}为0），按满分计"
            if dec(component["points"]) == 0:
                text = f"无应计数量（{_join(component['denominator_keys'], ladder)}为0），按0分计"
        else:
            text = (
                f"{_join(component['numerator_keys'], ladder)}{component['numerator']}"
                f"÷（{_join(component['denominator_keys'], ladder)}）{component['denominator']}"
                f"={component['rate']}%，{weight:g}分×完成率"
            )
            if dec(component["full_at"]) != 1 or dec(component["zero_at"]) != 0:
                text += (
                    f"（{dec(component['zero_at']) * 100:g}%及以下0分，"
                    f"{dec(component['full_at']) * 100:g}%及以上满分）"
                )
    else:
        parts = [
            f"{_number_label(item['key'], ladder)}{item['count']}个×{dec(item['each']):g}分"
            for item in component["items"]
            if item["count"]
        ]
        text = (
            f"{weight:g}分扣减：" + "、".join(parts) + f"，共扣{dec(component['deduction']):g}分"
            if parts
            else f"无扣分情形，得{weight:g}分"
        )
    if component.get("adjusted"):
        text += f"；经异议复核，由{component['computed_points']}分调整为{component['points']}分"
    return text


def _chart(components) -> dict[str, Any]:
    """Bars of points against weight, laid out for the report's inline SVG."""
    row, top, label_w, bar_w = 26, 8, 150, 260
    bars = []
    for i, c in enumerate(components):
        weight, points = dec(c["weight"]), dec(c["points"])
        share = points / weight if weight else 0
        bars.append(
            {
                "label": c["label"],
                "y": top + i * row,
                "text_y": top + i * row + 14,
                "full": bar_w,
                "width": round(float(share) * bar_w, 1),
                "value": f"{points:g}/{weight:g}",
                "low": share < dec("0.6"),
            }
        )
    return {
        "bars": bars,
        "height": top * 2 + row * len(components),
        "label_w": label_w,
        "bar_x": label_w + 8,
        "value_x": label_w + 8 + bar_w + 8,
    }


def assessment_report_context(subject: Assessment, extra: Mapping[str, Any]) -> dict[str, Any]:
    assessment = Assessment.objects.select_related(
        "period", "jurisdiction", "formula", "reviewed_by"
    ).get(pk=subject.pk)
    jurisdiction = assessment.jurisdiction
    period = assessment.period
    is_city = jurisdiction.kind == Jurisdiction.Kind.CITY
    ladder = dict(EscalationLevel.objects.values_list("code", "name"))
    components = assessment.components
    items = [
        {
            "label": c["label"],
            "weight": f"{dec(c['weight']):g}",
            "how": how_zh(c, ladder),
            "points": c["points"],
        }
        for c in components
    ]
    answers = {
        a.objection_id: a for a in ObjectionAnswer.objects.filter(objection__assessment=assessment)
    }
    labels = {c["code"]: c["label"] for c in components}
    objections = []
    for o in assessment.objections.order_by("pk"):
        answer = answers.get(o.pk)
        objections.append(
            {
                "item": labels.get(o.component, o.component),
                "reason": o.reason,
                "answer": (
                    ("调整：" if answer.decision == ObjectionAnswer.Decision.ADJUST else "维持：")
                    + answer.reason
                    + (
                        f"（{answer.points_before}分→{answer.points_after}分）"
                        if answer.decision == ObjectionAnswer.Decision.ADJUST
                        else ""
                    )
                )
                if answer
                else "",
            }
        )
    reviewer = assessment.reviewed_by
    if reviewer is not None:
        review = f"考核结果经{reviewer.get_full_name()}河长审核，" + (
            f"对{len(objections)}项提出异议，已逐项答复。" if objections else "无异议。"
        )
    else:
        review = "该辖区考核期内无河长任职，未经河长审核。"
    recipient = "晋城市河长制办公室" if is_city else government_of(jurisdiction)
    addressed = "全市" if is_city else you(jurisdiction)
    grade = assessment.grade_label
    demand = {
        "excellent": "望继续保持，巩固整治成果。",
        "good": "望对照扣分项目查找不足，持续改进。",
        "pass": "望对照扣分项目逐项整改，加快工作进度。",
    }.get(assessment.grade, "考核等次为不合格，请于收到本通报之日起30日内将整改情况书面报送我局。")
    return {
        "title": f"关于{period.label}{jurisdiction.name}河长制考核入河排污口项目考核结果的通报",
        "recipient": recipient,
        "opening": (
            f"根据{PLAN}关于将入河排污口整治和监督管理情况纳入河长制工作考核的要求，"
            f"我局对{addressed}{period.label}入河排污口排查整治和监督管理工作进行了考核"
            f"（数据截至{chinese_date(period.ends_on)}）。{review}现将考核结果通报如下："
        ),
        "jurisdiction": jurisdiction.name,
        "period": period.label,
        "score": str(assessment.score),
        "computed_score": str(assessment.computed_score),
        "grade": grade,
        "formula": f"{assessment.formula.name}（第{assessment.formula.version}版）",
        "items": items,
        "chart": _chart(components),
        "objections": objections,
        "demand": demand,
    }


def may_issue_report(user, assessment: Assessment) -> bool:
    return user.is_superuser or holds_role_over(user, {Role.CITY_LEADER}, assessment.jurisdiction)


def assessment_url(assessment_id: int) -> str:
    return reverse("assessments:assessments:detail", args=[assessment_id])


DOCUMENT_TYPES = [
    DocumentType(
        code="assessment_report",
        name="河长制考核结果通报",
        label=gettext_lazy("River-chief assessment report"),
        subject_model="assessments.assessment",
        authority="jincheng_eeb",
        kind="考",
        build_context=assessment_report_context,
        scope=assessment_scope,
        may_issue=may_issue_report,
        subject_url=assessment_url,
    ),
]
