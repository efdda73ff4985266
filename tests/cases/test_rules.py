"""Disposition rules (DOMAIN.md §4): one pass and one fail test per rule, and overrides."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from base.models import Department, WaterBody
from cases import factories as f
from cases import rules, services
from cases.choices import Disposition, EvidenceKind, State
from cases.models import Outfall, OutfallEvent, OverrideRequest, Subtype


def _as(outfall, subtype, disposition, **fields):
    """The outfall as it would be classified (unsaved changes), like the live form does."""
    st = Subtype.objects.select_related("category").get(code=subtype)
    outfall.category, outfall.subtype, outfall.disposition = st.category, st, disposition
    for k, v in fields.items():
        setattr(outfall, k, v)
    return outfall


def _status(outfall, rule):
    results = {r.rule: r for r in rules.evaluate(outfall)}
    return results[rule].status if rule in results else None


@pytest.mark.parametrize(
    ("rule", "subtype", "fields", "passing", "failing"),
    [
        (
            "protected_area",
            "qt_other",
            {"in_nature_reserve": True},
            Disposition.BAN,
            Disposition.STANDARDISE,
        ),
        (
            "stormwater",
            "yh_urban_storm",
            {"discharge_pattern": "rain_only"},
            Disposition.STANDARDISE,
            Disposition.MERGE,
        ),
        (
            "urban_scattered",
            "qt_urban_scattered",
            {"in_sewer_coverage": True},
            Disposition.MERGE,
            Disposition.STANDARDISE,
        ),
        (
            "enterprise_outfalls",
            "gy_enterprise",
            {"in_industrial_park": True},
            Disposition.MERGE,
            Disposition.STANDARDISE,
        ),
        (
            "rural_sewage",
            "qt_rural_scattered",
            {"daily_volume": Decimal("80")},
            Disposition.BAN,
            Disposition.STANDARDISE,
        ),
        (
            "rural_sewage",
            "qt_rural_scattered",
            {"daily_volume": Decimal("650")},
            Disposition.MERGE,
            Disposition.BAN,
        ),
    ],
)
def test_rule_pass_and_fail(zezhou_outfall, rule, subtype, fields, passing, failing):
    assert _status(_as(zezhou_outfall, subtype, passing, **fields), rule) == rules.PASS
    assert _status(_as(zezhou_outfall, subtype, failing, **fields), rule) == rules.FAIL


def test_stormwater_dry_weather_discharge_is_a_warning(zezhou_outfall):
    outfall = _as(
        zezhou_outfall,
        "yh_urban_storm",
        Disposition.STANDARDISE,
        is_discharging=True,
        discharge_pattern="continuous",
    )
    assert _status(outfall, "stormwater") == rules.WARNING


def test_urban_scattered_outside_network_does_not_apply(zezhou_outfall):
    outfall = _as(
        zezhou_outfall, "qt_urban_scattered", Disposition.STANDARDISE, in_sewer_coverage=False
    )
    assert _status(outfall, "urban_scattered") is None


def test_urban_scattered_wrong_lead_department_is_a_warning(zezhou_outfall):
    water = Department.objects.get(code="140525-water")
    outfall = _as(
        zezhou_outfall,
        "qt_urban_scattered",
        Disposition.MERGE,
        in_sewer_coverage=True,
        lead_department=water,
    )
    assert _status(outfall, "urban_scattered") == rules.WARNING


def test_storm_gate_keep_fails_without_evidence_and_passes_with_it(zezhou_outfall):
    outfall = _as(zezhou_outfall, "gy_enterprise_storm", Disposition.KEEP)
    assert _status(outfall, "storm_gate") == rules.FAIL
    f.add_evidence(
        zezhou_outfall, EvidenceKind.GATE_VALVE, EvidenceKind.VIDEO_MONITORING, EvidenceKind.FILING
    )
    assert _status(outfall, "storm_gate") == rules.PASS


def test_storm_gate_applies_to_inflow_overflow_outlets(zezhou_outfall):
    outfall = _as(
        zezhou_outfall, "sh_urban_plant", Disposition.STANDARDISE, is_inflow_overflow=True
    )
    assert _status(outfall, "storm_gate") == rules.WARNING


def test_enterprise_outside_park_second_sewage_outfall_fails_unless_approved(county_officer):
    # given an enterprise that already has a retained-track sewage outfall
    entity = f.EntityFactory()
    first = f.register(actor=county_officer)
    f.trace(first, entity=entity)
    f.classify(
        Outfall.objects.get(pk=first.pk),
        subtype="gy_enterprise",
        disposition=Disposition.STANDARDISE,
    )
    second = f.register(actor=county_officer, landmark="厂区西门")
    services.outfall_entity_link(actor=None, outfall=second, entity=entity)
    # then a second standardised sewage outfall fails, merging it passes
    assert (
        _status(_as(second, "gy_enterprise", Disposition.STANDARDISE), "enterprise_outfalls")
        == rules.FAIL
    )
    assert (
        _status(_as(second, "gy_enterprise", Disposition.MERGE), "enterprise_outfalls")
        == rules.PASS
    )
    # and a setting approval on file lets it stay
    f.add_evidence(second, EvidenceKind.SETTING_APPROVAL)
    assert (
        _status(_as(second, "gy_enterprise", Disposition.STANDARDISE), "enterprise_outfalls")
        == rules.PASS
    )
    # a stormwater outfall of the same enterprise is a different kind: allowed
    assert (
        _status(_as(second, "gy_enterprise_storm", Disposition.STANDARDISE), "enterprise_outfalls")
        == rules.PASS
    )


def test_rural_sewage_without_volume_is_a_warning(zezhou_outfall):
    outfall = _as(zezhou_outfall, "qt_rural_scattered", Disposition.BAN, daily_volume=None)
    assert _status(outfall, "rural_sewage") == rules.WARNING


def test_aquaculture_cluster_must_merge(county_officer):
    # given two small aquaculture outlets in the same village
    first = f.register(actor=county_officer, village="河头村")
    first.subtype = Subtype.objects.get(code="qt_small_aquaculture")
    Outfall.objects.filter(pk=first.pk).update(subtype=first.subtype)
    second = f.register(actor=county_officer, village="河头村", landmark="鱼塘南")
    # then keeping the second separately fails, merging it passes
    assert (
        _status(_as(second, "qt_small_aquaculture", Disposition.STANDARDISE), "aquaculture_cluster")
        == rules.FAIL
    )
    assert (
        _status(_as(second, "qt_small_aquaculture", Disposition.MERGE), "aquaculture_cluster")
        == rules.PASS
    )
    # and the cluster's target passes once the other merges into it
    Outfall.objects.filter(pk=first.pk).update(merge_target=second, disposition="merge")
    assert (
        _status(_as(second, "qt_small_aquaculture", Disposition.STANDARDISE), "aquaculture_cluster")
        == rules.PASS
    )


def test_new_outfall_on_water_missing_target_fails_except_sewage_plant(zezhou_outfall):
    WaterBody.objects.filter(pk=zezhou_outfall.water_body_id).update(meets_target=False)
    zezhou_outfall.water_body.refresh_from_db()
    outfall = _as(zezhou_outfall, "gy_enterprise", Disposition.STANDARDISE, is_new_or_changed=True)
    assert _status(outfall, "new_outfall") == rules.FAIL
    outfall = _as(zezhou_outfall, "sh_urban_plant", Disposition.STANDARDISE, is_new_or_changed=True)
    assert _status(outfall, "new_outfall") == rules.WARNING  # allowed, needs approval


def test_new_outfall_passes_with_setting_approval_or_registration(zezhou_outfall):
    outfall = _as(zezhou_outfall, "gy_enterprise", Disposition.STANDARDISE, is_new_or_changed=True)
    assert _status(outfall, "new_outfall") == rules.WARNING
    f.add_evidence(zezhou_outfall, EvidenceKind.SETTING_APPROVAL)
    assert _status(outfall, "new_outfall") == rules.PASS
    outfall = _as(zezhou_outfall, "ny_livestock", Disposition.STANDARDISE, is_new_or_changed=True)
    assert _status(outfall, "new_outfall") == rules.WARNING  # needs registration instead
    f.add_evidence(zezhou_outfall, EvidenceKind.REGISTRATION)
    assert _status(outfall, "new_outfall") == rules.PASS


def test_registry_holds_the_eight_rules():
    assert list(rules.RULES) == [
        "protected_area",
        "stormwater",
        "urban_scattered",
        "storm_gate",
        "enterprise_outfalls",
        "rural_sewage",
        "aquaculture_cluster",
        "new_outfall",
    ]


# --- overrides -----------------------------------------------------------------------------


@pytest.fixture
def protected_traced(county_officer):
    return f.trace(f.register(actor=county_officer, in_spring_zone=True))


def _classify_standardise(outfall, actor, **kwargs):
    st = Subtype.objects.get(code="qt_other")
    return services.outfall_classification_set(
        actor=actor,
        outfall=outfall,
        category=st.category,
        subtype=st,
        disposition=Disposition.STANDARDISE,
        **kwargs,
    )


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_failed_rule_without_override_reason_writes_nothing(
    county_officer, protected_traced, reason
):
    events = OutfallEvent.objects.filter(outfall=protected_traced).count()
    overrides = None if reason is None else {"protected_area": reason}
    with pytest.raises(ValidationError, match="overrides"):
        _classify_standardise(protected_traced, county_officer, overrides=overrides)
    outfall = Outfall.objects.get(pk=protected_traced.pk)
    assert outfall.disposition == ""
    assert outfall.category is None
    assert OutfallEvent.objects.filter(outfall=outfall).count() == events
    assert not OverrideRequest.objects.exists()


def test_override_path_end_to_end(county_officer, county_leader, city_leader, protected_traced):
    # given an override requested with a reason
    _classify_standardise(
        protected_traced,
        county_officer,
        overrides={"protected_area": "历史遗留，供水替代工程完成前保留"},
    )
    request = OverrideRequest.objects.get()
    assert (request.status, request.requested_by) == ("pending", county_officer)
    # when a county leader tries to decide it: refused (city level only)
    with pytest.raises(PermissionDenied):
        services.override_decide(actor=county_leader, override=request, approve=True)
    # when a city leader approves
    services.override_decide(actor=city_leader, override=request, approve=True, note="同意")
    # then the classification goes through with the county leader's four eyes
    outfall = services.outfall_transition(
        actor=county_officer,
        outfall=protected_traced.pk,
        transition="classify",
        approved_by=county_leader,
    )
    assert outfall.state == State.CLASSIFIED
    kinds = list(OutfallEvent.objects.filter(outfall=outfall).values_list("kind", flat=True))
    assert "override_requested" in kinds
    assert "override_decided" in kinds


def test_requester_cannot_decide_own_override(city_leader, protected_traced):
    from base.factories import user_with_role

    city_officer = user_with_role("city_officer", "140500", username="co2")
    _classify_standardise(protected_traced, city_officer, overrides={"protected_area": "理由"})
    request = OverrideRequest.objects.get()
    services.override_decide(actor=city_leader, override=request, approve=False, note="不同意")
    request.refresh_from_db()
    assert request.status == "rejected"
    with pytest.raises(ValidationError):
        services.override_decide(actor=city_leader, override=request, approve=True)


def test_rejection_needs_a_reason(city_leader, county_officer, protected_traced):
    _classify_standardise(protected_traced, county_officer, overrides={"protected_area": "理由"})
    request = OverrideRequest.objects.get()
    with pytest.raises(ValidationError, match="note"):
        services.override_decide(actor=city_leader, override=request, approve=False)
    request.refresh_from_db()
    assert request.status == "pending"
