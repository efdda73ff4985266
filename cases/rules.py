"""Disposition rules (DOMAIN.md §4, rules 1-8): one small function per rule, one registry.

Each rule looks at an outfall as it would be classified (category, subtype, disposition and
survey facts) and returns a `RuleResult`: pass, fail or warning with its explanation, or
None when it does not apply. A failed rule blocks classification unless a city leader
approved an override with a recorded reason (the plan forbids "一刀切" for historical cases).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .choices import Disposition, EvidenceKind, State

PASS, FAIL, WARNING = "pass", "fail", "warning"


@dataclass(frozen=True)
class RuleResult:
    rule: str
    title: str
    status: str
    explanation: str

    @property
    def failed(self) -> bool:
        return self.status == FAIL


Rule = Callable[[object], "RuleResult | None"]
RULES: dict[str, tuple[str, Rule]] = {}


def rule(code: str, title) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[code] = (title, fn)
        fn.code = code  # type: ignore[attr-defined]
        fn.title = title  # type: ignore[attr-defined]
        return fn

    return register


def _result(fn, status: str, explanation) -> RuleResult:
    return RuleResult(fn.code, str(fn.title), status, str(explanation))


def _subtype(outfall) -> str | None:
    return outfall.subtype.code if outfall.subtype_id else None


def _category(outfall) -> str | None:
    return outfall.category.code if outfall.category_id else None


def _active_outfalls():
    from .models import Outfall

    return Outfall.objects.exclude(state=State.CLOSED)


@rule("protected_area", _("Rule 1: special protection areas"))
def protected_area(outfall):
    if not outfall.in_protected_area:
        return None
    if outfall.disposition == Disposition.BAN:
        return _result(protected_area, PASS, _("Inside a special protection area: banned."))
    return _result(
        protected_area,
        FAIL,
        _(
            "Inside a drinking-water source, key spring-area, nature-reserve, ecological red-line, "
            "basic-farmland or other special protection area the outfall must be banned (取缔). "
            "A historical case may deviate only with a recorded reason and city approval."
        ),
    )


@rule("stormwater", _("Rule 2: urban stormwater outlets"))
def stormwater(outfall):
    if _category(outfall) != "YH":
        return None
    if outfall.disposition in {Disposition.MERGE, Disposition.BAN}:
        return _result(
            stormwater,
            FAIL,
            _(
                "An urban stormwater outlet must never be merged or sealed (严禁合并、封堵): it is "
                "needed for flood drainage."
            ),
        )
    if outfall.is_discharging and outfall.discharge_pattern != "rain_only":
        return _result(
            stormwater,
            WARNING,
            _(
                "Dry-weather discharge from a stormwater outlet: trace the misconnected sewage "
                "upstream and fix it at the source."
            ),
        )
    return _result(stormwater, PASS, _("Stormwater outlet kept open for drainage."))


@rule("urban_scattered", _("Rule 3: scattered urban sewage inside the sewer network"))
def urban_scattered(outfall):
    if _subtype(outfall) != "qt_urban_scattered" or not outfall.in_sewer_coverage:
        return None
    if outfall.disposition != Disposition.MERGE:
        return _result(
            urban_scattered,
            FAIL,
            _(
                "Scattered urban sewage inside sewer-network coverage must be merged into the "
                "network (清理合并), led by the housing department (住建)."
            ),
        )
    lead = outfall.lead_department
    if lead is not None and lead.kind != "housing":
        return _result(
            urban_scattered,
            WARNING,
            _("The lead department for merging into the sewer network should be housing (住建)."),
        )
    return _result(urban_scattered, PASS, _("Merged into the sewer network."))


@rule("storm_gate", _("Rule 4: enterprise stormwater and inflow overflow outlets"))
def storm_gate(outfall):
    if _subtype(outfall) != "gy_enterprise_storm" and not outfall.is_inflow_overflow:
        return None
    needed = {EvidenceKind.GATE_VALVE, EvidenceKind.VIDEO_MONITORING, EvidenceKind.FILING}
    on_file = set(outfall.evidence.values_list("kind", flat=True)) if outfall.pk else set()
    missing = needed - on_file
    explanation = _(
        "Needs a gate valve (open in flood season only), video monitoring and filing with the "
        "county ecology bureau before it is retained."
    )
    if not missing:
        return _result(storm_gate, PASS, explanation)
    if outfall.disposition == Disposition.KEEP:
        return _result(
            storm_gate,
            FAIL,
            _(
                "Cannot be kept as already compliant without the gate valve, video monitoring and "
                "filing on file."
            ),
        )
    return _result(storm_gate, WARNING, explanation)


@rule("enterprise_outfalls", _("Rule 5: enterprise outfalls in and outside parks"))
def enterprise_outfalls(outfall):
    subtype = _subtype(outfall)
    if subtype not in {"gy_enterprise", "gy_enterprise_storm"}:
        return None
    closing = {Disposition.MERGE, Disposition.BAN}
    if outfall.in_industrial_park:
        if outfall.disposition in closing:
            return _result(enterprise_outfalls, PASS, _("Merged into the park's outfalls."))
        return _result(
            enterprise_outfalls,
            FAIL,
            _(
                "Inside an industrial park or development zone the park keeps one sewage and one "
                "stormwater outfall; enterprise outfalls merge into them."
            ),
        )
    primary = outfall.entity_links.filter(is_primary=True).first() if outfall.pk else None
    if primary is None or outfall.disposition in closing:
        return _result(
            enterprise_outfalls,
            PASS,
            _("At most one sewage and one stormwater outfall per enterprise."),
        )
    storm = subtype == "gy_enterprise_storm"
    siblings = (
        _active_outfalls()
        .filter(
            entity_links__entity_id=primary.entity_id,
            entity_links__is_primary=True,
            subtype__is_stormwater=storm,
            subtype__category__code="GY",
        )
        .exclude(pk=outfall.pk)
        .exclude(disposition__in=list(closing))
    )
    has_approval = outfall.evidence.filter(kind=EvidenceKind.SETTING_APPROVAL).exists()
    if siblings.exists() and not has_approval:
        return _result(
            enterprise_outfalls,
            FAIL,
            _(
                "Outside parks an enterprise keeps at most one sewage and one stormwater outfall; "
                "this one must merge, or stay only with a setting approval (设置审核) on file."
            ),
        )
    return _result(
        enterprise_outfalls,
        PASS,
        _("At most one sewage and one stormwater outfall per enterprise."),
    )


RURAL_THRESHOLD = 500  # m³/d, seed 三(七)


@rule("rural_sewage", _("Rule 6: rural domestic sewage"))
def rural_sewage(outfall):
    if _subtype(outfall) != "qt_rural_scattered":
        return None
    if outfall.daily_volume is None:
        return _result(
            rural_sewage,
            WARNING,
            _(
                "Record the daily volume: below 500 m³/d the sewage is collected by tanker, from "
                "500 m³/d a central facility with one outfall is built."
            ),
        )
    if outfall.daily_volume < RURAL_THRESHOLD:
        if outfall.disposition == Disposition.BAN:
            return _result(
                rural_sewage, PASS, _("Below 500 m³/d: tanker collection, outlet cleared.")
            )
        return _result(
            rural_sewage,
            FAIL,
            _(
                "Below 500 m³/d rural sewage is collected by tanker and the outlet is cleared (取缔)."
            ),
        )
    if outfall.disposition == Disposition.MERGE:
        return _result(rural_sewage, PASS, _("From 500 m³/d: merged into one central facility."))
    return _result(
        rural_sewage,
        FAIL,
        _(
            "From 500 m³/d rural sewage goes to one central facility with one outfall; merge this "
            "outlet into it."
        ),
    )


@rule("aquaculture_cluster", _("Rule 7: clustered small aquaculture outlets"))
def aquaculture_cluster(outfall):
    if _subtype(outfall) != "qt_small_aquaculture" or not outfall.village:
        return None
    cluster = (
        _active_outfalls()
        .filter(
            jurisdiction_id=outfall.jurisdiction_id,
            town=outfall.town,
            village=outfall.village,
            subtype__code="qt_small_aquaculture",
        )
        .exclude(pk=outfall.pk)
    )
    if not cluster.exists() or outfall.disposition in {Disposition.MERGE, Disposition.BAN}:
        return _result(aquaculture_cluster, PASS, _("Not part of an unmerged cluster."))
    is_target = outfall.pk and cluster.filter(merge_target_id=outfall.pk).exists()
    if is_target:
        return _result(aquaculture_cluster, PASS, _("The cluster's unified outfall."))
    return _result(
        aquaculture_cluster,
        FAIL,
        _(
            "Clustered small aquaculture outlets collect and discharge through one unified outfall: "
            "merge this one, or make it the cluster's target."
        ),
    )


@rule("new_outfall", _("Rule 8: new, changed or enlarged outfalls"))
def new_outfall(outfall):
    if not outfall.is_new_or_changed or not outfall.subtype_id:
        return None
    is_sh = _category(outfall) == "SH"
    if not outfall.water_body.meets_target and not is_sh:
        return _result(
            new_outfall,
            FAIL,
            _(
                "The receiving water misses its quality target: no new, changed or enlarged outfall "
                "except an urban sewage plant's."
            ),
        )
    needed = (
        EvidenceKind.SETTING_APPROVAL
        if outfall.subtype.needs_setting_approval
        else EvidenceKind.REGISTRATION
    )
    if outfall.pk and outfall.evidence.filter(kind=needed).exists():
        return _result(new_outfall, PASS, _("Setting approval or registration on file."))
    if needed == EvidenceKind.SETTING_APPROVAL:
        return _result(new_outfall, WARNING, _("Needs setting approval (设置审批) before retain."))
    return _result(new_outfall, WARNING, _("Needs registration (登记) before retain."))


def evaluate(outfall) -> list[RuleResult]:
    """Run every rule; returns the results of the rules that apply, in rule order."""
    results = []
    for _code, (_title, fn) in RULES.items():
        result = fn(outfall)
        if result is not None:
            results.append(result)
    return results


def failed_rules(outfall) -> list[RuleResult]:
    return [r for r in evaluate(outfall) if r.failed]


__all__ = ["FAIL", "PASS", "RULES", "WARNING", "RuleResult", "evaluate", "failed_rules"]
