"""The ladder L0-L4 (DESIGN.md §5) and the sweep: each level once, at its offset."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from base.factories import river_chief, user_with_role
from base.models import RiverChiefAppointment
from cases import factories as f
from cases.choices import State
from notifications.models import Notification
from workflows import escalation, registry
from workflows.escalation import sweep
from workflows.models import (
    Deadline,
    EscalationStep,
    Stage,
    SummonsProposal,
    SummonsProposalItem,
    Supervision,
)

from .conftest import at, register_on

D = dt.date
DUE = D(2023, 12, 31)


def _levels(deadline):
    return list(
        EscalationStep.objects.filter(deadline=deadline)
        .order_by("level__rank")
        .values_list("level__code", flat=True)
    )


def _sweep(day):
    return sweep(now=at(day))


@pytest.mark.parametrize(
    ("day", "fired"),
    [
        (DUE - dt.timedelta(days=8), []),
        (DUE - dt.timedelta(days=7), ["L0"]),
        (DUE - dt.timedelta(days=1), ["L0"]),
        (DUE, ["L0", "L1"]),
        (DUE + dt.timedelta(days=14), ["L0", "L1"]),
        (DUE + dt.timedelta(days=15), ["L0", "L1", "L2"]),
        (DUE + dt.timedelta(days=29), ["L0", "L1", "L2"]),
        (DUE + dt.timedelta(days=30), ["L0", "L1", "L2", "L3"]),
    ],
)
def test_each_level_fires_once_at_its_offset(zezhou_case, day, fired):
    # given daily sweeps from well before the due date up to `day`
    deadline = Deadline.objects.get(outfall=zezhou_case)
    current = DUE - dt.timedelta(days=10)
    while current <= day:
        _sweep(current)
        current += dt.timedelta(days=1)
    # then exactly the levels due by `day` fired, each once
    assert _levels(deadline) == fired
    deadline.refresh_from_db()
    assert deadline.status == ("missed" if day >= DUE else "open")


def test_late_first_sweep_fires_every_due_level_once(zezhou_case):
    result = _sweep(DUE + dt.timedelta(days=20))
    assert _levels(Deadline.objects.get(outfall=zezhou_case)) == ["L0", "L1", "L2"]
    assert dict(result.by_level) == {"L0": 1, "L1": 1, "L2": 1}


def test_running_the_sweep_twice_creates_nothing_new(
    zezhou_case, zezhou_river_chief, city_officer, city_leader
):
    day = DUE + dt.timedelta(days=31)
    first = _sweep(day)
    counts = (
        EscalationStep.objects.count(),
        Notification.objects.count(),
        Supervision.objects.count(),
        SummonsProposalItem.objects.count(),
    )
    second = _sweep(day)
    assert first.steps == 4
    assert second.steps == 0
    assert second.notifications == 0
    assert (
        EscalationStep.objects.count(),
        Notification.objects.count(),
        Supervision.objects.count(),
        SummonsProposalItem.objects.count(),
    ) == counts


def test_meeting_the_deadline_stops_its_ladder(zezhou_case):
    _sweep(DUE)  # L0 and L1 fired
    f.trace(zezhou_case)
    _sweep(DUE + dt.timedelta(days=40))
    deadline = Deadline.objects.get(outfall=zezhou_case, stage="survey_tracing")
    assert deadline.status == "met"
    assert _levels(deadline) == ["L0", "L1"]


def test_extension_moves_every_pending_level(county_officer, city_leader, zezhou_case):
    from cases import services

    outfall = f.drive_to(zezhou_case, State.REMEDIATING)
    plan_due = outfall.plan.deadline  # 2024-12-31
    deadline = Deadline.objects.get(outfall=outfall, stage="plan")
    _sweep(plan_due)
    assert _levels(deadline) == ["L0", "L1"]
    # when the plan deadline is extended by 60 days
    new_due = plan_due + dt.timedelta(days=60)
    services.plan_extend(
        actor=county_officer,
        plan=outfall.plan,
        new_date=new_due,
        reason="过渡期",
        approver=city_leader,
        now=at(plan_due),
    )
    # then L2 no longer fires at old due + 15, but at new due + 15
    _sweep(plan_due + dt.timedelta(days=15))
    assert _levels(deadline) == ["L0", "L1"]
    _sweep(new_due + dt.timedelta(days=15))
    assert _levels(deadline) == ["L0", "L1", "L2"]


def test_l2_creates_a_supervision_for_the_county(zezhou_case):
    _sweep(DUE + dt.timedelta(days=15))
    supervision = Supervision.objects.get()
    assert (supervision.jurisdiction.code, supervision.outfall) == ("140525", zezhou_case)


def test_l3_creates_one_summons_proposal_per_county_per_month(county_officer, other_county_officer):
    # given two 泽州 cases and one 阳城 case overdue 30 days
    zz = [register_on(D(2023, 9, 1), actor=county_officer, landmark=f"排口{i}") for i in range(2)]
    yc = register_on(D(2023, 9, 1), actor=other_county_officer, jurisdiction_code="140522")
    _sweep(DUE + dt.timedelta(days=30))
    # and a later case reaching L3 in the same month
    late = register_on(D(2023, 9, 1), actor=county_officer, landmark="排口后")
    Deadline.objects.filter(outfall=late).update(due_on=D(2024, 1, 1))
    Deadline.objects.filter(outfall=late).update(next_fire_on=D(2023, 12, 25))
    _sweep(D(2024, 1, 31))
    # then
    proposals = {p.jurisdiction.code: p for p in SummonsProposal.objects.all()}
    assert set(proposals) == {"140525", "140522"}
    assert proposals["140525"].month == D(2024, 1, 1)
    assert {i.outfall for i in proposals["140525"].items.all()} == {*zz, late}
    assert [i.outfall for i in proposals["140522"].items.all()] == [yc]


def test_l4_fires_for_a_missed_summons_follow_up_and_calls_the_hook(city_leader):
    # given a summons implementation-report deadline (created by the summons process)
    from base.models import Jurisdiction

    zezhou = Jurisdiction.objects.get(code="140525")
    deadline = Deadline.objects.create(
        jurisdiction=zezhou,
        stage=Stage.SUMMONS_REPORT,
        start_on=D(2024, 3, 1),
        due_on=D(2024, 3, 31),
        original_due_on=D(2024, 3, 31),
        basis="calendar",
        next_rank=4,
        next_fire_on=D(2024, 3, 31),
        subject_type="workflows.summons",
        subject_id="7",
    )
    called = []
    registry.register_accountability_handler(called.append)
    try:
        _sweep(D(2024, 3, 30))
        assert _levels(deadline) == []
        _sweep(D(2024, 3, 31))
    finally:
        registry.unregister_accountability_handler(called.append)
    assert _levels(deadline) == ["L4"]
    assert [d.pk for d in called] == [deadline.pk]
    assert Notification.objects.filter(recipient=city_leader, kind="escalation_l4").exists()


def test_a_failing_row_is_logged_and_skipped(county_officer, monkeypatch, caplog):
    cases = [
        register_on(D(2023, 9, 1), actor=county_officer, landmark=f"排口{i}") for i in range(3)
    ]
    bad = Deadline.objects.get(outfall=cases[1])
    original = escalation.recipients

    def flaky(level, deadline, *args):
        if deadline.pk == bad.pk:
            raise RuntimeError("broken row")
        return original(level, deadline, *args)

    monkeypatch.setattr(escalation, "recipients", flaky)
    result = _sweep(DUE)
    assert result.failed == 1
    assert "failed; skipped" in caplog.text
    assert _levels(bad) == []
    assert _levels(Deadline.objects.get(outfall=cases[0])) == ["L0", "L1"]
    assert _levels(Deadline.objects.get(outfall=cases[2])) == ["L0", "L1"]


def test_queries_grow_with_batches_not_rows(county_officer):
    for i in range(12):
        register_on(D(2023, 9, 1), actor=county_officer, landmark=f"排口{i}")
    # warm-up shapes the query plan; then compare a 2-row and a 10-row batch
    Deadline.objects.update(next_fire_on=D(2023, 12, 24))
    ids = list(Deadline.objects.order_by("pk").values_list("pk", flat=True))
    Deadline.objects.filter(pk__in=ids[2:]).update(next_fire_on=D(2030, 1, 1))
    with CaptureQueriesContext(connection) as small:
        _sweep(D(2023, 12, 24))
    Deadline.objects.filter(pk__in=ids[2:]).update(next_fire_on=D(2023, 12, 24))
    with CaptureQueriesContext(connection) as large:
        _sweep(D(2023, 12, 24))
    assert EscalationStep.objects.count() == 12
    assert len(large) == len(small)


def test_one_batch_moves_each_deadline_to_its_own_next_level(county_officer):
    # given three deadlines with different due dates, swept together on one day on which
    # the first reaches L0, the second L1 and the third L2
    day = D(2024, 3, 1)
    due = {"l0": day + dt.timedelta(days=5), "l1": day, "l2": day - dt.timedelta(days=20)}
    deadlines = {}
    for name, due_on in due.items():
        outfall = register_on(D(2023, 9, 1), actor=county_officer, landmark=f"排口{name}")
        deadline = Deadline.objects.get(outfall=outfall)
        Deadline.objects.filter(pk=deadline.pk).update(
            due_on=due_on, next_rank=0, next_fire_on=due_on - dt.timedelta(days=7)
        )
        deadlines[name] = deadline
    # when
    result = _sweep(day)
    # then one batch fired them all, and each waits for its own next level at its own date
    assert result.batches == 1
    moved = {
        name: Deadline.objects.values_list(
            "current_rank", "next_rank", "next_fire_on", "status"
        ).get(pk=deadline.pk)
        for name, deadline in deadlines.items()
    }
    assert moved == {
        "l0": (0, 1, due["l0"], "open"),
        "l1": (1, 2, due["l1"] + dt.timedelta(days=15), "missed"),
        "l2": (2, 3, due["l2"] + dt.timedelta(days=30), "missed"),
    }
    assert [_levels(deadlines[name]) for name in due] == [
        ["L0"],
        ["L0", "L1"],
        ["L0", "L1", "L2"],
    ]


# --- recipients ----------------------------------------------------------------------------


@pytest.fixture
def people(db):
    return {
        "zz_officer": user_with_role("county_officer", "140525", username="p_zz_officer"),
        "zz_leader": user_with_role("county_leader", "140525", username="p_zz_leader"),
        "yc_officer": user_with_role("county_officer", "140522", username="p_yc_officer"),
        "yc_leader": user_with_role("county_leader", "140522", username="p_yc_leader"),
        "city_officer": user_with_role("city_officer", "140500", username="p_city_officer"),
        "city_leader": user_with_role("city_leader", "140500", username="p_city_leader"),
        "zz_chief": river_chief("qinhe-140525", username="p_zz_chief"),
        "zz_town_chief": river_chief(
            "qinhe-140525", RiverChiefAppointment.Level.TOWNSHIP, username="p_zz_town_chief"
        ),
        "yc_chief": river_chief("qinhe-140522", username="p_yc_chief"),
        "zz_danhe_chief": river_chief("danhe-140525", username="p_zz_danhe_chief"),
    }


def _told(level_code):
    return set(
        Notification.objects.filter(kind=f"escalation_{level_code.lower()}").values_list(
            "recipient__username", flat=True
        )
    )


def test_recipients_of_a_zezhou_case_stay_in_zezhou(people):
    # given a 泽州 case on the 沁河泽州县段 segment, registered by the 泽州 officer
    register_on(D(2023, 9, 1), actor=people["zz_officer"])
    # when the ladder reaches L3
    _sweep(DUE + dt.timedelta(days=30))
    # then each level tells exactly its people, never 阳城's
    assert _told("L0") == {"p_zz_officer"}
    assert _told("L1") == {"p_zz_officer", "p_zz_leader"}
    assert _told("L2") == {"p_city_officer", "p_zz_chief"}
    assert _told("L3") == {"p_city_leader"}


def test_recipients_of_a_yangcheng_case_stay_in_yangcheng(people):
    register_on(D(2023, 9, 1), actor=people["yc_officer"], jurisdiction_code="140522")
    _sweep(DUE + dt.timedelta(days=15))
    assert _told("L1") == {"p_yc_officer", "p_yc_leader"}
    assert _told("L2") == {"p_city_officer", "p_yc_chief"}


def test_lead_department_is_reminded_at_l0(people, department_officer, county_officer):
    outfall = f.drive_to(register_on(D(2023, 9, 1), actor=people["zz_officer"]), State.REMEDIATING)
    Notification.objects.all().delete()
    _sweep(outfall.plan.deadline - dt.timedelta(days=7))
    assert "zz_housing" in _told("L0")
