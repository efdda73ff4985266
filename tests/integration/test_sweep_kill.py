"""A sweep killed with SIGKILL mid-run and run again escalates each (deadline, level) once."""

import datetime as dt
import os
import signal
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from base.factories import user_with_role
from base.models import Jurisdiction, WaterBody
from cases.models import Outfall
from notifications.models import Notification
from workflows.models import Deadline, EscalationStep
from workflows.tasks import sweep_deadlines_task

from .conftest import celery_worker

pytestmark = pytest.mark.django_db(transaction=True)

N = 2000


def _due_deadlines(officer):
    zezhou = Jurisdiction.objects.get(code="140525")
    water = WaterBody.objects.get(slug="qinhe")
    today = timezone.localdate()
    outfalls = Outfall.objects.bulk_create(
        Outfall(
            jurisdiction=zezhou,
            water_body=water,
            longitude=Decimal("112.85"),
            latitude=Decimal("35.5") + Decimal(i) / 100000,
            entry_mode="pipe",
            survey_date=dt.date(2026, 1, 5),
            created_by=officer,
            name=f"测试排口{i}",
        )
        for i in range(N)
    )
    due = today - dt.timedelta(days=1)  # L0 (due - 7) and L1 (due + 0) are both due
    Deadline.objects.bulk_create(
        Deadline(
            outfall=o,
            jurisdiction=zezhou,
            stage="survey_tracing",
            start_on=due,
            due_on=due,
            original_due_on=due,
            basis="calendar",
            next_rank=0,
            next_fire_on=due - dt.timedelta(days=7),
            subject_type="cases.outfall",
            subject_id=str(o.pk),
        )
        for o in outfalls
    )


def _wait(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_killed_sweep_rerun_escalates_each_level_once(purge_broker):
    # given 2,000 due deadlines of 泽州 (people without e-mail: no mail tasks to wait for)
    officer = user_with_role("county_officer", "140525", username="kill_officer", email="")
    user_with_role("county_leader", "140525", username="kill_leader", email="")
    _due_deadlines(officer)

    # when a real worker runs the sweep in small batches and is SIGKILLed mid-run
    with celery_worker() as worker:
        sweep_deadlines_task.delay(batch_size=20)
        assert _wait(lambda: EscalationStep.objects.exists(), 60), "sweep never started"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    partial = EscalationStep.objects.count()
    assert 0 < partial < 2 * N, f"the kill did not land mid-run ({partial} steps)"

    # and the sweep is run again by a new worker
    with celery_worker() as worker:
        result = sweep_deadlines_task.delay(batch_size=200).get(timeout=300)
    assert result["failed"] == 0

    # then exactly one step per (deadline, level) and no duplicate notification
    assert EscalationStep.objects.count() == 2 * N
    assert EscalationStep.objects.filter(level__code="L0").count() == N
    assert EscalationStep.objects.filter(level__code="L1").count() == N
    assert Notification.objects.filter(kind="escalation_l0").count() == N  # the case officer
    assert Notification.objects.filter(kind="escalation_l1").count() == 2 * N  # officer+leader
    assert not Deadline.objects.filter(next_fire_on__lte=timezone.localdate()).exists()
