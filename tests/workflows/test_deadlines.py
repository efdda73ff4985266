"""Deadlines follow the lifecycle through the hooks: created, met, waived, moved."""

import datetime as dt

from cases import factories as f
from cases import services
from cases.choices import State
from workflows.models import Deadline, DeadlineMove

from .conftest import at, register_on

D = dt.date


def test_registration_before_the_milestone_gets_the_milestone_date(zezhou_case):
    deadline = Deadline.objects.get(outfall=zezhou_case)
    assert (deadline.stage, deadline.due_on, deadline.basis) == (
        "survey_tracing",
        D(2023, 12, 31),
        "calendar",
    )
    assert deadline.jurisdiction.code == "140525"
    assert deadline.next_fire_on == D(2023, 12, 24)  # L0: due - 7


def test_later_registration_counts_working_days_across_2024_spring_festival(county_officer):
    # given a case registered on 2024-02-01, after the survey milestone
    outfall = register_on(D(2024, 2, 1), actor=county_officer)
    # then 20 working days skip 02-10..02-17 and count the make-up Sundays 02-04 and 02-18
    deadline = Deadline.objects.get(outfall=outfall)
    assert (deadline.due_on, deadline.basis) == (D(2024, 3, 5), "working")


def test_tracing_meets_the_deadline(zezhou_case):
    f.trace(zezhou_case)
    deadline = Deadline.objects.get(outfall=zezhou_case, stage="survey_tracing")
    assert deadline.status == "met"
    assert deadline.next_fire_on is None


def test_void_waives_every_live_deadline(county_officer, county_leader, zezhou_case):
    services.outfall_transition(
        actor=county_officer,
        outfall=zezhou_case.pk,
        transition="void",
        changes={"closure_reason": "duplicate"},
        approved_by=county_leader,
    )
    assert list(Deadline.objects.filter(outfall=zezhou_case).values_list("status", flat=True)) == [
        "waived"
    ]


def test_classification_opens_remediation_and_plan_deadlines(zezhou_case):
    outfall = f.drive_to(zezhou_case, State.REMEDIATING)
    stages = dict(Deadline.objects.filter(outfall=outfall).values_list("stage", "status"))
    assert stages == {"survey_tracing": "met", "remediation": "open", "plan": "open"}
    plan_deadline = Deadline.objects.get(outfall=outfall, stage="plan")
    assert plan_deadline.due_on == outfall.plan.deadline


def test_keep_disposition_has_no_remediation_deadline(zezhou_case):
    f.drive_to(zezhou_case, State.CLASSIFIED, disposition="keep")
    assert not Deadline.objects.filter(outfall=zezhou_case, stage="remediation").exists()


def test_retain_meets_remediation_and_plan(zezhou_case):
    outfall = f.drive_to(zezhou_case, State.RETAINED)
    assert set(Deadline.objects.filter(outfall=outfall).values_list("status", flat=True)) == {"met"}


def test_reopen_opens_a_new_remediation_deadline(county_officer, zezhou_case):
    outfall = f.drive_to(zezhou_case, State.RETAINED)
    services.outfall_transition(
        actor=county_officer,
        outfall=outfall.pk,
        transition="reopen",
        approved_by=f.approver_for(outfall),
        changes={"reopen_basis": "inspection", "reopen_reference": "检查记录2025-03"},
    )
    live = Deadline.objects.filter(outfall=outfall, status="open")
    assert list(live.values_list("stage", flat=True)) == ["remediation"]


def test_extension_moves_the_plan_deadline_with_its_ledger(
    county_officer, city_leader, zezhou_case
):
    outfall = f.drive_to(zezhou_case, State.REMEDIATING)
    services.plan_extend(
        actor=county_officer,
        plan=outfall.plan,
        new_date=D(2025, 3, 31),
        reason="汛期施工受限",
        approver=city_leader,
        now=at(D(2024, 11, 1)),
    )
    deadline = Deadline.objects.get(outfall=outfall, stage="plan")
    assert (deadline.due_on, deadline.original_due_on) == (D(2025, 3, 31), D(2024, 12, 31))
    move = DeadlineMove.objects.get(deadline=deadline)
    assert (move.old_date, move.new_date, move.approver) == (
        D(2024, 12, 31),
        D(2025, 3, 31),
        city_leader,
    )
    assert deadline.next_fire_on == D(2025, 3, 24)


def test_imported_outfalls_get_survey_deadlines(county_officer):
    # given a survey sheet imported in bulk
    from cases.importing import survey_import
    from tests.cases.survey_sheets import survey_row, xlsx

    rows = [survey_row(i) for i in range(3)]
    result = survey_import(actor=county_officer, file=xlsx(rows), filename="a.xlsx")
    # then each imported case has its survey-and-tracing deadline, like a registration
    assert result.created == 3
    assert Deadline.objects.filter(stage="survey_tracing", status="open").count() == 3
