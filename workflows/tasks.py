"""Thin Celery wrappers around the workflows services."""

from celery import shared_task
from viewflow.workflow.timers import fire_due_timers

from .escalation import BATCH_SIZE, sweep


@shared_task(name="workflows.sweep_deadlines", acks_late=True, ignore_result=False)
def sweep_deadlines_task(batch_size: int = BATCH_SIZE) -> dict:
    # acks_late only because the sweep is idempotent: a redelivered message redoes nothing
    return sweep(batch_size=batch_size).as_dict()


@shared_task(name="workflows.fire_workflow_timers", acks_late=True, ignore_result=False)
def fire_workflow_timers_task() -> int:
    """Fire the due viewflow timers (approval reminders and escalations); returns how many.

    Idempotent, hence acks_late: a fired timer's task is done, and each one re-checks its
    proposal under the flow lock; notifications carry de-duplication keys.
    """
    return fire_due_timers()
