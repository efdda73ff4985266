"""The lifecycle of DESIGN.md §4 through the real services: paths, guards, approvals, audit."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404

from cases import factories as f
from cases import lifecycle, registry, services
from cases.choices import Disposition, EvidenceKind, State
from cases.models import Outfall, OutfallEvent
from cases.selectors import replay_state
from cases.services import TransitionConflict, TransitionError


def _events(outfall):
    return list(OutfallEvent.objects.filter(outfall=outfall).values_list("kind", "transition"))


def _row(outfall):
    return Outfall.objects.filter(pk=outfall.pk).values().get()


# --- every path of the diagram, for each disposition ---------------------------------------


@pytest.mark.parametrize(
    ("disposition", "final", "path"),
    [
        (
            Disposition.STANDARDISE,
            State.RETAINED,
            ["trace", "classify", "start_remediation", "retain"],
        ),
        (Disposition.KEEP, State.RETAINED, ["trace", "classify", "retain"]),
        (Disposition.BAN, State.CLOSED, ["trace", "classify", "start_remediation", "close"]),
    ],
)
def test_paths_through_the_diagram(zezhou_outfall, disposition, final, path):
    # when
    outfall = f.drive_to(zezhou_outfall, final, disposition=disposition)
    # then
    assert outfall.state == final
    transitions = [t for kind, t in _events(outfall) if kind == OutfallEvent.Kind.TRANSITION]
    assert transitions == path
    assert replay_state(OutfallEvent.objects.filter(outfall=outfall)) == final


def test_merge_path_closes_with_merge_target(county_officer, zezhou_outfall):
    # given a target outfall and a case classified to merge into it
    target = f.register(actor=county_officer, landmark="园区总排口")
    leader = f.approver_for(zezhou_outfall)
    outfall = f.trace(zezhou_outfall, approver=leader)
    outfall = f.classify(
        outfall, disposition=Disposition.MERGE, merge_target=target, approver=leader
    )
    outfall = f.plan_and_start(outfall, approver=leader)
    f.add_evidence(outfall, EvidenceKind.ACCEPTANCE)
    # when
    outfall = services.outfall_transition(
        actor=county_officer, outfall=outfall.pk, transition="close", approved_by=leader
    )
    # then
    assert outfall.state == State.CLOSED
    assert outfall.closure_reason == "merged"
    assert outfall.merge_target == target


def test_void_closes_a_surveyed_duplicate(county_officer, county_leader, zezhou_outfall):
    outfall = services.outfall_transition(
        actor=county_officer,
        outfall=zezhou_outfall.pk,
        transition="void",
        changes={"closure_reason": "duplicate"},
        reason="与140525QT0001重复",
        approved_by=county_leader,
    )
    assert outfall.state == State.CLOSED
    event = OutfallEvent.objects.filter(outfall=outfall, kind="transition").get()
    assert (event.from_state, event.to_state, event.reason) == (
        "surveyed",
        "closed",
        "与140525QT0001重复",
    )
    assert event.approved_by == county_leader
    assert event.diff == {"closure_reason": [None, "duplicate"]}


@pytest.mark.parametrize("start", [State.RETAINED, State.CLOSED])
def test_reopen_returns_to_remediation(county_officer, zezhou_outfall, start):
    disposition = Disposition.STANDARDISE if start == State.RETAINED else Disposition.BAN
    outfall = f.drive_to(zezhou_outfall, start, disposition=disposition)
    leader = f.approver_for(outfall)
    outfall = services.outfall_transition(
        actor=county_officer,
        outfall=outfall.pk,
        transition="reopen",
        approved_by=leader,
        changes={"reopen_basis": "complaint", "reopen_reference": "信访件2024-017"},
    )
    assert outfall.state == State.REMEDIATING
    assert replay_state(OutfallEvent.objects.filter(outfall=outfall)) == State.REMEDIATING


# --- illegal transitions write nothing -----------------------------------------------------


@pytest.mark.parametrize(
    ("state", "transition"),
    [
        (State.SURVEYED, "classify"),
        (State.SURVEYED, "close"),
        (State.TRACED, "trace"),
        (State.TRACED, "reopen"),
        (State.CLASSIFIED, "close"),
        (State.REMEDIATING, "classify"),
        (State.RETAINED, "close"),
        (State.CLOSED, "retain"),
    ],
)
def test_illegal_transition_raises_and_writes_nothing(
    county_officer, zezhou_outfall, state, transition
):
    # given a case in `state`
    disposition = Disposition.BAN if state == State.CLOSED else Disposition.STANDARDISE
    outfall = f.drive_to(zezhou_outfall, state, disposition=disposition)
    before_row, before_events = _row(outfall), _events(outfall)
    # when / then
    with pytest.raises(TransitionError):
        services.outfall_transition(
            actor=county_officer,
            outfall=outfall.pk,
            transition=transition,
            approved_by=f.approver_for(outfall),
        )
    assert _row(outfall) == before_row
    assert _events(outfall) == before_events


def test_unknown_transition_is_refused(county_officer, zezhou_outfall):
    with pytest.raises(TransitionError):
        services.outfall_transition(
            actor=county_officer, outfall=zezhou_outfall.pk, transition="delete", approved_by=None
        )


# --- each guard, with its reason -----------------------------------------------------------


def _blocked(outfall, transition, actor=None):
    with pytest.raises(TransitionError) as excinfo:
        services.outfall_transition(
            actor=actor,
            outfall=outfall.pk,
            transition=transition,
            approved_by=f.approver_for(outfall),
        )
    return excinfo.value.reasons


def test_trace_guard_needs_a_tracing_record(zezhou_outfall):
    services.outfall_entity_link(actor=None, outfall=zezhou_outfall, entity=f.EntityFactory())
    assert _blocked(zezhou_outfall, "trace") == [str(lifecycle.has_tracing_record.reason)]


def test_trace_guard_needs_a_responsible_entity(zezhou_outfall):
    services.tracing_record_add(
        actor=None,
        outfall=zezhou_outfall,
        method="field",
        traced_on=dt.date(2023, 10, 1),
        finding="未查明",
        result="not_found",
    )
    assert _blocked(zezhou_outfall, "trace") == [str(lifecycle.has_responsible_entity.reason)]


def test_government_fallback_needs_its_reason(zezhou_outfall):
    fallback = f.EntityFactory(
        name="泽州县人民政府", kind="government", is_government_fallback=True
    )
    with pytest.raises(ValidationError, match="fallback_reason"):
        services.outfall_entity_link(actor=None, outfall=zezhou_outfall, entity=fallback)
    # with the reason the guard passes
    services.outfall_entity_link(
        actor=None,
        outfall=zezhou_outfall,
        entity=fallback,
        fallback_reason="多次溯源无法确定排污单位",
    )
    assert lifecycle.has_responsible_entity(Outfall.objects.get(pk=zezhou_outfall.pk))


def test_classify_guards_name_each_missing_piece(zezhou_outfall):
    outfall = f.trace(zezhou_outfall)
    reasons = _blocked(outfall, "classify")
    assert str(lifecycle.is_typed_consistently.reason) in reasons
    assert str(lifecycle.has_disposition.reason) in reasons
    assert str(lifecycle.has_code.reason) in reasons


def test_classify_guard_refuses_a_failed_rule_without_approved_override(zezhou_outfall):
    # given a case in a drinking-water zone classified to standardise with an override request
    Outfall.objects.filter(pk=zezhou_outfall.pk).update(in_drinking_water_zone=True)
    outfall = f.trace(Outfall.objects.get(pk=zezhou_outfall.pk))
    services.outfall_classification_set(
        actor=None,
        outfall=outfall,
        category=f.Subtype.objects.get(code="qt_other").category,
        subtype=f.Subtype.objects.get(code="qt_other"),
        disposition=Disposition.STANDARDISE,
        overrides={"protected_area": "历史遗留，已纳入水源地调整方案"},
    )
    # then classification stays blocked until a city leader approves
    assert _blocked(outfall, "classify") == [str(lifecycle.rules_pass_or_overridden.reason)]
    assert not Outfall.objects.get(pk=outfall.pk).code  # the number was not burnt


def test_start_remediation_needs_a_plan(zezhou_outfall):
    outfall = f.drive_to(zezhou_outfall, State.CLASSIFIED)
    assert _blocked(outfall, "start_remediation") == [str(lifecycle.has_plan.reason)]


def test_start_remediation_is_not_for_keep(zezhou_outfall):
    outfall = f.drive_to(zezhou_outfall, State.CLASSIFIED, disposition=Disposition.KEEP)
    assert str(lifecycle.needs_remediation.reason) in _blocked(outfall, "start_remediation")


def test_retain_needs_the_checklist(zezhou_outfall):
    outfall = f.drive_to(zezhou_outfall, State.REMEDIATING)
    f.add_evidence(outfall, EvidenceKind.SIGNBOARD)
    assert _blocked(outfall, "retain") == [str(lifecycle.retain_checklist_complete.reason)]
    missing = {i.code for i in lifecycle.missing_checklist_items(outfall, "retain")}
    assert missing == {"retain-sampling-point", "retain-archive", "retain-acceptance"}


def test_retain_of_enterprise_storm_outlet_needs_gate_video_and_filing(zezhou_outfall):
    # DOMAIN.md §4 rule 4 as checklist items
    outfall = f.drive_to(zezhou_outfall, State.REMEDIATING, subtype="gy_enterprise_storm")
    f.add_evidence(outfall, *f.RETAIN_KINDS, EvidenceKind.REGISTRATION)
    missing = {i.code for i in lifecycle.missing_checklist_items(outfall, "retain")}
    assert missing == {"retain-gate-valve", "retain-video", "retain-filing"}
    f.add_evidence(
        outfall, EvidenceKind.GATE_VALVE, EvidenceKind.VIDEO_MONITORING, EvidenceKind.FILING
    )
    assert lifecycle.retain_checklist_complete(outfall)


def test_retain_is_not_for_ban(zezhou_outfall):
    outfall = f.drive_to(zezhou_outfall, State.REMEDIATING, disposition=Disposition.BAN)
    assert str(lifecycle.disposition_is_retained.reason) in _blocked(outfall, "retain")


def test_close_of_ban_needs_removal_proof(zezhou_outfall):
    outfall = f.drive_to(zezhou_outfall, State.REMEDIATING, disposition=Disposition.BAN)
    f.add_evidence(outfall, EvidenceKind.ACCEPTANCE)
    assert _blocked(outfall, "close") == [str(lifecycle.close_checklist_complete.reason)]


def test_close_of_merge_needs_a_target(zezhou_outfall):
    outfall = f.drive_to(zezhou_outfall, State.REMEDIATING, disposition=Disposition.MERGE)
    f.add_evidence(outfall, EvidenceKind.ACCEPTANCE)
    assert _blocked(outfall, "close") == [str(lifecycle.has_merge_target.reason)]


def test_close_is_not_for_standardise(zezhou_outfall):
    outfall = f.drive_to(zezhou_outfall, State.REMEDIATING)
    assert str(lifecycle.disposition_closes.reason) in _blocked(outfall, "close")


def test_void_needs_a_closure_reason(zezhou_outfall):
    assert _blocked(zezhou_outfall, "void") == [str(lifecycle.has_void_reason.reason)]


def test_reopen_needs_a_basis_and_reference(zezhou_outfall):
    outfall = f.drive_to(zezhou_outfall, State.RETAINED)
    assert _blocked(outfall, "reopen") == [str(lifecycle.has_reopen_basis.reason)]


def test_transition_checks_list_allowed_and_blocked_with_reasons(zezhou_outfall):
    checks = {c.name: c for c in lifecycle.transition_checks(zezhou_outfall)}
    assert set(checks) == {"trace", "void"}
    assert not checks["trace"].allowed
    assert str(lifecycle.has_tracing_record.reason) in checks["trace"].unmet


# --- permissions, scope and four eyes ------------------------------------------------------


def test_other_county_officer_gets_not_found(other_county_officer, zezhou_outfall):
    before = _events(zezhou_outfall)
    with pytest.raises(Http404):
        services.outfall_transition(
            actor=other_county_officer,
            outfall=zezhou_outfall.pk,
            transition="void",
            changes={"closure_reason": "duplicate"},
            approved_by=f.approver_for(zezhou_outfall),
        )
    assert _events(zezhou_outfall) == before


def test_river_chief_may_see_but_not_transition(zezhou_river_chief, county_leader):
    outfall = f.register(segment=f.RiverSegment.objects.get(slug="qinhe-140525"))
    with pytest.raises(PermissionDenied):
        services.outfall_transition(
            actor=zezhou_river_chief,
            outfall=outfall.pk,
            transition="void",
            changes={"closure_reason": "duplicate"},
            approved_by=county_leader,
        )
    assert Outfall.objects.get(pk=outfall.pk).state == State.SURVEYED


@pytest.mark.parametrize("approver", ["none", "self", "other_county_leader", "county_officer2"])
def test_transition_needs_a_valid_second_person(
    county_officer, other_county_leader, zezhou_outfall, approver, django_user_model
):
    from base.factories import user_with_role

    approved_by = {
        "none": None,
        "self": county_officer,
        "other_county_leader": other_county_leader,
        "county_officer2": user_with_role("county_officer", "140525", username="zz_officer2"),
    }[approver]
    before = _events(zezhou_outfall)
    with pytest.raises(PermissionDenied):
        services.outfall_transition(
            actor=county_officer,
            outfall=zezhou_outfall.pk,
            transition="void",
            changes={"closure_reason": "duplicate"},
            approved_by=approved_by,
        )
    assert _events(zezhou_outfall) == before
    assert Outfall.objects.get(pk=zezhou_outfall.pk).state == State.SURVEYED


def test_policy_without_approval_lets_the_officer_apply(county_officer, zezhou_outfall):
    previous = registry.approval_policy()
    registry.set_approval_policy(lambda t, o: registry.ApprovalRequirement(False))
    try:
        outfall = services.outfall_transition(
            actor=county_officer,
            outfall=zezhou_outfall.pk,
            transition="void",
            changes={"closure_reason": "not_an_outfall"},
        )
    finally:
        registry.set_approval_policy(previous)  # the installed policy (the workflows table)
    assert outfall.state == State.CLOSED


def test_stale_case_is_a_conflict(county_officer, county_leader, zezhou_outfall):
    # given someone voided the case after this user loaded it
    stale = Outfall.objects.get(pk=zezhou_outfall.pk)
    services.outfall_transition(
        actor=county_officer,
        outfall=zezhou_outfall.pk,
        transition="void",
        changes={"closure_reason": "duplicate"},
        approved_by=county_leader,
    )
    # when the stale copy is used
    with pytest.raises(TransitionConflict):
        services.outfall_transition(
            actor=county_officer,
            outfall=stale,
            transition="void",
            changes={"closure_reason": "duplicate"},
            approved_by=county_leader,
        )
    assert OutfallEvent.objects.filter(outfall=stale, kind="transition").count() == 1


def test_fields_outside_the_transition_cannot_change(county_officer, county_leader, zezhou_outfall):
    with pytest.raises(TransitionError):
        services.outfall_transition(
            actor=county_officer,
            outfall=zezhou_outfall.pk,
            transition="void",
            approved_by=county_leader,
            changes={"closure_reason": "duplicate", "code": "X"},
        )
    assert Outfall.objects.get(pk=zezhou_outfall.pk).state == State.SURVEYED


# --- hooks ---------------------------------------------------------------------------------


def test_hooks_run_in_transaction_and_after_commit(
    county_officer, county_leader, zezhou_outfall, django_capture_on_commit_callbacks
):
    seen_inside, seen_after = [], []
    inside = seen_inside.append
    after = seen_after.append
    registry.register_transition_hook(inside, in_transaction=True)
    registry.register_transition_hook(after)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.outfall_transition(
                actor=county_officer,
                outfall=zezhou_outfall.pk,
                transition="void",
                approved_by=county_leader,
                changes={"closure_reason": "duplicate"},
            )
    finally:
        registry.unregister_transition_hook(inside)
        registry.unregister_transition_hook(after)
    assert [(a.transition, a.from_state, a.to_state) for a in seen_inside] == [
        ("void", "surveyed", "closed")
    ]
    assert seen_after == seen_inside


# --- codes and names -----------------------------------------------------------------------


def test_codes_are_consecutive_per_jurisdiction_and_type(county_officer):
    codes = [f.drive_to(f.register(actor=county_officer), State.CLASSIFIED).code for _ in range(3)]
    assert codes == ["140525QT0001", "140525QT0002", "140525QT0003"]
    yh = f.drive_to(f.register(actor=county_officer), State.CLASSIFIED, subtype="yh_urban_storm")
    assert yh.code == "140525YH0001"


def test_a_refused_classification_does_not_burn_a_code(county_officer):
    # given a classification refused by a guard after the code was drawn
    blocked = f.trace(f.register(actor=county_officer, in_drinking_water_zone=True))
    subtype = f.Subtype.objects.get(code="qt_other")
    services.outfall_classification_set(
        actor=None,
        outfall=blocked,
        category=subtype.category,
        subtype=subtype,
        disposition=Disposition.STANDARDISE,
        overrides={"protected_area": "历史遗留"},
    )
    _blocked(blocked, "classify")
    # then the next classification gets the first number
    ok = f.drive_to(f.register(actor=county_officer), State.CLASSIFIED)
    assert ok.code == "140525QT0001"


def test_default_name_follows_domain_pattern(county_officer):
    outfall = f.drive_to(
        f.register(actor=county_officer), State.CLASSIFIED, subtype="yh_urban_storm"
    )
    assert outfall.name.startswith("泽州县南村镇冶底村")
    assert outfall.name.endswith("城镇雨洪排口")


def test_edited_name_is_kept_at_classification(county_officer):
    outfall = f.register(actor=county_officer)
    services.outfall_update(actor=county_officer, outfall=outfall, data={"name": "冶底村东排口"})
    outfall = f.drive_to(Outfall.objects.get(pk=outfall.pk), State.CLASSIFIED)
    assert outfall.name == "冶底村东排口"


# --- audit trail ---------------------------------------------------------------------------


def test_events_cannot_be_updated_or_deleted(zezhou_outfall):
    event = OutfallEvent.objects.filter(outfall=zezhou_outfall).first()
    event.reason = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        OutfallEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(PermissionError):
        OutfallEvent.objects.filter(pk=event.pk).delete()
    assert OutfallEvent.objects.get(pk=event.pk).reason == ""


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigger exists on PostgreSQL only")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE cases_outfallevent SET reason = 'x' WHERE id = %s",
        "DELETE FROM cases_outfallevent WHERE id = %s",
    ],
)
def test_postgresql_trigger_refuses_raw_update_and_delete(zezhou_outfall, sql):
    from django.db import DatabaseError, transaction

    event = OutfallEvent.objects.filter(outfall=zezhou_outfall).first()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])
    assert OutfallEvent.objects.filter(pk=event.pk, reason="").exists()


def test_edit_records_field_diffs(county_officer, zezhou_outfall):
    services.outfall_update(
        actor=county_officer, outfall=zezhou_outfall, data={"town": "北义城镇", "daily_volume": 30}
    )
    event = OutfallEvent.objects.filter(outfall=zezhou_outfall, kind="edited").get()
    assert event.diff == {"town": ["南村镇", "北义城镇"], "daily_volume": ["12.50", "30"]}
    assert event.actor == county_officer


def test_new_primary_entity_replaces_the_earlier_one(zezhou_outfall):
    # given a government fallback as primary
    fallback = f.EntityFactory(
        name="泽州县人民政府", kind="government", is_government_fallback=True
    )
    services.outfall_entity_link(
        actor=None, outfall=zezhou_outfall, entity=fallback, fallback_reason="暂未查明"
    )
    # when tracing later finds the discharger
    found = f.EntityFactory(name="冶底洗煤厂")
    services.outfall_entity_link(actor=None, outfall=zezhou_outfall, entity=found)
    # then it is the only primary link, and the event records what it replaced
    links = list(zezhou_outfall.entity_links.values_list("entity__name", "is_primary"))
    assert links == [("冶底洗煤厂", True)]
    event = OutfallEvent.objects.filter(outfall=zezhou_outfall, kind="entity_linked").last()
    assert event.diff["entity"] == ["泽州县人民政府", "冶底洗煤厂"]


def test_shared_outfall_shares_cannot_exceed_100(zezhou_outfall):
    services.outfall_entity_link(
        actor=None,
        outfall=zezhou_outfall,
        entity=f.EntityFactory(),
        share_percent=60,
        permit_number="91140525MA0001",
    )
    services.outfall_entity_link(
        actor=None,
        outfall=zezhou_outfall,
        entity=f.EntityFactory(),
        is_primary=False,
        share_percent=40,
    )
    with pytest.raises(ValidationError, match="share_percent"):
        services.outfall_entity_link(
            actor=None,
            outfall=zezhou_outfall,
            entity=f.EntityFactory(),
            is_primary=False,
            share_percent=5,
        )
    assert zezhou_outfall.entity_links.count() == 2
